//! The rhai host: a minimal engine with only the packages a rule needs, every limit set, scripts
//! compiled once (and cached) at load. No module loading, no I/O, no clock, no sleeping:
//! `print` and `debug` go to the call's log, `eval` is disabled, time is not compiled in.
//!
//! Every call runs on a plugin thread (see `threads.rs`) and is watched on every operation by
//! the progress callback: the operations count, the deadline (the plugin's timeout or the
//! job's, whichever comes first), the memory the call holds, and the stack it uses. A call
//! that returns after its deadline, or whose memory peaked above its limit inside one builtin,
//! is refused when it returns: its result is discarded.

use std::cell::Cell;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use rhai::packages::{Package, StandardPackage};
use rhai::{AST, CallFnOptions, Dynamic, Engine, EvalAltResult, Scope};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::cache::Lru;
use super::convert::{OutError, to_dynamic, to_json};
use super::limits::{Limits, STACK_STOP_BYTES};
use super::memory::Meter;
use super::threads::{self, clock_ms, clock_reading};
use super::{Plugin, PluginError, PluginOutput, clean};
use crate::definition::wire::Hook;

/// What the progress callback watches for the call running on this thread.
#[derive(Clone, Copy)]
struct Watch {
    /// The deadline, as a reading of the plugin clock.
    deadline_ms: u64,
    /// Bytes allocated at the start of the call.
    meter: Option<Meter>,
    /// Operations counted so far.
    operations: u64,
}

thread_local! {
    static WATCH: Cell<Option<Watch>> = const { Cell::new(None) };
    /// What the call running on this thread printed.
    static LOG: std::cell::RefCell<Vec<String>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The most a script may print per call.
const LOG_LINES: usize = 100;

/// Why the progress callback stopped a script.
const STOP_TIME: &str = "time";
const STOP_MEMORY: &str = "memory";
const STOP_STACK: &str = "stack";

/// A compiled rhai script. Cheap to clone.
#[derive(Clone)]
pub struct RhaiPlugin {
    inner: Arc<Inner>,
}

struct Inner {
    id: String,
    engine: Engine,
    ast: Arc<AST>,
    limits: Limits,
}

impl std::fmt::Debug for RhaiPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RhaiPlugin")
            .field("id", &self.inner.id)
            .field("limits", &self.inner.limits)
            .finish()
    }
}

/// Compiled scripts by content and parse limits.
type ScriptCache = Mutex<Lru<([u8; 32], u32), Arc<AST>>>;

/// Compiled scripts by content and parse limits: most recently used kept, bounded by count
/// and by source bytes.
fn cache() -> &'static ScriptCache {
    static CACHE: OnceLock<ScriptCache> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(Lru::new(256, 64 << 20)))
}

impl RhaiPlugin {
    /// Compiles `source`; fails when it is too large, does not parse, hits a parse limit, takes
    /// longer than the compile-time limit, or lacks a function for one of `hooks`.
    pub fn load(
        id: &str,
        source: &str,
        hooks: &[Hook],
        limits: Limits,
    ) -> Result<Self, PluginError> {
        let invalid = |message: String, at: Option<rhai::Position>| PluginError::Invalid {
            plugin: id.to_owned(),
            message: clean(&message, 4 * limits.message_bytes as usize),
            line: at.and_then(|p| p.line()),
            column: at.and_then(|p| p.position()),
        };
        super::small_enough(id, "source size", source.len(), &limits)?;
        let key = (Sha256::digest(source.as_bytes()).into(), limits.expr_depth);
        let cached = cache().lock().ok().and_then(|mut c| c.get(&key));
        let ast = match cached {
            Some(ast) => ast,
            None => {
                let text = source.to_owned();
                let parse_limits = limits;
                let started = Instant::now();
                let compiled = threads::run_sandboxed(None, move || {
                    engine(&parse_limits)
                        .compile(&text)
                        .map_err(|e| (e.0.to_string(), e.1))
                })
                .map_err(|e| invalid(format!("cannot be compiled: {e}"), None))?;
                let ast = compiled.map_err(|(message, at)| {
                    invalid(format!("does not compile: {message}"), Some(at))
                })?;
                super::compiled_in_time(id, started, &limits)?;
                let ast = Arc::new(ast);
                if let Ok(mut c) = cache().lock() {
                    c.insert(key, ast.clone(), source.len() as u64);
                }
                ast
            }
        };
        for hook in hooks {
            if !ast
                .iter_functions()
                .any(|f| f.name == hook.as_str() && f.params.len() == 1)
            {
                return Err(invalid(
                    format!(
                        "declares hook `{0}` but defines no function `{0}(input)`",
                        hook.as_str()
                    ),
                    None,
                ));
            }
        }
        Ok(Self {
            inner: Arc::new(Inner {
                id: id.to_owned(),
                engine: engine(&limits),
                ast,
                limits,
            }),
        })
    }
}

/// The engine scripts run with, for the review of its functions.
#[cfg(test)]
pub(crate) fn engine_for_review() -> Engine {
    engine(&Limits::DEFAULT)
}

fn engine(limits: &Limits) -> Engine {
    let mut engine = Engine::new_raw();
    engine.register_global_module(StandardPackage::new().as_shared_module());
    // Registered after the standard package, so its functions take precedence.
    engine.register_global_module(super::rhai_builtins::checked());
    engine.disable_symbol("eval");
    let message_bytes = limits.message_bytes as usize;
    engine.on_print(move |line| {
        LOG.with(|log| {
            let mut log = log.borrow_mut();
            if log.len() < LOG_LINES {
                log.push(clean(line, message_bytes));
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
    let memory_bytes = limits.memory_bytes;
    engine.on_progress(move |ops| {
        let mut watch = WATCH.with(Cell::get)?;
        watch.operations = ops;
        WATCH.with(|w| w.set(Some(watch)));
        if clock_ms() >= watch.deadline_ms {
            return Some(Dynamic::from(STOP_TIME));
        }
        if watch.meter.is_some_and(|m| m.held() > memory_bytes) {
            return Some(Dynamic::from(STOP_MEMORY));
        }
        if threads::stack_used() > STACK_STOP_BYTES {
            return Some(Dynamic::from(STOP_STACK));
        }
        None
    });
    engine
}

impl Plugin for RhaiPlugin {
    fn call(&self, hook: Hook, input: &Value) -> Result<PluginOutput, PluginError> {
        if threads::on_plugin_thread() {
            return self.call_here(hook, input);
        }
        let me = self.clone();
        let input = input.clone();
        threads::run_sandboxed(None, move || me.call_here(hook, &input)).map_err(|e| {
            PluginError::Failed {
                plugin: self.inner.id.clone(),
                message: e.to_string(),
            }
        })?
    }
}

impl RhaiPlugin {
    fn call_here(&self, hook: Hook, input: &Value) -> Result<PluginOutput, PluginError> {
        let me = &*self.inner;
        let start = Instant::now();
        let deadline = super::deadline(start, me.limits.timeout).ok_or_else(|| {
            self.limit(
                "deadline",
                "the request's deadline passed before the call".to_owned(),
            )
        })?;
        let argument = to_dynamic(input);
        LOG.with(|l| l.borrow_mut().clear());
        let meter = super::memory::memory_accounting().then(Meter::start);
        WATCH.with(|w| {
            w.set(Some(Watch {
                deadline_ms: clock_reading(deadline),
                meter,
                operations: 0,
            }))
        });
        let result = me.engine.call_fn_with_options::<Dynamic>(
            CallFnOptions::new().eval_ast(false),
            &mut Scope::new(),
            &me.ast,
            hook.as_str(),
            (argument,),
        );
        let used = WATCH.with(|w| w.take()).map_or(0, |w| w.operations);
        let peak = meter.map_or(0, |m| m.peak());
        let value = result.map_err(|e| self.error(*e, start, deadline));
        // The checks that a single long step can slip past between two operations.
        if peak > me.limits.memory_bytes {
            return Err(self.limit(
                "memory",
                format!("held {peak} bytes, at most {}", me.limits.memory_bytes),
            ));
        }
        let value = value?;
        let value = to_json(&value, me.limits.output_bytes, me.limits.output_depth).map_err(
            |e| match e {
                OutError::Size(max) => self.limit("output", format!("more than {max} bytes")),
                OutError::Depth(max) => {
                    self.limit("output depth", format!("nested deeper than {max}"))
                }
                OutError::Type(t) => PluginError::MalformedOutput {
                    plugin: me.id.clone(),
                    hook: hook.as_str().to_owned(),
                    message: format!("a value of type `{t}` cannot be returned"),
                },
            },
        )?;
        if Instant::now() > deadline {
            return Err(self.late(start.elapsed()));
        }
        let log = LOG.with(|l| std::mem::take(&mut *l.borrow_mut()));
        Ok(PluginOutput {
            value,
            used,
            elapsed: start.elapsed(),
            log,
        })
    }

    fn limit(&self, limit: &str, detail: String) -> PluginError {
        PluginError::Limit {
            plugin: self.inner.id.clone(),
            limit: limit.to_owned(),
            detail,
        }
    }

    fn late(&self, elapsed: Duration) -> PluginError {
        self.limit(
            "time",
            format!(
                "{} ms, returned after {} ms",
                self.inner.limits.timeout.as_millis(),
                elapsed.as_millis()
            ),
        )
    }

    fn error(&self, e: EvalAltResult, start: Instant, deadline: Instant) -> PluginError {
        let limits = &self.inner.limits;
        match e {
            EvalAltResult::ErrorTooManyOperations(_) => {
                self.limit("operations", format!("at most {}", limits.operations))
            }
            EvalAltResult::ErrorStackOverflow(_) => {
                self.limit("call depth", format!("at most {}", limits.call_depth))
            }
            EvalAltResult::ErrorDataTooLarge(what, _) => self.limit("size", clean(&what, 200)),
            EvalAltResult::ErrorTerminated(token, _) => {
                let why = token.into_immutable_string().unwrap_or_default();
                match why.as_str() {
                    STOP_MEMORY => self.limit(
                        "memory",
                        format!("held more than {} bytes", limits.memory_bytes),
                    ),
                    STOP_STACK => self.limit(
                        "stack",
                        format!("used more than {STACK_STOP_BYTES} bytes of stack"),
                    ),
                    _ if deadline < start + limits.timeout => self.limit(
                        "deadline",
                        "the request's deadline passed during the call".to_owned(),
                    ),
                    _ => self.limit("time", format!("{} ms", limits.timeout.as_millis())),
                }
            }
            EvalAltResult::ErrorInFunctionCall(_, _, inner, _) => {
                self.error(*inner, start, deadline)
            }
            EvalAltResult::ErrorParsing(rhai::ParseErrorType::ExprTooDeep, _) => {
                self.limit("expression depth", format!("at most {}", limits.expr_depth))
            }
            other => PluginError::Failed {
                plugin: self.inner.id.clone(),
                message: clean(&other.to_string(), limits.message_bytes as usize),
            },
        }
    }
}
