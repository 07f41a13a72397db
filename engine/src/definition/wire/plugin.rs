use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ids::PluginId;
use crate::text::Text;

/// A plugin: a rhai script or a wasm module that the award calls at named hooks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Laurel plugin manifest")]
pub struct PluginSpec {
    /// The plugin's identifier, by which rules and scoring call it.
    pub id: PluginId,
    /// What it does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Text>,
    /// `rhai` for a script, `wasm` for a WebAssembly module.
    pub kind: PluginKind,
    /// The file, relative to the definition's folder.
    pub path: String,
    /// The SHA-256 of the file, in lower-case hex; the file is refused if it differs.
    #[schemars(regex(pattern = "^[0-9a-f]{64}$"))]
    pub sha256: String,
    /// The hooks it implements.
    pub hooks: Vec<Hook>,
    /// Resource limits, capped by the host's maxima.
    #[serde(default)]
    pub limits: LimitsSpec,
}

/// The kind of a plugin.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PluginKind {
    /// A rhai script.
    Rhai,
    /// A WebAssembly core module.
    Wasm,
}

/// A named point where the engine calls a plugin.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Hook {
    /// Decides an application's eligibility, with reasons.
    Eligibility,
    /// Computes an indicator from the application's data.
    Indicator,
    /// Adjusts or replaces an application's aggregated score.
    Score,
    /// Orders applications whose scores are tied.
    TieBreak,
    /// Extra checks on an application.
    Validate,
}

impl Hook {
    /// The hook's name as written in definitions.
    pub fn as_str(self) -> &'static str {
        match self {
            Hook::Eligibility => "eligibility",
            Hook::Indicator => "indicator",
            Hook::Score => "score",
            Hook::TieBreak => "tie_break",
            Hook::Validate => "validate",
        }
    }
}

/// Resource limits a plugin asks for; each is capped by the host's maximum.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitsSpec {
    /// Wall-clock deadline of one call, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub timeout_ms: Option<u64>,
    /// rhai: operations one call may perform.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub operations: Option<u64>,
    /// wasm: fuel one call may burn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub fuel: Option<u64>,
    /// Memory one call may use, in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub memory_bytes: Option<u64>,
    /// Largest output accepted, in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub output_bytes: Option<u64>,
    /// rhai: deepest function-call nesting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub call_depth: Option<u32>,
}
