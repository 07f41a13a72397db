//! Results: computed from the stored applications and marks, stored with their trace and
//! hashes, read back, exported as CSV.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::awards::load_award;
use crate::server::auth::Caller;
use crate::server::crypto;
use crate::server::error::ApiError;
use crate::server::records::{ApplicationRecord, ApplicationStatus, ResultsRecord, Role};
use crate::server::tx::Tx;
use crate::server::{AppState, Loaded};
use crate::store::{Tree, key, now, prefix, scan_json};

/// The stored, submitted applications of an award (opened), restricted to `only` when given,
/// with their review decisions.
pub(crate) fn stored_applications(
    state: &AppState,
    loaded: &crate::server::Loaded,
    award: &str,
    only: Option<&[String]>,
) -> Result<(Vec<laurel::Application>, Vec<laurel::ReviewDecision>), ApiError> {
    let stored: Vec<ApplicationRecord> = scan_json(
        state.store.as_ref(),
        Tree::Applications,
        &prefix(&[award.as_bytes()]),
    )?;
    let mut applications = Vec::new();
    let mut reviews = Vec::new();
    for r in stored
        .into_iter()
        .filter(|r| r.status == ApplicationStatus::Submitted)
    {
        let mut value = r.application;
        crypto::open(&loaded.award, &state.sealer, &mut value);
        let app: laurel::Application = serde_json::from_value(value)
            .map_err(|e| ApiError::Internal(format!("stored application: {e}")))?;
        if only.is_some_and(|o| !o.iter().any(|x| x == app.id.as_str())) {
            continue;
        }
        reviews.extend(r.review);
        applications.push(app);
    }
    Ok((applications, reviews))
}

/// Scores applications and marks with the loaded version (or `narrowed`, the award as one
/// round sees it) on a plugin thread; returns the results as stored, the inputs' SHA-256 and
/// the results' SHA-256 (deterministic: the same data gives the same bytes).
pub(crate) async fn score(
    state: &AppState,
    loaded: std::sync::Arc<Loaded>,
    narrowed: Option<laurel::Award>,
    applications: Vec<laurel::Application>,
    marks: laurel::Marks,
) -> Result<(Value, String, String), ApiError> {
    let inputs = serde_json::to_vec(&(&applications, &marks))
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let award_for_sealing = narrowed.clone();
    let sealing_loaded = loaded.clone();
    let mut value =
        state
            .engine(move || {
                let award = narrowed.as_ref().unwrap_or(&loaded.award);
                let results = laurel::evaluate(award, &applications, &marks, &loaded.plugins)
                    .map_err(|e| ApiError::Invalid {
                        title: "The stored marks cannot be scored".to_owned(),
                        diagnostics: e.applications.into_iter().chain(e.marks).collect(),
                    })?;
                serde_json::to_value(&results).map_err(|e| ApiError::Internal(e.to_string()))
            })
            .await??;
    let inputs_sha256 = hex::encode(Sha256::digest(&inputs));
    value["inputs_sha256"] = json!(inputs_sha256);
    // The hash is of the results as computed, so that computing them again gives the same
    // hash; what is stored has what derives from personal data sealed.
    let bytes = serde_json::to_vec(&value).map_err(|e| ApiError::Internal(e.to_string()))?;
    let award = award_for_sealing.as_ref().unwrap_or(&sealing_loaded.award);
    crypto::seal_results(award, &state.sealer, &mut value);
    Ok((value, inputs_sha256, hex::encode(Sha256::digest(&bytes))))
}

/// Computes results from what is stored.
pub(crate) async fn compute_record(
    state: &AppState,
    award: &str,
    seq: u64,
) -> Result<ResultsRecord, ApiError> {
    let record = load_award(state, award)?;
    let version = record
        .current()
        .ok_or_else(|| ApiError::Conflict(format!("award `{award}` has no published version")))?;
    let loaded = state.loaded(award, version).await?;
    let (applications, review_decisions) = stored_applications(state, &loaded, award, None)?;
    let evaluations: Vec<laurel::Evaluation> = scan_json(
        state.store.as_ref(),
        Tree::Marks,
        &prefix(&[award.as_bytes()]),
    )?;
    let admitted: std::collections::HashSet<&str> =
        applications.iter().map(|a| a.id.as_str()).collect();
    let evaluations = evaluations
        .into_iter()
        .filter(|e| admitted.contains(e.application.as_str()))
        .collect();
    let marks = laurel::Marks {
        evaluations,
        review_decisions,
        special_mentions: record.special_mentions.clone(),
        ..laurel::Marks::default()
    };
    let definition_sha256 = loaded.award.sha256.clone();
    let (results, inputs_sha256, results_sha256) =
        score(state, loaded, None, applications, marks).await?;
    let audit_head = crate::store::head(state.store.as_ref())?.map(|r| r.head());
    Ok(ResultsRecord {
        audit_head,
        award: award.to_owned(),
        version,
        seq,
        computed_at: now(),
        definition_sha256,
        inputs_sha256,
        results_sha256,
        results,
    })
}

fn latest_record(state: &AppState, award: &str) -> Result<Option<ResultsRecord>, ApiError> {
    let all = state
        .store
        .scan(Tree::Results, &prefix(&[award.as_bytes()]))?;
    match all.last() {
        Some((_, v)) => Ok(Some(
            serde_json::from_slice(v).map_err(|e| ApiError::Internal(e.to_string()))?,
        )),
        None => Ok(None),
    }
}

pub async fn compute(
    State(state): State<AppState>,
    caller: Caller,
    Path(award): Path<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(&[Role::Admin])?;
    // One computation, one stored record: concurrent computations each take their own
    // number (a taken number is a conflict, retried with the next).
    let mut attempts = 0;
    loop {
        let seq = latest_record(&state, &award)?.map_or(1, |r| r.seq + 1);
        let record = compute_record(&state, &award, seq).await?;
        let mut tx = Tx::new(&state);
        let k = key(&[award.as_bytes(), &seq.to_be_bytes()]);
        tx.absent(Tree::Results, &k)?;
        tx.put(Tree::Results, k, &record);
        let committed = tx.commit(caller.audit(
            "results.compute",
            award.clone(),
            json!({ "seq": seq, "version": record.version, "definition_sha256": record.definition_sha256, "inputs_sha256": record.inputs_sha256, "results_sha256": record.results_sha256, "audit_head": record.audit_head }),
        ));
        match committed {
            Ok(_) => return Ok((StatusCode::CREATED, Json(summary(&record)))),
            Err(ApiError::Conflict(_)) if attempts < 5 => attempts += 1,
            Err(e) => return Err(e),
        }
    }
}

fn summary(r: &ResultsRecord) -> Value {
    let categories: Vec<Value> = r.results["categories"]
        .as_array()
        .map(|cs| {
            cs.iter()
                .map(|c| {
                    json!({
                        "category": c["category"],
                        "ranking": c["ranking"].as_array().map(|rs| rs.iter().map(|p| json!({
                            "rank": p["rank"], "application": p["application"], "score": p["score"], "winner": p["winner"], "tied": p["tied"],
                        })).collect::<Vec<_>>()),
                        "unscored": c["unscored"],
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    json!({
        "award": r.award, "version": r.version, "seq": r.seq, "computed_at": r.computed_at,
        "definition_sha256": r.definition_sha256, "inputs_sha256": r.inputs_sha256, "results_sha256": r.results_sha256,
        "audit_head": r.audit_head,
        "categories": categories,
    })
}

pub async fn latest(
    State(state): State<AppState>,
    caller: Caller,
    Path(award): Path<String>,
) -> Result<Json<ResultsRecord>, ApiError> {
    caller.require(&[Role::Admin, Role::Auditor])?;
    load_award(&state, &award)?;
    let mut r = latest_record(&state, &award)?
        .ok_or_else(|| ApiError::NotFound(format!("no results computed for `{award}`")))?;
    crypto::for_caller(caller.role, &state.sealer, &award, &mut r.results);
    Ok(Json(r))
}

pub async fn csv(
    State(state): State<AppState>,
    caller: Caller,
    Path(award): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(&[Role::Admin, Role::Auditor])?;
    load_award(&state, &award)?;
    let mut r = latest_record(&state, &award)?
        .ok_or_else(|| ApiError::NotFound(format!("no results computed for `{award}`")))?;
    crypto::for_caller(caller.role, &state.sealer, &award, &mut r.results);
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut write = |row: [&str; 8]| {
        w.write_record(row)
            .map_err(|e| ApiError::Internal(e.to_string()))
    };
    write([
        "category",
        "rank",
        "application",
        "score",
        "winner",
        "tied",
        "judges",
        "status",
    ])?;
    let s = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_owned);
    for c in r.results["categories"].as_array().into_iter().flatten() {
        for p in c["ranking"].as_array().into_iter().flatten() {
            write([
                &s(&c["category"]),
                &s(&p["rank"]),
                &s(&p["application"]),
                &s(&p["score"]),
                &s(&p["winner"]),
                &s(&p["tied"]),
                &s(&p["judges"]),
                "scored",
            ])?;
        }
        for u in c["unscored"].as_array().into_iter().flatten() {
            write([
                &s(&c["category"]),
                "",
                &s(&u["application"]),
                "",
                "false",
                "false",
                "",
                &format!("unscored: {}", s(&u["reason"])),
            ])?;
        }
    }
    for e in r.results["eligibility"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["admitted"] == false)
    {
        write([
            "",
            "",
            &s(&e["application"]),
            "",
            "false",
            "false",
            "",
            &s(&e["status"]),
        ])?;
    }
    let bytes = w
        .into_inner()
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], bytes).into_response())
}
