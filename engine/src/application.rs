//! Applications as submitted, and judges' evaluations: the wire forms of `schemas/`.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ids::{ApplicantTypeId, ApplicationId, CategoryId, CriterionId, IndicatorId, JudgeId};

/// An application to one category of an award. `fields` holds the form's answers; the exact
/// shape of `fields` depends on the award's form (`laurel schema --award` prints it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Laurel application")]
pub struct Application {
    /// The JSON Schema this file follows, for editors; ignored by Laurel.
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// The application's identifier, unique within the award.
    pub id: ApplicationId,
    /// The category applied to.
    pub category: CategoryId,
    /// The kind of applicant.
    pub applicant_type: ApplicantTypeId,
    /// The form's answers, by field id; groups are nested objects, lists are arrays.
    pub fields: serde_json::Map<String, serde_json::Value>,
}

/// One judge's marks for one application.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Laurel judge evaluation")]
pub struct Evaluation {
    /// The JSON Schema this file follows, for editors; ignored by Laurel.
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// The judge.
    pub judge: JudgeId,
    /// The application marked.
    pub application: ApplicationId,
    /// Marks by indicator id: a number on the indicator's scale, or a level's id.
    pub marks: BTreeMap<IndicatorId, Mark>,
    /// The judge's comment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// The judge's comment on each criterion, by criterion id.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub criterion_comments: BTreeMap<CriterionId, String>,
    /// The criteria the judge abstains on (each one the award lets judges abstain on): they
    /// give none of its marks, and their total is over the criteria they marked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub abstained: Vec<CriterionId>,
}

// Read (`Deserialize`, in `mark_reading.rs`) as an untagged enum reads it: a number, or a text
// that is a decimal, is a number; any other text a level's id.
/// A mark: a number on a numeric scale, or the id of a level of a labelled scale.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum Mark {
    /// A number.
    Number(Decimal),
    /// A level's id.
    Level(String),
}

/// A judge's ranking of a category's applications, best first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RankingSubmission {
    /// The judge (or voter).
    pub judge: JudgeId,
    /// The category ranked.
    pub category: CategoryId,
    /// Which of the award's ranking sources this is; omitted when the award names none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// Application ids, best first.
    pub order: Vec<ApplicationId>,
}

/// An administrator's decision on an application that needs review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewDecision {
    /// The application.
    pub application: ApplicationId,
    /// Whether it is admitted.
    pub eligible: bool,
    /// Why, for the record.
    pub reason: String,
}

/// A special mention given by the committee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MentionDecision {
    /// The application.
    pub application: ApplicationId,
    /// Why, as announced.
    pub reason: String,
}

/// Everything judges and administrators decided about an award's applications: the input of
/// scoring besides the applications themselves.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Laurel marks")]
pub struct Marks {
    /// The JSON Schema this file follows, for editors; ignored by Laurel.
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// Judges' marks, one evaluation per judge and application.
    #[serde(default)]
    pub evaluations: Vec<Evaluation>,
    /// Judges' rankings, for rank-based judging.
    #[serde(default)]
    pub rankings: Vec<RankingSubmission>,
    /// Decisions on applications that need review.
    #[serde(default)]
    pub review_decisions: Vec<ReviewDecision>,
    /// Special mentions.
    #[serde(default)]
    pub special_mentions: Vec<MentionDecision>,
}

/// A reference to an uploaded file, as a file field's value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FileRef {
    /// The file's name.
    pub name: String,
    /// Its media type.
    pub media_type: String,
    /// Its SHA-256, lower-case hex.
    pub sha256: String,
    /// Its size in bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}
