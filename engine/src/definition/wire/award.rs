use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{
    ConflictRules, CriterionSpec, FieldSpec, FormSpec, PluginSpec, RoundSpec, RuleSpec, ScaleSpec,
    ScoringSpec,
};
use crate::ids::{ApplicantTypeId, AwardId, CategoryId, FieldId};
use crate::text::Text;

/// The newest version of the definition format, which `laurel init` writes. Every version in
/// [`FORMAT_VERSIONS`](crate::FORMAT_VERSIONS) is read, each with the defaults it was written
/// under.
pub const FORMAT_VERSION: &str = "1.1";

/// An award definition: one edition of a prize, with its applicant types, form, categories,
/// eligibility rules, criteria, scoring settings and plugins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "Laurel award definition")]
pub struct AwardDefinition {
    /// The JSON Schema this file follows, for editors; ignored by Laurel.
    #[serde(rename = "$schema", default, skip_serializing_if = "Option::is_none")]
    pub schema: Option<String>,
    /// The version of the definition format (`1.1`, the newest, or `1.0`): it pins the
    /// defaults of settings the rubric leaves out, so results never change under a rubric.
    pub format_version: String,
    /// The award's identifier: a lower-case slug, stable across editions' files.
    pub id: AwardId,
    /// The award's name.
    pub name: Text,
    /// The edition, such as `2023`.
    pub edition: String,
    /// What the award is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Text>,
    /// The languages texts are given in.
    pub languages: LanguagesSpec,
    /// When applications open and close and when results are announced.
    pub timeline: TimelineSpec,
    /// Who may apply, and what each kind of applicant must provide.
    pub applicant_types: Vec<ApplicantTypeSpec>,
    /// The application form.
    pub form: FormSpec,
    /// Marking scales that indicators refer to by id.
    pub scales: Vec<ScaleSpec>,
    /// Eligibility rules that apply to every category.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub eligibility: Vec<RuleSpec>,
    /// The award's categories.
    pub categories: Vec<CategorySpec>,
    /// Rules across applications: at most so many per city, applicant or any field's value,
    /// in at most so many categories; checked when an application is submitted, and reported
    /// in results.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub limits: Vec<LimitSpec>,
    /// Special mentions given beside the categories' winners.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub special_mentions: Option<SpecialMentionsSpec>,
    /// How marks combine into results.
    pub scoring: ScoringSpec,
    /// Judging rounds, in order; one round with every judge when absent.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rounds: Vec<RoundSpec>,
    /// Conflicts of interest derived from the applications' data.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conflicts: Option<ConflictRules>,
    /// What applicants see of their own judging once results are published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub feedback: Option<FeedbackSpec>,
    /// Plugins that eligibility rules and scoring call.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub plugins: Vec<PluginSpec>,
}

/// What an applicant sees of their own application's judging once results are published
/// (their status through the rounds and their outcome always).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackSpec {
    /// Their score and rank in each round.
    #[serde(default)]
    pub scores: bool,
    /// The judges' comments, without the judges' names.
    #[serde(default)]
    pub comments: bool,
}

/// The languages of an award's texts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LanguagesSpec {
    /// The language of plain-string texts, which every translated text must also include.
    #[schemars(regex(pattern = crate::text::LANGUAGE_PATTERN))]
    pub default: String,
    /// Every language texts may be given in, the default included.
    pub available: Vec<String>,
}

/// The award's timeline. An instant is written with its offset (`2023-05-31T18:00:00+09:00`)
/// or without one, read in `time_zone` (`2023-05-31T18:00`, `2023-05-31 18:00:00`); `time_zone`
/// is also the zone dates are shown in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TimelineSpec {
    /// The IANA time zone of the award, such as `Asia/Seoul`.
    pub time_zone: String,
    /// When applications open: `2023-05-01T09:00` (in `time_zone`) or with an offset.
    pub opens: String,
    /// When applications close.
    pub closes: String,
    /// When results are announced.
    pub results: String,
}

/// A kind of applicant and what it must provide.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplicantTypeSpec {
    /// The type's identifier, such as `city`.
    pub id: ApplicantTypeId,
    /// Its name.
    pub name: Text,
    /// Who counts as this type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Text>,
    /// Form fields this type of applicant must fill in, beyond those required of everyone.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<FieldId>,
}

/// A category of the award.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CategorySpec {
    /// The category's identifier.
    pub id: CategoryId,
    /// Its name.
    pub name: Text,
    /// What it rewards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Text>,
    /// The applicant types that may enter it.
    pub applicant_types: Vec<ApplicantTypeId>,
    /// Eligibility rules of this category, checked after the award's own.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub eligibility: Vec<RuleSpec>,
    /// Form fields only this category asks for.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<FieldSpec>,
    /// The criteria judges mark, each with its indicators.
    pub criteria: Vec<CriterionSpec>,
    /// How many winners the category has.
    #[schemars(range(min = 1))]
    pub winners: u32,
    /// What its winners receive, by place: `[{"place": 1, "name": "Grand prize", "amount":
    /// 50000, "currency": "USD"}]`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prizes: Vec<PrizeSpec>,
}

/// A prize for a winning place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PrizeSpec {
    /// The winning place it goes to (1 for the first), at most the category's `winners`.
    #[schemars(range(min = 1))]
    pub place: u32,
    /// Its name.
    pub name: Text,
    /// The prize money, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<rust_decimal::Decimal>,
    /// The money's currency (ISO 4217, such as `USD` or `KRW`); required with `amount`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
}

/// A rule across applications: how many one city (or applicant, or any field's value) may send,
/// and into how many categories.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitSpec {
    /// The limit's identifier.
    pub id: crate::ids::RuleId,
    /// The field whose value groups applications (`city`, `contact.email`).
    pub field: crate::ids::FieldId,
    /// The most submitted applications one value may have.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub max_applications: Option<u32>,
    /// The most categories one value's applications may span (1: one category per city).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub max_categories: Option<u32>,
    /// What the applicant reads when a submission would break it.
    pub message: Text,
}

/// Special mentions: distinctions chosen by a committee beside the categories' winners.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SpecialMentionsSpec {
    /// The distinction's name.
    pub name: Text,
    /// Who chooses them and on what basis.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<Text>,
    /// The most that may be given.
    #[schemars(range(min = 1))]
    pub max: u32,
    /// The categories whose applications may receive one.
    pub from_categories: Vec<CategoryId>,
}

impl AwardDefinition {
    /// Every scale, by id, for look-ups during checks.
    pub(crate) fn scale(&self, id: &str) -> Option<&ScaleSpec> {
        self.scales.iter().find(|s| s.id.as_str() == id)
    }
}
