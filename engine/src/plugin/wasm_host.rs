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
use wasmtime::{ExternType, InstancePre, Module, Store, ValType};

use super::cache::Lru;
use super::compile::{self, CompileError};
use super::limits::Limits;
use super::sandbox::{self, Errors, Framed, Guard};
use super::threads;
use super::wasm_check;
use super::{Plugin, PluginError, PluginOutput, clean};
use crate::definition::wire::Hook;

/// The ABI version this host speaks.
pub const ABI_VERSION: i32 = 1;

/// Compiled modules by the SHA-256 of their bytes: a plugin shared by several awards, or a
/// rubric loaded again, is not compiled again. At most 64 modules and 256 MiB of code.
fn cache() -> &'static Mutex<Lru<[u8; 32], Module>> {
    static CACHE: OnceLock<Mutex<Lru<[u8; 32], Module>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(Lru::new(64, 256 << 20)))
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

/// Compiles `binary` (on a plugin thread, or out of process when a compiler is installed), or
/// takes it from the cache.
fn compiled(id: &str, binary: Vec<u8>, limits: &Limits) -> Result<Module, PluginError> {
    let key: [u8; 32] = Sha256::digest(&binary).into();
    if let Some(module) = cache().lock().ok().and_then(|mut c| c.get(&key)) {
        return Ok(module);
    }
    let started = Instant::now();
    let for_job = *limits;
    let module = threads::run_sandboxed(None, move || compile::compile(&binary, &for_job))
        .map_err(|e| PluginError::Failed {
            plugin: id.to_owned(),
            message: e.to_string(),
        })?
        .map_err(|e| match e {
            CompileError::Time(ms) => PluginError::Limit {
                plugin: id.to_owned(),
                limit: "compile time".to_owned(),
                detail: format!("{ms} ms"),
            },
            CompileError::Memory(bytes) => PluginError::Limit {
                plugin: id.to_owned(),
                limit: "compile memory".to_owned(),
                detail: format!("more than {bytes} bytes"),
            },
            CompileError::Failed(message) => PluginError::Invalid {
                plugin: id.to_owned(),
                message: format!("is not a valid module: {}", clean(&message, 2_000)),
                line: None,
                column: None,
            },
        })?;
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
        let engine = sandbox::engine().map_err(failed)?;
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
        check_exports(&module).map_err(failed)?;
        let pre = sandbox::linker(engine)
            .and_then(|l| l.instantiate_pre(&module).map_err(|e| e.to_string()))
            .map_err(failed)?;
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

    fn errors(&self) -> Errors<'_> {
        Errors {
            plugin: &self.inner.id,
            limits: &self.inner.limits,
        }
    }

    fn store(&self, deadline: Instant) -> Result<Store<Guard>, PluginError> {
        let engine = sandbox::engine().map_err(|message| self.errors().failed(message))?;
        let limits = &self.inner.limits;
        let mut store = Store::new(engine, Guard::new(limits.memory_bytes, limits));
        store.limiter(|g| g);
        sandbox::arm(&mut store, Some(limits.fuel), deadline)
            .map_err(|e| self.errors().failed(e))?;
        Ok(store)
    }

    fn trap(&self, store: &Store<Guard>, e: &wasmtime::Error, own_timeout: bool) -> PluginError {
        let limits = &self.inner.limits;
        self.errors()
            .trap(store.data(), e, limits.fuel, limits.timeout, own_timeout)
    }

    fn abi_version(&self) -> Result<i32, PluginError> {
        let mut store = self.store(Instant::now() + self.inner.limits.timeout)?;
        let instance = self
            .inner
            .pre
            .instantiate(&mut store)
            .map_err(|e| self.trap(&store, &e, true))?;
        let f = instance
            .get_typed_func::<(), i32>(&mut store, "laurel_abi_version")
            .map_err(|e| self.errors().failed(e))?;
        f.call(&mut store, ())
            .map_err(|e| self.trap(&store, &e, true))
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
        threads::run_sandboxed(None, move || timed(&me, &input))
            .map_err(|e| self.errors().failed(e))?
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
        let errors = self.errors();
        let limits = &self.inner.limits;
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
        mark(|s| &mut s.encode);
        let mut store = self.store(deadline)?;
        let instance = self
            .inner
            .pre
            .instantiate(&mut store)
            .map_err(|e| self.trap(&store, &e, own_timeout))?;
        mark(|s| &mut s.instantiate);
        let memory = instance
            .get_memory(&mut store, "memory")
            .ok_or_else(|| errors.failed("no memory"))?;
        let alloc = instance
            .get_typed_func::<i32, i32>(&mut store, "laurel_alloc")
            .map_err(|e| errors.failed(e))?;
        let run = instance
            .get_typed_func::<(i32, i32, i32), i64>(&mut store, "laurel_call")
            .map_err(|e| errors.failed(e))?;
        let ptr = alloc
            .call(&mut store, len)
            .map_err(|e| self.trap(&store, &e, own_timeout))?;
        memory
            .write(&mut store, ptr as u32 as usize, &bytes)
            .map_err(|_| errors.failed("laurel_alloc returned memory out of bounds"))?;
        mark(|s| &mut s.input);
        let packed = run
            .call(&mut store, (hook_number(hook), ptr, len))
            .map_err(|e| self.trap(&store, &e, own_timeout))?;
        mark(|s| &mut s.guest);
        let out = read_output(&memory, &store, packed, hook, errors)?;
        let used = limits.fuel.saturating_sub(store.get_fuel().unwrap_or(0));
        let value = match sandbox::read_frame(&out, hook, errors, false)? {
            Framed::Ok(value) => value,
            Framed::Error { message, .. } => return Err(errors.failed(message)),
        };
        if Instant::now() > deadline {
            return Err(errors.limit(
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

/// The module exports the ABI's functions with their signatures, and its memory.
fn check_exports(module: &Module) -> Result<(), String> {
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
            return Err(format!("does not export `{name}` with the ABI's signature"));
        }
    }
    if !matches!(module.get_export("memory"), Some(ExternType::Memory(_))) {
        return Err("does not export its `memory`".to_owned());
    }
    Ok(())
}

/// Copies out the output a guest placed at `packed` (`ptr << 32 | len`), refusing one larger
/// than the output limit before reading it.
pub(crate) fn read_output(
    memory: &wasmtime::Memory,
    store: &Store<Guard>,
    packed: i64,
    hook: Hook,
    errors: Errors<'_>,
) -> Result<Vec<u8>, PluginError> {
    let (out_ptr, out_len) = (
        (packed >> 32) as u32 as usize,
        (packed & 0xffff_ffff) as u32 as u64,
    );
    let max = errors.limits.output_bytes;
    if out_len > max {
        return Err(errors.limit("output", format!("{out_len} bytes, at most {max}")));
    }
    let mut out = vec![0u8; out_len as usize];
    memory
        .read(store, out_ptr, &mut out)
        .map_err(|_| errors.malformed(hook, "the output lies outside memory".to_owned()))?;
    Ok(out)
}

/// The number of a hook in the ABI.
pub(crate) fn hook_number(hook: Hook) -> i32 {
    match hook {
        Hook::Eligibility => 1,
        Hook::Indicator => 2,
        Hook::Score => 3,
        Hook::TieBreak => 4,
        Hook::Validate => 5,
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
            .map_err(|e| self.errors().failed(e))?
    }
}
