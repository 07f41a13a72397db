use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::scoring::{AggregationSpec, TotalMethod};
use crate::ids::{CriterionId, FieldId, IndicatorId, PluginId, ScaleId};
use crate::text::Text;

/// A criterion: a group of indicators with a weight in the total; or, without `indicators`, a
/// criterion judges mark directly (one level).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CriterionSpec {
    /// The criterion's identifier, unique within its category.
    pub id: CriterionId,
    /// Its name.
    pub name: Text,
    /// Guidance for judges.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guidance: Option<Text>,
    /// Its weight in the category's total; 0 reports it without counting it.
    pub weight: Decimal,
    /// Its indicators. Leave it out to have judges mark the criterion itself (marks keyed by
    /// the criterion's id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub indicators: Option<Vec<IndicatorSpec>>,
    /// Without `indicators`: the scale judges mark the criterion on (`scoring.scale` when
    /// absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale: Option<ScaleId>,
    /// How its indicators combine (`scoring.criterion` when absent): `best` of several runs,
    /// say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub combine: Option<TotalMethod>,
    /// The panel (a name in `scoring.panels`) that marks its indicators, unless an indicator
    /// names its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub panel: Option<String>,
    /// How the panel's marks of each of its indicators combine (`scoring.aggregation` when
    /// absent), unless an indicator sets its own; needs `aggregate_at: indicator`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregation: Option<AggregationSpec>,
    /// A formula that computes a one-level criterion's value instead of judges (see an
    /// indicator's `formula`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formula: Option<String>,
    /// The lowest score it counts with: a lower score counts as this (a jump's negative points
    /// count as 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floor: Option<Decimal>,
    /// The highest score it counts with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap: Option<Decimal>,
    /// A score it must reach: below it, the application is ranked but cannot win (or advance),
    /// and its results say why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pass_mark: Option<PassMarkSpec>,
    /// Whether a judge may abstain on it (a question outside their expertise): an abstaining
    /// judge gives it no mark, their total is over the criteria they marked (its weight shared
    /// among them), and the panel's score of it is from the judges who marked it. The results
    /// name every abstention. Not with `missing_marks: skip`, where a criterion left out
    /// counts nothing.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub abstain: bool,
}

/// A score a criterion must reach.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PassMarkSpec {
    /// The lowest passing score (the criterion's score as the panel gives it).
    pub min: Decimal,
    /// What an application under it cannot do: win (the default), or advance to the next
    /// round (nor win).
    #[serde(default)]
    pub excludes: PassMarkEffect,
}

/// What an application under a pass mark cannot do.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PassMarkEffect {
    /// It is ranked but is not a winner.
    #[default]
    Winning,
    /// It is ranked but neither advances from a round nor wins.
    Advancing,
}

impl CriterionSpec {
    /// Its indicators: those it lists, or, for a criterion judges mark directly, one indicator
    /// with the criterion's id, name, guidance and scale.
    pub fn indicators(&self) -> Vec<IndicatorSpec> {
        match &self.indicators {
            Some(list) => list.clone(),
            None => vec![IndicatorSpec {
                id: IndicatorId::new(self.id.as_str()),
                name: self.name.clone(),
                guidance: self.guidance.clone(),
                weight: Decimal::ONE,
                scale: self.scale.clone(),
                mark_factor: None,
                base: None,
                plugin: None,
                formula: self.formula.clone(),
                panel: None,
                aggregation: None,
                floor: None,
                cap: None,
            }],
        }
    }
}

/// An indicator: the unit judges mark.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IndicatorSpec {
    /// The indicator's identifier, unique within its category.
    pub id: IndicatorId,
    /// Its name.
    pub name: Text,
    /// Guidance for judges.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guidance: Option<Text>,
    /// Its weight within the criterion; 0 reports it without counting it.
    pub weight: Decimal,
    /// The scale it is marked on; `scoring.scale` when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale: Option<ScaleId>,
    /// Multiplies each mark before the panel's marks combine (a grade turned into points).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mark_factor: Option<Quantity>,
    /// Added to the indicator's value (a base value).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base: Option<Quantity>,
    /// A plugin whose `indicator` hook computes the value from the application's data (an
    /// objective metric); judges do not mark a computed indicator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub plugin: Option<PluginId>,
    /// A formula that computes the value instead of judges, over the application's fields
    /// (`fields.distance`), other indicators' values (`indicators.style`) and
    /// `scoring.constants`: `60 + (fields.distance - k_point) * 1.8`. Checked when the rubric
    /// is validated; evaluated exactly; rounded at the `indicator` step; shown in the trace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub formula: Option<String>,
    /// The panel (a name in `scoring.panels`) whose judges mark it; a mark from another judge
    /// is an error. Every judge who marks the application when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub panel: Option<String>,
    /// How the panel's marks of it combine (the criterion's, else `scoring.aggregation`);
    /// needs `aggregate_at: indicator`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregation: Option<AggregationSpec>,
    /// The lowest value it counts with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub floor: Option<Decimal>,
    /// The highest value it counts with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap: Option<Decimal>,
}

/// A number given in the definition, or read from a number field of each application.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Quantity {
    /// A constant.
    Number(Decimal),
    /// A number field of the application.
    Field {
        /// The field's dotted path.
        field: FieldId,
    },
}

/// A marking scale: numeric (`min`, `max`, `step`) or labelled `levels`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScaleSpec {
    /// The scale's identifier.
    pub id: ScaleId,
    /// Its name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<Text>,
    /// Numeric scales: the lowest mark.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<Decimal>,
    /// Numeric scales: the highest mark.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<Decimal>,
    /// Numeric scales: marks are `min + k × step`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<Decimal>,
    /// Numeric scales: what ranges of marks mean, for judges.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bands: Vec<ScaleBandSpec>,
    /// Labelled scales: the levels, each worth a number.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub levels: Vec<LevelSpec>,
}

/// A range of a numeric scale and what it means.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScaleBandSpec {
    /// The band's lowest mark.
    pub from: Decimal,
    /// The band's highest mark.
    pub to: Decimal,
    /// What marks in the band mean.
    pub guidance: Text,
}

/// A level of a labelled scale.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LevelSpec {
    /// The level's identifier, which marks use.
    #[schemars(regex(pattern = crate::ids::ID_PATTERN))]
    pub id: String,
    /// Its label.
    pub label: Text,
    /// What it is worth.
    pub value: Decimal,
    /// What it means, for judges.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guidance: Option<Text>,
}
