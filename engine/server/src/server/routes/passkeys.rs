//! Passkeys: a signed-in person registers one (an administrator must, before the session may
//! do anything else), and uses it as the second factor of every sign-in after that.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::server::answers::{PasskeyShown, PasskeyUsed};
use crate::server::body;
use crate::server::error::ApiError;
use crate::server::passkeys::{self, Party};
use crate::server::people::{Person, Session};
use crate::server::session::SessionState;
use crate::server::state::AppState;
use crate::server::tx::Tx;
use crate::store::{AuditEntry, Tree, now};

/// A challenge issued, kept once until answered.
#[derive(Debug, Serialize, Deserialize)]
struct Challenge {
    challenge: String,
    expires_at: String,
}

/// A registration: the authenticator's answer and a name for it.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewPasskey {
    /// `navigator.credentials.create`'s answer, its binary parts base64url.
    pub credential: Value,
    /// A name for people ("laptop").
    #[serde(default)]
    pub label: String,
}

/// An assertion: `navigator.credentials.get`'s answer, its binary parts base64url.
#[derive(Debug, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PasskeyAnswer {
    /// The authenticator's answer.
    pub credential: Value,
}

fn challenge_key(kind: &str, person: &str) -> Vec<u8> {
    format!("webauthn:{kind}:{person}").into_bytes()
}

fn signed_in(
    state: &AppState,
    found: Option<Extension<SessionState>>,
    headers: &axum::http::HeaderMap,
) -> Result<(Person, Option<String>, Vec<u8>), ApiError> {
    match found.map(|f| f.0) {
        Some(SessionState::Valid {
            person, owed, key, ..
        }) => Ok((*person, owed, key)),
        _ if crate::server::auth::valid_key(state, headers).is_some() => Err(ApiError::Forbidden(
            "passkeys belong to people signed in with a session; an API key has none".to_owned(),
        )),
        _ => Err(ApiError::Unauthorized(
            "passkeys belong to a signed-in person: sign in first".to_owned(),
        )),
    }
}

fn system(action: &str, person: &str) -> AuditEntry {
    AuditEntry {
        actor: format!("{person} (person)"),
        action: action.to_owned(),
        target: person.to_owned(),
        detail: json!({}),
    }
}

/// Issues a challenge of `kind` for `person`, kept five minutes.
fn issue(state: &AppState, kind: &str, person: &str) -> Result<Vec<u8>, ApiError> {
    let mut challenge = vec![0u8; 32];
    getrandom::fill(&mut challenge)
        .map_err(|e| ApiError::Internal(format!("no randomness: {e}")))?;
    let mut tx = Tx::new(state);
    tx.put(
        Tree::Tokens,
        challenge_key(kind, person),
        &Challenge {
            challenge: URL_SAFE_NO_PAD.encode(&challenge),
            expires_at: (chrono::Utc::now() + chrono::Duration::minutes(5))
                .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        },
    );
    tx.commit(system(&format!("passkey.{kind}_challenge"), person))?;
    Ok(challenge)
}

/// Takes the challenge of `kind` for `person` (used once), if it is still valid.
fn take(tx: &mut Tx<'_>, kind: &str, person: &str) -> Result<Vec<u8>, ApiError> {
    let k = challenge_key(kind, person);
    let c: Challenge = tx
        .read(Tree::Tokens, &k)?
        .ok_or_else(|| ApiError::Conflict("ask for the passkey's options first".to_owned()))?;
    tx.delete(Tree::Tokens, k);
    let expired = chrono::DateTime::parse_from_rfc3339(&c.expires_at)
        .map(|e| e.to_utc() <= chrono::Utc::now())
        .unwrap_or(true);
    if expired {
        return Err(ApiError::Conflict(
            "the challenge expired: ask again".to_owned(),
        ));
    }
    URL_SAFE_NO_PAD
        .decode(&c.challenge)
        .map_err(|e| ApiError::Internal(e.to_string()))
}

/// Marks the session as having paid its second factor.
fn settle(tx: &mut Tx<'_>, session_key: &[u8]) -> Result<(), ApiError> {
    let mut session: Session = tx
        .read(Tree::Sessions, session_key)?
        .ok_or_else(|| ApiError::Unauthorized("the session has ended: sign in again".to_owned()))?;
    session.second_factor = None;
    tx.put(Tree::Sessions, session_key.to_vec(), &session);
    Ok(())
}

/// The page's origin, as the browser says (none from a client that is no browser).
fn origin(headers: &axum::http::HeaderMap) -> Option<&str> {
    headers
        .get(axum::http::header::ORIGIN)
        .and_then(|v| v.to_str().ok())
}

pub async fn create_options(
    State(state): State<AppState>,
    found: Option<Extension<SessionState>>,
    headers: axum::http::HeaderMap,
) -> Result<Json<passkeys::CreationOptions>, ApiError> {
    let (person, _, _) = signed_in(&state, found, &headers)?;
    let challenge = issue(&state, "create", &person.id)?;
    let name = state.sealer.open_text(&person.email);
    Ok(Json(passkeys::creation_options(
        &Party::of(&state.public_url),
        origin(&headers),
        &person.id,
        &name,
        &challenge,
        &person.passkeys,
    )))
}

pub async fn register(
    State(state): State<AppState>,
    found: Option<Extension<SessionState>>,
    headers: axum::http::HeaderMap,
    bytes: Bytes,
) -> Result<(StatusCode, Json<PasskeyShown>), ApiError> {
    let (person, owed, session_key) = signed_in(&state, found, &headers)?;
    let b: NewPasskey = body::json(&bytes)?;
    let mut tx = Tx::new(&state);
    let challenge = take(&mut tx, "create", &person.id)?;
    let passkey = passkeys::verify_registration(
        &Party::of(&state.public_url),
        &challenge,
        &b.credential,
        &b.label,
        &now(),
    )
    .map_err(|why| ApiError::located("/credential", why))?;
    let mut stored: Person = tx
        .read(Tree::People, person.id.as_bytes())?
        .ok_or_else(|| ApiError::Unauthorized("the account no longer exists".to_owned()))?;
    if stored.passkeys.iter().any(|p| p.id == passkey.id) {
        return Err(ApiError::Conflict(
            "this passkey is registered already".to_owned(),
        ));
    }
    stored.passkeys.push(passkey.clone());
    tx.put(Tree::People, stored.id.clone().into_bytes(), &stored);
    // Registering one proves possession of it: a session that owed one is settled.
    if owed.is_some() {
        settle(&mut tx, &session_key)?;
    }
    tx.commit(system("passkey.register", &person.id))?;
    Ok((
        StatusCode::CREATED,
        Json(PasskeyShown {
            id: passkey.id,
            label: passkey.label,
            created_at: passkey.created_at,
        }),
    ))
}

pub async fn get_options(
    State(state): State<AppState>,
    found: Option<Extension<SessionState>>,
    headers: axum::http::HeaderMap,
) -> Result<Json<passkeys::RequestOptions>, ApiError> {
    let (person, _, _) = signed_in(&state, found, &headers)?;
    if person.passkeys.is_empty() {
        return Err(ApiError::Conflict("you have no passkey yet".to_owned()));
    }
    let challenge = issue(&state, "get", &person.id)?;
    Ok(Json(passkeys::request_options(
        &Party::of(&state.public_url),
        origin(&headers),
        &challenge,
        &person.passkeys,
    )))
}

pub async fn verify(
    State(state): State<AppState>,
    found: Option<Extension<SessionState>>,
    headers: axum::http::HeaderMap,
    bytes: Bytes,
) -> Result<Json<PasskeyUsed>, ApiError> {
    let (person, _, session_key) = signed_in(&state, found, &headers)?;
    let b: PasskeyAnswer = body::json(&bytes)?;
    let mut tx = Tx::new(&state);
    let challenge = take(&mut tx, "get", &person.id)?;
    let mut stored: Person = tx
        .read(Tree::People, person.id.as_bytes())?
        .ok_or_else(|| ApiError::Unauthorized("the account no longer exists".to_owned()))?;
    let checked = passkeys::verify_assertion(
        &Party::of(&state.public_url),
        &challenge,
        &b.credential,
        &stored.passkeys,
    );
    let (index, count) = match checked {
        Ok(x) => x,
        Err(why) => {
            // The challenge is spent whatever the answer.
            tx.commit(system("passkey.refused", &person.id))?;
            return Err(ApiError::Unauthorized(format!(
                "the passkey was refused: {why}"
            )));
        }
    };
    stored.passkeys[index].sign_count = count;
    tx.put(Tree::People, stored.id.clone().into_bytes(), &stored);
    settle(&mut tx, &session_key)?;
    tx.commit(system("passkey.use", &person.id))?;
    Ok(Json(PasskeyUsed {
        signed_in: true,
        passkey: stored.passkeys[index].id.clone(),
    }))
}
