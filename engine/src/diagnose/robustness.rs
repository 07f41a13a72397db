//! How robust the ranking is, in two parts kept apart:
//!
//! - **sampling**: what another jury drawn from the same judges would have decided (the judges
//!   resampled with replacement, or one left out), with the rubric's own methods and weights:
//!   every application's rank interval and its chance of winning and of reaching the top k;
//! - **method**: what the choices the rubric's authors allow (`scoring.diagnostics`: each
//!   criterion's weight within ± a range; the normalisation and the aggregation among the
//!   alternatives only where the rubric says so) would have decided, with the jury as it was;
//!
//! and a one-at-a-time sensitivity view: which single allowed choice moves the ranking most.
//! Tied applications share the places they occupy, so a category's chances of winning sum to
//! its number of winners in every draw.

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
    /// In the method part, draw the normalisation among none, z-score, min-max and ratio to
    /// mean: only when the rubric's authors accept them all (off by default).
    pub normalisations: bool,
    /// In the method part, draw the panel's aggregation among the award's, the mean, the
    /// median and (with three judges or more) the trimmed mean (off by default).
    pub aggregations: bool,
    /// Leave one judge out, in the one-at-a-time view, and in the sampling part when judges
    /// are not resampled (on by default).
    pub leave_one_judge_out: bool,
    /// The sampling part: the judges resampled, as many as there are, drawn with replacement,
    /// a judge drawn twice counting twice (on by default).
    pub resample_judges: bool,
    /// The k of "reaching the top k" (twice the category's winners by default).
    pub top_k: Option<u32>,
}

impl Default for RobustnessOptions {
    fn default() -> Self {
        Self {
            draws: 1_000,
            weight_range: 0.2,
            normalisations: false,
            aggregations: false,
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
    /// Its chance of winning over the draws (with the sampling part's draws: the chance it wins
    /// with another jury drawn from the same judges). Applications tied in a draw share the
    /// places they occupy, so a category's chances sum to its winners.
    pub p_winner: f64,
    /// Its chance of reaching the top k, ties shared alike.
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

/// The method part: the ranking under the choices the rubric allows, the jury as it was.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct MethodRobustness {
    /// Draws that scored.
    pub draws: u32,
    /// What was varied, in words.
    pub varied: Vec<String>,
    /// Whether every published winner wins in at least 90% of the draws.
    pub winners_robust: bool,
    /// Published winners who win in fewer than 90% of the draws.
    pub fragile_winners: Vec<String>,
    /// Every ranked application, in published order.
    pub applications: Vec<RankInterval>,
}

/// A category's robustness.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CategoryRobustness {
    /// What the sampling part drew: `judges resampled`, `one judge left out`, or `none`.
    pub sampling: String,
    /// Draws of the sampling part that scored (a draw whose inputs fail is not counted, and
    /// said).
    pub draws: u32,
    /// How many win (the category's winners, or those who advance from the round).
    pub winners: u32,
    /// The k of `p_top_k`.
    pub top_k: u32,
    /// Whether every published winner wins with at least 90% of the juries drawn.
    pub winners_robust: bool,
    /// Published winners who win with fewer than 90% of the juries drawn.
    pub fragile_winners: Vec<String>,
    /// Every ranked application, in published order, over the sampling part's draws.
    pub applications: Vec<RankInterval>,
    /// The method part, when the rubric allows any choice to vary.
    pub methods: Option<MethodRobustness>,
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

/// Per category and application: its rank and how many share it.
type Ranks = HashMap<String, HashMap<String, (u32, u32)>>;

/// Ranks per category and application under `scenario`; `None` when its inputs fail.
fn ranks(
    award: &Award,
    applications: &[Application],
    marks: &Marks,
    plugins: &PluginSet,
    scenario: &Scenario,
) -> Option<Ranks> {
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
                let mut tied: HashMap<u32, u32> = HashMap::new();
                for p in &c.ranking {
                    *tied.entry(p.rank).or_default() += 1;
                }
                (
                    c.category.to_string(),
                    c.ranking
                        .iter()
                        .map(|p| (p.application.to_string(), (p.rank, tied[&p.rank])))
                        .collect(),
                )
            })
            .collect(),
    )
}

/// The share of the first `places` places held by an application at `rank` tied with
/// `tied - 1` others: they occupy places rank .. rank + tied - 1 and share them equally.
fn share(rank: u32, tied: u32, places: u32) -> f64 {
    let held = places.saturating_sub(rank.saturating_sub(1)).min(tied);
    f64::from(held) / f64::from(tied.max(1))
}

/// Each application's ranks over a part's draws: (rank, tied) per draw.
type Seen = HashMap<(String, String), Vec<(u32, u32)>>;

/// Adds a scenario's ranks to `seen`; whether the scenario scored.
fn score_into(seen: &mut Seen, ranks: Option<Ranks>) -> bool {
    let Some(ranks) = ranks else {
        return false;
    };
    for (category, apps) in ranks {
        for (app, rank) in apps {
            seen.entry((category.clone(), app)).or_default().push(rank);
        }
    }
    true
}

/// The rank intervals and chances of `published`, from `seen`.
fn intervals(
    category: &str,
    published: &[(String, u32, bool)],
    seen: &Seen,
    winners: u32,
    top_k: u32,
    draws: u32,
) -> (Vec<RankInterval>, Vec<String>) {
    if draws == 0 {
        return (Vec::new(), Vec::new());
    }
    let applications: Vec<RankInterval> = published
        .iter()
        .map(|(app, rank, _)| {
            let got = seen
                .get(&(category.to_owned(), app.clone()))
                .cloned()
                .unwrap_or_default();
            let mut r: Vec<f64> = got.iter().map(|(x, _)| f64::from(*x)).collect();
            r.sort_by(f64::total_cmp);
            // Chances over every draw that scored: a draw that left it unscored (its only
            // judges not drawn) is a draw it did not win.
            let n = f64::from(draws.max(1));
            RankInterval {
                application: app.clone(),
                rank: *rank,
                rank_p05: (!r.is_empty()).then(|| percentile(&r, 0.05)),
                rank_median: (!r.is_empty()).then(|| percentile(&r, 0.5)),
                rank_p95: (!r.is_empty()).then(|| percentile(&r, 0.95)),
                p_winner: got.iter().map(|(r, t)| share(*r, *t, winners)).sum::<f64>() / n,
                p_top_k: got.iter().map(|(r, t)| share(*r, *t, top_k)).sum::<f64>() / n,
                scored_in: r.len() as u32,
            }
        })
        .collect();
    let fragile = published
        .iter()
        .zip(&applications)
        .filter(|((_, _, won), a)| *won && a.p_winner < 0.9)
        .map(|((app, _, _), _)| app.clone())
        .collect();
    (applications, fragile)
}

fn factor(f: f64) -> Decimal {
    Decimal::from_f64(f).unwrap_or(Decimal::ONE).round_dp(4)
}

/// What [`robustness`] found: per category, the draws asked for and those that failed (both
/// parts), and the one-at-a-time choices that could not be measured.
pub(crate) struct Found {
    pub categories: HashMap<String, CategoryRobustness>,
    pub asked: u32,
    pub failed: u32,
    pub unmeasured: Vec<String>,
}

/// How to run the simulation: its options, its seed, and whom to tell how far it has come.
pub(crate) struct Run<'a> {
    pub options: &'a RobustnessOptions,
    pub seed: u64,
    pub progress: &'a dyn Fn(u32, u32),
}

/// Simulates both parts, then measures one choice at a time. `baseline` is each category's
/// published ranking: (application, rank, winner).
pub(crate) fn robustness(
    award: &Award,
    applications: &[Application],
    marks: &Marks,
    plugins: &PluginSet,
    baseline: &HashMap<String, Vec<(String, u32, bool)>>,
    run: Run<'_>,
) -> Found {
    let Run {
        options,
        seed,
        progress,
    } = run;
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
    if options.normalisations && !ranking_based {
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
    for a in aggregations.iter().filter(|_| options.aggregations) {
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
    for j in judges.iter().filter(|_| options.leave_one_judge_out) {
        factors.push((
            format!("without judge `{j}`"),
            Scenario {
                panel: Panel::Without(j.clone()),
                ..Scenario::default()
            },
        ));
    }
    // The sampling part: other juries from the same judges, the rubric's own methods.
    let sampling = if judges.len() < 2 {
        "none"
    } else if options.resample_judges {
        "judges resampled"
    } else if options.leave_one_judge_out {
        "one judge left out"
    } else {
        "none"
    };
    let mut draw = Draw::new(seed);
    let (mut seen, mut scored, mut failed) = (Seen::new(), 0u32, 0u32);
    // What the method part varies, in words (nothing: no method part).
    let mut varied = Vec::new();
    if options.weight_range > 0.0 {
        varied.push(format!(
            "each criterion's weight within ±{:.0}%",
            options.weight_range * 100.0
        ));
    }
    if options.normalisations && !ranking_based {
        varied.push("the normalisation among none, z-score, min-max and ratio to mean".to_owned());
    }
    if options.aggregations && aggregations.len() > 1 {
        varied.push(format!(
            "the aggregation among {}",
            aggregations
                .iter()
                .map(|a| crate::scoring::aggregation_name(*a))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    let total = options
        .draws
        .saturating_mul(u32::from(sampling != "none") + u32::from(!varied.is_empty()))
        .saturating_add(factors.len() as u32);
    let mut done = 0u32;
    let mut tick = || {
        done += 1;
        progress(done, total);
    };
    if sampling != "none" {
        for _ in 0..options.draws {
            let panel = if options.resample_judges {
                Panel::Resampled(
                    (0..judges.len())
                        .map(|_| judges[draw.below(judges.len())].clone())
                        .collect(),
                )
            } else {
                Panel::Without(judges[draw.below(judges.len())].clone())
            };
            let s = Scenario {
                panel,
                ..Scenario::default()
            };
            let ok = score_into(&mut seen, ranks(award, applications, marks, plugins, &s));
            tick();
            if ok {
                scored += 1;
            } else {
                failed += 1;
            }
        }
    }
    // The method part: the choices the rubric allows, the jury as it was.
    let mut method_draw = Draw::new(seed ^ 0x6d65_7468_6f64);
    let (mut method_seen, mut method_scored) = (Seen::new(), 0u32);
    if !varied.is_empty() {
        for _ in 0..options.draws {
            let mut s = Scenario::default();
            for c in &criteria {
                let f = 1.0 + options.weight_range * (2.0 * method_draw.unit() - 1.0);
                s.weights.insert(c.clone(), factor(f));
            }
            if options.normalisations && !ranking_based {
                s.normalisation = Some(normalisations[method_draw.below(normalisations.len())]);
            }
            if options.aggregations {
                s.aggregation = Some(aggregations[method_draw.below(aggregations.len())]);
            }
            let ok = score_into(
                &mut method_seen,
                ranks(award, applications, marks, plugins, &s),
            );
            tick();
            if ok {
                method_scored += 1;
            } else {
                failed += 1;
            }
        }
    }
    let mut shifts: HashMap<String, Vec<Sensitivity>> = HashMap::new();
    let mut unmeasured = Vec::new();
    for (label, s) in &factors {
        let r = ranks(award, applications, marks, plugins, s);
        tick();
        let Some(r) = r else {
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
                        .map(|(r, _)| (f64::from(*r) - f64::from(*rank)).abs())
                })
                .collect();
            let winners = award
                .categories
                .iter()
                .find(|c| c.id.as_str() == category)
                .map_or(0, |c| c.winners);
            let lost = published
                .iter()
                .filter(|(app, _, won)| *won && now.get(app).is_none_or(|(r, _)| *r > winners))
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
        let (applications, fragile) = intervals(category, published, &seen, winners, top_k, scored);
        let methods = (!varied.is_empty()).then(|| {
            let (applications, fragile) = intervals(
                category,
                published,
                &method_seen,
                winners,
                top_k,
                method_scored,
            );
            MethodRobustness {
                draws: method_scored,
                varied: varied.clone(),
                winners_robust: fragile.is_empty(),
                fragile_winners: fragile,
                applications,
            }
        });
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
                sampling: sampling.to_owned(),
                draws: scored,
                winners,
                top_k,
                winners_robust: fragile.is_empty(),
                fragile_winners: fragile,
                applications,
                methods,
                sensitivity,
            },
        );
    }
    let parts = u32::from(sampling != "none") + u32::from(!varied.is_empty());
    Found {
        categories: out,
        asked: options.draws.saturating_mul(parts),
        failed,
        unmeasured,
    }
}
