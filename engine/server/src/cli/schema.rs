//! `laurel schema`.

use std::path::Path;
use std::process::ExitCode;

use anyhow::Context;

use super::{EXIT_INVALID, EXIT_OK};

pub fn run(award: Option<&Path>, out: Option<&Path>, check: bool) -> anyhow::Result<ExitCode> {
    if let Some(rubric) = award {
        let Some(award) = super::load::award(rubric)? else {
            return Ok(ExitCode::from(EXIT_INVALID));
        };
        out!(
            "{}",
            laurel::schemas::render(&laurel::application_schema(&award))
        );
        return Ok(ExitCode::from(EXIT_OK));
    }
    let Some(dir) = out else {
        out!(
            "{}",
            laurel::schemas::render(&laurel::schemas::award_schema())
        );
        return Ok(ExitCode::from(EXIT_OK));
    };
    let mut stale = Vec::new();
    if !check {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("cannot create `{}`", dir.display()))?;
    }
    let mut all = laurel::schemas::all();
    all.push(("openapi.json", crate::server::openapi_document()));
    for (name, schema) in all {
        let path = dir.join(name);
        let text = laurel::schemas::render(&schema);
        let current = std::fs::read_to_string(&path).unwrap_or_default();
        if current == text {
            continue;
        }
        if check {
            stale.push(path.display().to_string());
        } else {
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("cannot create `{}`", parent.display()))?;
            }
            std::fs::write(&path, text)
                .with_context(|| format!("cannot write `{}`", path.display()))?;
            errln!("wrote {}", path.display());
        }
    }
    if stale.is_empty() {
        Ok(ExitCode::from(EXIT_OK))
    } else {
        errln!(
            "stale schemas (run `laurel schema --out {}`): {}",
            dir.display(),
            stale.join(", ")
        );
        Ok(ExitCode::from(EXIT_INVALID))
    }
}
