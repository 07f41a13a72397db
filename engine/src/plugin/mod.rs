//! The one interface every plugin host implements, the set of loaded plugins an evaluation
//! calls through, and loading them from a checked award.

mod cache;
mod compile;
pub(crate) mod hooks;
mod limits;
mod rhai_host;
mod sandbox;
pub(crate) mod threads;
mod wasm_check;
mod wasm_host;

pub use compile::{
    ArtefactCache, COMPILE_MEMORY_BYTES, CompileError, ModuleCompiler, compile_module_here,
    set_artefact_cache, set_module_compiler,
};
pub use hooks::schemas as hook_schemas;
pub use limits::Limits;
pub use rhai_host::RhaiPlugin;
pub use threads::{
    Busy, LANE_CAPACITY, Lane, PoolStats, QUEUE_CAPACITY, STACK_BYTES, SandboxError,
    on_plugin_thread, plugin_threads, pool_stats, run_sandboxed, spawn_in_lane, spawn_sandboxed,
};
pub use wasm_host::{ABI_VERSION, CallSteps, WasmPlugin};

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::Value;

use sha2::{Digest, Sha256};

use crate::definition::PluginFiles;
use crate::definition::model::Award;
use crate::definition::wire::{Hook, PluginKind};
use crate::diagnostics::{Code, Diagnostic, Diagnostics};
use crate::ids::PluginId;

/// A loaded plugin: a function from a hook's JSON input to its JSON output, sandboxed by its host.
pub trait Plugin: Send + Sync + std::fmt::Debug {
    /// Runs `hook` on `input`.
    fn call(&self, hook: Hook, input: &Value) -> Result<PluginOutput, PluginError>;
}

/// What a call returned, and what it cost.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PluginOutput {
    /// The hook's output.
    pub value: Value,
    /// rhai operations or wasm fuel used.
    pub used: u64,
    /// Wall-clock time of the call.
    #[serde(rename = "elapsed_us", serialize_with = "micros")]
    pub elapsed: Duration,
    /// What the plugin logged (`print` in rhai, `laurel.log` in wasm).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub log: Vec<String>,
}

fn micros<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u128(d.as_micros())
}

/// Why a plugin call failed. The host process is never affected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum PluginError {
    /// No plugin with this id is loaded.
    #[error("plugin `{plugin}` is not loaded")]
    NotLoaded {
        /// The plugin.
        plugin: String,
    },
    /// The plugin does not implement the hook.
    #[error("plugin `{plugin}` does not implement hook `{hook}`")]
    NoSuchHook {
        /// The plugin.
        plugin: String,
        /// The hook.
        hook: String,
    },
    /// A limit was hit.
    #[error("plugin `{plugin}` exceeded its {limit} limit ({detail})")]
    Limit {
        /// The plugin.
        plugin: String,
        /// Which limit: `operations`, `fuel`, `time`, `memory`, `output`, `call depth`, ...
        limit: String,
        /// More about it.
        detail: String,
    },
    /// The plugin cannot be loaded: it does not compile, or breaks the ABI. `line` and `column`
    /// locate the problem in a script, when known.
    #[error("plugin `{plugin}` {message}{}", location(*line, *column))]
    Invalid {
        /// The plugin.
        plugin: String,
        /// What is wrong with it.
        message: String,
        /// 1-based line in the plugin's file.
        #[serde(skip_serializing_if = "Option::is_none")]
        line: Option<usize>,
        /// 1-based column in the plugin's file.
        #[serde(skip_serializing_if = "Option::is_none")]
        column: Option<usize>,
    },
    /// The plugin failed (a runtime error, a trap, a panic in the guest).
    #[error("plugin `{plugin}` failed: {message}")]
    Failed {
        /// The plugin.
        plugin: String,
        /// What happened.
        message: String,
    },
    /// The output does not have the hook's shape.
    #[error("plugin `{plugin}` returned malformed output for hook `{hook}`: {message}")]
    MalformedOutput {
        /// The plugin.
        plugin: String,
        /// The hook.
        hook: String,
        /// What is wrong with it.
        message: String,
    },
}

fn location(line: Option<usize>, column: Option<usize>) -> String {
    match (line, column) {
        (Some(l), Some(c)) => format!(" (line {l}, column {c})"),
        (Some(l), None) => format!(" (line {l})"),
        _ => String::new(),
    }
}

impl PluginError {
    /// The plugin's id.
    pub fn plugin(&self) -> &str {
        match self {
            PluginError::NotLoaded { plugin }
            | PluginError::NoSuchHook { plugin, .. }
            | PluginError::Limit { plugin, .. }
            | PluginError::Invalid { plugin, .. }
            | PluginError::Failed { plugin, .. }
            | PluginError::MalformedOutput { plugin, .. } => plugin,
        }
    }
}

/// The deadline of a call starting at `start` with `timeout`: the earlier of the two when the
/// job it runs in has a deadline; `None` when the job's deadline has passed already.
pub(crate) fn deadline(start: Instant, timeout: Duration) -> Option<Instant> {
    let own = start + timeout;
    match threads::job_deadline() {
        Some(job) if job <= start => None,
        Some(job) => Some(own.min(job)),
        None => Some(own),
    }
}

/// Refuses a plugin that took longer than its limit to compile.
pub(crate) fn compiled_in_time(
    plugin: &str,
    started: Instant,
    limits: &Limits,
) -> Result<(), PluginError> {
    let took = started.elapsed();
    if took <= limits.compile_time {
        return Ok(());
    }
    Err(PluginError::Limit {
        plugin: plugin.to_owned(),
        limit: "compile time".to_owned(),
        detail: format!(
            "{} ms, at most {} ms",
            took.as_millis(),
            limits.compile_time.as_millis()
        ),
    })
}

/// Refuses a plugin file larger than its limit; `limit` names it (`source size`, `module
/// size`).
pub(crate) fn small_enough(
    plugin: &str,
    limit: &str,
    bytes: usize,
    limits: &Limits,
) -> Result<(), PluginError> {
    if bytes as u64 <= limits.source_bytes {
        return Ok(());
    }
    Err(PluginError::Limit {
        plugin: plugin.to_owned(),
        limit: limit.to_owned(),
        detail: format!(
            "the file has {bytes} bytes, at most {}",
            limits.source_bytes
        ),
    })
}

/// How deeply a JSON value nests (a scalar is 0).
pub(crate) fn depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// Text from a plugin made safe to show: control characters (terminal escapes among them)
/// and invisible direction overrides written out as `\u{..}`, line breaks and tabs as spaces,
/// and at most `max_bytes` kept.
pub fn clean(text: &str, max_bytes: usize) -> String {
    let mut out = String::with_capacity(text.len().min(max_bytes) + 16);
    for (at, c) in text.char_indices() {
        if out.len() >= max_bytes {
            out.push_str(&format!("… ({} more bytes)", text.len() - at));
            break;
        }
        match c {
            '\n' | '\r' | '\t' => out.push(' '),
            c if c.is_control()
                || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}') =>
            {
                out.push_str(&format!("\\u{{{:x}}}", c as u32));
            }
            c => out.push(c),
        }
    }
    out
}

/// The plugins an evaluation may call, by id.
#[derive(Debug, Clone, Default)]
pub struct PluginSet {
    plugins: BTreeMap<PluginId, Arc<dyn Plugin>>,
}

impl PluginSet {
    /// No plugins: every call fails with [`PluginError::NotLoaded`].
    pub fn none() -> Self {
        Self::default()
    }

    /// Adds a loaded plugin.
    pub fn insert(&mut self, id: PluginId, plugin: Arc<dyn Plugin>) {
        self.plugins.insert(id, plugin);
    }

    /// Calls `hook` of plugin `id`.
    pub fn call(
        &self,
        id: &PluginId,
        hook: Hook,
        input: &Value,
    ) -> Result<PluginOutput, PluginError> {
        match self.plugins.get(id) {
            Some(p) => p.call(hook, input),
            None => Err(PluginError::NotLoaded {
                plugin: id.to_string(),
            }),
        }
    }
}

/// Loads and compiles every plugin of `award`, reading its file through `files` and checking
/// its SHA-256 again (the file may have changed since the definition was checked). Reports
/// every plugin that cannot be loaded, at `/plugins/<i>`.
pub fn load_plugins(award: &Award, files: &dyn PluginFiles) -> Result<PluginSet, Diagnostics> {
    let mut set = PluginSet::none();
    let mut errors = Diagnostics::new();
    for (i, p) in award.plugins.iter().enumerate() {
        let pointer = format!("/plugins/{i}");
        let bytes = match files.read(&p.path) {
            Ok(b) => b,
            Err(e) => {
                errors.push(Diagnostic::error(
                    Code::Plugin,
                    format!("{pointer}/path"),
                    format!("cannot read plugin file `{}`: {e}", p.path),
                ));
                continue;
            }
        };
        let actual = hex::encode(Sha256::digest(&bytes));
        if actual != p.sha256 {
            errors.push(Diagnostic::error(
                Code::Plugin,
                format!("{pointer}/sha256"),
                format!(
                    "plugin file `{}` has SHA-256 `{actual}`, not the declared one",
                    p.path
                ),
            ));
            continue;
        }
        let limits = Limits::resolve(&p.limits);
        let hooks: Vec<Hook> = p.hooks.iter().copied().collect();
        let loaded: Result<Arc<dyn Plugin>, PluginError> = match p.kind {
            PluginKind::Rhai => match std::str::from_utf8(&bytes) {
                Ok(source) => RhaiPlugin::load(p.id.as_str(), source, &hooks, limits)
                    .map(|x| Arc::new(x) as Arc<dyn Plugin>),
                Err(_) => Err(PluginError::Failed {
                    plugin: p.id.to_string(),
                    message: "is not UTF-8 text".to_owned(),
                }),
            },
            PluginKind::Wasm => WasmPlugin::load(p.id.as_str(), &bytes, limits)
                .map(|x| Arc::new(x) as Arc<dyn Plugin>),
        };
        match loaded {
            Ok(plugin) => set.insert(p.id.clone(), plugin),
            Err(e) => errors.push(Diagnostic::error(Code::Plugin, pointer, e.to_string())),
        }
    }
    if errors.has_errors() {
        Err(errors)
    } else {
        Ok(set)
    }
}
