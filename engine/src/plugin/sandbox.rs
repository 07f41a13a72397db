//! The wasm sandbox every plugin runs in, wasm modules and rhai scripts alike (rhai through
//! Laurel's interpreter built as a wasm guest, `rhai_host.rs`): one wasmtime engine, the store
//! a call runs in (fuel, an epoch deadline, a memory cap, the guest's log), what a trap
//! means, and how a guest's answer is read.

use std::sync::OnceLock;
use std::time::Instant;

use serde_json::Value;
use wasmtime::{
    Caller, Config, Engine, InstanceAllocationStrategy, Linker, PoolingAllocationConfig,
    ResourceLimiter, Store, Trap,
};

use super::limits::Limits;
use super::threads::{self, TICK};
use super::wasm_check::{TABLE_ELEMENTS, TABLES};
use super::{PluginError, clean};
use crate::definition::wire::Hook;

/// Instances that can exist at once, per engine: every call's, and the rhai interpreters kept
/// between calls (at most [`super::rhai_host::IDLE_RUNTIMES`]). A call beyond that fails as a
/// plugin error, never waits.
const POOL_SLOTS: u32 = 256;
/// The most a guest may log per call.
const LOG_BYTES: usize = 16 << 10;
/// The rhai interpreter's own memory (its code's data, its stack, a compiled script) beside
/// what a call may hold: the largest linear memory any instance may reach is this plus the
/// largest `memory_bytes` a manifest may ask for.
pub(crate) const RUNTIME_MEMORY: u64 = 64 << 20;
/// The wasm stack of every call. Plugin threads run calls ([`threads::STACK_BYTES`] is far
/// larger): the deepest legal rhai script at the maxima fits (`tests/sandbox.rs`), and deeper
/// recursion is a `stack` limit, never a fault of the host.
pub(crate) const WASM_STACK: usize = 16 << 20;

/// Which engine a plugin runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Modules written by authors: fuel and an epoch deadline.
    Module,
    /// Laurel's rhai interpreter: an epoch deadline; the interpreter counts the script's
    /// operations itself (deterministically), and fuel would slow every script by a quarter.
    Interpreter,
}

/// The engine of `kind`, its epoch advanced by the plugin clock.
pub(crate) fn engine_for(kind: Kind) -> Result<&'static Engine, String> {
    static MODULES: OnceLock<Result<Engine, String>> = OnceLock::new();
    static INTERPRETER: OnceLock<Result<Engine, String>> = OnceLock::new();
    let cell = match kind {
        Kind::Module => &MODULES,
        Kind::Interpreter => &INTERPRETER,
    };
    cell.get_or_init(|| {
        let engine = build(kind, true)?;
        let ticker = engine.clone();
        threads::on_tick(Box::new(move || ticker.increment_epoch()));
        Ok(engine)
    })
    .as_ref()
    .map_err(Clone::clone)
}

/// The engine of wasm modules.
pub(crate) fn engine() -> Result<&'static Engine, String> {
    engine_for(Kind::Module)
}

/// The engine of wasm modules as configured for compiling only: the same code, without the
/// pool of instance slots (whose address space a memory-limited compiling process cannot
/// reserve).
pub(crate) fn compile_only_engine() -> Result<Engine, String> {
    build(Kind::Module, false)
}

fn build(kind: Kind, pooled: bool) -> Result<Engine, String> {
    let mut config = Config::new();
    config.consume_fuel(kind == Kind::Module);
    config.epoch_interruption(true);
    config.max_wasm_stack(WASM_STACK);
    // Not used (calls are synchronous, on plugin threads), but checked against the wasm stack.
    config.async_stack_size(WASM_STACK + (1 << 20));
    // A pool of instance slots, reused from call to call: no mmap and munmap per instance, and
    // memory reset in place (copy-on-write images for the data). What a slot keeps resident
    // after use is small, so memory comes back after large calls.
    let mut pool = PoolingAllocationConfig::default();
    pool.total_core_instances(POOL_SLOTS)
        .total_memories(POOL_SLOTS)
        .total_tables(POOL_SLOTS * TABLES as u32)
        .max_tables_per_module(TABLES as u32)
        .table_elements(TABLE_ELEMENTS as usize)
        .max_memory_size((Limits::MAXIMA.memory_bytes + RUNTIME_MEMORY) as usize)
        .linear_memory_keep_resident(1 << 20)
        .table_keep_resident(TABLE_ELEMENTS as usize * 16)
        .pagemap_scan(wasmtime::Enabled::Auto)
        .max_unused_warm_slots(16);
    if pooled {
        config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    }
    Engine::new(&config).map_err(|e| e.to_string())
}

/// What a store holds: the memory cap in force, the guest's log, and what stopped it.
pub(crate) struct Guard {
    /// The most linear memory the instance may have, in bytes.
    pub memory_cap: usize,
    /// The size it asked for beyond the cap, if it did.
    pub denied: Option<usize>,
    /// What the guest logged during the call.
    pub log: Vec<String>,
    log_bytes: usize,
    message_bytes: usize,
    /// The rhai interpreter's panic message, just before its trap.
    pub panicked: Option<String>,
    /// Keeps the plugin clock ticking while the store's call runs (set by [`arm`]; a store
    /// kept for later calls drops it).
    pub ticking: Option<threads::Ticking>,
}

impl Guard {
    /// A guard capping memory at `memory_cap` bytes.
    pub(crate) fn new(memory_cap: u64, limits: &Limits) -> Self {
        Self {
            memory_cap: usize::try_from(memory_cap).unwrap_or(usize::MAX),
            denied: None,
            log: Vec::new(),
            log_bytes: 0,
            message_bytes: limits.message_bytes as usize,
            panicked: None,
            ticking: None,
        }
    }

    /// Clears what a previous call left: its log, a denied growth.
    pub(crate) fn reset(&mut self) {
        self.denied = None;
        self.log.clear();
        self.log_bytes = 0;
    }
}

impl ResourceLimiter for Guard {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_cap {
            self.denied = Some(desired);
            return Ok(false);
        }
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired as u64 <= TABLE_ELEMENTS)
    }

    fn instances(&self) -> usize {
        1
    }

    fn tables(&self) -> usize {
        TABLES
    }

    fn memories(&self) -> usize {
        1
    }
}

/// Reads `len` bytes at `ptr` of the caller's exported memory, at most `max` of them.
fn guest_text(caller: &mut Caller<'_, Guard>, ptr: i32, len: i32, max: usize) -> Option<String> {
    let memory = caller.get_export("memory").and_then(|e| e.into_memory())?;
    let mut buf = vec![0u8; (len.max(0) as usize).min(max)];
    memory.read(&*caller, ptr.max(0) as usize, &mut buf).ok()?;
    Some(String::from_utf8_lossy(&buf).into_owned())
}

/// A linker with the one import plugins may use: `laurel.log(ptr, len)`.
pub(crate) fn linker(engine: &Engine) -> Result<Linker<Guard>, String> {
    let mut linker: Linker<Guard> = Linker::new(engine);
    linker
        .func_wrap(
            "laurel",
            "log",
            |mut caller: Caller<'_, Guard>, ptr: i32, len: i32| {
                if let Some(text) = guest_text(&mut caller, ptr, len, LOG_BYTES) {
                    let guard = caller.data_mut();
                    if guard.log_bytes + text.len() <= LOG_BYTES {
                        guard.log_bytes += text.len();
                        let line = clean(&text, guard.message_bytes);
                        guard.log.push(line);
                    }
                }
            },
        )
        .map_err(|e| e.to_string())?;
    Ok(linker)
}

/// The rhai interpreter's linker: `laurel.log`, and `laurel_rhai.panicked(ptr, len)`.
pub(crate) fn runtime_linker(engine: &Engine) -> Result<Linker<Guard>, String> {
    let mut linker = linker(engine)?;
    linker
        .func_wrap(
            "laurel_rhai",
            "panicked",
            |mut caller: Caller<'_, Guard>, ptr: i32, len: i32| {
                let text = guest_text(&mut caller, ptr, len, 4 << 10);
                let guard = caller.data_mut();
                guard.panicked = text.map(|t| clean(&t, guard.message_bytes));
            },
        )
        .map_err(|e| e.to_string())?;
    Ok(linker)
}

/// Sets a store up for one call: `fuel` (on an engine that counts it), and an epoch deadline
/// at `deadline`, the plugin clock ticking until the store is dropped or kept.
pub(crate) fn arm(
    store: &mut Store<Guard>,
    fuel: Option<u64>,
    deadline: Instant,
) -> Result<(), wasmtime::Error> {
    if let Some(fuel) = fuel {
        store.set_fuel(fuel)?;
    }
    let left = deadline.saturating_duration_since(Instant::now());
    // Two ticks at least: a deadline of one tick can fire on any call that crosses one.
    let ticks = (left.as_micros() / TICK.as_micros()) as u64 + 2;
    store.data_mut().ticking = Some(threads::ticking());
    store.set_epoch_deadline(ticks);
    Ok(())
}

/// Builds the errors of one plugin's calls.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Errors<'a> {
    /// The plugin's id.
    pub plugin: &'a str,
    /// Its limits.
    pub limits: &'a Limits,
}

impl Errors<'_> {
    pub(crate) fn failed(&self, e: impl std::fmt::Display) -> PluginError {
        PluginError::Failed {
            plugin: self.plugin.to_owned(),
            message: clean(&e.to_string(), self.limits.message_bytes as usize),
        }
    }

    pub(crate) fn limit(&self, limit: &str, detail: String) -> PluginError {
        PluginError::Limit {
            plugin: self.plugin.to_owned(),
            limit: limit.to_owned(),
            detail,
        }
    }

    pub(crate) fn malformed(&self, hook: Hook, message: String) -> PluginError {
        PluginError::MalformedOutput {
            plugin: self.plugin.to_owned(),
            hook: hook.as_str().to_owned(),
            message,
        }
    }

    /// Names the limit a trap hit, or reports the trap. `fuel` is what the call was given;
    /// `timeout` the time it was given, and `own_timeout` whether that was its own limit
    /// rather than an earlier deadline of its job.
    pub(crate) fn trap(
        &self,
        guard: &Guard,
        e: &wasmtime::Error,
        fuel: u64,
        timeout: std::time::Duration,
        own_timeout: bool,
    ) -> PluginError {
        if let Some(wanted) = guard.denied {
            return self.limit(
                "memory",
                format!(
                    "wanted {wanted} bytes of memory, at most {}",
                    guard.memory_cap
                ),
            );
        }
        if let Some(message) = &guard.panicked {
            return self.failed(format!("the rhai interpreter stopped: {message}"));
        }
        match e.downcast_ref::<Trap>() {
            Some(Trap::OutOfFuel) => self.limit("fuel", format!("at most {fuel}")),
            Some(Trap::Interrupt) if own_timeout => {
                self.limit("time", format!("{} ms", timeout.as_millis()))
            }
            Some(Trap::Interrupt) => self.limit(
                "deadline",
                "the request's deadline passed during the call".to_owned(),
            ),
            Some(Trap::StackOverflow) => {
                threads::note_deep_stack();
                self.limit("stack", "the call stack is exhausted".to_owned())
            }
            Some(trap) => self.failed(format!("trapped: {trap}")),
            None => self.failed(format!("{e:#}")),
        }
    }
}

/// A guest's answer, read strictly: `{"ok": value}`, or an error frame (`{"error": message}`;
/// from the rhai interpreter, which Laurel builds, also `limit`, `line` and `column`).
pub(crate) enum Framed {
    /// The hook's output.
    Ok(Value),
    /// The guest's error.
    Error {
        /// Its message.
        message: String,
        /// The limit that stopped it, from the rhai interpreter.
        limit: Option<String>,
        /// Where in the script, from the rhai interpreter.
        line: Option<usize>,
        /// Where in the script, from the rhai interpreter.
        column: Option<usize>,
    },
}

/// Reads a guest's answer: duplicate keys refused, numbers exact, no deeper than the output
/// depth. `trusted` accepts the rhai interpreter's extra keys in an error frame.
pub(crate) fn read_frame(
    out: &[u8],
    hook: Hook,
    errors: Errors<'_>,
    trusted: bool,
) -> Result<Framed, PluginError> {
    let depth = errors.limits.output_depth;
    let framed = crate::json::strict_from_slice(out).map_err(|e| {
        if e.to_string().starts_with("recursion limit exceeded") {
            errors.limit("output depth", format!("nested deeper than {depth}"))
        } else {
            errors.malformed(hook, clean(&format!("not JSON: {e}"), 500))
        }
    })?;
    if super::depth(&framed) > depth as usize + 1 {
        return Err(errors.limit("output depth", format!("nested deeper than {depth}")));
    }
    match framed {
        Value::Object(mut m) if m.len() == 1 && m.contains_key("ok") => {
            Ok(Framed::Ok(m.remove("ok").unwrap_or(Value::Null)))
        }
        Value::Object(m)
            if m.contains_key("error")
                && (m.len() == 1 || trusted)
                && m.keys()
                    .all(|k| matches!(k.as_str(), "error" | "limit" | "line" | "column")) =>
        {
            let text = |k: &str| m.get(k).and_then(Value::as_str).map(str::to_owned);
            let number = |k: &str| {
                m.get(k)
                    .and_then(Value::as_u64)
                    .and_then(|n| usize::try_from(n).ok())
            };
            Ok(Framed::Error {
                message: text("error").unwrap_or_else(|| "an error without a message".to_owned()),
                limit: text("limit"),
                line: number("line"),
                column: number("column"),
            })
        }
        _ => Err(errors.malformed(
            hook,
            "expected `{\"ok\": ...}` or `{\"error\": \"...\"}`".to_owned(),
        )),
    }
}
