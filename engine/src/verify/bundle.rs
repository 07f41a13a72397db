//! The public verification bundle: what anyone needs to recompute an award's published results,
//! and nothing personal. Its format is documented in `docs/verification.md`.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::application::{Evaluation, MentionDecision, RankingSubmission};
use crate::definition::wire::Outcome as RuleOutcome;
use crate::eligibility::Status;
use crate::judging::FinalResults;
use crate::text::Text;

/// The format this version of Laurel writes and reads.
pub const BUNDLE_FORMAT: &str = "laurel-bundle/1";

/// Everything needed to recompute an award's published results, under pseudonyms.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Laurel verification bundle")]
pub struct Bundle {
    /// Always `laurel-bundle/1`.
    pub format: String,
    /// The award's id.
    pub award: String,
    /// The version of its definition the results were computed with.
    pub version: u32,
    /// The definition's text, byte for byte as published (its SHA-256 is the results'
    /// `definition_sha256`).
    pub definition: String,
    /// Its plugin files: path (relative to the definition) -> content, base64.
    pub plugin_files: BTreeMap<String, String>,
    /// The answers left out of every application: personal fields, fields hidden from judges,
    /// e-mail addresses and files (by field id).
    pub withheld_fields: Vec<String>,
    /// Every submitted application, under its pseudonym.
    pub applications: Vec<BundleApplication>,
    /// Every round that ran, in the definition's order.
    pub rounds: Vec<BundleRound>,
    /// The committee's special mentions.
    pub special_mentions: Vec<MentionDecision>,
    /// The results as published, under the same pseudonyms.
    pub results: FinalResults,
}

/// One application: its public answers and what its eligibility rules decided.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BundleApplication {
    /// Its pseudonym (`a-` and 16 hex digits).
    pub id: String,
    /// Its category.
    pub category: String,
    /// Its applicant type.
    pub applicant_type: String,
    /// Its answers, without the withheld fields.
    pub fields: serde_json::Map<String, serde_json::Value>,
    /// What its eligibility rules decided (the rules read answers that are withheld, so the
    /// decision is given, not recomputed).
    pub eligibility: BundleDecision,
    /// An administrator's decision when it needed review: admitted or not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admitted_on_review: Option<bool>,
    /// SHA-256 of the statement of the receipt its applicant was given at submission (hex), so
    /// that they can find it here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt_sha256: Option<String>,
}

/// An eligibility decision without the values the rules read.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BundleDecision {
    /// Eligible, ineligible or needing review.
    pub status: Status,
    /// The rules it failed.
    pub failures: Vec<BundleFailure>,
}

/// A failed rule: which, what it meant, and its message from the definition.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BundleFailure {
    /// The rule's id.
    pub rule: String,
    /// What failing it means.
    pub outcome: RuleOutcome,
    /// The rule's message.
    pub message: Text,
}

/// One round as it ran: its entrants, its draw, the marks given and who went on.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BundleRound {
    /// The round's id in the definition.
    pub round: String,
    /// The applications in it.
    pub entrants: Vec<String>,
    /// The draw: each judge's applications.
    pub assignments: BTreeMap<String, Vec<String>>,
    /// The draw's seed.
    pub seed: u64,
    /// Marks, comments left out.
    pub evaluations: Vec<Evaluation>,
    /// Rankings, for rank-based rounds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rankings: Vec<RankingSubmission>,
    /// Who went on (the winners, for the last round), with the reason an administrator or the
    /// committee gave where the round's rule did not decide alone; `None` while undecided.
    pub advanced: Option<Vec<BundleAdvance>>,
}

/// An application that went on from a round.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BundleAdvance {
    /// The application.
    pub application: String,
    /// Why, when a person decided.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}
