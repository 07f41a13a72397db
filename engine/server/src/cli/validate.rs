//! `laurel validate`.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use serde::Serialize;

use super::files::{DirFiles, definitions};
use super::render::render_text;
use super::{EXIT_INVALID, EXIT_OK, Format};

#[derive(Serialize)]
struct FileReport<'a> {
    file: String,
    valid: bool,
    errors: usize,
    warnings: usize,
    notes: usize,
    diagnostics: &'a laurel::Diagnostics,
}

pub fn run(paths: &[PathBuf], format: Format) -> anyhow::Result<ExitCode> {
    let files = definitions(paths)?;
    let mut reports = Vec::new();
    for file in &files {
        let source = std::fs::read_to_string(file)
            .with_context(|| format!("cannot read `{}`", file.display()))?;
        let report = laurel::check_definition(&source, &DirFiles::beside(file));
        reports.push((file.display().to_string(), source, report.diagnostics));
    }
    // A folder is a set of rubrics a server installs together: one id each.
    if paths.iter().any(|p| p.is_dir()) {
        same_ids(&mut reports);
    }
    let valid = reports.iter().all(|(_, _, d)| !d.has_errors());
    let mut out = String::new();
    match format {
        Format::Json => {
            let files: Vec<FileReport<'_>> = reports
                .iter()
                .map(|(file, _, d)| FileReport {
                    file: file.clone(),
                    valid: !d.has_errors(),
                    errors: d.error_count(),
                    warnings: d.warning_count(),
                    notes: d.len() - d.error_count() - d.warning_count(),
                    diagnostics: d,
                })
                .collect();
            out = serde_json::to_string_pretty(
                &serde_json::json!({ "valid": valid, "files": files }),
            )?;
            out.push('\n');
        }
        Format::Text => {
            for (file, source, diagnostics) in &reports {
                for d in diagnostics {
                    out.push_str(&render_text(file, source, d));
                }
                let errors = diagnostics.error_count();
                let warnings = diagnostics.warning_count();
                let notes = diagnostics.len() - errors - warnings;
                let verdict = if errors == 0 { "valid" } else { "invalid" };
                let notes = match notes {
                    0 => String::new(),
                    n => format!(", {}", counted(n, "note")),
                };
                out.push_str(&format!(
                    "{file}: {verdict} ({}, {}{notes})\n",
                    counted(errors, "error"),
                    counted(warnings, "warning")
                ));
            }
        }
    }
    out!("{out}");
    Ok(ExitCode::from(if valid { EXIT_OK } else { EXIT_INVALID }))
}

/// Two rubrics of a folder with one award id: each later one is an error (a server installs a
/// folder of rubrics by id, so one would hide the other).
fn same_ids(reports: &mut [(String, String, laurel::Diagnostics)]) {
    let mut seen: std::collections::BTreeMap<String, String> = std::collections::BTreeMap::new();
    for (file, source, diagnostics) in reports.iter_mut() {
        let Some(id) = serde_json::from_str::<serde_json::Value>(source)
            .ok()
            .and_then(|v| v.get("id")?.as_str().map(str::to_owned))
        else {
            continue;
        };
        match seen.get(&id) {
            Some(first) => {
                diagnostics.push(
                    laurel::Diagnostic::error(
                        laurel::Code::DuplicateId,
                        "/id",
                        format!("award id `{id}` is also the id of `{first}`"),
                    )
                    .with_hint(
                        "each rubric of a folder needs its own id: a server installs them by id",
                    ),
                );
                diagnostics.locate_in(source);
            }
            None => {
                seen.insert(id, file.clone());
            }
        }
    }
}

/// `n` of a thing, in English: "1 error", "0 errors", "3 errors".
pub(crate) fn counted(n: usize, thing: &str) -> String {
    if n == 1 {
        format!("1 {thing}")
    } else {
        format!("{n} {thing}s")
    }
}
