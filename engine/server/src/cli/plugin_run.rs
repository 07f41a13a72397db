//! `laurel plugin run`: one hook of one plugin on one input, with what it cost.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use super::load;
use super::{EXIT_INVALID, EXIT_OK};

pub fn run(rubric: &Path, plugin: &str, hook: &str, input: &str) -> anyhow::Result<ExitCode> {
    let Some(award) = load::award(rubric)? else {
        return Ok(ExitCode::from(EXIT_INVALID));
    };
    let Some(plugins) = load::plugins(rubric, &award)? else {
        return Ok(ExitCode::from(EXIT_INVALID));
    };
    let hook: laurel::wire::Hook = serde_json::from_value(serde_json::Value::String(
        hook.to_owned(),
    ))
    .with_context(|| {
        format!(
            "unknown hook `{hook}`: expected eligibility, indicator, score, tie_break or validate"
        )
    })?;
    let text = if let Some(path) = input.strip_prefix('@') {
        std::fs::read_to_string(path).with_context(|| format!("cannot read `{path}`"))?
    } else if Path::new(input).is_file() {
        std::fs::read_to_string(input).with_context(|| format!("cannot read `{input}`"))?
    } else {
        input.to_owned()
    };
    let value = laurel::strict_from_str(&text).context("the input is not valid JSON")?;
    let Some(decl) = award.plugin(plugin) else {
        anyhow::bail!("the award declares no plugin `{plugin}`");
    };
    if !decl.hooks.contains(&hook) {
        anyhow::bail!(
            "plugin `{plugin}` does not declare hook `{}`",
            hook.as_str()
        );
    }
    // The same checks as in a batch: the hook's shape, the scales, the bounds.
    let result = plugins.call(&decl.id, hook, &value).and_then(|out| {
        laurel::check_hook_output(&award, decl.id.as_str(), hook, &value, &out.value).map(|()| out)
    });
    match result {
        Ok(out) => {
            outln!("{}", serde_json::to_string_pretty(&out)?);
            Ok(ExitCode::from(EXIT_OK))
        }
        Err(e) => {
            outln!(
                "{}",
                serde_json::to_string_pretty(&serde_json::json!({ "error": e }))?
            );
            errln!("error: {}", super::render::terminal_safe(&e.to_string()));
            Ok(ExitCode::from(EXIT_INVALID))
        }
    }
}
