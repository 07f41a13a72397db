use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{AggregationSpec, NormalisationSpec};
use crate::ids::{CriterionId, FieldId};
use crate::text::Text;

/// A judging round: who judges, on which criteria, what they may see, and who goes on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RoundSpec {
    /// The round's identifier, unique within the award.
    #[schemars(regex(pattern = crate::ids::ID_PATTERN))]
    pub id: String,
    /// Its name.
    pub name: Text,
    /// How many judges mark each application, drawn from the registered judges when the
    /// round opens; absent for a round without a draw.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub judges_per_application: Option<u32>,
    /// Whether judges mark in this round: by default, when `judges_per_application` is given.
    /// A marked round without a draw has its judges assigned by an administrator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub marked: Option<bool>,
    /// The criteria marked in this round; all when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub criteria: Vec<CriterionId>,
    /// This round's panel aggregation, instead of the award's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregation: Option<AggregationSpec>,
    /// This round's normalisation of judges' totals, instead of the award's (a final round
    /// where each judge sees a few finalists per category should not normalise).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normalisation: Option<NormalisationSpec>,
    /// When judges' marks are due (a reminder is sent before; with an offset, or read in the
    /// award's time zone).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub closes: Option<String>,
    /// Judges see applications without the fields hidden from judges (and never personal data).
    #[serde(default)]
    pub blind: bool,
    /// When a judge may see the other judges' marks.
    #[serde(default)]
    pub see_other_marks: SeeOtherMarks,
    /// Prefer judges whose expertise tags meet the values of this field (a list or choice).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expertise_field: Option<FieldId>,
    /// Who goes on to the next round.
    pub advance: AdvanceSpec,
}

/// When a judge may see the other judges' marks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SeeOtherMarks {
    /// Not until the round closes.
    #[default]
    AfterClose,
    /// Once the judge has marked the application.
    AfterMarking,
    /// Always.
    Always,
}

/// Who goes on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "rule", rename_all = "snake_case", deny_unknown_fields)]
pub enum AdvanceSpec {
    /// Every eligible (or admitted) application (a screening round).
    Eligible,
    /// The best `n` of each category.
    TopN {
        /// How many per category.
        #[schemars(range(min = 1))]
        n: u32,
    },
    /// The best fraction of each category (rounded up).
    TopFraction {
        /// Between 0 and 1.
        fraction: Decimal,
    },
    /// Every application scoring at least `score`.
    Threshold {
        /// The lowest score that goes on.
        score: Decimal,
    },
    /// An administrator decides, with a reason recorded for each application.
    Decision,
    /// Each category's declared number of winners, best first (and any tied with the last).
    Winners,
    /// Quotas by group: the best of each value of a field, per category ("2 American and 2
    /// international"): `{"rule": "top_per_group", "field": "region", "take": {"americas": 2,
    /// "international": 2}}`. Values without a quota do not go on.
    TopPerGroup {
        /// A single-choice (or short text) field whose value names the group.
        field: crate::ids::FieldId,
        /// How many of each group's best go on, per category (and any tied with the last).
        take: GroupQuotas,
    },
    /// Knock-out pairs (or groups), as in ski jumping's KO round: the better of each pair goes
    /// on, then the best `lucky_losers` of the others: `{"rule": "knockout", "field": "pair",
    /// "lucky_losers": 5}`. Applications without a pair compete as losers.
    Knockout {
        /// The field whose value names an application's pair (or group).
        field: crate::ids::FieldId,
        /// How many of the best losers go on too, per category (and any tied with the last).
        #[serde(default)]
        lucky_losers: u32,
    },
}

/// How many of each group's best go on: the group's value, and how many.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct GroupQuotas(pub std::collections::BTreeMap<String, u32>);

impl AdvanceSpec {
    /// The rule's name, as a rubric writes it.
    pub fn rule(&self) -> &'static str {
        match self {
            AdvanceSpec::Eligible => "eligible",
            AdvanceSpec::TopN { .. } => "top_n",
            AdvanceSpec::TopFraction { .. } => "top_fraction",
            AdvanceSpec::Threshold { .. } => "threshold",
            AdvanceSpec::Decision => "decision",
            AdvanceSpec::Winners => "winners",
            AdvanceSpec::TopPerGroup { .. } => "top_per_group",
            AdvanceSpec::Knockout { .. } => "knockout",
        }
    }
}

impl GroupQuotas {
    /// The quota of a group (0 when it has none).
    pub fn of(&self, group: &str) -> u32 {
        self.0.get(group).copied().unwrap_or(0)
    }

    /// The groups named.
    pub fn groups(&self) -> impl Iterator<Item = &str> {
        self.0.keys().map(String::as_str)
    }
}

impl RoundSpec {
    /// Whether judges mark in this round.
    pub fn is_marked(&self) -> bool {
        self.marked.unwrap_or(self.judges_per_application.is_some())
    }

    /// The round an award that declares none judges in: marked, judges assigned by an
    /// administrator, each category's winners going on.
    pub fn implicit() -> RoundSpec {
        RoundSpec {
            id: "judging".to_owned(),
            name: Text::Plain("Judging".to_owned()),
            judges_per_application: None,
            marked: Some(true),
            criteria: Vec::new(),
            aggregation: None,
            normalisation: None,
            closes: None,
            blind: false,
            see_other_marks: SeeOtherMarks::AfterClose,
            expertise_field: None,
            advance: AdvanceSpec::Winners,
        }
    }
}

/// Conflicts of interest the rubric derives from data, besides those judges declare: which
/// application fields hold the applicant's organisation, city and country.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConflictRules {
    /// A judge of the organisation named by this field is conflicted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub same_organisation: Option<FieldId>,
    /// A judge from the city named by this field is conflicted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub same_city: Option<FieldId>,
    /// A judge from the country named by this field is conflicted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub same_country: Option<FieldId>,
}
