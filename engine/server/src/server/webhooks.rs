//! Webhooks as the Standard Webhooks specification says: each event becomes one outbox
//! message per subscribed endpoint, committed with the change that caused it, and is sent
//! signed (`webhook-id`, `webhook-timestamp`, `webhook-signature: v1,<base64 HMAC-SHA256 of
//! "id.timestamp.body">`) by the outbox worker.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::Mac;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::error::ApiError;
use super::tx::Tx;
use crate::store::{StoreError, Tree, key, prefix};

/// The events an endpoint can subscribe to.
pub const EVENTS: &[&str] = &[
    "application.submitted",
    "eligibility.decided",
    "round.opened",
    "round.closed",
    "marks.submitted",
    "results.published",
];

/// A registered endpoint.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Endpoint {
    /// Its id.
    pub id: String,
    /// The award.
    pub award: String,
    /// Where events are POSTed.
    pub url: String,
    /// The events it receives.
    pub events: Vec<String>,
    /// What it is for.
    #[serde(default)]
    pub description: String,
    /// The signing secret (`whsec_` and base64), sealed at rest.
    #[schemars(skip)]
    pub secret: Value,
    /// Whether it still receives events.
    pub enabled: bool,
    /// When it was registered.
    pub created_at: String,
}

/// One try at delivering a message.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Attempt {
    /// When.
    pub at: String,
    /// The receiver's status, if it answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Why it failed, if it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// How long it took, in milliseconds.
    pub ms: u64,
}

/// Where a message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MessageState {
    /// Waiting for its next attempt.
    Pending,
    /// The receiver answered 2xx.
    Delivered,
    /// Every attempt failed; redeliver it by hand.
    Failed,
}

/// A webhook message: the same id and body on every attempt, so receivers can deduplicate.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Message {
    /// `webhook-id`.
    pub id: String,
    /// The award.
    pub award: String,
    /// The endpoint.
    pub endpoint: String,
    /// The event type.
    pub event: String,
    /// The exact body sent (webhooks).
    #[serde(default)]
    pub body: String,
    /// A mail, sealed (its endpoint is `mail`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(skip)]
    pub mail: Option<Value>,
    /// When it was made.
    pub created_at: String,
    /// Where it is.
    pub state: MessageState,
    /// When the next attempt is due (RFC 3339).
    pub next_attempt_at: String,
    /// A worker holds it until then (RFC 3339), so that two never send it at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leased_until: Option<String>,
    /// Every attempt so far.
    pub attempts: Vec<Attempt>,
    /// The attempts before the last redelivery on demand (the backoff counts from there).
    #[serde(default)]
    pub retries_from: usize,
}

impl Message {
    /// A message due now, with no attempt yet.
    pub fn pending(id: String, award: &str, endpoint: String, event: &str, at: &str) -> Self {
        Message {
            id,
            award: award.to_owned(),
            endpoint,
            event: event.to_owned(),
            body: String::new(),
            mail: None,
            created_at: at.to_owned(),
            state: MessageState::Pending,
            next_attempt_at: at.to_owned(),
            leased_until: None,
            attempts: Vec::new(),
            retries_from: 0,
        }
    }
}

/// A new random id with a prefix.
pub fn random_id(prefix: &str, bytes: usize) -> Result<String, ApiError> {
    let mut b = vec![0u8; bytes];
    getrandom::fill(&mut b).map_err(|e| ApiError::Internal(format!("no randomness: {e}")))?;
    Ok(format!("{prefix}{}", hex::encode(b)))
}

/// A new message id: `prefix`, the milliseconds of `at` (RFC 3339; now if it does not read)
/// in 12 hex digits, then 16 random ones. Ids sort as messages were made, so that an
/// endpoint's delivery log is read a page at a time from the store in that order.
pub fn message_id(prefix: &str, at: &str) -> Result<String, ApiError> {
    let millis = chrono::DateTime::parse_from_rfc3339(at)
        .map_or_else(
            |_| chrono::Utc::now().timestamp_millis(),
            |t| t.timestamp_millis(),
        )
        .max(0);
    random_id(&format!("{prefix}{millis:012x}"), 8)
}

/// A new signing secret.
pub fn new_secret() -> Result<String, ApiError> {
    let mut b = [0u8; 24];
    getrandom::fill(&mut b).map_err(|e| ApiError::Internal(format!("no randomness: {e}")))?;
    Ok(format!("whsec_{}", STANDARD.encode(b)))
}

/// `webhook-signature` for a message: `v1,` and the base64 HMAC-SHA256, keyed by the
/// secret's bytes, of `id.timestamp.body`.
pub fn signature(secret: &str, id: &str, timestamp: i64, body: &str) -> Option<String> {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap_or(secret))
        .ok()?;
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(&key).ok()?;
    mac.update(format!("{id}.{timestamp}.{body}").as_bytes());
    Some(format!(
        "v1,{}",
        STANDARD.encode(mac.finalize().into_bytes())
    ))
}

/// The key of an endpoint.
pub fn endpoint_key(award: &str, id: &str) -> Vec<u8> {
    key(&[award.as_bytes(), id.as_bytes()])
}

/// Queues `event` for every endpoint of `award` that wants it, in the same commit as the
/// change that caused it. `data` must hold no personal data: ids, statuses, numbers.
pub fn emit(
    tx: &mut Tx<'_>,
    award: &str,
    event: &str,
    at: &str,
    data: Value,
) -> Result<(), ApiError> {
    let endpoints = tx
        .scan_once(Tree::Webhooks, &prefix(&[award.as_bytes()]))?
        .into_iter()
        .map(|(_, v)| {
            serde_json::from_slice::<Endpoint>(&v)
                .map_err(|e| StoreError::Corrupt(Tree::Webhooks.name(), e.to_string()))
        })
        .collect::<Result<Vec<Endpoint>, _>>()?;
    for e in endpoints
        .into_iter()
        .filter(|e| e.enabled && e.events.iter().any(|x| x == event))
    {
        let id = message_id("msg_", at)?;
        let body = json!({ "type": event, "timestamp": at, "data": data }).to_string();
        let message = Message {
            body,
            ..Message::pending(id.clone(), award, e.id, event, at)
        };
        tx.put(Tree::Outbox, id.into_bytes(), &message);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example of the Standard Webhooks specification's reference libraries.
    #[test]
    fn signatures_match_the_specification_example() {
        let sig = signature(
            "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
            "msg_p5jXN8AQM9LWM0D4loKWxJek",
            1614265330,
            r#"{"test": 2432232314}"#,
        );
        assert_eq!(
            sig.as_deref(),
            Some("v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=")
        );
    }
}
