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

/// An application's eligibility as people read it: an administrator's review decides what
/// needed one (`admitted`, `not_admitted`); otherwise the rules' `eligible`, `ineligible` or
/// `needs_review`.
pub(crate) fn decided(status: Option<&str>, reviewed: Option<bool>) -> &'static str {
    match (status, reviewed) {
        (Some("needs_review"), Some(true)) => "admitted",
        (Some("needs_review"), Some(false)) => "not_admitted",
        (Some("needs_review"), None) => "needs_review",
        (Some("eligible"), _) => "eligible",
        (Some("ineligible"), _) => "ineligible",
        _ => "unknown",
    }
}
