//! People as stored: finding a person by address, and starting their session.

use crate::server::error::ApiError;
use crate::server::people::{ABSOLUTE, Person, Session, email_key, new_token};
use crate::server::records::Role;
use crate::server::session::set_cookie;
use crate::server::state::AppState;
use crate::server::tx::Tx;
use crate::server::webhooks::random_id;
use crate::store::{AuditEntry, Tree, get_json, now};
use axum::http::HeaderValue;
use serde_json::{Value, json};

pub(crate) fn system(action: &str, target: &str, detail: Value) -> AuditEntry {
    AuditEntry {
        actor: "system (sign-in)".into(),
        action: action.into(),
        target: target.into(),
        detail,
    }
}

/// The person at `email`, and the key they are found under.
pub(crate) fn find(state: &AppState, email: &str) -> Result<(Option<Person>, Vec<u8>), ApiError> {
    let k = email_key(&state.sealer, email);
    let Some(id) = state.store.get(Tree::PeopleByEmail, &k)? else {
        return Ok((None, k));
    };
    let id = String::from_utf8_lossy(&id).into_owned();
    Ok((
        get_json(state.store.as_ref(), Tree::People, id.as_bytes())?,
        k,
    ))
}

/// Starts a session for `person` in `tx` (which may hold the sign-in's own changes): the
/// address is now proven; `how` the person proved who they are (`link`, `oidc`), for the audit.
/// The `Set-Cookie` value, the person and the session.
pub(crate) fn begin_session(
    state: &AppState,
    mut tx: Tx<'_>,
    person: &str,
    how: &str,
) -> Result<(HeaderValue, Person, Session), ApiError> {
    let mut person: Person = tx
        .read(Tree::People, person.as_bytes())?
        .ok_or_else(|| ApiError::Unauthorized("the account no longer exists".to_owned()))?;
    person.verified = true;
    let (session_token, session_key) = new_token()?;
    let csrf = random_id("", 16)?;
    let at = chrono::Utc::now();
    // A person with a passkey uses it; an administrator without one registers one first.
    let admin = person.grants.iter().any(|g| g.role == Role::Admin);
    let second_factor = if !person.passkeys.is_empty() {
        Some("passkey".to_owned())
    } else if admin && state.admin_passkeys {
        Some("enroll".to_owned())
    } else {
        None
    };
    let session = Session {
        person: person.id.clone(),
        created_at: now(),
        expires_at: (at + ABSOLUTE).to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        csrf,
        second_factor,
    };
    tx.put(Tree::People, person.id.clone().into_bytes(), &person);
    tx.put(Tree::Sessions, session_key, &session);
    tx.commit(system(
        "session.start",
        &person.id,
        json!({ "expires_at": session.expires_at, "by": how }),
    ))?;
    let cookie = HeaderValue::from_str(&set_cookie(state, &session_token, at.timestamp()))
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok((cookie, person, session))
}

/// The person an address belongs to, if any (for a sign-in by a provider that vouches for it).
pub(crate) fn person_at(state: &AppState, email: &str) -> Result<Option<Person>, ApiError> {
    Ok(find(state, email)?.0)
}

/// Where the expiry of a person's newest sign-in link is kept (`Tree::Meta`), so that the
/// list of people shows an invitation's state without reading every token.
pub(crate) fn link_index(person: &str) -> Vec<u8> {
    crate::store::key(&[b"link", person.as_bytes()])
}
