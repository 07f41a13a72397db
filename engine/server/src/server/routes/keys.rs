//! API keys: made by administrators, shown once, stored as hashes, each owned by a person or a
//! service account. A person's keys end with their sessions (`POST /v1/people/{p}/sessions/revoke`).

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::json;

use crate::server::answers::{KeyMade, KeyRevoked};
use crate::server::auth::{self, Caller};
use crate::server::body;
use crate::server::domain::api_keys;
use crate::server::error::ApiError;
use crate::server::records::{KeyOwner, OwnerKind};
use crate::server::records::{KeyRecord, Role};
use crate::server::state::AppState;
use crate::server::tx::Tx;
use crate::store::key_index::KeysBy;
use crate::store::{Tree, get_json, now, scan_json};

/// A key to make.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    /// Its role.
    pub role: Role,
    /// For a judge key, the judge's id.
    #[serde(default)]
    pub subject: Option<String>,
    /// For a judge key, the award it judges in; may be left out when the judge is registered
    /// in one award only.
    #[serde(default)]
    pub award: Option<String>,
    /// A note for people.
    #[serde(default)]
    pub label: String,
    /// Who answers for it. Default: the signed-in person making it, or the owner of the key
    /// making it.
    #[serde(default)]
    pub owner: Option<KeyOwner>,
}

/// The owner of a new key: as asked (a person must exist; a service name must be a safe
/// name), or the caller's own.
fn owner_of(
    state: &AppState,
    caller: &Caller,
    asked: Option<KeyOwner>,
) -> Result<KeyOwner, ApiError> {
    let owner = match asked {
        Some(owner) => owner,
        None => caller.owner.clone().ok_or_else(|| {
            ApiError::BadRequest(
                "this key has no owner to pass on: give `owner` ({\"kind\": \"person\", \"id\": \"p-…\"} or {\"kind\": \"service\", \"id\": \"a name\"})".to_owned(),
            )
        })?,
    };
    let problem = match owner.kind {
        OwnerKind::Person => get_json::<crate::server::people::Person>(
            state.store.as_ref(),
            Tree::People,
            owner.id.as_bytes(),
        )?
        .is_none()
        .then(|| format!("no person `{}`", owner.id)),
        OwnerKind::Service => (owner.id.is_empty()
            || owner.id.len() > 64
            || !owner
                .id
                .bytes()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'_' | b'-')))
        .then(|| "a service account's name is 1 to 64 letters, digits, `-`, `_` or `.`".to_owned()),
    };
    if let Some(message) = problem {
        return Err(ApiError::Invalid {
            title: "The key's owner is invalid".to_owned(),
            diagnostics: vec![laurel::Diagnostic::error(
                laurel::Code::Schema,
                "/owner/id",
                message,
            )],
        });
    }
    Ok(owner)
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    bytes: Bytes,
) -> Result<(StatusCode, Json<KeyMade>), ApiError> {
    caller.require(&[Role::Admin])?;
    let new: NewKey = body::json(&bytes)?;
    if new.role == Role::Judge && new.subject.as_deref().is_none_or(str::is_empty) {
        return Err(ApiError::located(
            "/subject",
            "a judge key needs `subject`: the judge's id",
        ));
    }
    let award = match (new.role, &new.subject) {
        (Role::Judge, Some(judge)) => Some(judge_award(&state, judge, new.award.as_deref())?),
        _ => None,
    };
    let owner = owner_of(&state, &caller, new.owner)?;
    let (secret, id) = auth::generate()?;
    let record = KeyRecord {
        id: id.clone(),
        role: new.role,
        subject: new.subject,
        award,
        label: new.label,
        created_at: now(),
        revoked: false,
        owner: Some(owner.clone()),
    };
    let mut tx = Tx::new(&state);
    tx.absent(Tree::Keys, &auth::digest(&secret))?;
    tx.put(Tree::Keys, auth::digest(&secret), &record);
    tx.commit(caller.audit(
        "key.create",
        id.clone(),
        json!({ "role": auth::role_name(record.role), "subject": record.subject, "award": record.award, "owner": record.owner }),
    ))?;
    Ok((
        StatusCode::CREATED,
        Json(KeyMade {
            id,
            key: secret,
            role: record.role,
            subject: record.subject,
            award: record.award,
            owner,
            note: "the key is shown once; only its hash is stored",
        }),
    ))
}

/// The award a judge key for `judge` judges in: the one asked (an award that exists), or the
/// only award the judge is registered in.
fn judge_award(state: &AppState, judge: &str, asked: Option<&str>) -> Result<String, ApiError> {
    let mut registered: Vec<String> = state
        .store
        .scan(Tree::Judges, b"")?
        .into_iter()
        .filter_map(|(k, _)| {
            let mut parts = k.split(|b| *b == 0);
            let award = parts.next()?;
            (parts.next()? == judge.as_bytes()).then(|| String::from_utf8_lossy(award).into_owned())
        })
        .collect();
    registered.sort();
    match (asked, registered.as_slice()) {
        // A key may be made before its judge is registered, for an award that exists.
        (Some(a), _) if state.store.get(Tree::Awards, a.as_bytes())?.is_some() => Ok(a.to_owned()),
        (Some(a), _) => Err(ApiError::located("/award", format!("no award `{a}`"))),
        (None, [one]) => Ok(one.clone()),
        (None, []) => Err(ApiError::located(
            "/subject",
            format!("`{judge}` is not a registered judge of any award: register them first"),
        )),
        (None, many) => Err(ApiError::located(
            "/award",
            format!(
                "`{judge}` judges in {}: name the award the key is for",
                many.join(", ")
            ),
        )),
    }
}

/// Every key (never its secret); the paging layer filters by `owner` and `role`.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<KeyRecord>>, ApiError> {
    caller.require(&[Role::Admin, Role::Auditor])?;
    Ok(Json(scan_json(state.store.as_ref(), Tree::Keys, b"")?))
}

pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<KeyRevoked>, ApiError> {
    caller.require(&[Role::Admin])?;
    let found = api_keys::find(state.store.as_ref(), KeysBy::Id(&id))?;
    let (hash, _) = found
        .into_iter()
        .next()
        .ok_or_else(|| ApiError::NotFound(format!("no key `{id}`")))?;
    let mut tx = Tx::new(&state);
    let mut record: KeyRecord = tx
        .read(Tree::Keys, &hash)?
        .ok_or_else(|| ApiError::NotFound(format!("no key `{id}`")))?;
    if record.revoked {
        return Err(ApiError::Conflict(format!("key `{id}` is already revoked")));
    }
    if record.role == Role::Admin {
        // The last administrator cannot be revoked. Every other live administrator key is a
        // condition of the commit, so two administrators revoking each other at once cannot
        // both succeed.
        let mut others = 0;
        for (k, other) in api_keys::find(state.store.as_ref(), KeysBy::LiveAdmins)? {
            if other.id != id {
                tx.read::<KeyRecord>(Tree::Keys, &k)?;
                others += 1;
            }
        }
        if others == 0 {
            return Err(ApiError::Conflict(format!(
                "key `{id}` is the last administrator key: make another before revoking it"
            )));
        }
    }
    record.revoked = true;
    tx.put(Tree::Keys, hash, &record);
    tx.commit(caller.audit("key.revoke", id.clone(), json!({})))?;
    Ok(Json(KeyRevoked { id, revoked: true }))
}
