//! Applications and drafts as stored: their keys.

use crate::store::key;

pub(crate) fn draft_key(award: &str, owner: &str) -> Vec<u8> {
    key(&[award.as_bytes(), owner.as_bytes()])
}

/// The names of an award's entries `ids` as a judge may see them: from what judges may read
/// (nothing personal or hidden from judges names an entry for them). An entry without a name
/// (or not stored) is left out: callers show its id.
pub(crate) async fn titles_for_judges(
    state: &crate::server::state::AppState,
    award: &str,
    ids: &[String],
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
        crypto::redact(&loaded.award, &mut app, true);
        let category = app["category"].as_str().unwrap_or_default().to_owned();
        if let Some(title) = laurel::entry_title(&loaded.award, &category, &app["fields"]) {
            out.insert(id.clone(), title);
        }
    }
    Ok(out)
}

pub(crate) use crate::store::tally::decided;

/// How many of `award`'s applications stand where, as the store keeps them counted (no scan,
/// however many there are).
pub(crate) fn counts(
    state: &crate::server::state::AppState,
    award: &str,
) -> Result<crate::server::answers::ApplicationCounts, crate::server::error::ApiError> {
    let (counts, _) = crate::store::tally::read(state.store.as_ref(), award)?;
    Ok(crate::server::answers::ApplicationCounts {
        total: counts.values().sum(),
        withdrawn: counts.get("withdrawn").copied().unwrap_or(0),
        standing: counts,
    })
}

/// Where the store's index lists `award`'s applications that stand at `standing` (each
/// entry's value is an application's id, in id order), or `None` when it keeps no index for
/// the award yet (stored before the index was kept, and nothing written since).
pub(crate) fn standing_index(
    store: &dyn crate::store::Store,
    award: &str,
    standing: &str,
) -> Result<Option<Vec<u8>>, crate::store::StoreError> {
    use crate::store::{Tree, tally};
    Ok(store
        .get(Tree::Meta, &tally::counts_key(award))?
        .map(|_| tally::members_prefix(award, standing)))
}
