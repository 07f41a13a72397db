//! Answers about applications: what was stored, what a caller may see, withdrawals, reviews.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::server::records::ApplicationStatus;
use crate::server::signing::Signed;

/// An application stored (submitted or changed), with its eligibility and receipt.
#[derive(Serialize, JsonSchema)]
pub struct Stored {
    pub id: String,
    /// `submitted`.
    pub status: ApplicationStatus,
    /// The award's version it was checked against.
    pub version: u32,
    /// The rules' decision.
    pub eligibility: laurel::Decision,
    /// The signed receipt of what was stored (keep it: `laurel verify … --receipt`).
    pub receipt: Option<Signed>,
}

/// An application as the caller may see it.
#[derive(Serialize, JsonSchema)]
pub struct ApplicationView {
    pub id: String,
    pub award: String,
    pub version: u32,
    /// The entry's name, from the form's field tagged `title` (absent when the caller sees
    /// none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub status: ApplicationStatus,
    /// The application as the caller may see it: its category, applicant type and answers
    /// (personal answers opened for those who may read them, `[redacted]` for others).
    pub application: Value,
    /// The rules' decision (not shown to judges).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Option<laurel::Decision>")]
    pub eligibility: Option<Value>,
    /// Where it stands, in one word: `eligible`, `admitted`, `needs_review`, `not_admitted`,
    /// `ineligible`, `unknown` or `withdrawn` (not shown to judges). `?standing=` lists those
    /// that stand so, from the store's index.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub standing: Option<String>,
    /// An administrator's review, when there was one (not shown to judges).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review: Option<Option<laurel::ReviewDecision>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub submitted_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
}

/// An application withdrawn.
#[derive(Serialize, JsonSchema)]
pub struct Withdrawn {
    pub id: String,
    /// `withdrawn`.
    pub status: ApplicationStatus,
}

/// An application's review by an administrator.
#[derive(Serialize, JsonSchema)]
pub struct Reviewed {
    pub id: String,
    pub review: Option<laurel::ReviewDecision>,
}

/// A draft as its owner reads it back.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SavedDraft {
    /// The draft as the form had it.
    #[serde(flatten)]
    pub draft: Draft,
    /// When it was saved.
    pub saved_at: String,
}

/// A draft saved.
#[derive(Debug, Serialize, JsonSchema)]
pub struct DraftSaved {
    pub award: String,
    pub saved_at: String,
}

/// An application being written.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Draft {
    /// The category chosen, if any.
    #[serde(default)]
    pub category: String,
    /// The applicant type chosen, if any.
    #[serde(default)]
    pub applicant_type: String,
    /// The fields so far.
    #[serde(default)]
    pub fields: Value,
}

/// How many of an award's applications stand where, kept by the store as they change.
#[derive(Serialize, JsonSchema)]
pub struct ApplicationCounts {
    /// Every application stored, withdrawn ones included.
    pub total: u64,
    /// Those withdrawn.
    pub withdrawn: u64,
    /// By standing: `eligible`, `admitted` (a review admitted it), `needs_review`,
    /// `not_admitted` (a review did not admit it), `ineligible`, `unknown`, `withdrawn`; a
    /// standing with none is left out.
    pub standing: std::collections::BTreeMap<String, u64>,
}
