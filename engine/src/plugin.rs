//! The one interface every plugin host implements, and the set of loaded plugins an
//! evaluation calls through.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde_json::Value;

use crate::definition::wire::Hook;
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
    #[serde(serialize_with = "micros")]
    pub elapsed: Duration,
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
