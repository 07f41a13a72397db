//! Webhook endpoints of an award: register, list, remove; their delivery log; redelivery.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::server::answers::WebhookEndpoint;
use crate::server::auth::Caller;
use crate::server::body;
use crate::server::error::ApiError;
use crate::server::records::Role;
use crate::server::state::AppState;
use crate::server::tx::Tx;
use crate::server::webhooks::{
    EVENTS, Endpoint, Message, MessageState, endpoint_key, new_secret, random_id,
};
use crate::store::{Tree, key, now, prefix, scan_json};

use crate::server::domain::awards::load_award;

/// A new endpoint.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEndpoint {
    /// Where events are POSTed (`http://` or `https://`).
    pub url: String,
    /// The events wanted: `application.submitted`, `eligibility.decided`, `round.opened`,
    /// `round.closed`, `marks.submitted`, `results.published`.
    pub events: Vec<String>,
    /// What it is for.
    #[serde(default)]
    pub description: String,
}

/// An endpoint as shown, without its secret.
fn shown(e: &Endpoint) -> WebhookEndpoint {
    WebhookEndpoint {
        id: e.id.clone(),
        award: e.award.clone(),
        url: e.url.clone(),
        events: e.events.clone(),
        description: e.description.clone(),
        enabled: e.enabled,
        created_at: e.created_at.clone(),
        secret: None,
    }
}

fn check(b: &NewEndpoint, allow_private: bool) -> Result<(), ApiError> {
    let mut problems = Vec::new();
    if let Err(why) = crate::server::outbound::check_url(&b.url, allow_private) {
        let hint = if allow_private {
            String::new()
        } else {
            " (the server is started without `--webhooks-to-private-addresses`)".to_owned()
        };
        problems.push(laurel::Diagnostic::error(
            laurel::Code::Schema,
            "/url",
            format!("{why}{hint}"),
        ));
    }
    if b.events.is_empty() {
        problems.push(laurel::Diagnostic::error(
            laurel::Code::Schema,
            "/events",
            "name at least one event",
        ));
    }
    for (i, e) in b.events.iter().enumerate() {
        if !EVENTS.contains(&e.as_str()) {
            problems.push(laurel::Diagnostic::error(
                laurel::Code::Schema,
                format!("/events/{i}"),
                format!("unknown event `{e}`; known: {}", EVENTS.join(", ")),
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Invalid {
            title: "The webhook endpoint is invalid".to_owned(),
            diagnostics: problems,
        })
    }
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Path(award): Path<String>,
    bytes: Bytes,
) -> Result<(StatusCode, Json<WebhookEndpoint>), ApiError> {
    caller.require(&[Role::Admin])?;
    load_award(&state, &award)?;
    let b: NewEndpoint = body::json(&bytes)?;
    check(&b, state.webhooks_to_private)?;
    let id = random_id("ep_", 8)?;
    let secret = new_secret()?;
    let endpoint = Endpoint {
        id: id.clone(),
        award: award.clone(),
        url: b.url,
        events: b.events,
        description: b.description,
        secret: state.sealer.seal_value(
            &format!("{award}/webhooks/{id}"),
            &Value::String(secret.clone()),
        ),
        enabled: true,
        created_at: now(),
    };
    let mut tx = Tx::new(&state);
    // The quota: endpoints that exist now, each a condition of the commit (two creations at
    // once cannot both pass it).
    let mut existing = 0u64;
    for (k, _) in state.store.scan(Tree::Webhooks, b"")? {
        tx.read_raw(Tree::Webhooks, &k)?;
        existing += 1;
    }
    if existing >= state.quotas.webhooks {
        return Err(ApiError::Quota(format!(
            "the installation has {existing} webhook endpoints: at most {} \
             (`laurel serve --webhooks`)",
            state.quotas.webhooks
        )));
    }
    tx.absent(Tree::Webhooks, &endpoint_key(&award, &id))?;
    tx.put(Tree::Webhooks, endpoint_key(&award, &id), &endpoint);
    tx.commit(caller.audit(
        "webhook.create",
        format!("{award}/{id}"),
        json!({ "url": endpoint.url, "events": endpoint.events }),
    ))?;
    let out = WebhookEndpoint {
        secret: Some(secret),
        ..shown(&endpoint)
    };
    Ok((StatusCode::CREATED, Json(out)))
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(award): Path<String>,
) -> Result<Json<Vec<WebhookEndpoint>>, ApiError> {
    caller.require(&[Role::Admin, Role::Auditor])?;
    let all: Vec<Endpoint> = scan_json(
        state.store.as_ref(),
        Tree::Webhooks,
        &prefix(&[award.as_bytes()]),
    )?;
    Ok(Json(all.iter().map(shown).collect()))
}

pub async fn disable(
    State(state): State<AppState>,
    caller: Caller,
    Path((award, id)): Path<(String, String)>,
) -> Result<Json<WebhookEndpoint>, ApiError> {
    caller.require(&[Role::Admin])?;
    let mut tx = Tx::new(&state);
    let mut e: Endpoint = tx
        .read(Tree::Webhooks, &endpoint_key(&award, &id))?
        .ok_or_else(|| ApiError::NotFound(format!("no webhook endpoint `{id}` in `{award}`")))?;
    e.enabled = false;
    tx.put(Tree::Webhooks, endpoint_key(&award, &id), &e);
    tx.commit(caller.audit("webhook.disable", format!("{award}/{id}"), json!({})))?;
    Ok(Json(shown(&e)))
}

/// Every message of an endpoint, pending or done, oldest first, with its attempts.
/// An endpoint's messages in the order they were made (ids sort so): one page of its delivery
/// log read from the store (keyset, after `after`), merged with those still waiting in the
/// outbox (few: they leave it when delivered or given up on).
pub async fn deliveries(
    State(state): State<AppState>,
    caller: Caller,
    Path((award, id)): Path<(String, String)>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Result<Json<Vec<Message>>, ApiError> {
    caller.require(&[Role::Admin, Role::Auditor])?;
    let Some(wanted) =
        crate::server::paging::Wanted::of(query.as_deref(), super::listings::DELIVERIES)
    else {
        // A `limit` that is none: the layer says so.
        return Ok(Json(Vec::new()));
    };
    let after = wanted.after.clone();
    let later = |m: &Message| after.as_ref().is_none_or(|a| m.id.as_str() > a.as_str());
    let mut out: Vec<Message> = scan_json::<Message>(state.store.as_ref(), Tree::Outbox, b"")?
        .into_iter()
        .filter(|m| m.award == award && m.endpoint == id && later(m))
        .filter(|m| wanted.matches(&serde_json::to_value(m).unwrap_or_default()))
        .collect();
    out.extend(
        crate::server::paging::keyset(
            state.store.as_ref(),
            (
                Tree::Deliveries,
                &prefix(&[award.as_bytes(), id.as_bytes()]),
            ),
            after.map(|a| key(&[award.as_bytes(), id.as_bytes(), a.as_bytes()])),
            &wanted,
            |v| async move {
                serde_json::from_slice::<Message>(&v)
                    .map(Some)
                    .map_err(|e| ApiError::Internal(format!("a stored delivery: {e}")))
            },
        )
        .await?,
    );
    out.sort_by(|a, b| a.id.cmp(&b.id));
    out.truncate(wanted.limit + 1);
    Ok(Json(out))
}

/// Sends a message again now (same `webhook-id`), whatever became of it.
pub async fn redeliver(
    State(state): State<AppState>,
    caller: Caller,
    Path((award, id, message)): Path<(String, String, String)>,
) -> Result<(StatusCode, Json<Message>), ApiError> {
    caller.require(&[Role::Admin])?;
    let mut tx = Tx::new(&state);
    let log_key = key(&[award.as_bytes(), id.as_bytes(), message.as_bytes()]);
    let mut m: Message = match tx.read::<Message>(Tree::Outbox, message.as_bytes())? {
        Some(m) if m.award == award && m.endpoint == id => m,
        _ => tx.read(Tree::Deliveries, &log_key)?.ok_or_else(|| {
            ApiError::NotFound(format!("no message `{message}` for endpoint `{id}`"))
        })?,
    };
    m.state = MessageState::Pending;
    m.next_attempt_at = now();
    m.leased_until = None;
    // A fresh round of retries; the attempts so far stay.
    m.retries_from = m.attempts.len();
    tx.delete(Tree::Deliveries, log_key);
    tx.put(Tree::Outbox, message.clone().into_bytes(), &m);
    tx.commit(caller.audit(
        "webhook.redeliver",
        format!("{award}/{id}/{message}"),
        json!({ "earlier_attempts": m.retries_from }),
    ))?;
    Ok((StatusCode::ACCEPTED, Json(m)))
}
