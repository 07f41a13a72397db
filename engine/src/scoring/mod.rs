//! Scoring: from an award, its applications and the judges' marks or rankings to ranked
//! results per category, with a trace of every number. Pure: no I/O.

mod aggregate;
mod arith;
mod hook_output;
mod input;
mod normalise;
mod order;
mod rank_points;
mod results;
mod sheet;

use std::collections::{HashMap, HashSet};

use rust_decimal::Decimal;
use serde_json::json;

use crate::application::{Application, Marks};
use crate::definition::model::{Award, Scoring};
use crate::definition::wire::{AggregateAt, Hook, PluginErrorPolicy, WhenFewer};
use crate::eligibility::{self, Status};
use crate::plugin::hooks;
use crate::plugin::{PluginError, PluginSet};
use arith::round;
use input::{Inputs, Layout};
use sheet::Unscorable;

pub use hook_output::check_hook_output;
pub use input::{InputErrors, check_marks};
pub use results::{
    AdjustmentTrace, AggregationTrace, CategoryResult, CriterionTrace, EligibilityEntry,
    IndicatorTrace, JudgeMark, JudgeStats, JudgeTrace, NormalisedTrace, PanelCriterion,
    PanelIndicator, PassMarkFailure, Placed, PluginTrace, RankTrace, Results, Trace, Unscored,
};

/// Computes the results of `award` from its applications and marks.
///
/// Fails, scoring nothing, when an input is wrong: a mark for an unknown application, judge or
/// indicator, a mark off its scale, a duplicate evaluation, a ranking of another category's
/// applications... every such problem is in the error, located by JSON pointer. An admitted
/// application that cannot be scored (no marks; too few for a trimmed mean) is listed under
/// `unscored` with the reason, and the others are ranked.
pub fn evaluate<'a>(
    award: &'a Award,
    applications: &'a [Application],
    marks: &'a Marks,
    plugins: &PluginSet,
) -> Result<Results<'a>, InputErrors> {
    evaluate_with(
        award,
        applications,
        marks,
        plugins,
        EvaluateOptions::default(),
    )
}

/// How [`evaluate_with`] works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EvaluateOptions {
    /// Keep each score's breakdown (the default). Without it, the same numbers are computed
    /// without building the per-judge, per-criterion and per-indicator detail, and each
    /// application's trace is left out when the results are written.
    pub traces: bool,
}

impl Default for EvaluateOptions {
    fn default() -> Self {
        Self { traces: true }
    }
}

/// [`evaluate`], with options: the same numbers, with or without traces.
pub fn evaluate_with<'a>(
    award: &'a Award,
    applications: &'a [Application],
    marks: &'a Marks,
    plugins: &PluginSet,
    options: EvaluateOptions,
) -> Result<Results<'a>, InputErrors> {
    let decisions: Vec<eligibility::Decision> = applications
        .iter()
        .map(|a| eligibility::decide(award, a, plugins))
        .collect();
    evaluate_decided(award, applications, marks, plugins, decisions, options)
}

/// [`evaluate_with`], with each application's eligibility decided already (`decisions`, one
/// per application, in the same order) rather than by its rules: how a verifier recomputes
/// published results from a bundle that carries the outcomes but not the personal answers the
/// rules read.
pub fn evaluate_decided<'a>(
    award: &'a Award,
    applications: &'a [Application],
    marks: &'a Marks,
    plugins: &PluginSet,
    decisions: Vec<eligibility::Decision>,
    options: EvaluateOptions,
) -> Result<Results<'a>, InputErrors> {
    let (inputs, mut errors) = input::index(award, applications, marks);
    let needs_review: HashSet<&str> = decisions
        .iter()
        .filter(|d| d.status == Status::NeedsReview)
        .map(|d| d.application.as_str())
        .collect();
    // Whose prize money a `no_prize` rule withholds, and why.
    let no_prize: std::collections::HashMap<&str, String> = decisions
        .iter()
        .filter_map(|d| {
            crate::prizes::withheld_by(d, &award.default_language)
                .map(|why| (d.application.as_str(), why))
        })
        .collect();
    let admitted: HashSet<&str> = applications
        .iter()
        .zip(&decisions)
        .filter(|(a, d)| d.admits(inputs.reviews.get(a.id.as_str()).copied()))
        .map(|(a, _)| a.id.as_str())
        .collect();
    input::check_decisions(
        award,
        applications,
        marks,
        &needs_review,
        &admitted,
        &mut errors,
    );
    if !errors.is_empty() {
        return Err(errors);
    }
    let mut plugin_warnings: Vec<usize> = Vec::new();
    let mut warnings: Vec<String> = eligibility::check_limits(award, applications)
        .iter()
        .map(eligibility::LimitBreach::warning)
        .collect();
    let admitted_at: Vec<bool> = applications
        .iter()
        .map(|a| admitted.contains(a.id.as_str()))
        .collect();
    let ignored: usize = inputs
        .sheets
        .iter()
        .zip(&admitted_at)
        .filter(|(_, ok)| !**ok)
        .map(|(s, _)| s.len())
        .sum();
    if ignored > 0 {
        warnings.push(format!(
            "{ignored} evaluations of applications that are not admitted were ignored"
        ));
    }
    let mut categories = Vec::new();
    for category in &award.categories {
        let Some(layout) = inputs.layouts.get(category.id.as_str()) else {
            continue;
        };
        let members: Vec<usize> = applications
            .iter()
            .enumerate()
            .filter(|(i, a)| admitted_at[*i] && a.category == category.id)
            .map(|(i, _)| i)
            .collect();
        let scored = score_category(
            award,
            applications,
            &inputs,
            layout,
            &members,
            &admitted,
            plugins,
            options,
            &mut warnings,
        );
        let mut candidates = Vec::with_capacity(scored.len());
        let mut traces = Vec::with_capacity(scored.len());
        let mut unscored = Vec::new();
        for (i, outcome) in scored {
            match outcome {
                Ok(mut s) => {
                    candidates.push(order::Candidate {
                        app: &applications[i],
                        score: s.trace.final_score,
                        criteria: s.criteria,
                        indicators: s
                            .trace
                            .indicators
                            .iter()
                            .map(|x| (x.indicator.as_str(), x.value))
                            .collect(),
                    });
                    s.trace.hidden = !options.traces;
                    traces.push((s.trace, s.judges));
                }
                Err(reason) => unscored.push(Unscored {
                    application: &applications[i].id,
                    reason: reason.to_string(),
                    plugin_error: match reason {
                        Unscorable::Plugin(e) => Some(e),
                        Unscorable::Data(_) => None,
                    },
                }),
            }
        }
        let (places, tie_warnings) = order::rank(&candidates, &award.scoring.tie_break, plugins);
        // A tie-break plugin's complaint quotes the plugin.
        plugin_warnings.extend(warnings.len()..warnings.len() + tie_warnings.len());
        warnings.extend(tie_warnings);
        let mut slots: Vec<Option<(results::Trace<'a>, usize)>> =
            traces.into_iter().map(Some).collect();
        let failures: Vec<Vec<results::PassMarkFailure<'a>>> = candidates
            .iter()
            .map(|c| pass_marks(category, &c.criteria))
            .collect();
        // Winners are counted among those that may win: 1 + how many of those rank better
        // (places come in rank order, so one pass counts them).
        let may_win = |index: usize| failures.get(index).is_some_and(Vec::is_empty);
        let mut winning_ranks = Vec::with_capacity(places.len());
        let (mut passed, mut group_start) = (0u32, 0usize);
        for (k, p) in places.iter().enumerate() {
            if k > 0 && places[k - 1].rank != p.rank {
                passed += places[group_start..k]
                    .iter()
                    .filter(|q| may_win(q.index))
                    .count() as u32;
                group_start = k;
            }
            winning_ranks.push(passed + 1);
        }
        let mut ranking: Vec<Placed<'a>> = places
            .iter()
            .zip(winning_ranks)
            .filter_map(|(p, winning_rank)| {
                let (trace, judges) = slots.get_mut(p.index)?.take()?;
                let c = candidates.get(p.index)?;
                let below = failures.get(p.index).cloned().unwrap_or_default();
                Some(Placed {
                    rank: p.rank,
                    application: &c.app.id,
                    score: c.score,
                    winner: below.is_empty() && winning_rank <= category.winners,
                    below_pass_marks: below,
                    tied: p.tied,
                    tie_broken_by: p.tie_broken_by.clone(),
                    judges,
                    prize: None,
                    trace,
                })
            })
            .collect();
        // Each winner's prize, by winning place.
        let winners: Vec<usize> = (0..ranking.len()).filter(|&k| ranking[k].winner).collect();
        let given = crate::prizes::award(
            &category.prizes,
            &winners
                .iter()
                .map(|&k| crate::prizes::PrizeWinner {
                    rank: ranking.get(k).map(|p| p.rank),
                    no_prize: no_prize.get(ranking[k].application.as_str()).cloned(),
                })
                .collect::<Vec<_>>(),
        );
        for (k, prize) in winners.into_iter().zip(given) {
            if let Some(p) = ranking.get_mut(k) {
                p.prize = prize;
            }
        }
        // By id, as ties are: the results never depend on the order the inputs came in.
        unscored.sort_by(|a, b| a.application.cmp(b.application));
        categories.push(CategoryResult {
            category: &category.id,
            winners: category.winners,
            ranking,
            unscored,
        });
    }
    if award.scoring.on_plugin_error == PluginErrorPolicy::Fail {
        let mut failed = InputErrors::default();
        for c in &categories {
            for u in &c.unscored {
                if let (Some(e), Some(i)) = (
                    &u.plugin_error,
                    applications.iter().position(|a| &a.id == u.application),
                ) {
                    failed.applications.push(
                        crate::diagnostics::Diagnostic::error(crate::diagnostics::Code::Plugin, format!("/{i}"), e.to_string())
                            .with_hint("the award's `on_plugin_error` is `fail`: nothing is scored while a plugin fails"),
                    );
                }
            }
        }
        if !failed.is_empty() {
            return Err(failed);
        }
    }
    let eligibility = applications
        .iter()
        .zip(decisions)
        .map(|(a, decision)| EligibilityEntry {
            admitted: admitted.contains(a.id.as_str()),
            review: inputs.reviews.get(a.id.as_str()).copied(),
            decision,
        })
        .collect();
    Ok(Results {
        award: &award.id,
        definition_sha256: &award.sha256,
        inputs_sha256: None,
        laurel_version: env!("CARGO_PKG_VERSION"),
        eligibility,
        categories,
        special_mentions: marks.special_mentions.iter().collect(),
        warnings,
        plugin_warnings,
    })
}

struct Scored<'a> {
    trace: Trace<'a>,
    criteria: HashMap<&'a str, Decimal>,
    judges: usize,
}

type Outcome<'a> = Result<Scored<'a>, Unscorable>;

#[allow(clippy::too_many_arguments)]
fn score_category<'a>(
    award: &'a Award,
    applications: &'a [Application],
    inputs: &Inputs<'a>,
    layout: &Layout<'a>,
    members: &[usize],
    admitted: &HashSet<&str>,
    plugins: &PluginSet,
    options: EvaluateOptions,
    warnings: &mut Vec<String>,
) -> Vec<(usize, Outcome<'a>)> {
    let scoring = &award.scoring;
    let unmarked = if scoring.ranking.is_none() {
        unmarked_bases(layout, applications, inputs, members)
    } else {
        HashMap::new()
    };
    // Every abstention is said: a judge's total, or the panel's marks of a criterion, rest on
    // fewer marks than the rubric asks of a judge who does not abstain.
    for &i in members {
        for sheet in inputs.sheets[i].iter().filter(|s| !s.abstained.is_empty()) {
            let on: Vec<String> = sheet.abstained.iter().map(|c| format!("`{c}`")).collect();
            warnings.push(format!(
                "judge `{}` abstained on {} of application `{}`: {}",
                sheet.judge,
                on.join(", "),
                applications[i].id,
                if scoring.aggregate_at == AggregateAt::Indicator {
                    "the panel's marks of it are the other judges'"
                } else {
                    "their total is over the criteria they marked"
                }
            ));
        }
    }
    let panels: Vec<(usize, Result<Panel<'a>, Unscorable>)> = if let Some(spec) = &scoring.ranking {
        let rankings = inputs
            .rankings
            .get(layout.category.id.as_str())
            .map(Vec::as_slice)
            .unwrap_or_default();
        let points = rank_points::points(spec, rankings, &|a| admitted.contains(a));
        let mut by_app: HashMap<&str, Vec<rank_points::JudgePoints<'a>>> = HashMap::new();
        for p in points {
            by_app.entry(p.application).or_default().push(p);
        }
        members
            .iter()
            .map(|&i| {
                let judges = by_app
                    .remove(applications[i].id.as_str())
                    .unwrap_or_default();
                let panel = ranked_panel(scoring, judges);
                (i, panel)
            })
            .collect()
    } else if scoring.aggregate_at == AggregateAt::Indicator {
        members
            .iter()
            .map(|&i| {
                (
                    i,
                    indicator_panel(
                        scoring,
                        layout,
                        &applications[i],
                        &inputs.sheets[i],
                        plugins,
                    ),
                )
            })
            .collect()
    } else {
        total_panels(
            scoring,
            layout,
            applications,
            inputs,
            members,
            plugins,
            options,
            warnings,
        )
    };
    panels
        .into_iter()
        .map(|(i, panel)| {
            if let Some(why) = unmarked.get(&i) {
                return (i, Err(Unscorable::Data(why.clone())));
            }
            let outcome = panel.and_then(|p| finish(award, layout, &applications[i], p, plugins));
            (i, outcome)
        })
        .collect()
}

/// The pass marks of `category` that the panel's criterion scores do not reach.
fn pass_marks<'a>(
    category: &'a crate::definition::model::Category,
    scores: &HashMap<&'a str, Decimal>,
) -> Vec<results::PassMarkFailure<'a>> {
    category
        .criteria
        .iter()
        .filter_map(|c| {
            let pass = c.pass_mark.as_ref()?;
            let score = scores.get(c.id.as_str()).copied();
            score
                .is_none_or(|s| s < pass.min)
                .then_some(results::PassMarkFailure {
                    criterion: &c.id,
                    score,
                    min: pass.min,
                    excludes: pass.excludes,
                })
        })
        .collect()
}

/// The applications where an indicator with a non-zero `base` was marked by no judge, with
/// the reason they cannot be scored: the base would count nothing (missing marks are skipped),
/// which a reader of the total would not guess (gate points given as a base, say). Marks, a
/// `formula` or a plugin make it count.
fn unmarked_bases(
    layout: &Layout<'_>,
    applications: &[Application],
    inputs: &Inputs<'_>,
    members: &[usize],
) -> HashMap<usize, String> {
    let mut out = HashMap::new();
    for (k, ind) in layout.indicators.iter().enumerate() {
        let Some(base) = ind.base.as_ref().filter(|_| !ind.is_computed()) else {
            continue;
        };
        for &i in members {
            let sheets = &inputs.sheets[i];
            if out.contains_key(&i) || sheets.is_empty() {
                continue;
            }
            if sheets.iter().all(|s| s.marks[k].is_none())
                && let Ok(b) = sheet::quantity(base, &applications[i])
                && !b.is_zero()
            {
                out.insert(
                    i,
                    format!(
                        "indicator `{}` has a base of {b} but no judge marked it, so nothing counts it: mark it, or compute its value with a `formula`",
                        ind.id
                    ),
                );
            }
        }
    }
    out
}

/// The panel's total of one application, with its trace so far.
struct Panel<'a> {
    trace: Trace<'a>,
    criteria: HashMap<&'a str, Decimal>,
    judges: usize,
}

/// A judge's trace and criterion scores for one application.
struct Judged<'a> {
    /// The judge's position in `Inputs::judges`.
    index: usize,
    trace: JudgeTrace<'a>,
    criteria: Vec<Option<Decimal>>,
}

/// Marks combined per judge, normalised per judge, then combined by the panel.
#[allow(clippy::too_many_arguments)]
fn total_panels<'a>(
    scoring: &Scoring,
    layout: &Layout<'a>,
    applications: &'a [Application],
    inputs: &Inputs<'a>,
    members: &[usize],
    plugins: &PluginSet,
    options: EvaluateOptions,
    warnings: &mut Vec<String>,
) -> Vec<(usize, Result<Panel<'a>, Unscorable>)> {
    // Each judge's criteria and total, per application.
    let mut judged: Vec<(usize, Result<Vec<Judged<'a>>, Unscorable>)> =
        Vec::with_capacity(members.len());
    let mut values = Vec::with_capacity(layout.indicators.len());
    for &i in members {
        let app = &applications[i];
        let mut judges = Vec::with_capacity(inputs.sheets[i].len());
        let mut failure = None;
        let computed = match sheet::computed_values(scoring, layout, app, plugins) {
            Ok(c) => c,
            Err(e) => {
                judged.push((i, Err(e)));
                continue;
            }
        };
        for sheet in &inputs.sheets[i] {
            let computed = sheet::judge_values(scoring, layout, app, sheet, &computed, &mut values)
                .and_then(|()| {
                    sheet::compute(scoring, layout, &values, Some(sheet), options.traces)
                });
            match computed {
                Ok(Some(c)) => judges.push(Judged {
                    index: sheet.judge_index,
                    trace: JudgeTrace {
                        judge: sheet.judge,
                        criteria: c.criteria,
                        total_raw: c.total_raw,
                        total: c.total,
                        normalised: None,
                        not_normalised: None,
                        ranking: None,
                        abstained: sheet.abstained.clone(),
                    },
                    criteria: c.criterion_scores,
                }),
                Ok(None) => {}
                Err(e) => {
                    failure = Some(format!("judge `{}`: {e}", sheet.judge));
                    break;
                }
            }
        }
        judged.push((i, failure.map_or(Ok(judges), |f| Err(Unscorable::Data(f)))));
    }
    // Each judge's statistics over their applications in the category.
    let mut per_judge: Vec<Vec<Decimal>> = vec![Vec::new(); inputs.judges.len()];
    for (_, j) in &judged {
        if let Ok(js) = j {
            for x in js {
                if let Some(totals) = per_judge.get_mut(x.index) {
                    totals.push(x.trace.total);
                }
            }
        }
    }
    let bounds = sheet::total_bounds(scoring, layout);
    let normalising = scoring.normalisation.is_on();
    let stats: Vec<Option<Result<JudgeStats, arith::Overflow>>> = per_judge
        .iter()
        .map(|ts| (normalising && !ts.is_empty()).then(|| normalise::stats(ts)))
        .collect();
    // A judge with too few marks in the category is not normalised: statistics of two or
    // three totals say nothing about the judge, and would turn any marks into the same few
    // values. Their totals are used as marked (or their applications refused), and it is said.
    let min = scoring.normalisation.min_marks() as usize;
    let thin: Vec<Option<String>> = per_judge
        .iter()
        .enumerate()
        .map(|(j, ts)| {
            (normalising && !ts.is_empty() && ts.len() < min).then(|| {
                let judge = inputs.judges.get(j).map_or("?", |x| x.as_str());
                format!(
                    "judge `{judge}` marked {} applications in `{}`, fewer than the {min} that normalisation needs",
                    ts.len(),
                    layout.category.id
                )
            })
        })
        .collect();
    let refuse = scoring.normalisation.when_fewer == Some(WhenFewer::Refuse);
    for why in thin.iter().flatten() {
        warnings.push(if refuse {
            format!("{why}: the applications they marked are not scored")
        } else {
            format!("{why}: their totals are used as marked")
        });
    }
    judged
        .into_iter()
        .map(|(i, j)| {
            let panel = j.and_then(|mut js| {
                if js.is_empty() {
                    return Err("no judge has marked it".into());
                }
                if normalising {
                    let bounds = bounds.ok_or("normalisation needs the scale's bounds, which depend on application fields")?;
                    for Judged { index, trace: t, .. } in &mut js {
                        if let Some(why) = thin.get(*index).cloned().flatten() {
                            if refuse {
                                return Err(Unscorable::Data(why));
                            }
                            t.not_normalised = Some(why);
                            continue;
                        }
                        let s = stats
                            .get(*index)
                            .copied()
                            .flatten()
                            .ok_or("no statistics for the judge")?
                            .map_err(|_| "arithmetic overflow in the judge's statistics")?;
                        let raw = normalise::normalise(scoring.normalisation.method, t.total, &s, bounds)?;
                        t.normalised = Some(NormalisedTrace {
                            method: normalise::name(scoring.normalisation.method),
                            judge: s,
                            raw,
                            value: round(raw, scoring.rounding.normalised),
                        });
                    }
                }
                let values: Vec<Decimal> = js
                    .iter()
                    .map(|x| x.trace.normalised.as_ref().map_or(x.trace.total, |n| n.value))
                    .collect();
                let judges: Vec<&'a crate::ids::JudgeId> = js.iter().map(|x| x.trace.judge).collect();
                let aggregation = aggregate_trace(scoring, &judges, &values)?;
                let mut criteria = HashMap::new();
                let mut panel_criteria = Vec::new();
                for (k, c) in layout.category.criteria.iter().enumerate() {
                    let scores: Vec<Decimal> = js.iter().filter_map(|x| x.criteria.get(k).copied().flatten()).collect();
                    if scores.is_empty() {
                        continue;
                    }
                    let a = aggregate::aggregate(scoring.aggregation, &scores).map_err(|e| format!("criterion `{}`: {e}", c.id))?;
                    let score = round(a.value, scoring.rounding.panel);
                    criteria.insert(c.id.as_str(), score);
                    panel_criteria.push(PanelCriterion {
                        criterion: &c.id,
                        score,
                        limit: None,
                    });
                }
                let total = aggregation.value;
                let count = js.len();
                Ok(Panel {
                    trace: Trace {
                        judges: js.into_iter().map(|x| x.trace).collect(),
                        criteria: panel_criteria,
                        aggregation: Some(aggregation),
                        total,
                        ..Trace::default()
                    },
                    criteria,
                    judges: count,
                })
            });
            (i, panel)
        })
        .collect()
}

fn aggregate_trace<'a>(
    scoring: &Scoring,
    judges: &[&'a crate::ids::JudgeId],
    values: &[Decimal],
) -> Result<AggregationTrace<'a>, Unscorable> {
    aggregate_with(scoring, scoring.aggregation, judges, values)
}

/// The panel's values combined by `spec`, rounded at the `panel` step.
fn aggregate_with<'a>(
    scoring: &Scoring,
    spec: crate::definition::wire::AggregationSpec,
    judges: &[&'a crate::ids::JudgeId],
    values: &[Decimal],
) -> Result<AggregationTrace<'a>, Unscorable> {
    let a = aggregate::aggregate(spec, values).map_err(|e| e.to_string())?;
    Ok(AggregationTrace {
        method: aggregate::name(spec),
        inputs: judges.iter().copied().zip(values.iter().copied()).collect(),
        dropped: a
            .dropped
            .iter()
            .filter_map(|&k| judges.get(k).copied())
            .collect(),
        raw: a.value,
        value: round(a.value, scoring.rounding.panel),
    })
}

/// The panel's marks combined per indicator, then criteria and total from those values.
fn indicator_panel<'a>(
    scoring: &Scoring,
    layout: &Layout<'a>,
    app: &Application,
    sheets: &[input::Sheet<'a>],
    plugins: &PluginSet,
) -> Result<Panel<'a>, Unscorable> {
    if sheets.is_empty() {
        return Err("no judge has marked it".into());
    }
    let computed = sheet::computed_values(scoring, layout, app, plugins)?;
    let mut values = Vec::with_capacity(layout.indicators.len());
    let mut indicators = Vec::new();
    for (k, ind) in layout.indicators.iter().enumerate() {
        let by_plugin = computed.get(k).copied().flatten();
        let by_formula = if by_plugin.is_none() {
            sheet::formula_value(scoring, layout, k, app, &values)?
        } else {
            None
        };
        if let Some(v) = by_plugin.or(by_formula) {
            // A computed value is in the trace like a marked one, with its plugin or formula.
            let (v, limit) = sheet::limit(v, ind.floor, ind.cap);
            values.push(Some(v));
            indicators.push(PanelIndicator {
                indicator: &ind.id,
                marks: Vec::new(),
                aggregation: None,
                computed_by: ind.plugin.as_ref(),
                formula: ind.formula.as_ref().map(|f| f.text()),
                base: None,
                limit,
                value: v,
            });
            continue;
        }
        let mut marks = Vec::new();
        for s in sheets {
            if let Some((mark, v)) = s.marks.get(k).copied().flatten() {
                marks.push(JudgeMark {
                    judge: s.judge,
                    mark,
                    points: sheet::points(scoring, ind, app, v)?,
                });
            }
        }
        if marks.is_empty() {
            values.push(None);
            continue;
        }
        let judges: Vec<&'a crate::ids::JudgeId> = marks.iter().map(|m| m.judge).collect();
        let points: Vec<Decimal> = marks.iter().map(|m| m.points).collect();
        let spec = ind.aggregation.unwrap_or(scoring.aggregation);
        let aggregation = aggregate_with(scoring, spec, &judges, &points)
            .map_err(|e| format!("indicator `{}`: {e}", ind.id))?;
        let base = ind
            .base
            .as_ref()
            .map(|b| sheet::quantity(b, app))
            .transpose()?;
        let based = sheet::based(scoring, ind, app, aggregation.value)?;
        let (value, limit) = sheet::limit(based, ind.floor, ind.cap);
        values.push(Some(value));
        indicators.push(PanelIndicator {
            indicator: &ind.id,
            marks,
            aggregation: Some(aggregation),
            computed_by: None,
            formula: None,
            base,
            limit,
            value,
        });
    }
    let computed =
        sheet::compute(scoring, layout, &values, None, true)?.ok_or("no indicator has a mark")?;
    let criteria: HashMap<&'a str, Decimal> = layout
        .category
        .criteria
        .iter()
        .zip(&computed.criterion_scores)
        .filter_map(|(c, s)| s.map(|s| (c.id.as_str(), s)))
        .collect();
    let panel_criteria = computed
        .criteria
        .iter()
        .map(|c| PanelCriterion {
            criterion: c.criterion,
            score: c.score,
            limit: c.limit,
        })
        .collect();
    Ok(Panel {
        trace: Trace {
            indicators,
            criteria: panel_criteria,
            total: computed.total,
            ..Trace::default()
        },
        criteria,
        judges: sheets.len(),
    })
}

/// Judges' points combined by the panel.
fn ranked_panel<'a>(
    scoring: &Scoring,
    judges: Vec<rank_points::JudgePoints<'a>>,
) -> Result<Panel<'a>, Unscorable> {
    if judges.is_empty() {
        return Err("no judge has ranked it".into());
    }
    let ids: Vec<&'a crate::ids::JudgeId> = judges.iter().map(|j| j.judge).collect();
    let values: Vec<Decimal> = judges.iter().map(|j| j.trace.points).collect();
    let aggregation = aggregate_trace(scoring, &ids, &values)?;
    let total = aggregation.value;
    let count = judges.len();
    Ok(Panel {
        trace: Trace {
            judges: judges
                .into_iter()
                .map(|j| JudgeTrace {
                    judge: j.judge,
                    criteria: Vec::new(),
                    total_raw: j.trace.points,
                    total: j.trace.points,
                    normalised: None,
                    not_normalised: None,
                    ranking: Some(j.trace),
                    abstained: Vec::new(),
                })
                .collect(),
            aggregation: Some(aggregation),
            total,
            ..Trace::default()
        },
        criteria: HashMap::new(),
        judges: count,
    })
}

/// The score plugin, adjustments and the final rounding.
fn finish<'a>(
    award: &'a Award,
    layout: &Layout<'a>,
    app: &Application,
    panel: Panel<'a>,
    plugins: &PluginSet,
) -> Outcome<'a> {
    let scoring = &award.scoring;
    let Panel {
        mut trace,
        criteria,
        judges,
    } = panel;
    if let Some(plugin) = &scoring.score_plugin {
        let input = json!({
            "application": app,
            "total": trace.total,
            "criteria": criteria,
            "judges": judges,
        });
        let out = plugins.call(plugin, Hook::Score, &input)?;
        let used = out.used;
        let mut output: hooks::ScoreOutput = hooks::parse(plugin.as_str(), Hook::Score, out.value)?;
        output.explanation = hooks::capped_explanation(output.explanation);
        if let Some((lo, hi)) = sheet::total_bounds(scoring, layout)
            && (output.score < lo || output.score > hi)
        {
            return Err(PluginError::MalformedOutput {
                plugin: plugin.to_string(),
                hook: Hook::Score.as_str().to_owned(),
                message: format!("score {} is off the scale {lo}..{hi}", output.score),
            }
            .into());
        }
        trace.plugin = Some(PluginTrace {
            plugin: plugin.as_str().to_owned(),
            total_before: trace.total,
            score: output.score,
            explanation: output.explanation,
            used,
        });
        trace.total = output.score;
    }
    let mut value = trace.total;
    for field in &scoring.adjustments {
        let v = crate::eligibility::lookup(&app.fields, field)
            .and_then(crate::eligibility::decimal)
            .unwrap_or_default();
        value = arith::add(value, v)?;
        trace.adjustments.push(AdjustmentTrace { field, value: v });
    }
    trace.final_raw = value;
    // Without a rounding of its own, a score is shown at a precision the scale makes sensible
    // (never padded, so scores that need fewer places keep them); the trace keeps `final_raw`.
    trace.final_score = match scoring.rounding.final_score {
        Some(spec) => round(value, Some(spec)),
        None => value.round_dp_with_strategy(
            scoring.default_places,
            rust_decimal::RoundingStrategy::MidpointAwayFromZero,
        ),
    };
    Ok(Scored {
        trace,
        criteria,
        judges,
    })
}

/// A normalisation method's name, as traces write it.
pub(crate) fn normalisation_name(
    method: crate::definition::wire::NormalisationMethod,
) -> &'static str {
    normalise::name(method)
}

/// An aggregation's name, as traces write it.
pub(crate) fn aggregation_name(spec: crate::definition::wire::AggregationSpec) -> &'static str {
    aggregate::name(spec)
}
