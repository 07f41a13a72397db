//! What each hook receives and returns: the contract between the engine and every plugin,
//! published as JSON Schemas in `schemas/hooks/`.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::PluginError;
use crate::application::Application;
use crate::definition::wire::Hook;

/// Input of `eligibility` and `validate`: the application.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "Input of the eligibility and validate hooks")]
pub struct ApplicationInput {
    /// The application.
    pub application: Application,
}

/// Output of `eligibility`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Output of the eligibility hook")]
pub struct EligibilityOutput {
    /// Whether the application meets the plugin's rules.
    pub eligible: bool,
    /// Why not (or notes), for people.
    #[serde(default)]
    pub reasons: Vec<String>,
}

/// Input of `indicator`: the application and the indicator computed.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "Input of the indicator hook")]
pub struct IndicatorInput {
    /// The application.
    pub application: Application,
    /// The indicator's id.
    pub indicator: String,
}

/// Output of `indicator`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Output of the indicator hook")]
pub struct IndicatorOutput {
    /// The indicator's value, on its scale (a number, or a decimal string).
    pub value: Decimal,
}

/// Input of `score`: the application and its panel scores.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "Input of the score hook")]
pub struct ScoreInput {
    /// The application.
    pub application: Application,
    /// The panel's total before the plugin.
    pub total: Decimal,
    /// The panel's score on each criterion.
    pub criteria: BTreeMap<String, Decimal>,
    /// How many judges marked it.
    pub judges: usize,
}

/// Output of `score`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "Output of the score hook")]
pub struct ScoreOutput {
    /// The application's score, replacing the total (a number, or a decimal string).
    pub score: Decimal,
    /// How it was computed, kept in the trace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub explanation: Option<Value>,
}

/// Input of `tie_break`: the tied applications.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[schemars(title = "Input of the tie_break hook")]
pub struct TieBreakInput {
    /// The tied applications and their common score.
    pub tied: Vec<TiedApplication>,
}

/// One tied application.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct TiedApplication {
    /// The application.
    pub application: Application,
    /// Its score.
    pub score: Decimal,
    /// The panel's score on each criterion, by criterion id.
    #[serde(default)]
    pub criteria: std::collections::BTreeMap<String, Decimal>,
}

/// Output of `tie_break`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Output of the tie_break hook")]
pub struct TieBreakOutput {
    /// Every tied application's id, best first.
    pub order: Vec<String>,
}

/// Output of `validate`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Output of the validate hook")]
pub struct ValidateOutput {
    /// Problems found; none means valid.
    #[serde(default)]
    pub errors: Vec<ValidateError>,
}

/// One problem a `validate` hook found.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ValidateError {
    /// Where, as a JSON pointer into the application.
    #[serde(default)]
    pub pointer: String,
    /// What is wrong.
    pub message: String,
}

/// The most reasons an eligibility plugin's verdict keeps.
pub(crate) const REASONS: usize = 20;
/// The longest reason kept, in bytes.
pub(crate) const REASON_BYTES: usize = 1_024;

/// The largest explanation of a score kept in a trace, in bytes of JSON: results hold one per
/// application, so a plugin's explanation cannot blow them up.
pub(crate) const EXPLANATION_BYTES: usize = 4_096;

/// A score's explanation, or a note in its place when it is larger than
/// [`EXPLANATION_BYTES`].
pub(crate) fn capped_explanation(explanation: Option<Value>) -> Option<Value> {
    let value = explanation?;
    let size = serde_json::to_vec(&value).map_or(usize::MAX, |v| v.len());
    if size <= EXPLANATION_BYTES {
        return Some(value);
    }
    Some(Value::String(format!(
        "explanation omitted: {size} bytes, more than the {EXPLANATION_BYTES} kept"
    )))
}

/// Reads a hook's output into its type, or says why it is malformed.
pub(crate) fn parse<T: serde::de::DeserializeOwned>(
    plugin: &str,
    hook: Hook,
    value: Value,
) -> Result<T, PluginError> {
    serde_path_to_error::deserialize(value).map_err(|e| PluginError::MalformedOutput {
        plugin: plugin.to_owned(),
        hook: hook.as_str().to_owned(),
        message: super::clean(&format!("at `{}`: {}", e.path(), e.inner()), 500),
    })
}

/// The published schemas of every hook's input and output.
pub fn schemas() -> Vec<(&'static str, Value)> {
    use crate::schema_gen::generate;
    vec![
        (
            "hooks/eligibility.input.schema.json",
            generate::<ApplicationInput>("hooks/eligibility.input"),
        ),
        (
            "hooks/eligibility.output.schema.json",
            generate::<EligibilityOutput>("hooks/eligibility.output"),
        ),
        (
            "hooks/indicator.input.schema.json",
            generate::<IndicatorInput>("hooks/indicator.input"),
        ),
        (
            "hooks/indicator.output.schema.json",
            generate::<IndicatorOutput>("hooks/indicator.output"),
        ),
        (
            "hooks/score.input.schema.json",
            generate::<ScoreInput>("hooks/score.input"),
        ),
        (
            "hooks/score.output.schema.json",
            generate::<ScoreOutput>("hooks/score.output"),
        ),
        (
            "hooks/tie_break.input.schema.json",
            generate::<TieBreakInput>("hooks/tie_break.input"),
        ),
        (
            "hooks/tie_break.output.schema.json",
            generate::<TieBreakOutput>("hooks/tie_break.output"),
        ),
        (
            "hooks/validate.input.schema.json",
            generate::<ApplicationInput>("hooks/validate.input"),
        ),
        (
            "hooks/validate.output.schema.json",
            generate::<ValidateOutput>("hooks/validate.output"),
        ),
    ]
}
