//! Drafts: an application being written, saved and resumed before it is submitted. One per
//! owner and award, sealed whole (it holds personal data), never checked (it may be half
//! done), deleted in the commit that submits the application.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;

use serde_json::{Value, json};

use crate::server::answers::{Draft, DraftSaved, SavedDraft};
use crate::server::auth::Caller;
use crate::server::body;
use crate::server::domain::applications::draft_key;
use crate::server::domain::awards::load_award;
use crate::server::error::ApiError;
use crate::server::records::Role;
use crate::server::state::AppState;
use crate::server::tx::Tx;
use crate::store::{Tree, get_json, now};

/// Who may keep drafts: whoever may submit.
const WRITERS: &[Role] = &[Role::Admin, Role::Applicant, Role::Integrator];

fn aad(award: &str, owner: &str) -> String {
    format!("drafts/{award}/{owner}")
}

/// The caller's draft of `award`, opened.
fn read(state: &AppState, award: &str, owner: &str) -> Result<Option<SavedDraft>, ApiError> {
    let Some(stored) =
        get_json::<Value>(state.store.as_ref(), Tree::Drafts, &draft_key(award, owner))?
    else {
        return Ok(None);
    };
    let draft = state
        .sealer
        .open_value(&stored["draft"])
        .and_then(|d| serde_json::from_value::<Draft>(d).ok())
        .ok_or_else(|| ApiError::Internal("a draft cannot be opened".to_owned()))?;
    Ok(Some(SavedDraft {
        draft,
        saved_at: stored["saved_at"].as_str().unwrap_or_default().to_owned(),
    }))
}

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(award): Path<String>,
) -> Result<Json<SavedDraft>, ApiError> {
    caller.require(WRITERS)?;
    load_award(&state, &award)?;
    read(&state, &award, &caller.key)?
        .map(Json)
        .ok_or_else(|| ApiError::NotFound(format!("no draft of yours for `{award}`")))
}

pub async fn put(
    State(state): State<AppState>,
    caller: Caller,
    Path(award): Path<String>,
    bytes: Bytes,
) -> Result<(StatusCode, Json<DraftSaved>), ApiError> {
    caller.require(WRITERS)?;
    load_award(&state, &award)?;
    let draft: Draft = body::json(&bytes)?;
    let value = serde_json::to_value(&draft).map_err(|e| ApiError::Internal(e.to_string()))?;
    let at = now();
    let mut tx = Tx::new(&state);
    // The draft as it is now is a condition of the commit: a draft saved while its
    // application is being submitted is refused (409) rather than outliving the submission.
    tx.read_raw(Tree::Drafts, &draft_key(&award, &caller.key))?;
    tx.put(
        Tree::Drafts,
        draft_key(&award, &caller.key),
        &json!({ "draft": state.sealer.seal_value(&aad(&award, &caller.key), &value), "saved_at": at }),
    );
    tx.commit(caller.audit("draft.save", format!("{award}/{}", caller.key), json!({})))?;
    Ok((
        StatusCode::OK,
        Json(DraftSaved {
            award,
            saved_at: at,
        }),
    ))
}

pub async fn discard(
    State(state): State<AppState>,
    caller: Caller,
    Path(award): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require(WRITERS)?;
    let mut tx = Tx::new(&state);
    tx.delete(Tree::Drafts, draft_key(&award, &caller.key));
    tx.commit(caller.audit(
        "draft.discard",
        format!("{award}/{}", caller.key),
        json!({}),
    ))?;
    Ok(StatusCode::NO_CONTENT)
}
