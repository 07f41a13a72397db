//! Applications as submitted, and judges' evaluations: the wire forms of `schemas/`.

use std::collections::BTreeMap;

use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ids::{ApplicantTypeId, ApplicationId, CategoryId, IndicatorId, JudgeId};

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
}

/// A mark: a number on a numeric scale, or the id of a level of a labelled scale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Mark {
    /// A number.
    Number(Decimal),
    /// A level's id.
    Level(String),
}
