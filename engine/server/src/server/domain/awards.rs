//! Awards as stored: their records and the plugin files a definition pins.

use crate::server::error::ApiError;
use crate::server::records::AwardRecord;
use crate::server::state::AppState;
use crate::server::state::Work;
use crate::store::{Tree, get_json};
use std::collections::BTreeMap;

/// The plugin files a definition pins, from the content-addressed file store.
pub(crate) fn pinned_files(
    state: &AppState,
    text: &str,
) -> Result<BTreeMap<String, Vec<u8>>, ApiError> {
    let mut files = BTreeMap::new();
    if let Ok(def) = laurel::parse_definition(text) {
        for p in &def.plugins {
            if let Some(bytes) = state.store.get(Tree::Files, p.sha256.as_bytes())? {
                files.insert(p.path.clone(), bytes);
            }
        }
    }
    Ok(files)
}

pub(crate) fn load_award(state: &AppState, id: &str) -> Result<AwardRecord, ApiError> {
    get_json(state.store.as_ref(), Tree::Awards, id.as_bytes())?
        .ok_or_else(|| ApiError::NotFound(format!("no award `{id}`")))
}

/// The call's window: the definition's dates, or those an administrator set.
pub(crate) fn window(
    record: &AwardRecord,
    award: &laurel::Award,
) -> (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) {
    let parse = |s: &str| {
        chrono::DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|t| t.to_utc())
    };
    match &record.schedule {
        Some(s) => (
            parse(&s.opens).unwrap_or(award.timeline.opens.to_utc()),
            parse(&s.closes).unwrap_or(award.timeline.closes.to_utc()),
        ),
        None => (
            award.timeline.opens.to_utc(),
            award.timeline.closes.to_utc(),
        ),
    }
}

/// No plugin files: a pasted rubric's plugins are reported missing, never run.
struct NoFiles;

impl laurel::PluginFiles for NoFiles {
    fn read(&self, _path: &str) -> std::io::Result<Vec<u8>> {
        Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "plugin files are not sent to the validator",
        ))
    }
}

/// Checks `source` on a plugin thread (checking compiles plugins): its diagnostics, located.
pub(crate) async fn check_pasted(
    state: &AppState,
    source: String,
) -> Result<laurel::DefinitionReport, ApiError> {
    state
        .engine(Work::Anonymous, move || {
            laurel::check_definition(&source, &NoFiles)
        })
        .await
}
