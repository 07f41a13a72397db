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

/// The plugin files sent with a pasted rubric, by name: a rubric's `plugins/score.wasm` is
/// the file sent as `score.wasm` (or as its whole path). A plugin whose file was not sent is
/// reported missing, never run.
pub(crate) struct SentFiles(pub BTreeMap<String, Vec<u8>>);

impl SentFiles {
    /// The file a rubric names at `path`.
    pub(crate) fn find(&self, path: &str) -> Option<&Vec<u8>> {
        let base = path.rsplit('/').next().unwrap_or(path);
        self.0.get(path).or_else(|| self.0.get(base))
    }
}

impl laurel::PluginFiles for SentFiles {
    fn read(&self, path: &str) -> std::io::Result<Vec<u8>> {
        self.find(path).cloned().ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "the plugin's file was not sent with the rubric",
            )
        })
    }
}

/// Checks `source` on a plugin thread (checking compiles plugins): its diagnostics, located.
pub(crate) async fn check_pasted(
    state: &AppState,
    source: String,
) -> Result<laurel::DefinitionReport, ApiError> {
    check_with_files(state, source, SentFiles(BTreeMap::new())).await
}

/// Checks `source` with the plugin files sent beside it.
pub(crate) async fn check_with_files(
    state: &AppState,
    source: String,
    files: SentFiles,
) -> Result<laurel::DefinitionReport, ApiError> {
    state
        .engine(Work::Anonymous, move || {
            laurel::check_definition(&source, &files)
        })
        .await
}
