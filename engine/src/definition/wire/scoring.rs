use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::ids::{CriterionId, FieldId, PluginId, ScaleId};

/// How judges' marks combine into indicator, criterion and total scores, and into a ranking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScoringSpec {
    /// The scale of indicators that name none.
    pub scale: ScaleId,
    /// What a missing mark does.
    #[serde(default)]
    pub missing_marks: MissingMarks,
    /// How a criterion's indicators combine.
    #[serde(default)]
    pub criterion: TotalMethod,
    /// How a category's criteria combine into a judge's total.
    #[serde(default)]
    pub total: TotalMethod,
    /// How each judge's totals are normalised before the panel's are combined.
    #[serde(default)]
    pub normalisation: NormalisationSpec,
    /// How the panel's totals combine into an application's score.
    pub aggregation: AggregationSpec,
    /// Rounding at each step; no rounding where a step is absent.
    #[serde(default)]
    pub rounding: RoundingSteps,
    /// How tied applications are separated, in order; those still tied share a rank.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tie_break: Vec<TieBreakSpec>,
    /// A plugin whose `score` hook adjusts or replaces each application's score.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score_plugin: Option<PluginId>,
}

/// What a missing mark does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MissingMarks {
    /// Scoring fails and names every missing mark.
    #[default]
    Error,
    /// The indicator is skipped and the remaining weights are renormalised.
    Renormalise,
}

/// How weighted parts combine.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TotalMethod {
    /// Σ wᵢxᵢ / Σ wᵢ: the result stays on the marking scale.
    #[default]
    WeightedMean,
    /// Σ wᵢxᵢ.
    WeightedSum,
}

/// Per-judge normalisation, computed over that judge's own applications in the category.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
pub enum NormalisationSpec {
    /// Totals are used as marked.
    #[default]
    None,
    /// (x − judge mean) / judge standard deviation, rescaled to the scale's midpoint and range.
    ZScore,
    /// x / judge mean × overall mean.
    RatioToMean,
    /// (x − judge min) / (judge max − judge min), rescaled to the scale.
    MinMax,
}

/// How a panel's values combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
pub enum AggregationSpec {
    /// The arithmetic mean.
    Mean,
    /// The median (mean of the two middle values for an even count).
    Median,
    /// The mean after dropping the `trim` highest and `trim` lowest values.
    TrimmedMean {
        /// How many values to drop at each end.
        trim: u32,
    },
    /// The sum.
    Sum,
    /// The sum of the `count` middle values.
    MiddleSum {
        /// How many middle values to add.
        #[schemars(range(min = 1))]
        count: u32,
    },
    /// The best value (several attempts).
    Best,
}

/// Rounding at each step of the pipeline.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RoundingSteps {
    /// Each mark, after any per-mark transform.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mark: Option<RoundingSpec>,
    /// Each criterion score of a judge.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub criterion: Option<RoundingSpec>,
    /// Each judge's total.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub judge_total: Option<RoundingSpec>,
    /// Each normalised total.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normalised: Option<RoundingSpec>,
    /// The panel's aggregate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub panel: Option<RoundingSpec>,
    /// The final score, after any plugin.
    #[serde(rename = "final", default, skip_serializing_if = "Option::is_none")]
    pub final_score: Option<RoundingSpec>,
}

/// Decimal places and a rounding mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RoundingSpec {
    /// Decimal places kept.
    #[schemars(range(max = 12))]
    pub places: u32,
    /// How the dropped digits round.
    #[serde(default)]
    pub mode: RoundingMode,
}

/// A rounding mode.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoundingMode {
    /// Half away from zero (commercial rounding).
    #[default]
    HalfUp,
    /// Half to the even neighbour (banker's rounding).
    HalfEven,
    /// Towards zero (truncation).
    Down,
}

/// The order a tie-break sorts in.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SortOrder {
    /// Higher first.
    #[default]
    Desc,
    /// Lower first.
    Asc,
}

/// One step of the tie-break chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "by", rename_all = "snake_case", deny_unknown_fields)]
pub enum TieBreakSpec {
    /// The higher panel score on a criterion wins.
    Criterion {
        /// A criterion present in every category.
        criterion: CriterionId,
    },
    /// A form field's value decides.
    Field {
        /// A number, integer or date field.
        field: FieldId,
        /// Which value wins.
        #[serde(default)]
        order: SortOrder,
    },
    /// A plugin's `tie_break` hook orders the tied applications.
    Plugin {
        /// A plugin declared with the `tie_break` hook.
        plugin: PluginId,
    },
}
