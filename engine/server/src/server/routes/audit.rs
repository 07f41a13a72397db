//! The audit chain, read-only.

use axum::Json;
use axum::extract::{Query, State};
use serde::Deserialize;

use crate::server::auth::Caller;
use crate::server::error::ApiError;
use crate::server::records::Role;
use crate::server::state::AppState;
use crate::store::{AuditRecord, Tree};

#[derive(Debug, Deserialize)]
pub struct Page {
    /// Records after this sequence number.
    #[serde(default)]
    after: u64,
    /// At most this many (1000 by default and at most).
    #[serde(default)]
    limit: Option<usize>,
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(page): Query<Page>,
) -> Result<Json<Vec<AuditRecord>>, ApiError> {
    caller.require(&[Role::Admin, Role::Auditor])?;
    let limit = page.limit.unwrap_or(1000);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::BadRequest(
            "`limit` is a number from 1 to 1000".to_owned(),
        ));
    }
    // Keyset: records are keyed by their sequence number, big-endian; one page is read.
    let after = page.after.to_be_bytes();
    let records = state
        .store
        .scan_from(Tree::Audit, b"", Some(after.as_slice()), limit)?
        .into_iter()
        .filter(|(k, _)| k.as_slice() > after.as_slice())
        .map(|(_, v)| serde_json::from_slice(&v).map_err(|e| ApiError::Internal(e.to_string())))
        .collect::<Result<Vec<AuditRecord>, _>>()?;
    Ok(Json(records))
}

#[derive(Debug, Deserialize)]
pub struct VerifyQuery {
    /// A head noted earlier, which the chain must still hold.
    #[serde(default)]
    head: Option<String>,
}

/// Checks the chain and every stored value against it, on the running server.
pub async fn verify(
    State(state): State<AppState>,
    caller: Caller,
    Query(q): Query<VerifyQuery>,
) -> Result<Json<crate::server::answers::ChainChecked>, ApiError> {
    caller.require(&[Role::Admin, Role::Auditor])?;
    let (records, problems) = crate::store::verify_store(state.store.as_ref(), q.head.as_deref())?;
    Ok(Json(crate::server::answers::ChainChecked {
        intact: problems.is_empty(),
        records: records.len(),
        head: records.last().map(AuditRecord::head),
        problems,
    }))
}
