//! The wasm host: core modules with a JSON ABI, compiled once, a fresh instance per call.
//!
//! ABI version 1 (see `plugins/README.md`): the module exports `memory`,
//! `laurel_abi_version() -> i32` (returns 1), `laurel_alloc(len: i32) -> i32` and
//! `laurel_call(hook: i32, ptr: i32, len: i32) -> i64`, which reads the hook's JSON input from
//! `ptr..ptr+len` and returns the output's pointer and length packed as `ptr << 32 | len`. The
//! output is `{"ok": <hook output>}` or `{"error": "<message>"}`. Hooks are numbered
//! eligibility 1, indicator 2, score 3, tie_break 4, validate 5. The only import allowed is
//! `laurel.log(ptr: i32, len: i32)`; a module importing anything else (WASI included) is
//! refused at load, with the import's name.
//!
//! A module is inspected before it is compiled (`wasm_check.rs`: size, functions, memory,
//! tables), compiled on a plugin thread, and kept in a bounded cache by its SHA-256. Each call
//! runs in a new instance (so nothing leaks between applications), with fuel set before the
//! call, an epoch deadline (fuel does not count time spent in host calls), a memory cap, and
//! an output size cap; its output is read strictly (duplicate keys refused, numbers exact).

use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value;
use sha2::{Digest, Sha256};
use wasmtime::{
    Caller, Config, Engine, ExternType, InstanceAllocationStrategy, InstancePre, Linker, Module,
    PoolingAllocationConfig, ResourceLimiter, Store, Trap, ValType,
};

use super::cache::Lru;
use super::limits::Limits;
use super::threads::{self, TICK};
use super::wasm_check::{self, TABLE_ELEMENTS, TABLES};
use super::{Plugin, PluginError, PluginOutput, clean};
use crate::definition::wire::Hook;

/// The ABI version this host speaks.
pub const ABI_VERSION: i32 = 1;
/// Instances that can run at once (calls beyond that wait for none: they fail as plugin errors).
const POOL_SLOTS: u32 = 128;
/// The most a guest may log per call.
const LOG_BYTES: usize = 16 << 10;

/// The engine shared by every wasm plugin, its epoch advanced by the plugin clock.
fn engine() -> Result<&'static Engine, String> {
    static ENGINE: OnceLock<Result<Engine, String>> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            let mut config = Config::new();
            config.consume_fuel(true);
            config.epoch_interruption(true);
            config.max_wasm_stack(512 << 10);
            // A pool of instance slots, reused from call to call: no mmap and munmap per
            // instance, and memory reset in place (copy-on-write images for the data).
            let mut pool = PoolingAllocationConfig::default();
            pool.total_core_instances(POOL_SLOTS)
                .total_memories(POOL_SLOTS)
                .total_tables(POOL_SLOTS * TABLES as u32)
                .max_tables_per_module(TABLES as u32)
                .table_elements(TABLE_ELEMENTS as usize)
                .max_memory_size(Limits::MAXIMA.memory_bytes as usize)
                .linear_memory_keep_resident(4 << 20)
                .table_keep_resident(TABLE_ELEMENTS as usize * 16)
                .pagemap_scan(wasmtime::Enabled::Auto)
                .max_unused_warm_slots(POOL_SLOTS / 2);
            config.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
            let engine = Engine::new(&config).map_err(|e| e.to_string())?;
            let ticker = engine.clone();
            let _ = threads::TICK_HOOKS.set(vec![Box::new(move || ticker.increment_epoch())]);
            threads::clock_ms();
            Ok(engine)
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// Compiled modules by the SHA-256 of their bytes: a plugin shared by several awards, or a
/// rubric loaded again, is not compiled again. At most 64 modules and 256 MiB of code.
fn cache() -> &'static Mutex<Lru<[u8; 32], Module>> {
    static CACHE: OnceLock<Mutex<Lru<[u8; 32], Module>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(Lru::new(64, 256 << 20)))
}

/// What a store holds: the limits in force and the guest's log.
struct Guard {
    memory_bytes: usize,
    denied: Option<usize>,
    log: Vec<String>,
    log_bytes: usize,
    message_bytes: usize,
}

impl ResourceLimiter for Guard {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.memory_bytes {
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

/// Where the time of one call went (`WasmPlugin::call_timed`, `laurel plugin run`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallSteps {
    /// The host encoding the input as JSON.
    pub encode: Duration,
    /// A new store and instance: a pool slot, the memory image, globals and tables.
    pub instantiate: Duration,
    /// The guest reserving room for the input and the host copying it in.
    pub input: Duration,
    /// The guest's `laurel_call`: decoding the input, the hook's own work, encoding the output.
    pub guest: Duration,
    /// The host copying the output out and reading it strictly.
    pub output: Duration,
    /// Dropping the instance: its memory reset for the slot's next use.
    pub teardown: Duration,
}

/// A compiled wasm plugin. Cheap to clone.
#[derive(Clone)]
pub struct WasmPlugin {
    inner: Arc<Inner>,
}

struct Inner {
    id: String,
    pre: InstancePre<Guard>,
    limits: Limits,
}

impl std::fmt::Debug for WasmPlugin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WasmPlugin")
            .field("id", &self.inner.id)
            .field("limits", &self.inner.limits)
            .finish()
    }
}

fn hook_number(hook: Hook) -> i32 {
    match hook {
        Hook::Eligibility => 1,
        Hook::Indicator => 2,
        Hook::Score => 3,
        Hook::TieBreak => 4,
        Hook::Validate => 5,
    }
}

/// Compiles `binary` on a plugin thread, or takes it from the cache.
fn compiled(id: &str, binary: Vec<u8>, limits: &Limits) -> Result<Module, PluginError> {
    let invalid = |message: String| PluginError::Invalid {
        plugin: id.to_owned(),
        message,
        line: None,
        column: None,
    };
    let engine = engine().map_err(invalid)?;
    let key: [u8; 32] = Sha256::digest(&binary).into();
    if let Some(module) = cache().lock().ok().and_then(|mut c| c.get(&key)) {
        return Ok(module);
    }
    let started = Instant::now();
    let module = threads::run_sandboxed(None, move || {
        Module::new(engine, &binary).map_err(|e| format!("{e:#}"))
    })
    .map_err(|e| invalid(e.to_string()))?
    .map_err(|e| invalid(format!("is not a valid module: {}", clean(&e, 2_000))))?;
    super::compiled_in_time(id, started, limits)?;
    let range = module.image_range();
    let code = (range.end as usize).saturating_sub(range.start as usize) as u64;
    if let Ok(mut c) = cache().lock() {
        c.insert(key, module.clone(), code.max(1));
    }
    Ok(module)
}

impl WasmPlugin {
    /// Inspects `bytes` (a binary module, or WAT text), compiles it, and checks its imports,
    /// exports and ABI version.
    pub fn load(id: &str, bytes: &[u8], limits: Limits) -> Result<Self, PluginError> {
        let failed = |message: String| PluginError::Invalid {
            plugin: id.to_owned(),
            message,
            line: None,
            column: None,
        };
        super::small_enough(id, "module size", bytes.len(), &limits)?;
        let binary = wat::parse_bytes(bytes)
            .map_err(|e| failed(format!("is neither a wasm module nor WAT text: {e}")))?
            .into_owned();
        wasm_check::inspect(&binary, &limits).map_err(|r| PluginError::Limit {
            plugin: id.to_owned(),
            limit: r.limit.to_owned(),
            detail: r.detail,
        })?;
        let module = compiled(id, binary, &limits)?;
        let engine = engine().map_err(failed)?;
        for import in module.imports() {
            let allowed = import.module() == "laurel"
                && import.name() == "log"
                && matches!(import.ty(), ExternType::Func(f) if f.params().map(|p| p.to_string()).eq(["i32", "i32"]) && f.results().len() == 0);
            if !allowed {
                return Err(failed(format!(
                    "imports `{}`.`{}`, but plugins may import only `laurel`.`log(i32, i32)`",
                    clean(import.module(), 200),
                    clean(import.name(), 200)
                )));
            }
        }
        let want: [(&str, &[ValType], &[ValType]); 3] = [
            ("laurel_abi_version", &[], &[ValType::I32]),
            ("laurel_alloc", &[ValType::I32], &[ValType::I32]),
            (
                "laurel_call",
                &[ValType::I32, ValType::I32, ValType::I32],
                &[ValType::I64],
            ),
        ];
        for (name, params, results) in want {
            let ok = match module.get_export(name) {
                Some(ExternType::Func(f)) => {
                    f.params()
                        .map(|p| p.to_string())
                        .eq(params.iter().map(ToString::to_string))
                        && f.results()
                            .map(|p| p.to_string())
                            .eq(results.iter().map(ToString::to_string))
                }
                _ => false,
            };
            if !ok {
                return Err(failed(format!(
                    "does not export `{name}` with the ABI's signature"
                )));
            }
        }
        if !matches!(module.get_export("memory"), Some(ExternType::Memory(_))) {
            return Err(failed("does not export its `memory`".to_owned()));
        }
        let mut linker: Linker<Guard> = Linker::new(engine);
        linker
            .func_wrap(
                "laurel",
                "log",
                |mut caller: Caller<'_, Guard>, ptr: i32, len: i32| {
                    let Some(memory) = caller.get_export("memory").and_then(|e| e.into_memory())
                    else {
                        return;
                    };
                    let mut buf = vec![0u8; (len.max(0) as usize).min(LOG_BYTES)];
                    if memory.read(&caller, ptr.max(0) as usize, &mut buf).is_ok() {
                        let guard = caller.data_mut();
                        if guard.log_bytes + buf.len() <= LOG_BYTES {
                            guard.log_bytes += buf.len();
                            let line = clean(&String::from_utf8_lossy(&buf), guard.message_bytes);
                            guard.log.push(line);
                        }
                    }
                },
            )
            .map_err(|e| failed(e.to_string()))?;
        let pre = linker
            .instantiate_pre(&module)
            .map_err(|e| failed(e.to_string()))?;
        let plugin = Self {
            inner: Arc::new(Inner {
                id: id.to_owned(),
                pre,
                limits,
            }),
        };
        let me = plugin.clone();
        let version = threads::run_sandboxed(None, move || me.abi_version())
            .map_err(|e| failed(e.to_string()))??;
        if version != ABI_VERSION {
            return Err(failed(format!(
                "speaks ABI version {version}; this host speaks {ABI_VERSION}"
            )));
        }
        Ok(plugin)
    }

    fn store(&self, deadline: Instant) -> Result<Store<Guard>, PluginError> {
        let engine = engine().map_err(|message| self.failed(message))?;
        let limits = &self.inner.limits;
        let mut store = Store::new(
            engine,
            Guard {
                memory_bytes: limits.memory_bytes as usize,
                denied: None,
                log: Vec::new(),
                log_bytes: 0,
                message_bytes: limits.message_bytes as usize,
            },
        );
        store.limiter(|g| g);
        store.set_fuel(limits.fuel).map_err(|e| self.failed(e))?;
        let left = deadline.saturating_duration_since(Instant::now());
        let ticks = (left.as_micros() / TICK.as_micros()) as u64 + 2;
        store.set_epoch_deadline(ticks);
        Ok(store)
    }

    fn abi_version(&self) -> Result<i32, PluginError> {
        let mut store = self.store(Instant::now() + self.inner.limits.timeout)?;
        let instance = self
            .inner
            .pre
            .instantiate(&mut store)
            .map_err(|e| self.trap(&store, e))?;
        let f = instance
            .get_typed_func::<(), i32>(&mut store, "laurel_abi_version")
            .map_err(|e| self.failed(e))?;
        f.call(&mut store, ()).map_err(|e| self.trap(&store, e))
    }

    fn failed(&self, e: impl std::fmt::Display) -> PluginError {
        PluginError::Failed {
            plugin: self.inner.id.clone(),
            message: clean(&e.to_string(), self.inner.limits.message_bytes as usize),
        }
    }

    fn limit(&self, limit: &str, detail: String) -> PluginError {
        PluginError::Limit {
            plugin: self.inner.id.clone(),
            limit: limit.to_owned(),
            detail,
        }
    }

    /// Names the limit a trap hit, or reports the trap.
    fn trap(&self, store: &Store<Guard>, e: wasmtime::Error) -> PluginError {
        let limits = &self.inner.limits;
        if let Some(wanted) = store.data().denied {
            return self.limit(
                "memory",
                format!("wanted {wanted} bytes, at most {}", limits.memory_bytes),
            );
        }
        match e.downcast_ref::<Trap>() {
            Some(Trap::OutOfFuel) => self.limit("fuel", format!("at most {}", limits.fuel)),
            Some(Trap::Interrupt) => {
                self.limit("time", format!("{} ms", limits.timeout.as_millis()))
            }
            Some(Trap::StackOverflow) => {
                self.limit("stack", "the call stack is exhausted".to_owned())
            }
            Some(trap) => self.failed(format!("trapped: {trap}")),
            None => self.failed(format!("{e:#}")),
        }
    }

    fn malformed(&self, hook: Hook, message: String) -> PluginError {
        PluginError::MalformedOutput {
            plugin: self.inner.id.clone(),
            hook: hook.as_str().to_owned(),
            message,
        }
    }

    /// Calls `hook` as [`Plugin::call`] does, and says how long each step of the call took.
    pub fn call_timed(
        &self,
        hook: Hook,
        input: &Value,
    ) -> Result<(PluginOutput, CallSteps), PluginError> {
        let timed = move |me: &Self, input: &Value| {
            let mut steps = CallSteps::default();
            me.call_here(hook, input, Some(&mut steps))
                .map(|output| (output, steps))
        };
        if threads::on_plugin_thread() {
            return timed(self, input);
        }
        let me = self.clone();
        let input = input.clone();
        threads::run_sandboxed(None, move || timed(&me, &input)).map_err(|e| self.failed(e))?
    }

    fn call_here(
        &self,
        hook: Hook,
        input: &Value,
        mut steps: Option<&mut CallSteps>,
    ) -> Result<PluginOutput, PluginError> {
        let start = Instant::now();
        let mut lap = start;
        let mut mark = |step: fn(&mut CallSteps) -> &mut Duration| {
            if let Some(steps) = steps.as_deref_mut() {
                let now = Instant::now();
                *step(steps) += now - lap;
                lap = now;
            }
        };
        let limits = &self.inner.limits;
        let deadline = super::deadline(start, limits.timeout).ok_or_else(|| {
            self.limit(
                "deadline",
                "the request's deadline passed before the call".to_owned(),
            )
        })?;
        let bytes = serde_json::to_vec(input).map_err(|e| self.failed(e))?;
        let len = i32::try_from(bytes.len())
            .map_err(|_| self.limit("input", format!("{} bytes", bytes.len())))?;
        mark(|s| &mut s.encode);
        let mut store = self.store(deadline)?;
        let instance = self
            .inner
            .pre
            .instantiate(&mut store)
            .map_err(|e| self.trap(&store, e))?;
        mark(|s| &mut s.instantiate);
        let memory = instance
            .get_memory(&mut store, "memory")
            .ok_or_else(|| self.failed("no memory"))?;
        let alloc = instance
            .get_typed_func::<i32, i32>(&mut store, "laurel_alloc")
            .map_err(|e| self.failed(e))?;
        let run = instance
            .get_typed_func::<(i32, i32, i32), i64>(&mut store, "laurel_call")
            .map_err(|e| self.failed(e))?;
        let ptr = alloc
            .call(&mut store, len)
            .map_err(|e| self.trap(&store, e))?;
        memory
            .write(&mut store, ptr as u32 as usize, &bytes)
            .map_err(|_| self.failed("laurel_alloc returned memory out of bounds"))?;
        mark(|s| &mut s.input);
        let packed = run
            .call(&mut store, (hook_number(hook), ptr, len))
            .map_err(|e| {
                let error = self.trap(&store, e);
                match error {
                    PluginError::Limit { ref limit, .. }
                        if limit == "time" && deadline < start + limits.timeout =>
                    {
                        self.limit(
                            "deadline",
                            "the request's deadline passed during the call".to_owned(),
                        )
                    }
                    other => other,
                }
            })?;
        mark(|s| &mut s.guest);
        let (out_ptr, out_len) = (
            (packed >> 32) as u32 as usize,
            (packed & 0xffff_ffff) as u32 as u64,
        );
        if out_len > limits.output_bytes {
            return Err(self.limit(
                "output",
                format!("{out_len} bytes, at most {}", limits.output_bytes),
            ));
        }
        let mut out = vec![0u8; out_len as usize];
        memory
            .read(&store, out_ptr, &mut out)
            .map_err(|_| self.malformed(hook, "the output lies outside memory".to_owned()))?;
        let used = limits.fuel.saturating_sub(store.get_fuel().unwrap_or(0));
        let framed = crate::json::strict_from_slice(&out).map_err(|e| {
            if e.to_string().starts_with("recursion limit exceeded") {
                self.limit(
                    "output depth",
                    format!("nested deeper than {}", limits.output_depth),
                )
            } else {
                self.malformed(hook, clean(&format!("not JSON: {e}"), 500))
            }
        })?;
        if super::depth(&framed) > limits.output_depth as usize + 1 {
            return Err(self.limit(
                "output depth",
                format!("nested deeper than {}", limits.output_depth),
            ));
        }
        let value = match framed {
            Value::Object(mut m) if m.len() == 1 && m.contains_key("ok") => {
                m.remove("ok").unwrap_or(Value::Null)
            }
            Value::Object(m) if m.len() == 1 && m.contains_key("error") => {
                let message = m
                    .get("error")
                    .and_then(Value::as_str)
                    .unwrap_or("an error without a message");
                return Err(self.failed(message));
            }
            _ => {
                return Err(self.malformed(
                    hook,
                    "expected `{\"ok\": ...}` or `{\"error\": \"...\"}`".to_owned(),
                ));
            }
        };
        if Instant::now() > deadline {
            return Err(self.limit(
                "time",
                format!(
                    "{} ms, returned after {} ms",
                    limits.timeout.as_millis(),
                    start.elapsed().as_millis()
                ),
            ));
        }
        let log = std::mem::take(&mut store.data_mut().log);
        mark(|s| &mut s.output);
        drop(store);
        mark(|s| &mut s.teardown);
        Ok(PluginOutput {
            value,
            used,
            elapsed: start.elapsed(),
            log,
        })
    }
}

impl Plugin for WasmPlugin {
    fn call(&self, hook: Hook, input: &Value) -> Result<PluginOutput, PluginError> {
        if threads::on_plugin_thread() {
            return self.call_here(hook, input, None);
        }
        let me = self.clone();
        let input = input.clone();
        threads::run_sandboxed(None, move || me.call_here(hook, &input, None))
            .map_err(|e| self.failed(e))?
    }
}
