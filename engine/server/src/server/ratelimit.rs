//! Each credential's budget of requests (`serve --rate-limit N` a minute, per API key, session or,
//! without either, per address): every API answer says the policy and what is left
//! (`RateLimit-Policy`, `RateLimit`, as the IETF draft writes them), and a caller over its
//! budget is answered 429 with `Retry-After` until the window turns.
//!
//! What anyone may call without an account and that costs real work (`/v1/validate`, the
//! playground) is budgeted by the client's address alone: a header the caller can invent
//! (a made-up key or cookie) never buys a fresh budget there.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::error::ApiError;
use crate::server::state::AppState;

pub use super::budgets::{Budgets, WINDOW};

/// Paths anyone may call, budgeted by address only.
fn anonymous(path: &str) -> bool {
    path == "/v1/validate" || path == "/playground"
}

/// Whose budget a request spends: its API key, its session, or its address; on anonymous
/// paths, its address.
fn who(request: &Request) -> Vec<u8> {
    let address = || {
        let mut who = b"address:".to_vec();
        if let Some(a) = request.extensions().get::<super::auth::ClientAddr>() {
            who.extend(a.0.to_string().into_bytes());
        }
        who
    };
    let credential = if anonymous(request.uri().path()) {
        address()
    } else {
        request
            .headers()
            .get(header::AUTHORIZATION)
            .or_else(|| request.headers().get(header::COOKIE))
            .map(|v| v.as_bytes().to_vec())
            .unwrap_or_else(address)
    };
    Sha256::digest(credential).to_vec()
}

pub async fn layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let path = path.as_str();
    // Pages answer people; of them only the playground does costly work for anyone.
    let counted = path.starts_with("/v1/") || (path == "/playground" && request.method() == "POST");
    if !counted {
        return next.run(request).await;
    }
    let budgets = if anonymous(path) {
        &state.anonymous_budgets
    } else {
        &state.budgets
    };
    let policy = format!(
        "\"default\";q={};w={}",
        budgets.per_window,
        WINDOW.as_secs()
    );
    let who = who(&request);
    let unix = unix_now();
    // Several processes on one database: a credential's count is the installation's, read
    // before its first request of the minute here and before each once near its budget.
    if state.store.shares_budgets() && budgets.to_read(&who, unix) {
        share(&state, budgets, Some(&who), unix).await;
    }
    let (left, reset) = budgets.take(who, unix);
    let mut response = match left {
        Some(_) => next.run(request).await,
        None => {
            // The body is not read: the connection cannot carry another request after it, so
            // the answer says so rather than leaving a client to reuse a closed connection.
            let mut refused = ApiError::TooManyRequests {
                detail: format!(
                    "this credential made its {} requests of the minute: try again in {reset} seconds",
                    budgets.per_window
                ),
                retry_after: reset,
            }
            .into_response();
            refused
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            refused
        }
    };
    let headers = response.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&policy) {
        headers.insert("ratelimit-policy", v);
    }
    if let Ok(v) = HeaderValue::from_str(&format!("\"default\";r={};t={reset}", left.unwrap_or(0)))
    {
        headers.insert("ratelimit", v);
    }
    response
}

/// Seconds since 1970.
fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Adds this process's requests (of `who` alone, if given) to the installation's counts and
/// reads them back. A store that cannot be reached leaves them counted here.
async fn share(state: &AppState, budgets: &Budgets, who: Option<&[u8]>, unix: u64) {
    let unshared = budgets.unshared(who, unix);
    if unshared.1.is_empty() {
        return;
    }
    let (window, counts) = (unshared.0, unshared.1.clone());
    let store = state.store.clone();
    let totals = tokio::task::spawn_blocking(move || store.add_requests(window, &counts))
        .await
        .ok()
        .and_then(|r| {
            // Said once while the database stays away, not four times a second.
            static FAILING: std::sync::atomic::AtomicBool =
                std::sync::atomic::AtomicBool::new(false);
            match r {
                Ok(totals) => {
                    if FAILING.swap(false, std::sync::atomic::Ordering::Relaxed) {
                        tracing::info!("rate limits: counted with the other processes again");
                    }
                    Some(totals)
                }
                Err(e) => {
                    if !FAILING.swap(true, std::sync::atomic::Ordering::Relaxed) {
                        tracing::warn!(
                            "rate limits: the shared counts cannot be reached ({e}); counting in this process until they can"
                        );
                    }
                    None
                }
            }
        })
        .flatten();
    budgets.shared(&unshared, totals.as_deref());
}

/// Shares this process's counts with the other processes on the store, a few times a second,
/// for as long as the process runs (only when the store is shared).
pub async fn share_counts(state: AppState) {
    if !state.store.shares_budgets() {
        return;
    }
    loop {
        tokio::time::sleep(super::budgets::SHARE_EVERY).await;
        let unix = unix_now();
        share(&state, &state.budgets, None, unix).await;
        share(&state, &state.anonymous_budgets, None, unix).await;
    }
}
