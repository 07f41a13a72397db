//! The rhai host: a minimal engine with only the packages a rule needs, every limit set, scripts
//! compiled once at load. No module loading, no I/O, no clock, no randomness: `print` and
//! `debug` go nowhere, `eval` is disabled, time is not compiled in.

use std::cell::Cell;
use std::time::Instant;

use rhai::packages::{Package, StandardPackage};
use rhai::{AST, CallFnOptions, Dynamic, Engine, EvalAltResult, Scope};
use serde_json::Value;

use super::convert::{to_dynamic, to_json};
use super::limits::Limits;
use super::{Plugin, PluginError, PluginOutput};
use crate::definition::wire::Hook;

thread_local! {
    /// The deadline of the call running on this thread, read by the progress callback.
    static DEADLINE: Cell<Option<Instant>> = const { Cell::new(None) };
    /// Operations counted so far by the call running on this thread.
    static OPERATIONS: Cell<u64> = const { Cell::new(0) };
    /// What the call running on this thread printed.
    static LOG: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The most a script may print per call.
const LOG_LINES: usize = 100;

/// A compiled rhai script.
pub struct RhaiPlugin {
    id: String,
    engine: Engine,
    ast: AST,
    limits: Limits,
}

impl std::fmt::Debug for RhaiPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RhaiPlugin")
            .field("id", &self.id)
            .field("limits", &self.limits)
            .finish()
    }
}

impl RhaiPlugin {
    /// Compiles `source`; fails when it does not parse, hits a parse limit, or lacks a function
    /// for one of `hooks`.
    pub fn load(
        id: &str,
        source: &str,
        hooks: &[Hook],
        limits: Limits,
    ) -> Result<Self, PluginError> {
        let engine = engine(&limits);
        let ast = engine.compile(source).map_err(|e| PluginError::Failed {
            plugin: id.to_owned(),
            message: format!("does not compile: {e}"),
        })?;
        for hook in hooks {
            if !ast
                .iter_functions()
                .any(|f| f.name == hook.as_str() && f.params.len() == 1)
            {
                return Err(PluginError::Failed {
                    plugin: id.to_owned(),
                    message: format!(
                        "declares hook `{0}` but defines no function `{0}(input)`",
                        hook.as_str()
                    ),
                });
            }
        }
        Ok(Self {
            id: id.to_owned(),
            engine,
            ast,
            limits,
        })
    }
}

fn engine(limits: &Limits) -> Engine {
    let mut engine = Engine::new_raw();
    engine.register_global_module(StandardPackage::new().as_shared_module());
    engine.disable_symbol("eval");
    engine.on_print(|line| {
        LOG.with(|log| {
            let mut log = log.borrow_mut();
            if log.len() < LOG_LINES {
                log.push(line.chars().take(1_000).collect());
            }
        });
    });
    engine.on_debug(|_, _, _| {});
    engine.set_max_operations(limits.operations);
    engine.set_max_call_levels(limits.call_depth as usize);
    engine.set_max_expr_depths(limits.expr_depth as usize, limits.expr_depth as usize);
    engine.set_max_string_size(limits.string_bytes as usize);
    engine.set_max_array_size(limits.collection_items as usize);
    engine.set_max_map_size(limits.collection_items as usize);
    engine.set_max_variables(1_000);
    engine.set_max_functions(1_000);
    engine.on_progress(|ops| {
        OPERATIONS.with(|o| o.set(ops));
        if ops % 512 == 0 && DEADLINE.with(Cell::get).is_some_and(|d| Instant::now() > d) {
            return Some(Dynamic::from("deadline"));
        }
        None
    });
    engine
}

impl Plugin for RhaiPlugin {
    fn call(&self, hook: Hook, input: &Value) -> Result<PluginOutput, PluginError> {
        let start = Instant::now();
        DEADLINE.with(|d| d.set(Some(start + self.limits.timeout)));
        OPERATIONS.with(|o| o.set(0));
        LOG.with(|l| l.borrow_mut().clear());
        let result = self.engine.call_fn_with_options::<Dynamic>(
            CallFnOptions::new().eval_ast(false),
            &mut Scope::new(),
            &self.ast,
            hook.as_str(),
            (to_dynamic(input),),
        );
        DEADLINE.with(|d| d.set(None));
        let used = OPERATIONS.with(Cell::get);
        let value = result.map_err(|e| self.error(*e))?;
        let value = to_json(&value).map_err(|message| PluginError::MalformedOutput {
            plugin: self.id.clone(),
            hook: hook.as_str().to_owned(),
            message,
        })?;
        let size = serde_json::to_vec(&value).map_or(usize::MAX, |v| v.len());
        if size as u64 > self.limits.output_bytes {
            return Err(self.limit(
                "output",
                format!("{size} bytes, at most {}", self.limits.output_bytes),
            ));
        }
        let log = LOG.with(|l| std::mem::take(&mut *l.borrow_mut()));
        Ok(PluginOutput {
            value,
            used,
            elapsed: start.elapsed(),
            log,
        })
    }
}

impl RhaiPlugin {
    fn limit(&self, limit: &str, detail: String) -> PluginError {
        PluginError::Limit {
            plugin: self.id.clone(),
            limit: limit.to_owned(),
            detail,
        }
    }

    fn error(&self, e: EvalAltResult) -> PluginError {
        match e {
            EvalAltResult::ErrorTooManyOperations(_) => {
                self.limit("operations", format!("at most {}", self.limits.operations))
            }
            EvalAltResult::ErrorStackOverflow(_) => {
                self.limit("call depth", format!("at most {}", self.limits.call_depth))
            }
            EvalAltResult::ErrorDataTooLarge(what, _) => self.limit("size", what),
            EvalAltResult::ErrorTerminated(_, _) => {
                self.limit("time", format!("{} ms", self.limits.timeout.as_millis()))
            }
            EvalAltResult::ErrorInFunctionCall(_, _, inner, _) => self.error(*inner),
            EvalAltResult::ErrorParsing(rhai::ParseErrorType::ExprTooDeep, _) => self.limit(
                "expression depth",
                format!("at most {}", self.limits.expr_depth),
            ),
            other => PluginError::Failed {
                plugin: self.id.clone(),
                message: other.to_string(),
            },
        }
    }
}
