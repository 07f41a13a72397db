//! Awards as stored: their records and the plugin files a definition pins.

use crate::server::error::ApiError;
use crate::server::records::AwardRecord;
use crate::server::state::AppState;
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
