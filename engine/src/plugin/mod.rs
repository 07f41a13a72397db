//! The one interface every plugin host implements, the set of loaded plugins an evaluation
//! calls through, and loading them from a checked award.

mod convert;
pub(crate) mod hooks;
mod limits;
mod rhai_host;
mod wasm_host;

pub use hooks::schemas as hook_schemas;
pub use limits::Limits;
pub use rhai_host::RhaiPlugin;
pub use wasm_host::{ABI_VERSION, WasmPlugin};

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

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
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize)]
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
