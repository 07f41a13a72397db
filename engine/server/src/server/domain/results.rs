//! Scoring what is stored: the submitted applications, who is admitted, and results with
//! their hashes.

use crate::server::crypto;
use crate::server::error::ApiError;
use crate::server::records::{ApplicationRecord, ApplicationStatus};
use crate::server::state::Work;
use crate::server::state::{AppState, Loaded};
use crate::store::{Tree, get_json, key, prefix, scan_json};
use serde::Serialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// Whether a stored application is admitted: eligible, or admitted on review.
pub(crate) fn admits(r: &ApplicationRecord) -> bool {
    match r.eligibility.get("status").and_then(Value::as_str) {
        Some("eligible") => true,
        Some("needs_review") => r.review.as_ref().is_some_and(|x| x.eligible),
        _ => false,
    }
}

/// The stored, submitted applications of an award, each record beside its application opened
/// (the record's own `application` left empty).
pub(crate) fn submitted(
    state: &AppState,
    loaded: &Loaded,
    award: &str,
) -> Result<Vec<(ApplicationRecord, laurel::Application)>, ApiError> {
    let stored: Vec<ApplicationRecord> = scan_json(
        state.store.as_ref(),
        Tree::Applications,
        &prefix(&[award.as_bytes()]),
    )?;
    opened(state, loaded, stored)
}

/// Up to this many applications asked for by id are read one by one; more, by reading the
/// award's applications (one scan costs less than that many reads on PostgreSQL).
const READ_ONE_BY_ONE: usize = 32;

/// The stored, submitted applications of an award with these ids, opened, in id order: each
/// read by its key, so that one application costs one read however large the award.
fn submitted_among(
    state: &AppState,
    loaded: &Loaded,
    award: &str,
    ids: &[String],
) -> Result<Vec<(ApplicationRecord, laurel::Application)>, ApiError> {
    let ids: std::collections::BTreeSet<&str> = ids.iter().map(String::as_str).collect();
    let mut stored = Vec::with_capacity(ids.len());
    for id in ids {
        stored.extend(get_json::<ApplicationRecord>(
            state.store.as_ref(),
            Tree::Applications,
            &key(&[award.as_bytes(), id.as_bytes()]),
        )?);
    }
    opened(state, loaded, stored)
}

/// The submitted records among `stored`, each beside its application opened.
fn opened(
    state: &AppState,
    loaded: &Loaded,
    stored: Vec<ApplicationRecord>,
) -> Result<Vec<(ApplicationRecord, laurel::Application)>, ApiError> {
    stored
        .into_iter()
        .filter(|r| r.status == ApplicationStatus::Submitted)
        .map(|mut r| {
            let mut value = std::mem::take(&mut r.application);
            crypto::open(&loaded.award, &state.sealer, &mut value);
            // The error's class only: its text may quote an opened value.
            let app: laurel::Application = serde_json::from_value(value).map_err(|e| {
                ApiError::Internal(format!(
                    "a stored application does not decode ({})",
                    e.classify() as u8
                ))
            })?;
            Ok((r, app))
        })
        .collect()
}

/// The stored, submitted applications of an award (opened), restricted to `only` when given,
/// with their review decisions, in id order.
pub(crate) fn stored_applications(
    state: &AppState,
    loaded: &Loaded,
    award: &str,
    only: Option<&[String]>,
) -> Result<(Vec<laurel::Application>, Vec<laurel::ReviewDecision>), ApiError> {
    let found = match only {
        Some(ids) if ids.len() <= READ_ONE_BY_ONE => submitted_among(state, loaded, award, ids)?,
        _ => submitted(state, loaded, award)?,
    };
    let mut applications = Vec::new();
    let mut reviews = Vec::new();
    for (r, app) in found {
        if only.is_some_and(|o| !o.iter().any(|x| x == app.id.as_str())) {
            continue;
        }
        reviews.extend(r.review);
        applications.push(app);
    }
    Ok((applications, reviews))
}

/// Results as JSON with the inputs' SHA-256 in them, and the SHA-256 of those bytes: the same
/// inputs always give the same hash.
pub(crate) fn hashed<T: Serialize>(
    results: &T,
    applications: &[laurel::Application],
    marks: &laurel::Marks,
) -> Result<(Value, String, String), ApiError> {
    let inputs = serde_json::to_vec(&(applications, marks))
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let mut value = serde_json::to_value(results).map_err(|e| ApiError::Internal(e.to_string()))?;
    let inputs_sha256 = hex::encode(Sha256::digest(&inputs));
    value["inputs_sha256"] = json!(inputs_sha256);
    let bytes = serde_json::to_vec(&value).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok((value, inputs_sha256, hex::encode(Sha256::digest(&bytes))))
}

/// Scores applications and marks with the loaded version (or `narrowed`, the award as one
/// round sees it) on a plugin thread; returns the results as stored (what derives from
/// personal data sealed), the inputs' SHA-256 and the results' SHA-256 (of the results as
/// computed, so that computing them again gives the same hash).
pub(crate) async fn score(
    state: &AppState,
    loaded: std::sync::Arc<Loaded>,
    narrowed: Option<laurel::Award>,
    applications: Vec<laurel::Application>,
    marks: laurel::Marks,
) -> Result<(Value, String, String), ApiError> {
    let sealing = loaded.clone();
    let sealed_with = narrowed.clone();
    let work = Work::of(&loaded.award);
    let ((mut value, inputs_sha256, sha), plugin_warnings) =
        state
            .engine(work, move || {
                let award = narrowed.as_ref().unwrap_or(&loaded.award);
                let results = laurel::evaluate(award, &applications, &marks, &loaded.plugins)
                    .map_err(|e| ApiError::Invalid {
                        title: "The stored marks cannot be scored".to_owned(),
                        diagnostics: e.applications.into_iter().chain(e.marks).collect(),
                    })?;
                Ok::<_, ApiError>((
                    hashed(&results, &applications, &marks)?,
                    results.plugin_warnings.clone(),
                ))
            })
            .await??;
    let award = sealed_with.as_ref().unwrap_or(&sealing.award);
    // Sealed by what the engine says each part is, never by its wording.
    crypto::seal_results(award, &state.sealer, &mut value, &plugin_warnings);
    Ok((value, inputs_sha256, sha))
}
