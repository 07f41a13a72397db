//! Applications and drafts as stored: their keys.

use crate::store::key;

pub(crate) fn draft_key(award: &str, owner: &str) -> Vec<u8> {
    key(&[award.as_bytes(), owner.as_bytes()])
}

/// The names of an award's entries `ids` as a reader sees them: opened for whoever may read
/// the application whole, with what judges may not see removed for a judge. An entry without
/// a name (or not stored) is left out: callers show its id.
pub(crate) async fn titles(
    state: &crate::server::state::AppState,
    award: &str,
    ids: &[String],
    for_judge: bool,
) -> Result<std::collections::BTreeMap<String, String>, crate::server::error::ApiError> {
    use crate::server::crypto;
    use crate::server::records::ApplicationRecord;
    let mut out = std::collections::BTreeMap::new();
    for id in ids {
        let Some(record): Option<ApplicationRecord> = crate::store::get_json(
            state.store.as_ref(),
            crate::store::Tree::Applications,
            &key(&[award.as_bytes(), id.as_bytes()]),
        )?
        else {
            continue;
        };
        let loaded = state.loaded(award, record.version).await?;
        let mut app = record.application;
        if for_judge {
            crypto::redact(&loaded.award, &mut app, true);
        } else {
            crypto::open(&loaded.award, &state.sealer, &mut app);
        }
        let category = app["category"].as_str().unwrap_or_default().to_owned();
        if let Some(title) = laurel::entry_title(&loaded.award, &category, &app["fields"]) {
            out.insert(id.clone(), title);
        }
    }
    Ok(out)
}
