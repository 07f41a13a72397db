//! Export and import of an award's complete data as one document (backup and restore).

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::awards::load_award;
use crate::server::auth::Caller;
use crate::server::error::ApiError;
use crate::server::records::{
    ApplicationRecord, AssignmentRecord, AwardRecord, ResultsRecord, Role, VersionRecord,
};
use crate::server::{AppState, body, version_key};
use crate::store::{AuditEntry, AuditRecord, Batch, Tree, json as encode, key, prefix, scan_json};

/// The export format's name.
const FORMAT: &str = "laurel-award-export/1";

/// Everything about one award. Personal data stays sealed: restore with the same data key.
#[derive(Debug, Serialize, Deserialize)]
pub struct Export {
    format: String,
    award: AwardRecord,
    versions: Vec<VersionRecord>,
    applications: Vec<ApplicationRecord>,
    marks: Vec<laurel::Evaluation>,
    assignments: Vec<AssignmentRecord>,
    results: Vec<ResultsRecord>,
    /// The audit records about this award, for reference (the chain is not rewritten on import).
    audit: Vec<AuditRecord>,
}

pub async fn export(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Export>, ApiError> {
    caller.require(&[Role::Admin])?;
    let award = load_award(&state, &id)?;
    let p = prefix(&[id.as_bytes()]);
    let store = state.store.as_ref();
    let audit: Vec<AuditRecord> = scan_json(store, Tree::Audit, b"")?;
    let export = Export {
        format: FORMAT.to_owned(),
        versions: scan_json(store, Tree::Versions, &p)?,
        applications: scan_json(store, Tree::Applications, &p)?,
        marks: scan_json(store, Tree::Marks, &p)?,
        assignments: scan_json(store, Tree::Assignments, &p)?,
        results: scan_json(store, Tree::Results, &p)?,
        audit: audit
            .into_iter()
            .filter(|r| r.target == id || r.target.starts_with(&format!("{id}/")))
            .collect(),
        award,
    };
    state.store.commit(
        Batch::new(),
        AuditEntry {
            actor: caller.actor(),
            action: "award.export".into(),
            target: id,
            detail: json!({}),
        },
    )?;
    Ok(Json(export))
}

pub async fn import(
    State(state): State<AppState>,
    caller: Caller,
    bytes: Bytes,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(&[Role::Admin])?;
    let e: Export = body::json(&bytes)?;
    if e.format != FORMAT {
        return Err(ApiError::BadRequest(format!(
            "unknown export format `{}`; this server reads `{FORMAT}`",
            e.format
        )));
    }
    let id = e.award.id.clone();
    if state.store.get(Tree::Awards, id.as_bytes())?.is_some() {
        return Err(ApiError::Conflict(format!(
            "award `{id}` exists; import restores into a server without it"
        )));
    }
    let mut batch = Batch::new();
    batch.put(Tree::Awards, id.as_bytes().to_vec(), encode(&e.award));
    for v in &e.versions {
        batch.put(Tree::Versions, version_key(&id, v.version), encode(v));
    }
    let mut counts = BTreeMap::new();
    for a in &e.applications {
        let app = a
            .application
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default();
        batch.put(
            Tree::Applications,
            key(&[id.as_bytes(), app.as_bytes()]),
            encode(a),
        );
    }
    for m in &e.marks {
        batch.put(
            Tree::Marks,
            key(&[
                id.as_bytes(),
                m.application.as_str().as_bytes(),
                m.judge.as_str().as_bytes(),
            ]),
            encode(m),
        );
    }
    for a in &e.assignments {
        batch.put(
            Tree::Assignments,
            key(&[id.as_bytes(), a.judge.as_bytes()]),
            encode(a),
        );
    }
    for r in &e.results {
        batch.put(
            Tree::Results,
            key(&[id.as_bytes(), &r.seq.to_be_bytes()]),
            encode(r),
        );
    }
    counts.insert("versions", e.versions.len());
    counts.insert("applications", e.applications.len());
    counts.insert("marks", e.marks.len());
    counts.insert("assignments", e.assignments.len());
    counts.insert("results", e.results.len());
    state.store.commit(
        batch,
        AuditEntry {
            actor: caller.actor(),
            action: "award.import".into(),
            target: id.clone(),
            detail: json!(counts),
        },
    )?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "award": id, "imported": counts })),
    ))
}
