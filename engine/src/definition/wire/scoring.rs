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
    /// Where the panel's marks are combined: each judge's total (the default), or each indicator.
    #[serde(default)]
    pub aggregate_at: AggregateAt,
    /// How a criterion's indicators combine.
    #[serde(default)]
    pub criterion: TotalMethod,
    /// How a category's criteria combine into a judge's total.
    #[serde(default)]
    pub total: TotalMethod,
    /// How each judge's totals are normalised before the panel's are combined.
    #[serde(default)]
    pub normalisation: NormalisationSpec,
    /// How the panel's totals combine into an application's score (the mean by default).
    #[serde(default)]
    pub aggregation: AggregationSpec,
    /// Rounding at each step; no rounding where a step is absent.
    #[serde(default)]
    pub rounding: RoundingSteps,
    /// Rank-based judging: judges rank applications instead of marking indicators.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ranking: Option<RankingSpec>,
    /// Values of the application added to the final score (such as deductions, written negative).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub adjustments: Vec<AdjustmentSpec>,
    /// How tied applications are separated, in order; those still tied share a rank.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tie_break: Vec<TieBreakSpec>,
    /// A plugin whose `score` hook adjusts or replaces each application's score.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub score_plugin: Option<PluginId>,
    /// What a plugin failure does to a batch: the application is left unscored with the error
    /// (the default), or the whole batch fails.
    #[serde(default)]
    pub on_plugin_error: PluginErrorPolicy,
    /// Named panels of judges (`{"execution": ["E1", "E2"], "synchronisation": ["S1", "S2",
    /// "S3"]}`): an indicator or criterion with a `panel` is marked by its judges only.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub panels: std::collections::BTreeMap<String, Vec<crate::ids::JudgeId>>,
    /// Named numbers that formulas read (`{"k_point": 120, "metre_value": 1.8}`).
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub constants: std::collections::BTreeMap<String, rust_decimal::Decimal>,
    /// Settings of the jury's diagnostics (`laurel diagnose`, a round's diagnostics): each
    /// optional, sensible by default.
    #[serde(default, skip_serializing_if = "DiagnosticsSpec::is_default")]
    pub diagnostics: DiagnosticsSpec,
}

/// Settings of the jury's diagnostics. Shares are decimals from 0 to 1.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DiagnosticsSpec {
    /// The seed of the intervals and the simulation: the same seed, the same numbers (2023).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(max = 9_007_199_254_740_991_u64))]
    pub seed: Option<u64>,
    /// Draws per confidence interval (1,000; 0 for none; at most 100,000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(max = 100_000))]
    pub bootstrap: Option<u32>,
    /// Draws of the ranking's simulation (1,000; 0 to skip it; at most 100,000).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(max = 100_000))]
    pub draws: Option<u32>,
    /// In the method part, each criterion's weight is drawn within ± this share of it (0.2;
    /// 0 for none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight_range: Option<rust_decimal::Decimal>,
    /// In the method part, draw the normalisation among none, z-score, min-max and ratio to
    /// mean: set it when the rubric's authors accept them all (false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normalisations: Option<bool>,
    /// In the method part, draw the panel's aggregation among the award's, mean, median and
    /// trimmed mean (false).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aggregations: Option<bool>,
    /// Name each judge's effect in the one-at-a-time view by leaving them out; the sampling
    /// part leaves one judge out when judges are not resampled (true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leave_one_judge_out: Option<bool>,
    /// The sampling part: other juries drawn from the same judges, with replacement (true).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resample_judges: Option<bool>,
    /// The k of "reaching the top k" (twice the winners).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub top_k: Option<u32>,
    /// A judge whose effect in the additive model of the marks reaches this share of the scale's
    /// range, with a 95% interval that excludes zero, is flagged (0.1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<rust_decimal::Decimal>,
    /// A judge whose marks correlate with their co-judges' mean below this is flagged (0.3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consistency: Option<rust_decimal::Decimal>,
    /// A mark whose residual (after its application's level and its judge's severity) is this
    /// share of its scale's range, and unlikely by chance, is outlying (0.3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outlier: Option<rust_decimal::Decimal>,
    /// The false discovery rate outlying marks are held to (Benjamini–Hochberg; 0.05).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outlier_fdr: Option<rust_decimal::Decimal>,
    /// Agreement (alpha) below this is a warning (0.667).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub poor_alpha: Option<rust_decimal::Decimal>,
}

impl DiagnosticsSpec {
    fn is_default(&self) -> bool {
        self == &Self::default()
    }
}

/// What a plugin failure does to a batch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PluginErrorPolicy {
    /// The application carries the error and is not ranked; the others are.
    #[default]
    Unscored,
    /// Nothing is scored.
    Fail,
}

/// Where the panel's marks are combined.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AggregateAt {
    /// Each judge's marks make a total; the panel's totals are normalised and combined.
    #[default]
    Total,
    /// The panel's marks of each indicator are combined first (as in figure skating's GOE);
    /// criteria and the total are computed from the panel's indicator values.
    Indicator,
}

/// Rank-based judging: each judge ranks the applications of a category, in one or several
/// rankings (sources), which become points.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RankingSpec {
    /// Names of the rankings each judge gives (such as `jury` and `televote`); one unnamed
    /// ranking when empty.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
    /// How a judge's several rankings combine into one; required with two sources or more.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub combine: Option<CombineSpec>,
    /// How a place in a judge's ranking becomes points.
    pub points: PointsSpec,
}

/// How a judge's rankings combine: ranks are added, lower is better.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CombineSpec {
    /// Added ranks, lower first.
    pub method: CombineMethod,
    /// On equal sums, the better rank in this source wins.
    pub tie_break: String,
}

/// How rankings combine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CombineMethod {
    /// The sum of the ranks.
    RankSum,
}

/// How a place becomes points.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
pub enum PointsSpec {
    /// Points by place: the first entry for first place; places beyond the table get 0.
    Table {
        /// Points for places 1, 2, 3, ...
        table: Vec<u32>,
    },
    /// n − place, for n ranked applications (the last gets 0).
    Borda,
}

/// A value of the application added to the final score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AdjustmentSpec {
    /// A number field (a missing value adds 0).
    pub field: FieldId,
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
    /// The indicator is skipped and counts nothing: a weighted sum is not scaled up (items that
    /// did not happen, such as an element a skater did not perform).
    Skip,
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
    /// The highest value among the parts with a weight (the best of several runs); weights
    /// only say which parts count.
    Best,
    /// The lowest value among the parts with a weight.
    Worst,
}

/// Per-judge normalisation, computed over that judge's own applications in the category.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NormalisationSpec {
    /// How a judge's totals are normalised.
    pub method: NormalisationMethod,
    /// The fewest applications a judge must have marked in a category for their totals to be
    /// normalised: statistics of fewer marks say little about the judge. When absent, the format
    /// version's default: 5 (format version `1.0`: 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub min_marks: Option<u32>,
    /// What happens to a judge with fewer marks: `raw` uses their totals as marked, with a
    /// warning (the default); `refuse` leaves the applications they marked unscored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub when_fewer: Option<WhenFewer>,
}

impl NormalisationSpec {
    /// No normalisation.
    pub const NONE: NormalisationSpec = NormalisationSpec {
        method: NormalisationMethod::None,
        min_marks: None,
        when_fewer: None,
    };

    /// Whether judges' totals are normalised.
    pub fn is_on(&self) -> bool {
        self.method != NormalisationMethod::None
    }

    /// The fewest marks per judge and category that are normalised (a checked award always
    /// gives it; otherwise the newest format version's default).
    pub fn min_marks(&self) -> u32 {
        self.min_marks
            .unwrap_or(crate::definition::defaults::Defaults::NEWEST.normalisation_min_marks)
    }
}

/// How a judge's totals are normalised.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum NormalisationMethod {
    /// Totals are used as marked.
    #[default]
    None,
    /// (x − judge mean) / judge standard deviation (population: the judge's marks are all of
    /// theirs, not a sample), placed at the scale's midpoint ± range / 6.
    ZScore,
    /// x / judge mean × the scale's midpoint.
    RatioToMean,
    /// (x − judge min) / (judge max − judge min), rescaled to the scale.
    MinMax,
}

/// What happens to a judge who marked too few applications to be normalised.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WhenFewer {
    /// Their totals are used as marked, and the results say so.
    #[default]
    Raw,
    /// The applications they marked are not scored, and the results say why.
    Refuse,
}

/// How a panel's values combine.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "method", rename_all = "snake_case", deny_unknown_fields)]
pub enum AggregationSpec {
    /// The arithmetic mean (the default).
    #[default]
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
    /// Each indicator value, after any base value is added.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub indicator: Option<RoundingSpec>,
    /// Each weight × value product of a weighted sum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weighted: Option<RoundingSpec>,
    /// Each criterion score.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub criterion: Option<RoundingSpec>,
    /// Each total (a judge's, or with `aggregate_at: indicator` the panel's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<RoundingSpec>,
    /// Each normalised total.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normalised: Option<RoundingSpec>,
    /// The panel's aggregate (of totals, or with `aggregate_at: indicator` of each indicator).
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
