//! What scoring returns: ranked results per category, every number with its breakdown.

use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::Serialize;

use crate::application::{Mark, MentionDecision, ReviewDecision};
use crate::eligibility::Decision;
use crate::ids::{ApplicationId, AwardId, CategoryId, CriterionId, IndicatorId, JudgeId};

/// The results of one award.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Results<'a> {
    /// The award.
    pub award: &'a AwardId,
    /// SHA-256 of the definition's exact bytes.
    pub definition_sha256: &'a str,
    /// SHA-256 of the input documents, set by the caller that read them (the CLI hashes the
    /// applications file, then the marks file).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inputs_sha256: Option<String>,
    /// The version of laurel that computed them.
    pub laurel_version: &'static str,
    /// Every application's eligibility.
    pub eligibility: Vec<EligibilityEntry<'a>>,
    /// Each category's ranking.
    pub categories: Vec<CategoryResult<'a>>,
    /// Special mentions given.
    pub special_mentions: Vec<&'a MentionDecision>,
    /// Things worth knowing that did not stop scoring.
    pub warnings: Vec<String>,
    /// Which of `warnings` (by index) repeat what a plugin said, which may quote an
    /// application's personal values: a store seals these by this mark, never by their wording.
    #[serde(skip)]
    pub plugin_warnings: Vec<usize>,
}

/// An application's eligibility and any review decision.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct EligibilityEntry<'a> {
    /// The decision from the rules.
    #[serde(flatten)]
    pub decision: Decision,
    /// An administrator's decision, when the application needed review.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review: Option<&'a ReviewDecision>,
    /// Whether it is scored.
    pub admitted: bool,
}

/// One category's results.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CategoryResult<'a> {
    /// The category.
    pub category: &'a CategoryId,
    /// How many win.
    pub winners: u32,
    /// Scored applications, best first.
    pub ranking: Vec<Placed<'a>>,
    /// Admitted applications that could not be scored, with the reason.
    pub unscored: Vec<Unscored<'a>>,
}

/// A scored application's place.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Placed<'a> {
    /// 1-based; tied applications share a rank (1, 2, 2, 4).
    pub rank: u32,
    /// The application.
    pub application: &'a ApplicationId,
    /// Its final score.
    pub score: Decimal,
    /// Whether it wins: its rank is among the category's winners, counting only applications
    /// that reach every pass mark that excludes from winning.
    pub winner: bool,
    /// The pass marks it did not reach: it is ranked, but cannot win (or advance).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub below_pass_marks: Vec<PassMarkFailure<'a>>,
    /// Whether it shares its rank.
    pub tied: bool,
    /// The tie-break step that separated it from an application with the same score.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tie_broken_by: Option<String>,
    /// How many judges' marks or rankings it has.
    pub judges: usize,
    /// The prize its winning place carries, if the category gives one (its money withheld
    /// when a `no_prize` rule says so).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prize: Option<crate::prizes::AwardedPrize>,
    /// Its breakdown (left out of the JSON after [`Results::without_traces`]).
    #[serde(skip_serializing_if = "Trace::is_hidden")]
    pub trace: Trace<'a>,
}

/// A pass mark an application did not reach.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PassMarkFailure<'a> {
    /// The criterion.
    pub criterion: &'a CriterionId,
    /// Its score (`None` when it has none).
    pub score: Option<Decimal>,
    /// The pass mark.
    pub min: Decimal,
    /// What it cannot do: `winning`, or `advancing` (nor winning).
    pub excludes: crate::definition::wire::PassMarkEffect,
}

impl PassMarkFailure<'_> {
    /// The reason, in words.
    pub fn reason(&self) -> String {
        let what = match self.excludes {
            crate::definition::wire::PassMarkEffect::Winning => "cannot win",
            crate::definition::wire::PassMarkEffect::Advancing => "cannot advance or win",
        };
        match self.score {
            Some(s) => format!(
                "criterion `{}` scored {s}, under its pass mark {}: {what}",
                self.criterion, self.min
            ),
            None => format!(
                "criterion `{}` has no score, so it does not reach its pass mark {}: {what}",
                self.criterion, self.min
            ),
        }
    }
}

/// An admitted application that was not scored.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Unscored<'a> {
    /// The application.
    pub application: &'a ApplicationId,
    /// Why.
    pub reason: String,
    /// The plugin error, when a plugin failed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plugin_error: Option<crate::plugin::PluginError>,
}

/// Every number behind a score.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct Trace<'a> {
    /// Each judge's marks and total (marks judged per total), or ranking and points.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub judges: Vec<JudgeTrace<'a>>,
    /// The panel's value of each indicator (with `aggregate_at: indicator`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub indicators: Vec<PanelIndicator<'a>>,
    /// The panel's score on each criterion.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub criteria: Vec<PanelCriterion<'a>>,
    /// How the judges' totals combined.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aggregation: Option<AggregationTrace<'a>>,
    /// The total before adjustments (after the score plugin, if any).
    pub total: Decimal,
    /// The score plugin's part.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plugin: Option<PluginTrace>,
    /// Values added to the total.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub adjustments: Vec<AdjustmentTrace<'a>>,
    /// The final score before its rounding.
    pub final_raw: Decimal,
    /// The final score.
    pub final_score: Decimal,
    /// Left out when the results are written (the caller asked for numbers only).
    #[serde(skip)]
    pub hidden: bool,
}

impl Trace<'_> {
    fn is_hidden(&self) -> bool {
        self.hidden
    }
}

impl Results<'_> {
    /// The same results written without the breakdown of each score: the numbers only.
    pub fn without_traces(&mut self) {
        for placed in self
            .categories
            .iter_mut()
            .flat_map(|c| c.ranking.iter_mut())
        {
            placed.trace.hidden = true;
        }
    }
}

/// One judge's part.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct JudgeTrace<'a> {
    /// The judge.
    pub judge: &'a JudgeId,
    /// Criterion scores with their indicators.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub criteria: Vec<CriterionTrace<'a>>,
    /// The judge's total before rounding.
    pub total_raw: Decimal,
    /// The judge's total.
    pub total: Decimal,
    /// Normalisation of the total.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub normalised: Option<NormalisedTrace>,
    /// Why the total was not normalised although the award normalises (too few marks).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_normalised: Option<String>,
    /// Rank-based judging: the judge's ranks and points.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ranking: Option<RankTrace<'a>>,
    /// The criteria the judge abstained on: their total is over the others.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub abstained: Vec<&'a CriterionId>,
}

/// A criterion of one judge.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CriterionTrace<'a> {
    /// The criterion.
    pub criterion: &'a CriterionId,
    /// Its weight in the total (renormalised when marks are missing).
    pub weight: Decimal,
    /// Its indicators.
    pub indicators: Vec<IndicatorTrace<'a>>,
    /// Before rounding.
    pub raw: Decimal,
    /// `floor` or `cap`, when the criterion's floor or cap replaced its rounded score.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<&'static str>,
    /// The criterion score.
    pub score: Decimal,
}

/// One mark.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct IndicatorTrace<'a> {
    /// The indicator.
    pub indicator: &'a IndicatorId,
    /// Its weight in the criterion.
    pub weight: Decimal,
    /// The mark as given (`null` when missing and skipped).
    pub mark: Option<&'a Mark>,
    /// Its value: the level's value, times any factor, rounded, plus any base.
    pub value: Option<Decimal>,
}

/// A judge's normalised total.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct NormalisedTrace {
    /// `z_score`, `ratio_to_mean` or `min_max`.
    pub method: &'static str,
    /// The judge's statistics over their applications in the category.
    pub judge: JudgeStats,
    /// Before rounding (after clamping to the scale).
    pub raw: Decimal,
    /// The normalised total.
    pub value: Decimal,
}

/// A judge's totals in a category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
pub struct JudgeStats {
    /// How many applications.
    pub n: usize,
    /// Mean.
    pub mean: Decimal,
    /// Population standard deviation.
    pub sd: Decimal,
    /// Lowest.
    pub min: Decimal,
    /// Highest.
    pub max: Decimal,
}

/// A judge's rankings of the application and the points they give.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RankTrace<'a> {
    /// Rank in each source.
    pub ranks: Vec<(&'a str, u32)>,
    /// The sum of the ranks.
    pub combined: u32,
    /// Place in the judge's combined ranking.
    pub place: u32,
    /// Points for that place.
    pub points: Decimal,
}

/// The panel's value of one indicator.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PanelIndicator<'a> {
    /// The indicator.
    pub indicator: &'a IndicatorId,
    /// Each judge's mark and its points (after factor and rounding); none for a computed one.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub marks: Vec<JudgeMark<'a>>,
    /// How they combined; `None` for a computed one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aggregation: Option<AggregationTrace<'a>>,
    /// The plugin that computed the value (its `indicator` hook), for one judges do not mark.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub computed_by: Option<&'a crate::ids::PluginId>,
    /// The formula that computed the value, for one judges do not mark.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub formula: Option<&'a str>,
    /// `floor` or `cap`, when the indicator's floor or cap replaced its value.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<&'static str>,
    /// The base value added, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base: Option<Decimal>,
    /// The indicator's value.
    pub value: Decimal,
}

/// One judge's mark of an indicator.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct JudgeMark<'a> {
    /// The judge.
    pub judge: &'a JudgeId,
    /// The mark as given.
    pub mark: &'a Mark,
    /// Its points.
    pub points: Decimal,
}

/// The panel's score on a criterion.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PanelCriterion<'a> {
    /// The criterion.
    pub criterion: &'a CriterionId,
    /// The score.
    pub score: Decimal,
    /// `floor` or `cap`, when the criterion's floor or cap replaced its score.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limit: Option<&'static str>,
}

/// How a panel's values combined.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AggregationTrace<'a> {
    /// The method.
    pub method: &'static str,
    /// Each judge's value.
    pub inputs: Vec<(&'a JudgeId, Decimal)>,
    /// Judges whose values were dropped.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub dropped: Vec<&'a JudgeId>,
    /// Before rounding.
    pub raw: Decimal,
    /// The result.
    pub value: Decimal,
}

/// A value added to the total.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AdjustmentTrace<'a> {
    /// The field.
    pub field: &'a str,
    /// Its value.
    pub value: Decimal,
}

/// What the score plugin did.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct PluginTrace {
    /// The plugin.
    pub plugin: String,
    /// The panel's total it was given.
    pub total_before: Decimal,
    /// The score it returned.
    pub score: Decimal,
    /// How it computed it, as it explains.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub explanation: Option<serde_json::Value>,
    /// Operations or fuel used (deterministic; wall-clock time is not kept, so results
    /// recompute to the same bytes).
    pub used: u64,
}
