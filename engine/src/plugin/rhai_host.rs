//! The rhai host: every script runs inside Laurel's rhai interpreter built as a wasm guest
//! (`plugins/rhai-runtime`, embedded here as `engine/runtime/rhai-runtime.wasm`), in the same
//! sandbox as wasm plugins. A script, however written, reaches only the guest's linear memory
//! and its own wasm stack: an overflow, a runaway allocation or a panic of the interpreter is a
//! trap of that call, reported as a limit or a failure of that application.
//!
//! Loading compiles the script inside a fresh interpreter under the compile limits (an epoch
//! deadline, a memory cap). The loaded interpreter then serves calls, one at a time: a call
//! runs under the plugin's limits (the interpreter counts operations and checks sizes and
//! depths itself, deterministically; an epoch deadline, a memory cap and the wasm stack bound
//! everything else, including one long step), and the
//! interpreter is kept for the next call only if it did not trap, its memory did not grow
//! much, and it holds no more than it did after loading (a script's reference cycle never
//! outlives its call). rhai has no state that outlives a call (no globals, no modules), so a
//! kept interpreter answers exactly as a fresh one would.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use wasmtime::{InstancePre, Memory, Store, TypedFunc};

use super::limits::Limits;
use super::sandbox::{self, Errors, Framed, Guard, Kind};
use super::threads;
use super::wasm_host::{hook_number, read_output};
use super::{Plugin, PluginError, PluginOutput, clean};
use crate::definition::wire::Hook;

/// The interpreter, built from `plugins/rhai-runtime` by `plugins/build.sh` (reproducible;
/// CI rebuilds it and compares).
const RUNTIME: &[u8] = include_bytes!("../../runtime/rhai-runtime.wasm");

/// Interpreters kept loaded between calls, across all scripts.
pub(crate) const IDLE_RUNTIMES: usize = 16;
/// The memory a compilation may hold, beyond the interpreter's own.
const COMPILE_MEMORY: u64 = 256 << 20;
/// An interpreter whose memory grew by more than this in a call is not kept.
const GROWTH_KEPT: usize = 8 << 20;
/// An interpreter holding this much more than after loading (besides its last output) is not
/// kept.
const LIVE_KEPT: i64 = 256 << 10;

static IDLE: AtomicUsize = AtomicUsize::new(0);

/// The interpreter, compiled once per process.
fn runtime() -> Result<&'static InstancePre<Guard>, String> {
    static PRE: OnceLock<Result<InstancePre<Guard>, String>> = OnceLock::new();
    PRE.get_or_init(|| {
        let engine = sandbox::engine_for(Kind::Interpreter)?;
        let module = super::compile::trusted_module(engine, "rhai-runtime", RUNTIME)?;
        sandbox::runtime_linker(engine)?
            .instantiate_pre(&module)
            .map_err(|e| format!("{e:#}"))
    })
    .as_ref()
    .map_err(Clone::clone)
}

/// One interpreter instance with a script loaded.
struct Runtime {
    store: Store<Guard>,
    memory: Memory,
    alloc: TypedFunc<i32, i32>,
    call: TypedFunc<(i32, i32, i32), i64>,
    live: TypedFunc<(), i64>,
    operations: TypedFunc<(), i64>,
    /// Its memory's size after loading.
    base_bytes: usize,
    /// What its allocator held after loading.
    base_live: i64,
}

/// A compiled rhai script. Cheap to clone.
#[derive(Clone)]
pub struct RhaiPlugin {
    inner: Arc<Inner>,
}

struct Inner {
    id: String,
    /// The interpreter's load request: the source, the hooks, the limits.
    request: Vec<u8>,
    limits: Limits,
    idle: Mutex<Vec<Runtime>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        let kept = self.idle.get_mut().map_or(0, |v| v.len());
        IDLE.fetch_sub(kept, Ordering::Relaxed);
    }
}

impl std::fmt::Debug for RhaiPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RhaiPlugin")
            .field("id", &self.inner.id)
            .field("limits", &self.inner.limits)
            .finish()
    }
}

impl RhaiPlugin {
    /// Compiles `source` in a fresh interpreter under the compile limits; fails when it is too
    /// large, does not parse, hits a parse limit, costs more than the compile limits, or lacks
    /// a function for one of `hooks`.
    pub fn load(
        id: &str,
        source: &str,
        hooks: &[Hook],
        limits: Limits,
    ) -> Result<Self, PluginError> {
        super::small_enough(id, "source size", source.len(), &limits)?;
        let request = json!({
            "source": source,
            "hooks": hooks.iter().map(|h| h.as_str()).collect::<Vec<_>>(),
            "limits": {
                "operations": limits.operations,
                "call_depth": limits.call_depth,
                "expr_depth": limits.expr_depth,
                "string_bytes": limits.string_bytes,
                "collection_items": limits.collection_items,
                "output_bytes": limits.output_bytes,
                "output_depth": limits.output_depth,
                "message_bytes": limits.message_bytes,
            }
        });
        let plugin = Self {
            inner: Arc::new(Inner {
                id: id.to_owned(),
                request: serde_json::to_vec(&request).unwrap_or_default(),
                limits,
                idle: Mutex::new(Vec::new()),
            }),
        };
        let me = plugin.clone();
        let runtime = threads::run_sandboxed(None, move || me.instantiate())
            .map_err(|e| plugin.errors().failed(e))??;
        plugin.keep(runtime);
        Ok(plugin)
    }

    fn errors(&self) -> Errors<'_> {
        Errors {
            plugin: &self.inner.id,
            limits: &self.inner.limits,
        }
    }

    fn invalid(&self, message: String, line: Option<usize>, column: Option<usize>) -> PluginError {
        PluginError::Invalid {
            plugin: self.inner.id.clone(),
            message: clean(&message, 4 * self.inner.limits.message_bytes as usize),
            line,
            column,
        }
    }

    /// A new interpreter with the script compiled, under the compile limits.
    fn instantiate(&self) -> Result<Runtime, PluginError> {
        let errors = self.errors();
        let limits = &self.inner.limits;
        let pre = runtime().map_err(|e| errors.failed(format!("the rhai interpreter: {e}")))?;
        let engine = sandbox::engine_for(Kind::Interpreter).map_err(|e| errors.failed(e))?;
        let mut store = Store::new(
            engine,
            Guard::new(sandbox::RUNTIME_MEMORY + COMPILE_MEMORY, limits),
        );
        store.limiter(|g| g);
        let started = Instant::now();
        sandbox::arm(&mut store, None, started + limits.compile_time)
            .map_err(|e| errors.failed(e))?;
        let compile_limit = |store: &Store<Guard>, e: wasmtime::Error| match errors.trap(
            store.data(),
            &e,
            0,
            limits.compile_time,
            true,
        ) {
            PluginError::Limit { limit, detail, .. } => {
                let limit = match limit.as_str() {
                    "time" => "compile time",
                    "memory" => "compile memory",
                    other => other,
                };
                errors.limit(limit, detail)
            }
            other => other,
        };
        let instance = pre
            .instantiate(&mut store)
            .map_err(|e| compile_limit(&store, e))?;
        let func = |store: &mut Store<Guard>, name: &str| {
            instance
                .get_func(&mut *store, name)
                .ok_or_else(|| errors.failed(format!("the rhai interpreter lacks `{name}`")))
        };
        let typed = |e: wasmtime::Error| errors.failed(e);
        let alloc = func(&mut store, "laurel_alloc")?
            .typed::<i32, i32>(&store)
            .map_err(typed)?;
        let load = func(&mut store, "laurel_rhai_load")?
            .typed::<(i32, i32), i64>(&store)
            .map_err(typed)?;
        let call = func(&mut store, "laurel_call")?
            .typed::<(i32, i32, i32), i64>(&store)
            .map_err(typed)?;
        let live = func(&mut store, "laurel_rhai_live")?
            .typed::<(), i64>(&store)
            .map_err(typed)?;
        let operations = func(&mut store, "laurel_rhai_operations")?
            .typed::<(), i64>(&store)
            .map_err(typed)?;
        let memory = instance
            .get_memory(&mut store, "memory")
            .ok_or_else(|| errors.failed("the rhai interpreter has no memory"))?;
        let request = &self.inner.request;
        let len = i32::try_from(request.len()).map_err(|_| errors.failed("too large"))?;
        let ptr = alloc
            .call(&mut store, len)
            .map_err(|e| compile_limit(&store, e))?;
        memory
            .write(&mut store, ptr as u32 as usize, request)
            .map_err(|_| errors.failed("the rhai interpreter gave memory out of bounds"))?;
        let packed = load
            .call(&mut store, (ptr, len))
            .map_err(|e| compile_limit(&store, e))?;
        let out = read_output(&memory, &store, packed, Hook::Validate, errors)?;
        match sandbox::read_frame(&out, Hook::Validate, errors, true)? {
            Framed::Ok(_) => {}
            Framed::Error {
                limit: Some(limit),
                message,
                ..
            } => return Err(errors.limit(&limit, clean(&message, 500))),
            Framed::Error {
                message,
                line,
                column,
                ..
            } => return Err(self.invalid(message, line, column)),
        }
        super::compiled_in_time(&self.inner.id, started, limits)?;
        let base_bytes = memory.data_size(&store);
        let base_live = live.call(&mut store, ()).map_err(typed)?;
        Ok(Runtime {
            store,
            memory,
            alloc,
            call,
            live,
            operations,
            base_bytes,
            base_live,
        })
    }

    /// Keeps a healthy interpreter for the next call, within the bound across all scripts.
    fn keep(&self, mut runtime: Runtime) {
        // Kept, it runs nothing until its next call arms it again.
        runtime.store.data_mut().ticking = None;
        if IDLE.fetch_add(1, Ordering::Relaxed) >= IDLE_RUNTIMES {
            IDLE.fetch_sub(1, Ordering::Relaxed);
            return;
        }
        match self.inner.idle.lock() {
            Ok(mut idle) => idle.push(runtime),
            Err(_) => {
                IDLE.fetch_sub(1, Ordering::Relaxed);
            }
        }
    }

    /// A loaded interpreter: one kept from an earlier call, or a new one.
    fn take(&self) -> Result<Runtime, PluginError> {
        let kept = self.inner.idle.lock().ok().and_then(|mut idle| idle.pop());
        match kept {
            Some(runtime) => {
                IDLE.fetch_sub(1, Ordering::Relaxed);
                Ok(runtime)
            }
            None => self.instantiate(),
        }
    }

    fn call_here(&self, hook: Hook, input: &Value) -> Result<PluginOutput, PluginError> {
        let errors = self.errors();
        let limits = &self.inner.limits;
        let start = Instant::now();
        let deadline = super::deadline(start, limits.timeout).ok_or_else(|| {
            errors.limit(
                "deadline",
                "the request's deadline passed before the call".to_owned(),
            )
        })?;
        let own_timeout = deadline >= start + limits.timeout;
        let bytes = serde_json::to_vec(input).map_err(|e| errors.failed(e))?;
        let len = i32::try_from(bytes.len())
            .map_err(|_| errors.limit("input", format!("{} bytes", bytes.len())))?;
        let mut rt = self.take()?;
        let size = rt.memory.data_size(&rt.store);
        let guard = rt.store.data_mut();
        guard.reset();
        guard.memory_cap = size.saturating_add(limits.memory_bytes as usize);
        sandbox::arm(&mut rt.store, None, deadline).map_err(|e| errors.failed(e))?;
        let trap = |rt: &Runtime, e: wasmtime::Error| {
            errors.trap(rt.store.data(), &e, 0, limits.timeout, own_timeout)
        };
        // A trapped interpreter is dropped with the error: it is never called again.
        let ptr = rt
            .alloc
            .call(&mut rt.store, len)
            .map_err(|e| trap(&rt, e))?;
        rt.memory
            .write(&mut rt.store, ptr as u32 as usize, &bytes)
            .map_err(|_| errors.failed("the rhai interpreter gave memory out of bounds"))?;
        drop(bytes);
        let packed = rt
            .call
            .call(&mut rt.store, (hook_number(hook), ptr, len))
            .map_err(|e| trap(&rt, e))?;
        let out = read_output(&rt.memory, &rt.store, packed, hook, errors)?;
        let used = rt.operations.call(&mut rt.store, ()).unwrap_or(0).max(0) as u64;
        let log = std::mem::take(&mut rt.store.data_mut().log);
        let held = rt.live.call(&mut rt.store, ()).unwrap_or(i64::MAX);
        let grew = rt.memory.data_size(&rt.store).saturating_sub(rt.base_bytes);
        if grew <= GROWTH_KEPT
            && held.saturating_sub(out.len() as i64) <= rt.base_live.saturating_add(LIVE_KEPT)
        {
            self.keep(rt);
        }
        let value = match sandbox::read_frame(&out, hook, errors, true)? {
            Framed::Ok(value) => value,
            Framed::Error { message, limit, .. } => {
                return Err(match limit.as_deref() {
                    Some("type") => errors.malformed(hook, message),
                    Some(limit) => errors.limit(limit, clean(&message, 200)),
                    None => errors.failed(message),
                });
            }
        };
        if Instant::now() > deadline {
            return Err(self.late(start.elapsed()));
        }
        Ok(PluginOutput {
            value,
            used,
            elapsed: start.elapsed(),
            log,
        })
    }

    fn late(&self, elapsed: Duration) -> PluginError {
        self.errors().limit(
            "time",
            format!(
                "{} ms, returned after {} ms",
                self.inner.limits.timeout.as_millis(),
                elapsed.as_millis()
            ),
        )
    }
}

impl Plugin for RhaiPlugin {
    fn call(&self, hook: Hook, input: &Value) -> Result<PluginOutput, PluginError> {
        if threads::on_plugin_thread() {
            return self.call_here(hook, input);
        }
        let me = self.clone();
        let input = input.clone();
        threads::run_sandboxed(None, move || me.call_here(hook, &input))
            .map_err(|e| self.errors().failed(e))?
    }
}
