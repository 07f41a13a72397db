//! Answers about rounds: marks stored, what a judge sees of an entry, a round's results.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use crate::server::records::{RoundRecord, RoundStatus};

/// A judge's marks of one application in one round, as stored.
#[derive(Debug, Clone, Serialize, serde::Deserialize, JsonSchema)]
pub struct StoredMarks {
    pub award: String,
    pub round: String,
    pub application: String,
    pub judge: String,
    /// Each indicator's mark.
    pub marks: BTreeMap<laurel::IndicatorId, laurel::Mark>,
    pub comment: Option<String>,
    pub criterion_comments: BTreeMap<laurel::CriterionId, String>,
    /// The criteria the judge abstains on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub abstained: Vec<laurel::CriterionId>,
}

/// An application as a judge sees it in a round.
#[derive(Serialize, JsonSchema)]
pub struct JudgeView {
    pub award: String,
    pub round: String,
    /// Whether the round hides the fields the award marks hidden from judges.
    pub blind: bool,
    /// The application, without personal answers (nor hidden ones in a blind round); file
    /// answers carry neutral names.
    pub application: Value,
}

/// A round's results, computed again from its stored marks.
#[derive(Serialize, JsonSchema)]
pub struct RoundResults {
    pub round: String,
    pub status: RoundStatus,
    /// The results' hash stored when the round closed.
    pub stored_results_sha256: Option<String>,
    /// The hash of the results computed now.
    pub results_sha256: String,
    /// The hash of the inputs scored.
    pub inputs_sha256: String,
    /// What the round lacked (judges short of their quota, applications short of judges).
    pub shortfalls: Vec<String>,
    /// The results, as the caller may see them.
    #[schemars(with = "laurel::Results<'static>")]
    pub results: Value,
}

/// Where a round is.
#[derive(Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoundPhase {
    /// Not opened yet.
    NotOpen,
    /// Taking marks (or decisions).
    Open,
    Closed,
}

/// One of an award's rounds, as its list shows it.
#[derive(Serialize, JsonSchema)]
pub struct RoundListed {
    pub round: String,
    pub name: laurel::Text,
    /// Whether judges mark in it.
    pub marked: bool,
    pub judges_per_application: Option<u32>,
    pub status: RoundPhase,
    /// How many applications entered it (once open).
    pub entrants: Option<usize>,
    /// How many went on (once decided).
    pub advanced: Option<usize>,
    /// What the round lacked.
    pub shortfalls: Vec<String>,
}

/// A round: the whole record for administrators and auditors, a judge's own applications
/// for a judge.
#[derive(Serialize, JsonSchema)]
#[serde(untagged)]
pub enum RoundShown {
    Whole(Box<RoundWhole>),
    ForJudge(JudgesRound),
}

/// A round as administrators and auditors see it: its record, and each judge's progress.
#[derive(Serialize, JsonSchema)]
pub struct RoundWhole {
    #[serde(flatten)]
    pub record: RoundRecord,
    /// By judge: how many entries they were given, how many they marked, and those still to
    /// mark (read from the marks' keys, not the marks).
    pub progress: BTreeMap<String, JudgeProgress>,
}

/// One judge's progress in a round.
#[derive(Serialize, JsonSchema)]
pub struct JudgeProgress {
    /// Entries given to them.
    pub assigned: usize,
    /// Entries they marked.
    pub marked: usize,
    /// The entries they still have to mark, in the order they were given.
    pub due: Vec<String>,
}

/// A round as a judge sees it.
#[derive(Serialize, JsonSchema)]
pub struct JudgesRound {
    pub award: String,
    pub round: String,
    pub status: RoundStatus,
    /// The applications assigned to the judge.
    pub applications: Vec<String>,
}

/// A round closed, with what its results warn of.
#[derive(Serialize, JsonSchema)]
pub struct RoundClosed {
    #[serde(flatten)]
    pub round: RoundRecord,
    /// Things worth knowing about its results.
    pub warnings: Vec<String>,
}

/// Judges reminded of what they have not marked.
#[derive(Serialize, JsonSchema)]
pub struct Reminded {
    pub round: String,
    /// How many judges were reminded.
    pub reminded: usize,
}

/// A judge's score sheet saved for later: the marks given so far, which do not count until
/// every mark is given and the sheet is submitted (`PUT …/marks/{application}`).
#[derive(Debug, Clone, Serialize, serde::Deserialize, JsonSchema)]
pub struct SheetKept {
    /// Whose marks of what, so far.
    #[serde(flatten)]
    pub sheet: StoredMarks,
    /// The indicators still to mark before the sheet can count.
    pub missing: Vec<laurel::IndicatorId>,
    pub saved_at: String,
}

/// A judge's total for one entry, as the rubric computes it from their marks alone (before
/// the panel combines judges).
#[derive(Serialize, JsonSchema)]
pub struct SheetTotal {
    /// The total; while marks are missing, what the marks given add up to.
    pub total: rust_decimal::Decimal,
    /// Whether every mark is given (the total is then the sheet's).
    pub complete: bool,
    /// Each criterion's score, in the rubric's order.
    pub criteria: Vec<CriterionScore>,
    /// The indicators still to mark.
    pub missing: Vec<laurel::IndicatorId>,
}

/// A criterion's score on one judge's sheet.
#[derive(Serialize, JsonSchema)]
pub struct CriterionScore {
    pub criterion: laurel::CriterionId,
    pub score: rust_decimal::Decimal,
}
