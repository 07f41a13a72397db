//! Compiling a wasm module where the host can stop it, and keeping what was compiled between
//! runs of the program.
//!
//! Cranelift cannot be interrupted: a module built to be slow or large to compile would hold a
//! thread, and its memory, for as long as it takes. So a program can install a
//! [`ModuleCompiler`] that compiles elsewhere (the `laurel` binary runs a child process of
//! itself under a memory limit and kills it at the compile deadline) and hands back the
//! compiled artefact, which is loaded here. Without one, modules are compiled in process, after
//! the checks of `wasm_check.rs` have bounded what compiling them can cost.

#![allow(unsafe_code)]

use std::sync::OnceLock;

use sha2::{Digest, Sha256};
use wasmtime::{Engine, Module};

use super::limits::Limits;
use super::sandbox;

/// The most memory a compilation may use, where a [`ModuleCompiler`] can enforce it.
pub const COMPILE_MEMORY_BYTES: u64 = 1 << 30;

/// Compiles wasm modules out of process.
pub trait ModuleCompiler: Send + Sync + std::fmt::Debug {
    /// Compiles `wasm` (a binary module that passed the checks) with
    /// [`compile_module_here`] somewhere it can be stopped: within `limits.compile_time` and
    /// [`COMPILE_MEMORY_BYTES`]. Returns what `compile_module_here` returned, or why not (the
    /// limit it passed).
    fn compile(&self, wasm: &[u8], limits: &Limits) -> Result<Vec<u8>, CompileError>;
}

/// Why a module was not compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CompileError {
    /// It took longer than the compile-time limit.
    #[error("compiling took longer than {0} ms")]
    Time(u128),
    /// It needed more memory than [`COMPILE_MEMORY_BYTES`].
    #[error("compiling needed more than {0} bytes of memory")]
    Memory(u64),
    /// It is not a valid module, or the compiler failed.
    #[error("{0}")]
    Failed(String),
}

static COMPILER: OnceLock<Box<dyn ModuleCompiler>> = OnceLock::new();

/// Installs the compiler every wasm module is compiled with from now on. Once per program;
/// later calls are ignored.
pub fn set_module_compiler(compiler: Box<dyn ModuleCompiler>) {
    let _ = COMPILER.set(compiler);
}

/// Compiles `wasm` in this process for the plugin engine, returning the compiled artefact: what
/// a [`ModuleCompiler`]'s child process runs.
pub fn compile_module_here(wasm: &[u8]) -> Result<Vec<u8>, String> {
    let engine = sandbox::compile_only_engine()?;
    engine.precompile_module(wasm).map_err(|e| format!("{e:#}"))
}

/// Compiles `wasm` for the plugin engine: through the installed [`ModuleCompiler`], or here;
/// an artefact kept by an earlier run is loaded instead when there is one.
pub(crate) fn compile(wasm: &[u8], limits: &Limits) -> Result<Module, CompileError> {
    let engine = sandbox::engine().map_err(CompileError::Failed)?;
    let Some(compiler) = COMPILER.get() else {
        return Module::new(engine, wasm).map_err(|e| CompileError::Failed(format!("{e:#}")));
    };
    let key = artefact_key(engine, "module", wasm);
    if let Some(module) = CACHE.get().and_then(|c| c.get(&key)).and_then(|artefact| {
        // SAFETY: as below; the cache holds only what this program wrote from such an
        // artefact, where only its user can write (the cache's contract).
        unsafe { Module::deserialize(engine, &artefact) }.ok()
    }) {
        return Ok(module);
    }
    let artefact = compiler.compile(wasm, limits)?;
    // SAFETY: `artefact` is what `compile_module_here` returned in a child process of this
    // same program (the installed compiler's contract): wasmtime's own serialisation of a
    // module it compiled, for an engine configured as this one (which `deserialize` checks
    // again, refusing another wasmtime version or configuration). Its code is what compiling
    // here would have produced.
    let module = unsafe { Module::deserialize(engine, &artefact) }.map_err(|e| {
        CompileError::Failed(format!("the compiled module cannot be loaded: {e:#}"))
    })?;
    if let Some(cache) = CACHE.get() {
        cache.put(&key, &artefact);
    }
    Ok(module)
}

/// The key of a module's artefact: its bytes, the engine's configuration and wasmtime's
/// version (an artefact of another is refused by `deserialize` anyway, but need not be read).
fn artefact_key(engine: &Engine, name: &str, wasm: &[u8]) -> String {
    let mut hash = Sha256::new();
    hash.update(wasm);
    let mut config = std::collections::hash_map::DefaultHasher::new();
    std::hash::Hash::hash(&engine.precompile_compatibility_hash(), &mut config);
    hash.update(std::hash::Hasher::finish(&config).to_le_bytes());
    format!("{name}-{}", hex::encode(&hash.finalize()[..16]))
}

/// Where compiled artefacts of Laurel's own modules (the rhai interpreter) are kept between
/// runs of the program, so that only the first run compiles them. What is read back is loaded
/// as native code: an implementation must keep it where only this program's user can write.
pub trait ArtefactCache: Send + Sync + std::fmt::Debug {
    /// The artefact stored under `key`, if any.
    fn get(&self, key: &str) -> Option<Vec<u8>>;
    /// Stores `artefact` under `key` (best effort).
    fn put(&self, key: &str, artefact: &[u8]);
}

static CACHE: OnceLock<Box<dyn ArtefactCache>> = OnceLock::new();

/// Installs the cache of compiled artefacts. Once per program; later calls are ignored.
pub fn set_artefact_cache(cache: Box<dyn ArtefactCache>) {
    let _ = CACHE.set(cache);
}

/// Compiles one of Laurel's own modules for `engine`, or loads what an earlier run compiled.
pub(crate) fn trusted_module(engine: &Engine, name: &str, wasm: &[u8]) -> Result<Module, String> {
    let Some(cache) = CACHE.get() else {
        return Module::new(engine, wasm).map_err(|e| format!("{e:#}"));
    };
    let key = artefact_key(engine, name, wasm);
    if let Some(artefact) = cache.get(&key) {
        // SAFETY: the cache's contract: what is stored under this key was written by this
        // program (below) from `Module::serialize` of this module for an engine configured as
        // this one, and only this program's user can change it; `deserialize` checks the
        // engine's configuration and wasmtime's version again.
        if let Ok(module) = unsafe { Module::deserialize(engine, &artefact) } {
            return Ok(module);
        }
    }
    let module = Module::new(engine, wasm).map_err(|e| format!("{e:#}"))?;
    if let Ok(artefact) = module.serialize() {
        cache.put(&key, &artefact);
    }
    Ok(module)
}
