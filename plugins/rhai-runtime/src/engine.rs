//! The engine scripts run with, loading a script, and running one hook: pure functions of
//! their inputs, so they are tested natively as well as run in the guest.

use rhai::packages::{Package, StandardPackage};
use rhai::{AST, CallFnOptions, Dynamic, Engine, EvalAltResult, Position, Scope};
use serde_json::{Value, json};

use crate::convert::{OutError, read_dynamic, write_json};

thread_local! {
    /// Operations the latest call performed.
    static OPERATIONS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// The operations the latest call performed (kept in results' traces: deterministic).
pub fn operations() -> u64 {
    OPERATIONS.with(std::cell::Cell::get)
}

/// The limits the interpreter enforces itself. Time, memory and stack are the sandbox's (an
/// epoch deadline and fuel, the linear memory's cap, the wasm stack's cap).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GuestLimits {
    /// Operations per call.
    pub operations: u64,
    /// Deepest function-call nesting.
    pub call_depth: u32,
    /// Deepest expression nesting, at parse and at run time.
    pub expr_depth: u32,
    /// Longest string, in bytes.
    pub string_bytes: u64,
    /// Largest array or map.
    pub collection_items: u64,
    /// Largest output, in bytes of JSON.
    pub output_bytes: u64,
    /// Deepest nesting of the output.
    pub output_depth: u32,
    /// Longest line printed, in bytes.
    pub message_bytes: u64,
}

impl GuestLimits {
    /// Reads the limits from the load request's `limits` object; absent keys are refused, so a
    /// host and a runtime that disagree on the limits fail loudly.
    pub fn from_json(value: &Value) -> Result<Self, String> {
        let get = |key: &str| {
            value
                .get(key)
                .and_then(Value::as_u64)
                .ok_or_else(|| format!("the load request's limits lack `{key}`"))
        };
        let small = |key: &str| {
            get(key).and_then(|v| u32::try_from(v).map_err(|_| format!("`{key}` is too large")))
        };
        Ok(Self {
            operations: get("operations")?,
            call_depth: small("call_depth")?,
            expr_depth: small("expr_depth")?,
            string_bytes: get("string_bytes")?,
            collection_items: get("collection_items")?,
            output_bytes: get("output_bytes")?,
            output_depth: small("output_depth")?,
            message_bytes: get("message_bytes")?,
        })
    }
}

/// Why a load or a call failed: a message, the limit that stopped it if any, and where in the
/// source, if known. Written as the error frame the host reads.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Frame {
    /// What happened.
    pub message: String,
    /// Which limit stopped the script.
    pub limit: Option<&'static str>,
    /// 1-based line in the script.
    pub line: Option<usize>,
    /// 1-based column in the script.
    pub column: Option<usize>,
}

impl Frame {
    fn failed(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            ..Self::default()
        }
    }

    fn limit(limit: &'static str, detail: impl Into<String>) -> Self {
        Self {
            message: detail.into(),
            limit: Some(limit),
            ..Self::default()
        }
    }

    fn at(mut self, position: Position) -> Self {
        self.line = position.line();
        self.column = position.position();
        self
    }

    /// The error frame: `{"error": message, "limit"?, "line"?, "column"?}`.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut frame = json!({ "error": self.message });
        if let Some(limit) = self.limit {
            frame["limit"] = json!(limit);
        }
        if let Some(line) = self.line {
            frame["line"] = json!(line);
        }
        if let Some(column) = self.column {
            frame["column"] = json!(column);
        }
        serde_json::to_vec(&frame).unwrap_or_else(|_| br#"{"error":"unwritable error"}"#.to_vec())
    }
}

/// The engine scripts run with: the standard packages, Laurel's checked builtins over them, no
/// `eval`, no modules, no clock, every size and depth limit set; `print` goes to `on_print`.
pub fn engine(limits: &GuestLimits, on_print: impl Fn(&str) + Send + Sync + 'static) -> Engine {
    let mut engine = Engine::new_raw();
    engine.register_global_module(StandardPackage::new().as_shared_module());
    // Registered after the standard package, so its functions take precedence.
    engine.register_global_module(crate::builtins::checked());
    engine.disable_symbol("eval");
    engine.on_print(on_print);
    engine.on_debug(|_, _, _| {});
    engine.set_max_operations(limits.operations);
    engine.on_progress(|ops| {
        OPERATIONS.with(|o| o.set(ops));
        None
    });
    engine.set_max_call_levels(limits.call_depth as usize);
    engine.set_max_expr_depths(limits.expr_depth as usize, limits.expr_depth as usize);
    engine.set_max_string_size(limits.string_bytes as usize);
    engine.set_max_array_size(limits.collection_items as usize);
    engine.set_max_map_size(limits.collection_items as usize);
    engine.set_max_variables(1_000);
    engine.set_max_functions(1_000);
    engine
}

/// A compiled script and the engine it runs with.
pub struct Script {
    engine: Engine,
    ast: AST,
    limits: GuestLimits,
}

impl std::fmt::Debug for Script {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Script")
            .field("limits", &self.limits)
            .finish()
    }
}

impl Script {
    /// Compiles `source`, and checks it defines `name(input)` for each of `hooks`.
    pub fn load(
        source: &str,
        hooks: &[String],
        limits: GuestLimits,
        on_print: impl Fn(&str) + Send + Sync + 'static,
    ) -> Result<Self, Frame> {
        let shape = crate::scan::scan(source);
        if shape.declarations > crate::scan::MAX_DECLARATIONS {
            return Err(Frame::limit(
                "declarations",
                format!(
                    "the script declares {} variables and constants (`let`, `const`), at most {}",
                    shape.declarations,
                    crate::scan::MAX_DECLARATIONS
                ),
            ));
        }
        let mut engine = engine(&limits, on_print);
        if shape.statements > crate::scan::OPTIMIZED_STATEMENTS {
            engine.set_optimization_level(rhai::OptimizationLevel::None);
        }
        let ast = engine
            .compile(source)
            .map_err(|e| Frame::failed(format!("does not compile: {}", e.0)).at(e.1))?;
        for hook in hooks {
            if !ast
                .iter_functions()
                .any(|f| f.name == hook.as_str() && f.params.len() == 1)
            {
                return Err(Frame::failed(format!(
                    "declares hook `{hook}` but defines no function `{hook}(input)`"
                )));
            }
        }
        Ok(Self {
            engine,
            ast,
            limits,
        })
    }

    /// Runs `hook` on the JSON `input`; answers the frame's bytes: `{"ok": output}` or an
    /// error frame.
    pub fn call(&self, hook: &str, input: &[u8]) -> Vec<u8> {
        match self.run(hook, input) {
            Ok(bytes) => bytes,
            Err(frame) => frame.to_bytes(),
        }
    }

    fn run(&self, hook: &str, input: &[u8]) -> Result<Vec<u8>, Frame> {
        OPERATIONS.with(|o| o.set(0));
        let argument = read_dynamic(input)
            .map_err(|e| Frame::failed(format!("cannot read the input: {e}")))?;
        let value = self
            .engine
            .call_fn_with_options::<Dynamic>(
                CallFnOptions::new().eval_ast(false),
                &mut Scope::new(),
                &self.ast,
                hook,
                (argument,),
            )
            .map_err(|e| self.error(*e))?;
        let mut out = Vec::with_capacity(256);
        out.extend_from_slice(br#"{"ok":"#);
        write_json(
            &value,
            self.limits.output_bytes,
            self.limits.output_depth,
            &mut out,
        )
        .map_err(|e| match e {
            OutError::Size(max) => Frame::limit("output", format!("more than {max} bytes")),
            OutError::Depth(max) => {
                Frame::limit("output depth", format!("nested deeper than {max}"))
            }
            OutError::Type(t) => Frame {
                limit: Some("type"),
                message: format!("a value of type `{t}` cannot be returned"),
                ..Frame::default()
            },
        })?;
        out.push(b'}');
        Ok(out)
    }

    fn error(&self, e: EvalAltResult) -> Frame {
        let limits = &self.limits;
        match e {
            EvalAltResult::ErrorTooManyOperations(at) => {
                Frame::limit("operations", format!("at most {}", limits.operations)).at(at)
            }
            EvalAltResult::ErrorStackOverflow(at) => {
                Frame::limit("call depth", format!("at most {}", limits.call_depth)).at(at)
            }
            EvalAltResult::ErrorDataTooLarge(what, at) => Frame::limit("size", what).at(at),
            EvalAltResult::ErrorInFunctionCall(_, _, inner, _) => self.error(*inner),
            EvalAltResult::ErrorParsing(rhai::ParseErrorType::ExprTooDeep, at) => {
                Frame::limit("expression depth", format!("at most {}", limits.expr_depth)).at(at)
            }
            other => {
                let at = other.position();
                Frame::failed(other.to_string()).at(at)
            }
        }
    }
}
