//! Answers about the server itself: health, readiness, versions, API keys, webhook endpoints,
//! and a judge's work.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Serialize;

use crate::server::records::{KeyOwner, Role, RoundStatus};
use crate::store::StoreStatus;

/// The server answers.
#[derive(Serialize, JsonSchema)]
pub struct Health {
    /// `ok`.
    pub status: &'static str,
}

/// The server and its store answer.
#[derive(Serialize, JsonSchema)]
pub struct Readiness {
    /// `ready`.
    pub status: &'static str,
    /// What the store is, and for a database its latency and schema version.
    pub store: StoreStatus,
}

/// The versions of what this server speaks.
#[derive(Serialize, JsonSchema)]
pub struct Versions {
    /// Laurel's version.
    pub laurel: &'static str,
    /// The API's version (`v1`).
    pub api: &'static str,
    /// The award definition format this server reads.
    pub definition_format: &'static str,
    /// The wasm plugin ABI's version.
    pub wasm_abi: i32,
}

/// A key just made, with its secret (shown this once).
#[derive(Serialize, JsonSchema)]
pub struct KeyMade {
    /// Its id (not secret).
    pub id: String,
    /// The secret: shown once, only its hash is stored.
    pub key: String,
    pub role: Role,
    /// For a judge key, the judge's id.
    pub subject: Option<String>,
    /// For a judge key, the award it judges in.
    pub award: Option<String>,
    /// Who answers for it.
    pub owner: KeyOwner,
    /// A reminder that the secret is not shown again.
    pub note: &'static str,
}

/// A key revoked.
#[derive(Serialize, JsonSchema)]
pub struct KeyRevoked {
    pub id: String,
    /// Always `true`.
    pub revoked: bool,
}

/// A webhook endpoint as shown: never its secret, which is shown once, when it is registered.
#[derive(Serialize, JsonSchema)]
pub struct WebhookEndpoint {
    pub id: String,
    pub award: String,
    pub url: String,
    pub events: Vec<String>,
    pub description: String,
    pub enabled: bool,
    pub created_at: String,
    /// Only when the endpoint is registered: the signing secret, shown once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// A judge's work across every award and round.
#[derive(Serialize, JsonSchema)]
pub struct MyWork {
    /// The judge, as the caller's key names them.
    pub judge: String,
    /// Each round the judge has applications in.
    pub rounds: Vec<WorkRound>,
}

/// One round's work for a judge.
#[derive(Serialize, JsonSchema)]
pub struct WorkRound {
    pub award: String,
    pub round: String,
    pub status: RoundStatus,
    /// When the round closes, when the award says.
    pub closes: Option<String>,
    /// Each assigned entry's name as a judge may see it (an entry without one is left out).
    pub titles: BTreeMap<String, String>,
    /// The applications assigned to the judge.
    pub assigned: Vec<String>,
    /// Those the judge has marked.
    pub marked: Vec<String>,
    /// Those still to mark while the round is open (none once it is closed).
    pub due: Vec<String>,
}
