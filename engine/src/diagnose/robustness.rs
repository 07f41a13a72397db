//! How robust the ranking is: a seeded Monte Carlo over declared uncertainties (each
//! criterion's weight drawn within ± a range, the normalisation and the panel's aggregation
//! drawn among alternatives, one judge left out or the judges resampled), giving every
//! application its rank interval and its chances of winning and of reaching the top k; and a
//! one-at-a-time sensitivity view: which single choice moves the ranking most.

use std::collections::HashMap;

use rust_decimal::Decimal;
use rust_decimal::prelude::FromPrimitive;
use schemars::JsonSchema;
use serde::Serialize;

use super::agreement::percentile;
use crate::application::{Application, Marks};
use crate::definition::model::Award;
use crate::definition::wire::{AggregationSpec, NormalisationMethod};
use crate::ids::JudgeId;
use crate::plugin::PluginSet;
use crate::random::Draw;
use crate::scoring::{EvaluateOptions, evaluate_with};

/// What the simulation varies.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct RobustnessOptions {
    /// Draws (1,000 by default).
    pub draws: u32,
    /// Each criterion's weight is multiplied by a factor drawn uniformly in
    /// `1 ± weight_range` (0.2 by default: ±20%).
    pub weight_range: f64,
    /// Draw the normalisation among none, z-score, min-max and ratio to mean (on by default).
    pub normalisations: bool,
    /// Draw the panel's aggregation among the award's, the mean, the median and (with three
    /// judges or more) the trimmed mean (on by default).
    pub aggregations: bool,
    /// Leave one judge out, drawn uniformly (on by default).
    pub leave_one_judge_out: bool,
    /// Resample the judges: as many as there are, drawn with replacement, a judge drawn twice
    /// counting twice (on by default). With both, a third of the draws keeps the panel, a
    /// third leaves one judge out and a third resamples; with one, half the draws use it.
    pub resample_judges: bool,
    /// The k of "reaching the top k" (twice the category's winners by default).
    pub top_k: Option<u32>,
}

impl Default for RobustnessOptions {
    fn default() -> Self {
        Self {
            draws: 1_000,
            weight_range: 0.2,
            normalisations: true,
            aggregations: true,
            leave_one_judge_out: true,
            resample_judges: true,
            top_k: None,
        }
    }
}

/// One application's place under uncertainty.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct RankInterval {
    /// The application.
    pub application: String,
    /// Its rank in the results as published.
    pub rank: u32,
    /// The 5th percentile of its rank over the draws (its best plausible rank); `None` when
    /// no draw scored it.
    pub rank_p05: Option<f64>,
    /// The median rank.
    pub rank_median: Option<f64>,
    /// The 95th percentile (its worst plausible rank).
    pub rank_p95: Option<f64>,
    /// The share of draws in which it is a winner.
    pub p_winner: f64,
    /// The share of draws in which it is in the top k.
    pub p_top_k: f64,
    /// Draws in which it was scored (an application marked by one judge only is not, when
    /// that judge is left out).
    pub scored_in: u32,
}

/// One choice changed alone, and how far the ranking moved.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Sensitivity {
    /// The choice, in words.
    pub factor: String,
    /// The mean of |rank − published rank| over the applications scored both ways.
    pub mean_rank_shift: f64,
    /// Published winners who are no longer winners.
    pub winners_lost: u32,
}

/// A category's robustness.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CategoryRobustness {
    /// Draws that scored (a draw whose inputs fail is not counted, and said).
    pub draws: u32,
    /// How many win (the category's winners, or those who advance from the round).
    pub winners: u32,
    /// The k of `p_top_k`.
    pub top_k: u32,
    /// Whether every published winner wins in at least 90% of the draws.
    pub winners_robust: bool,
    /// Published winners who win in fewer than 90% of the draws.
    pub fragile_winners: Vec<String>,
    /// Every ranked application, in published order.
    pub applications: Vec<RankInterval>,
    /// One choice at a time, the most moving first.
    pub sensitivity: Vec<Sensitivity>,
}

/// Which judges count in a scenario.
#[derive(Debug, Clone, Default)]
enum Panel {
    /// All of them.
    #[default]
    All,
    /// All but one.
    Without(String),
    /// Drawn with replacement: each judge's marks counted as often as they were drawn.
    Resampled(Vec<String>),
}

/// One scenario: multipliers per criterion (by category and criterion id), methods, judges.
#[derive(Debug, Clone, Default)]
struct Scenario {
    weights: HashMap<(String, String), Decimal>,
    normalisation: Option<NormalisationMethod>,
    aggregation: Option<AggregationSpec>,
    panel: Panel,
}

/// The marks with each judge counted `times(judge)` times: 0 leaves the judge out; a judge
/// drawn k times counts k times, the copies under the ids `judge.2`, `judge.3`, ...
/// (normalised each on the same marks, so alike). Decisions and mentions stay as they are.
fn recounted(marks: &Marks, times: &dyn Fn(&str) -> usize) -> Marks {
    fn copies<T: Clone>(
        items: &[T],
        times: &dyn Fn(&str) -> usize,
        judge: fn(&T) -> &JudgeId,
        judge_mut: fn(&mut T) -> &mut JudgeId,
    ) -> Vec<T> {
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let id = judge(item).as_str();
            for k in 1..=times(id) {
                let mut copy = item.clone();
                if k > 1 {
                    *judge_mut(&mut copy) = JudgeId::new(format!("{id}.{k}"));
                }
                out.push(copy);
            }
        }
        out
    }
    Marks {
        schema: None,
        evaluations: copies(&marks.evaluations, times, |e| &e.judge, |e| &mut e.judge),
        rankings: copies(&marks.rankings, times, |r| &r.judge, |r| &mut r.judge),
        review_decisions: marks.review_decisions.clone(),
        special_mentions: marks.special_mentions.clone(),
    }
}

/// Ranks per category and application under `scenario`; `None` when its inputs fail.
fn ranks(
    award: &Award,
    applications: &[Application],
    marks: &Marks,
    plugins: &PluginSet,
    scenario: &Scenario,
) -> Option<HashMap<String, HashMap<String, u32>>> {
    let mut changed = award.clone();
    for category in &mut changed.categories {
        for criterion in &mut category.criteria {
            if let Some(f) = scenario
                .weights
                .get(&(category.id.to_string(), criterion.id.to_string()))
            {
                criterion.weight = (criterion.weight * f).round_dp(6);
            }
        }
    }
    if let Some(m) = scenario.normalisation {
        changed.scoring.normalisation.method = m;
    }
    if let Some(a) = scenario.aggregation {
        changed.scoring.aggregation = a;
    }
    let filtered;
    let marks = match &scenario.panel {
        Panel::Without(left_out) => {
            filtered = recounted(marks, &|j| usize::from(j != left_out));
            &filtered
        }
        Panel::Resampled(drawn) => {
            let mut times: HashMap<&str, usize> = HashMap::new();
            for j in drawn {
                *times.entry(j.as_str()).or_default() += 1;
            }
            filtered = recounted(marks, &|j| times.get(j).copied().unwrap_or(0));
            &filtered
        }
        Panel::All => marks,
    };
    let results = evaluate_with(
        &changed,
        applications,
        marks,
        plugins,
        EvaluateOptions { traces: false },
    )
    .ok()?;
    // A plugin that failed (an error, a deadline passed) leaves an application unscored for
    // a reason outside the data: the whole scenario failed, and is counted so, never read as
    // a ranking without that application.
    if results
        .categories
        .iter()
        .any(|c| c.unscored.iter().any(|u| u.plugin_error.is_some()))
    {
        return None;
    }
    Some(
        results
            .categories
            .iter()
            .map(|c| {
                (
                    c.category.to_string(),
                    c.ranking
                        .iter()
                        .map(|p| (p.application.to_string(), p.rank))
                        .collect(),
                )
            })
            .collect(),
    )
}

fn factor(f: f64) -> Decimal {
    Decimal::from_f64(f).unwrap_or(Decimal::ONE).round_dp(4)
}

/// Simulates, then measures one choice at a time. `baseline` is each category's published
/// ranking: (application, rank, winner). Returns per category, the draws that failed, and the
/// one-at-a-time choices that could not be measured.
pub(crate) fn robustness(
    award: &Award,
    applications: &[Application],
    marks: &Marks,
    plugins: &PluginSet,
    baseline: &HashMap<String, Vec<(String, u32, bool)>>,
    options: &RobustnessOptions,
    seed: u64,
) -> (HashMap<String, CategoryRobustness>, u32, Vec<String>) {
    let mut judges: Vec<String> = marks
        .evaluations
        .iter()
        .map(|e| e.judge.to_string())
        .chain(marks.rankings.iter().map(|r| r.judge.to_string()))
        .collect();
    judges.sort_unstable();
    judges.dedup();
    let criteria: Vec<(String, String)> = award
        .categories
        .iter()
        .flat_map(|c| {
            c.criteria
                .iter()
                .map(move |k| (c.id.to_string(), k.id.to_string()))
        })
        .collect();
    let normalisations = [
        NormalisationMethod::None,
        NormalisationMethod::ZScore,
        NormalisationMethod::MinMax,
        NormalisationMethod::RatioToMean,
    ];
    let mut aggregations = vec![
        award.scoring.aggregation,
        AggregationSpec::Mean,
        AggregationSpec::Median,
    ];
    let panel_size = {
        let mut per_app: HashMap<&str, usize> = HashMap::new();
        for e in &marks.evaluations {
            *per_app.entry(e.application.as_str()).or_default() += 1;
        }
        per_app.values().copied().min().unwrap_or(0)
    };
    if panel_size >= 3 {
        aggregations.push(AggregationSpec::TrimmedMean { trim: 1 });
    }
    aggregations.dedup();
    let ranking_based = award.scoring.ranking.is_some();
    // The simulation.
    let mut draw = Draw::new(seed);
    let mut seen: HashMap<(String, String), Vec<u32>> = HashMap::new();
    let (mut scored, mut failed) = (0u32, 0u32);
    for _ in 0..options.draws {
        let mut s = Scenario::default();
        for c in &criteria {
            let f = 1.0 + options.weight_range * (2.0 * draw.unit() - 1.0);
            s.weights.insert(c.clone(), factor(f));
        }
        if options.normalisations && !ranking_based {
            s.normalisation = Some(normalisations[draw.below(normalisations.len())]);
        }
        if options.aggregations {
            s.aggregation = Some(aggregations[draw.below(aggregations.len())]);
        }
        let ways = [options.leave_one_judge_out, options.resample_judges];
        let choices = 1 + ways.iter().filter(|w| **w).count();
        if choices > 1 && judges.len() > 1 {
            // 0 keeps the panel; k > 0 takes the k-th way that is on.
            let pick = draw.below(choices);
            let way = (pick > 0)
                .then(|| ways.iter().enumerate().filter(|(_, on)| **on).nth(pick - 1))
                .flatten()
                .map(|(i, _)| i);
            match way {
                Some(0) => s.panel = Panel::Without(judges[draw.below(judges.len())].clone()),
                Some(_) => {
                    s.panel = Panel::Resampled(
                        (0..judges.len())
                            .map(|_| judges[draw.below(judges.len())].clone())
                            .collect(),
                    );
                }
                None => {}
            }
        }
        let Some(r) = ranks(award, applications, marks, plugins, &s) else {
            failed += 1;
            continue;
        };
        scored += 1;
        for (category, apps) in r {
            for (app, rank) in apps {
                seen.entry((category.clone(), app)).or_default().push(rank);
            }
        }
    }
    // One choice at a time.
    let mut factors: Vec<(String, Scenario)> = Vec::new();
    for c in &criteria {
        for (label, f) in [
            ("-", 1.0 - options.weight_range),
            ("+", 1.0 + options.weight_range),
        ] {
            let mut s = Scenario::default();
            s.weights.insert(c.clone(), factor(f));
            factors.push((
                format!(
                    "weight of criterion `{}` {label}{:.0}%",
                    c.1,
                    options.weight_range * 100.0
                ),
                s,
            ));
        }
    }
    if !ranking_based {
        for m in normalisations {
            if m != award.scoring.normalisation.method {
                factors.push((
                    format!("normalisation {}", crate::scoring::normalisation_name(m)),
                    Scenario {
                        normalisation: Some(m),
                        ..Scenario::default()
                    },
                ));
            }
        }
    }
    for a in &aggregations {
        if *a != award.scoring.aggregation {
            factors.push((
                format!("aggregation {}", crate::scoring::aggregation_name(*a)),
                Scenario {
                    aggregation: Some(*a),
                    ..Scenario::default()
                },
            ));
        }
    }
    for j in &judges {
        factors.push((
            format!("without judge `{j}`"),
            Scenario {
                panel: Panel::Without(j.clone()),
                ..Scenario::default()
            },
        ));
    }
    let mut shifts: HashMap<String, Vec<Sensitivity>> = HashMap::new();
    let mut unmeasured = Vec::new();
    for (label, s) in &factors {
        let Some(r) = ranks(award, applications, marks, plugins, s) else {
            unmeasured.push(label.clone());
            continue;
        };
        for (category, published) in baseline {
            // A criterion of another category does not move this one.
            if s.weights.keys().any(|(c, _)| c != category) {
                continue;
            }
            let Some(now) = r.get(category) else { continue };
            let moved: Vec<f64> = published
                .iter()
                .filter_map(|(app, rank, _)| {
                    now.get(app)
                        .map(|r| (f64::from(*r) - f64::from(*rank)).abs())
                })
                .collect();
            let winners = award
                .categories
                .iter()
                .find(|c| c.id.as_str() == category)
                .map_or(0, |c| c.winners);
            let lost = published
                .iter()
                .filter(|(app, _, won)| *won && now.get(app).is_none_or(|r| *r > winners))
                .count() as u32;
            shifts
                .entry(category.clone())
                .or_default()
                .push(Sensitivity {
                    factor: label.clone(),
                    mean_rank_shift: if moved.is_empty() {
                        0.0
                    } else {
                        moved.iter().sum::<f64>() / moved.len() as f64
                    },
                    winners_lost: lost,
                });
        }
    }
    let mut out = HashMap::new();
    for (category, published) in baseline {
        let winners = award
            .categories
            .iter()
            .find(|c| c.id.as_str() == category)
            .map_or(0, |c| c.winners);
        let top_k = options.top_k.unwrap_or(winners.saturating_mul(2).max(1));
        let applications: Vec<RankInterval> = published
            .iter()
            .map(|(app, rank, _)| {
                let mut r: Vec<f64> = seen
                    .get(&(category.clone(), app.clone()))
                    .map(|v| v.iter().map(|x| f64::from(*x)).collect())
                    .unwrap_or_default();
                r.sort_by(f64::total_cmp);
                let n = r.len().max(1) as f64;
                RankInterval {
                    application: app.clone(),
                    rank: *rank,
                    rank_p05: (!r.is_empty()).then(|| percentile(&r, 0.05)),
                    rank_median: (!r.is_empty()).then(|| percentile(&r, 0.5)),
                    rank_p95: (!r.is_empty()).then(|| percentile(&r, 0.95)),
                    p_winner: r.iter().filter(|x| **x <= f64::from(winners)).count() as f64 / n,
                    p_top_k: r.iter().filter(|x| **x <= f64::from(top_k)).count() as f64 / n,
                    scored_in: r.len() as u32,
                }
            })
            .collect();
        let fragile: Vec<String> = published
            .iter()
            .zip(&applications)
            .filter(|((_, _, won), a)| *won && a.p_winner < 0.9)
            .map(|((app, _, _), _)| app.clone())
            .collect();
        let mut sensitivity = shifts.remove(category).unwrap_or_default();
        sensitivity.sort_by(|a, b| {
            b.mean_rank_shift
                .total_cmp(&a.mean_rank_shift)
                .then(b.winners_lost.cmp(&a.winners_lost))
                .then(a.factor.cmp(&b.factor))
        });
        out.insert(
            category.clone(),
            CategoryRobustness {
                draws: scored,
                winners,
                top_k,
                winners_robust: fragile.is_empty(),
                fragile_winners: fragile,
                applications,
                sensitivity,
            },
        );
    }
    (out, failed, unmeasured)
}
