//! `Idempotency-Key` on POSTs: the first answer to a key (per caller) is kept, sealed, for 24
//! hours, and the same key with the same body gets that answer again without the request
//! running twice; the same key with another body is refused (422); a key whose first request
//! is still running answers 409.

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::error::ApiError;
use crate::server::state::AppState;
use crate::store::{AuditEntry, Batch, Tree, json, key};

/// How long a first answer is kept.
const KEPT: chrono::Duration = chrono::Duration::hours(24);

/// The longest key accepted.
const MAX_KEY: usize = 255;

/// A first answer, as kept.
#[derive(Serialize, Deserialize)]
struct Kept {
    /// SHA-256 of the first request's method, path and body.
    request: String,
    /// When it was answered (RFC 3339).
    at: String,
    /// Its status.
    status: u16,
    /// Its `Location` and `Content-Type`, when it had them.
    location: Option<String>,
    content_type: Option<String>,
    /// Its body, sealed.
    body: serde_json::Value,
    /// A claim, not an answer: the first request is still running (in this process or
    /// another on the same database).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    running: bool,
}

/// How long a claim holds before it is taken for the claim of a request that died with its
/// process: longer than any request may run.
const CLAIM: chrono::Duration = chrono::Duration::seconds(REQUEST_TIMEOUT_SECS + 30);
const REQUEST_TIMEOUT_SECS: i64 = crate::server::state::REQUEST_TIMEOUT.as_secs() as i64;

/// Who is asking, once their credential is checked: the API key's id, or the signed-in
/// person's. `None` for a request without a valid credential, which is passed on untouched
/// (nothing of it read or kept: its route refuses it), so an unauthenticated request costs no
/// buffering, and a caller's keys are theirs whatever other headers they send.
fn scope(state: &AppState, request: &Request) -> Option<Vec<u8>> {
    if request.headers().contains_key(header::AUTHORIZATION) {
        let record = super::auth::valid_key(state, request.headers())?;
        return Some(Sha256::digest(format!("key:{}", record.id)).to_vec());
    }
    match request.extensions().get::<super::session::SessionState>()? {
        super::session::SessionState::Valid { person, .. } => {
            Some(Sha256::digest(format!("person:{}", person.id)).to_vec())
        }
        super::session::SessionState::Invalid(_) => None,
    }
}

/// Releases the in-flight mark when the first request ends, however it ends.
struct InFlight<'a>(&'a AppState, Vec<u8>);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        if let Ok(mut set) = self.0.in_flight.lock() {
            set.remove(&self.1);
        }
    }
}

pub async fn layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let idempotency = request
        .headers()
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (Some(given), true) = (idempotency, request.method() == Method::POST) else {
        return next.run(request).await;
    };
    if given.is_empty() || given.len() > MAX_KEY {
        return ApiError::BadRequest(format!("`Idempotency-Key` is 1 to {MAX_KEY} characters"))
            .into_response();
    }
    let Some(scope) = scope(&state, &request) else {
        return next.run(request).await;
    };
    let k = key(&[&scope, given.as_bytes()]);
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_owned();
    let limit = if path.ends_with("/import") {
        super::body::IMPORT_LIMIT
    } else {
        crate::server::state::BODY_LIMIT
    };
    let Ok(bytes) = axum::body::to_bytes(body, limit).await else {
        return ApiError::TooLarge("the body is too large".to_owned()).into_response();
    };
    let fingerprint = hex::encode(
        Sha256::new()
            .chain_update(parts.method.as_str())
            .chain_update(b"\0")
            .chain_update(parts.uri.path())
            .chain_update(b"\0")
            .chain_update(&bytes)
            .finalize(),
    );
    let now = chrono::Utc::now();
    let stored = state.store.get(Tree::Idempotency, &k).ok().flatten();
    let kept: Option<Kept> = stored
        .as_deref()
        .and_then(|b| serde_json::from_slice(b).ok())
        .filter(|kept: &Kept| {
            let age = chrono::DateTime::parse_from_rfc3339(&kept.at).map(|at| now - at.to_utc());
            age.is_ok_and(|a| a < if kept.running { CLAIM } else { KEPT })
        });
    let still_running = || {
        ApiError::Conflict(format!(
            "a request with `Idempotency-Key: {given}` is still running: wait for its answer"
        ))
        .into_response()
    };
    if kept.as_ref().is_some_and(|k| k.running) {
        return still_running();
    }
    if let Some(kept) = kept {
        if kept.request != fingerprint {
            return ApiError::Invalid {
                title: "The Idempotency-Key was used for another request".to_owned(),
                diagnostics: vec![laurel::Diagnostic::error(
                    laurel::Code::Schema,
                    "",
                    format!("`Idempotency-Key: {given}` was first sent with another method, path or body: use a new key for a new request"),
                )],
            }
            .into_response();
        }
        return replay(&state, &k, kept);
    }
    {
        let Ok(mut set) = state.in_flight.lock() else {
            return ApiError::Internal("the in-flight set is poisoned".to_owned()).into_response();
        };
        if !set.insert(k.clone()) {
            return ApiError::Conflict(format!(
                "a request with `Idempotency-Key: {given}` is still running: wait for its answer"
            ))
            .into_response();
        }
    }
    let _mark = InFlight(&state, k.clone());
    // Claimed in the store, so that a retry reaching another process on the same database
    // waits too: the claim's commit requires the key as it was read (absent, expired, or the
    // claim of a request that died).
    let claim = Kept {
        request: fingerprint.clone(),
        at: now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        status: 0,
        location: None,
        content_type: None,
        body: serde_json::Value::Null,
        running: true,
    };
    let claimed = json(&claim);
    let mut batch = Batch::new();
    batch.expect(Tree::Idempotency, k.clone(), stored).put(
        Tree::Idempotency,
        k.clone(),
        claimed.clone(),
    );
    let claim_entry = AuditEntry {
        actor: "system (idempotency)".into(),
        action: "idempotency.claim".into(),
        target: path.clone(),
        detail: serde_json::json!({}),
    };
    match state.store.commit(batch, claim_entry) {
        Ok(_) => {}
        Err(crate::store::StoreError::Conflict { .. }) => return still_running(),
        Err(e) => return ApiError::from(e).into_response(),
    }
    let release = |state: &AppState| {
        let mut batch = Batch::new();
        batch
            .expect(Tree::Idempotency, k.clone(), Some(claimed.clone()))
            .delete_if_present(Tree::Idempotency, k.clone());
        if let Err(e) = state.store.commit(
            batch,
            AuditEntry {
                actor: "system (idempotency)".into(),
                action: "idempotency.release".into(),
                target: path.clone(),
                detail: serde_json::json!({}),
            },
        ) {
            tracing::warn!("idempotency: a claim was not released: {e}");
        }
    };
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    if response.status().is_server_error() {
        // Not an answer to keep: a retry runs again.
        release(&state);
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, super::body::IMPORT_LIMIT).await else {
        release(&state);
        return Response::from_parts(parts, Body::empty());
    };
    let text_header = |name| {
        parts
            .headers
            .get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
            .map(str::to_owned)
    };
    let kept = Kept {
        request: fingerprint,
        at: now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        status: parts.status.as_u16(),
        location: text_header(header::LOCATION),
        content_type: text_header(header::CONTENT_TYPE),
        body: state.sealer.seal_value(
            &format!("idempotency/{}", hex::encode(&k)),
            &serde_json::Value::String(STANDARD.encode(&bytes)),
        ),
        running: false,
    };
    let mut batch = Batch::new();
    batch.put(Tree::Idempotency, k, json(&kept));
    if let Err(e) = state.store.commit(
        batch,
        AuditEntry {
            actor: "system (idempotency)".into(),
            action: "idempotency.keep".into(),
            target: path,
            detail: serde_json::json!({ "status": kept.status }),
        },
    ) {
        tracing::warn!("idempotency: the first answer was not kept: {e}");
    }
    parts.headers.insert(
        "idempotency-key",
        HeaderValue::from_str(&given).unwrap_or(HeaderValue::from_static("")),
    );
    Response::from_parts(parts, Body::from(bytes))
}

/// The kept answer, again.
fn replay(state: &AppState, k: &[u8], kept: Kept) -> Response {
    let Some(body) = state
        .sealer
        .open_value(&kept.body)
        .and_then(|v| v.as_str().and_then(|b| STANDARD.decode(b).ok()))
    else {
        return ApiError::Internal(format!(
            "a kept answer ({}) cannot be opened",
            hex::encode(k)
        ))
        .into_response();
    };
    let mut response = Response::new(Body::from(Bytes::from(body)));
    *response.status_mut() = StatusCode::from_u16(kept.status).unwrap_or(StatusCode::OK);
    let headers = response.headers_mut();
    for (name, value) in [
        (header::LOCATION, kept.location),
        (header::CONTENT_TYPE, kept.content_type),
    ] {
        if let Some(v) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
            headers.insert(name, v);
        }
    }
    headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}
