//! Answers about results: a computation, a publication, and what an applicant learns.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use crate::server::records::{ApplicationStatus, Publication};
use crate::store::Head;

/// Final results computed and stored (the whole record: `GET …/results`).
#[derive(Serialize, JsonSchema)]
pub struct ResultsComputed {
    pub award: String,
    pub version: u32,
    /// Their number: one per computation.
    pub seq: u64,
    pub computed_at: String,
    pub definition_sha256: String,
    pub results_sha256: String,
    /// The audit chain's head when they were computed.
    pub audit_head: Option<Head>,
    /// Each round: its entrants, how many went on, its results' hash.
    #[schemars(with = "Vec<laurel::RoundSummary>")]
    pub rounds: Value,
    /// Each category's winners and special mentions.
    #[schemars(with = "Vec<laurel::CategoryOutcome>")]
    pub categories: Value,
    /// Things worth knowing that did not stop scoring.
    #[schemars(with = "Vec<String>")]
    pub warnings: Value,
}

/// Results published, with their certificate.
#[derive(Serialize, JsonSchema)]
pub struct Published {
    pub award: String,
    pub published: Publication,
    pub certificate: CertificateIssued,
}

/// The certificate a publication issued.
#[derive(Serialize, JsonSchema)]
pub struct CertificateIssued {
    pub number: u64,
    /// Whether the server's recomputation of the public bundle gave the published results.
    pub recomputes: bool,
    /// Where the verification file is.
    pub file: String,
}

/// What an applicant learns of their application: before publication its status, after it
/// its path through the rounds and its outcome.
#[derive(Serialize, JsonSchema)]
#[serde(untagged)]
pub enum ApplicantOutcome {
    /// The results are published.
    Published(Box<OutcomePublished>),
    /// Not yet.
    Pending(OutcomePending),
}

/// Before publication.
#[derive(Serialize, JsonSchema)]
pub struct OutcomePending {
    pub application: String,
    pub status: ApplicationStatus,
    /// `false`.
    pub published: bool,
    /// The rules' decision.
    pub eligibility: Option<laurel::Status>,
}

/// After publication.
#[derive(Serialize, JsonSchema)]
pub struct OutcomePublished {
    pub application: String,
    /// `true`.
    pub published: bool,
    pub published_at: String,
    pub eligibility: laurel::Status,
    /// An administrator's review, when the application needed one.
    pub review: Option<ReviewShown>,
    /// Each round it took part in.
    pub rounds: Vec<OutcomeRound>,
    pub outcome: laurel::Outcome,
    pub special_mention: bool,
    /// The judges' comments by round, when the award shares them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comments: Option<BTreeMap<String, Vec<String>>>,
    /// The judges' comments by round and criterion, when the award shares them.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub criterion_comments: Option<BTreeMap<String, BTreeMap<String, Vec<String>>>>,
}

/// A review as its applicant reads it.
#[derive(Serialize, JsonSchema)]
pub struct ReviewShown {
    pub admitted: bool,
    pub reason: String,
}

/// One round of an application's path.
#[derive(Serialize, JsonSchema)]
pub struct OutcomeRound {
    pub round: String,
    /// Whether it went on (won, for the last round); `null` while undecided.
    pub advanced: Option<bool>,
    /// Its score, when the award shares scores (`null` when it had none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<Option<Decimal>>,
    /// Its rank, when the award shares scores.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rank: Option<Option<u32>>,
}
