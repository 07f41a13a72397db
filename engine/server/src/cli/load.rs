//! Loading a rubric and the documents scoring reads, printing located diagnostics on failure.

use std::path::{Path, PathBuf};

use anyhow::Context;
use laurel::{Award, Diagnostics};

use super::files::DirFiles;
use super::render::render_text;

/// A rubric given as its folder or its `award.json`.
pub fn definition_path(rubric: &Path) -> PathBuf {
    if rubric.is_dir() {
        rubric.join("award.json")
    } else {
        rubric.to_path_buf()
    }
}

/// Loads and checks a rubric; `Ok(None)` when it is invalid (its diagnostics are printed).
pub fn award(rubric: &Path) -> anyhow::Result<Option<Award>> {
    let path = definition_path(rubric);
    let source = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read `{}`", path.display()))?;
    let report = laurel::check_definition(&source, &DirFiles::beside(&path));
    if report.award.is_none() {
        err!(
            "{}",
            render_all(&path.display().to_string(), &source, &report.diagnostics)
        );
        errln!(
            "{}: invalid definition ({})",
            path.display(),
            super::validate::counted(report.diagnostics.error_count(), "error")
        );
    }
    Ok(report.award)
}

/// Reads a JSON document: its text and value, or an error with line and column.
pub fn json(path: &Path) -> anyhow::Result<(String, serde_json::Value)> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read `{}`", path.display()))?;
    let value = laurel::strict_from_str(&text)
        .with_context(|| format!("`{}` is not valid JSON", path.display()))?;
    Ok((text, value))
}

/// Reads a JSON document's text, checked as [`json`] checks it (one value, no key given twice),
/// without building its value: for documents read straight into their types
/// ([`laurel::from_str_located`]), whose trees would hold several times their text.
pub fn checked_text(path: &Path) -> anyhow::Result<String> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read `{}`", path.display()))?;
    laurel::check_strict_slice(text.as_bytes())
        .with_context(|| format!("`{}` is not valid JSON", path.display()))?;
    Ok(text)
}

/// Every diagnostic of a document, located and rendered.
pub fn render_all(file: &str, source: &str, diagnostics: &Diagnostics) -> String {
    let mut located = diagnostics.clone();
    located.locate_in(source);
    located
        .iter()
        .map(|d| render_text(file, source, d))
        .collect()
}

/// Loads and compiles the plugins of a checked rubric; `Ok(None)` when one cannot be loaded
/// (its diagnostics are printed against the definition).
pub fn plugins(rubric: &Path, award: &Award) -> anyhow::Result<Option<laurel::PluginSet>> {
    let path = definition_path(rubric);
    match laurel::load_plugins(award, &DirFiles::beside(&path)) {
        Ok(set) => Ok(Some(set)),
        Err(diagnostics) => {
            let source = std::fs::read_to_string(&path).unwrap_or_default();
            err!(
                "{}",
                render_all(&path.display().to_string(), &source, &diagnostics)
            );
            errln!(
                "{}: {} plugins cannot be loaded",
                path.display(),
                diagnostics.error_count()
            );
            Ok(None)
        }
    }
}
