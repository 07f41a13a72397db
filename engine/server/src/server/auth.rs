//! API keys: `Authorization: Bearer lk_...`, stored only as SHA-256, each with a role.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

pub use super::caller::{Caller, role_name};
use super::error::ApiError;
use super::records::{KeyRecord, Role};
use super::throttle::retry_after;
use crate::server::state::AppState;
use crate::store::{Tree, get_json};

/// The hash a key is stored under.
pub fn digest(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// A new key: its secret (shown once) and its id.
pub fn generate() -> Result<(String, String), ApiError> {
    let mut secret = [0u8; 32];
    let mut id = [0u8; 6];
    getrandom::fill(&mut secret).map_err(|e| ApiError::Internal(format!("no randomness: {e}")))?;
    getrandom::fill(&mut id).map_err(|e| ApiError::Internal(format!("no randomness: {e}")))?;
    Ok((
        format!("lk_{}", URL_SAFE_NO_PAD.encode(secret)),
        format!("key-{}", hex::encode(id)),
    ))
}

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        if !parts
            .headers
            .contains_key(axum::http::header::AUTHORIZATION)
        {
            match parts.extensions.get::<super::session::SessionState>() {
                Some(super::session::SessionState::Valid { person, .. }) => {
                    return super::session::caller(person, parts.uri.path());
                }
                Some(super::session::SessionState::Invalid(why)) => {
                    return Err(ApiError::Unauthorized(why.clone()));
                }
                // No credential, no guess: nothing to count or block.
                None => return from_key(parts, state),
            }
        }
        let client = client_of(parts);
        // A valid key is never refused for its address's failures (behind a proxy, an office
        // or a mobile network, many people share one): keys are 256-bit secrets, so the block
        // only slows guessing, and a guess that fails is still counted and blocked.
        let caller = from_key(parts, state);
        if let Err(ApiError::Unauthorized(_)) = &caller {
            if let Some(wait) = state.throttle.blocked_now(&client).await {
                return Err(too_many(wait));
            }
            if let Some(wait) = state.throttle.failed_now(&client).await {
                tracing::warn!(client = %client, "authentication failures: blocked for {wait:?}");
            }
        }
        caller
    }
}

/// The client's address, as the connection gave it (`unknown` in tests without one).
pub fn client_of(parts: &Parts) -> String {
    parts
        .extensions
        .get::<ClientAddr>()
        .map_or_else(|| "unknown".to_owned(), |a| a.0.to_string())
}

/// The address of the connection a request came on.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub std::net::IpAddr);

fn too_many(wait: std::time::Duration) -> ApiError {
    let seconds = retry_after(wait);
    ApiError::TooManyRequests {
        detail: format!(
            "too many failed attempts from this address: try again in {seconds} seconds"
        ),
        retry_after: seconds,
    }
}

/// The API key an `Authorization` header names, if it is a valid (known, unrevoked) one.
pub fn valid_key(state: &AppState, headers: &axum::http::HeaderMap) -> Option<KeyRecord> {
    let secret = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .split_once(' ')
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))?
        .1;
    get_json::<KeyRecord>(state.store.as_ref(), Tree::Keys, &digest(secret.trim()))
        .ok()
        .flatten()
        .filter(|r| !r.revoked)
}

fn from_key(parts: &Parts, state: &AppState) -> Result<Caller, ApiError> {
    {
        let header = parts
            .headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .ok_or_else(|| {
                ApiError::Unauthorized(
                    "send `Authorization: Bearer <api key>`, or sign in".to_owned(),
                )
            })?;
        // The scheme is case-insensitive (RFC 9110 §11.1).
        let secret = header
            .split_once(' ')
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, secret)| secret)
            .ok_or_else(|| {
                ApiError::Unauthorized(
                    "the Authorization header must be `Bearer <api key>`".to_owned(),
                )
            })?;
        let record: KeyRecord = get_json(state.store.as_ref(), Tree::Keys, &digest(secret.trim()))?
            .ok_or_else(|| ApiError::Unauthorized("unknown API key".to_owned()))?;
        if record.revoked {
            return Err(ApiError::Unauthorized(
                "this API key was revoked".to_owned(),
            ));
        }
        if record.role == Role::Judge {
            // A judge id means something in one award only: the key acts there alone.
            let Some(award) = &record.award else {
                return Err(ApiError::Forbidden(
                    "this judge key was made before judge keys named their award: make a new one"
                        .to_owned(),
                ));
            };
            if let Some(asked) = super::session::award_of(parts.uri.path())
                && asked != award
            {
                return Err(ApiError::Forbidden(format!(
                    "this judge key is for award `{award}`"
                )));
            }
        }
        Ok(Caller {
            key: record.id,
            role: record.role,
            subject: record.subject,
            award: record.award,
            owner: record.owner,
        })
    }
}
