//! The checks a batch applies to a hook's output, for one call on its own (`laurel plugin
//! run`): the same shape, the same scales, the same bounds.

use std::collections::BTreeSet;

use serde_json::Value;

use super::input::Layout;
use super::sheet;
use crate::definition::model::Award;
use crate::definition::wire::Hook;
use crate::plugin::{PluginError, hooks};

/// Checks `output`, what plugin `plugin` returned for `hook` on `input`, as a batch would.
pub fn check_hook_output(
    award: &Award,
    plugin: &str,
    hook: Hook,
    input: &Value,
    output: &Value,
) -> Result<(), PluginError> {
    let malformed = |message: String| PluginError::MalformedOutput {
        plugin: plugin.to_owned(),
        hook: hook.as_str().to_owned(),
        message,
    };
    let category = input
        .pointer("/application/category")
        .and_then(Value::as_str)
        .and_then(|c| award.category(c));
    match hook {
        Hook::Eligibility => {
            hooks::parse::<hooks::EligibilityOutput>(plugin, hook, output.clone())?;
        }
        Hook::Validate => {
            hooks::parse::<hooks::ValidateOutput>(plugin, hook, output.clone())?;
        }
        Hook::Indicator => {
            let out: hooks::IndicatorOutput = hooks::parse(plugin, hook, output.clone())?;
            let id = input.get("indicator").and_then(Value::as_str).unwrap_or("");
            let indicator = award
                .categories
                .iter()
                .filter(|c| category.is_none_or(|k| k.id == c.id))
                .flat_map(|c| c.criteria.iter())
                .flat_map(|c| c.indicators.iter())
                .find(|i| i.id.as_str() == id);
            if let Some(indicator) = indicator {
                indicator
                    .scale
                    .holds(out.value)
                    .map_err(|why| malformed(format!("the value of indicator `{id}`: {why}")))?;
            }
        }
        Hook::Score => {
            let out: hooks::ScoreOutput = hooks::parse(plugin, hook, output.clone())?;
            if let Some(category) = category
                && let Some((lo, hi)) = sheet::total_bounds(&award.scoring, &Layout::new(category))
                && (out.score < lo || out.score > hi)
            {
                return Err(malformed(format!(
                    "score {} is off the scale {lo}..{hi}",
                    out.score
                )));
            }
        }
        Hook::TieBreak => {
            let out: hooks::TieBreakOutput = hooks::parse(plugin, hook, output.clone())?;
            let tied: BTreeSet<&str> = input
                .get("tied")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|t| t.pointer("/application/id").and_then(Value::as_str))
                .collect();
            let named: BTreeSet<&str> = out.order.iter().map(String::as_str).collect();
            if named.len() != out.order.len() || named != tied {
                return Err(malformed(
                    "`order` must name every tied application once".to_owned(),
                ));
            }
        }
    }
    Ok(())
}
