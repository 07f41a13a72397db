use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

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
