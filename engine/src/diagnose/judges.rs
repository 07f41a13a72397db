//! Each judge against their co-judges: severity (their effect in the additive model of the
//! marks, with its standard error), consistency (the correlation of their marks with the others'
//! mean), outlying marks (residuals after the application's level and the judge's severity,
//! judged against the judge's own spread, with Benjamini–Hochberg's false discovery rate), and
//! halo (one mark for every indicator).

use schemars::JsonSchema;
use serde::Serialize;

use super::agreement::pearson;
use super::components;
use super::data::Panel;
use super::distributions::{benjamini_hochberg, t_two_sided};

/// One judge's diagnostics in a category.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct JudgeReport {
    /// The judge.
    pub judge: String,
    /// Applications they marked.
    pub applications: usize,
    /// Of those, marked by at least one other judge too.
    pub shared: usize,
    /// Their effect in an additive model of the overall marks (mark = application + judge +
    /// residual), in marks against the average judge, adjusted for which applications they
    /// marked (negative: severe; positive: lenient). `None` when the judges share too few
    /// applications to be told apart from them.
    pub severity: Option<f64>,
    /// Its standard error.
    pub severity_se: Option<f64>,
    /// Its 95% interval (Student's t on the model's residual degrees of freedom).
    pub severity_interval: Option<[f64; 2]>,
    /// The correlation of their overall marks with their co-judges' mean (at least three
    /// shared applications).
    pub consistency: Option<f64>,
    /// Applications where they gave every indicator the same mark.
    pub halo: usize,
    /// Their marks far from the other judges' marks on the same indicator.
    pub outlying_marks: usize,
    /// What stands out, in words (empty when nothing does).
    pub flags: Vec<String>,
}

/// A mark far from what the model expects of this judge on this application, more than the
/// judge's own spread explains.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct OutlyingMark {
    /// The application.
    pub application: String,
    /// The judge.
    pub judge: String,
    /// The indicator.
    pub indicator: String,
    /// The mark (its value, for a level).
    pub mark: f64,
    /// The mean of the other judges' marks.
    pub others: f64,
    /// What the model expects: the application's level plus the judge's effect.
    pub expected: f64,
    /// The chance of a residual at least this large from this judge by chance alone
    /// (two-sided, before the false discovery rate is applied).
    pub p_value: f64,
}

/// A judge who gave every indicator of an application the same mark.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Halo {
    /// The application.
    pub application: String,
    /// The judge.
    pub judge: String,
    /// The mark given to all of its indicators.
    pub mark: f64,
}

/// Where a judge stands out.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Thresholds {
    /// |severity| at or above this many marks flags a judge (when its interval excludes zero).
    pub severity: f64,
    /// Consistency below this (with at least five shared applications) flags a judge.
    pub consistency: f64,
    /// A residual this large (in marks) at least is outlying, when it is also unlikely by
    /// chance.
    pub outlier: f64,
    /// The false discovery rate the outlying marks are held to.
    pub outlier_fdr: f64,
    /// The fewest applications shared with co-judges on which a judge's severity is flagged.
    pub min_shared: usize,
}

pub(crate) struct JudgeFindings {
    pub judges: Vec<JudgeReport>,
    pub outlying: Vec<OutlyingMark>,
    pub halo: Vec<Halo>,
}

/// The two-sided 95% quantile of Student's t with `df` degrees of freedom (bisection).
fn t_quantile(df: f64) -> f64 {
    let (mut lo, mut hi) = (0.0, 100.0);
    for _ in 0..80 {
        let mid = (lo + hi) / 2.0;
        if t_two_sided(mid, df) > 0.05 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    (lo + hi) / 2.0
}

/// Outlying marks on every indicator of the panel: per indicator the model is fitted, each
/// residual is studentised by its judge's own spread on that indicator (their other marks'
/// residuals; the pooled residual where they gave fewer than three others), and the p-values
/// of the whole category are held to the false discovery rate.
fn outliers(panel: &Panel<'_>, limits: Thresholds) -> Vec<OutlyingMark> {
    let mut candidates: Vec<(OutlyingMark, f64)> = Vec::new();
    for (k, (_, indicator)) in panel.indicators.iter().enumerate() {
        let cells = panel.cells(|s| s.indicators[k]);
        let Some(fit) = components::fit(&cells) else {
            continue;
        };
        let (pooled, pooled_df) = fit.residual();
        let residuals = fit.residuals();
        for (c, (r, h)) in cells.iter().zip(residuals) {
            if 1.0 - h <= 1e-9 {
                continue; // the mark is all its application has to say: no residual to judge
            }
            let (mut squares, mut df) = (0.0, 0.0);
            for (o, (ro, ho)) in cells.iter().zip(residuals) {
                if o.judge == c.judge && o.app != c.app {
                    squares += ro * ro;
                    df += 1.0 - ho;
                }
            }
            let (variance, df) = if df >= 2.0 {
                (squares / df, df)
            } else {
                (pooled, pooled_df)
            };
            if variance <= 0.0 {
                continue;
            }
            let t = r / (variance * (1.0 - h)).sqrt();
            let others: Vec<f64> = cells
                .iter()
                .filter(|o| o.app == c.app && o.judge != c.judge)
                .map(|o| o.value)
                .collect();
            let mean = others.iter().sum::<f64>() / others.len().max(1) as f64;
            candidates.push((
                OutlyingMark {
                    application: panel.applications[c.app].to_owned(),
                    judge: panel.judges[c.judge].to_owned(),
                    indicator: indicator.id.to_string(),
                    mark: c.value,
                    others: mean,
                    expected: c.value - r,
                    p_value: t_two_sided(t, df),
                },
                r.abs(),
            ));
        }
    }
    let p: Vec<f64> = candidates.iter().map(|(m, _)| m.p_value).collect();
    let rejected = benjamini_hochberg(&p, limits.outlier_fdr);
    candidates
        .into_iter()
        .zip(rejected)
        .filter(|((_, size), reject)| *reject && *size >= limits.outlier)
        .map(|((m, _), _)| m)
        .collect()
}

pub(crate) fn judges(panel: &Panel<'_>, limits: Thresholds) -> JudgeFindings {
    let n = panel.judges.len();
    let mut offsets: Vec<Vec<(f64, f64)>> = vec![Vec::new(); n];
    let mut counts = vec![0usize; n];
    let mut halo = Vec::new();
    for (a, sheets) in panel.sheets.iter().enumerate() {
        let app = panel.applications[a];
        for s in sheets {
            counts[s.judge] += 1;
            let others: Vec<f64> = sheets
                .iter()
                .filter(|o| o.judge != s.judge)
                .filter_map(|o| o.overall)
                .collect();
            if let (Some(mine), false) = (s.overall, others.is_empty()) {
                let mean = others.iter().sum::<f64>() / others.len() as f64;
                offsets[s.judge].push((mine, mean));
            }
            let given: Vec<f64> = s.indicators.iter().flatten().copied().collect();
            if given.len() >= 3 && given.iter().all(|v| *v == given[0]) {
                halo.push(Halo {
                    application: app.to_owned(),
                    judge: panel.judges[s.judge].to_owned(),
                    mark: given[0],
                });
            }
        }
    }
    let outlying = outliers(panel, limits);
    let model = components::fit(&panel.cells(|s| s.overall));
    let t = model.as_ref().map(|m| t_quantile(m.residual().1));
    let judges = (0..n)
        .map(|j| {
            let id = panel.judges[j];
            let pairs = &offsets[j];
            let effect = model.as_ref().and_then(|m| m.effect(j));
            let interval = effect
                .zip(t)
                .map(|((e, se), t)| [e - t * se, e + t * se]);
            let consistency = pearson(pairs);
            let halo_count = halo.iter().filter(|h| h.judge == id).count();
            let outlying_count = outlying.iter().filter(|o| o.judge == id).count();
            let mut flags = Vec::new();
            if let (Some((e, _)), Some([lo, hi])) = (effect, interval)
                && pairs.len() >= limits.min_shared
                && e.abs() >= limits.severity
                && (lo > 0.0 || hi < 0.0)
            {
                flags.push(format!(
                    "{} by {:.2} marks against the average judge (95% interval {:.2} to {:.2}), allowing for the applications they marked",
                    if e < 0.0 { "severe" } else { "lenient" },
                    e.abs(),
                    lo.abs().min(hi.abs()),
                    lo.abs().max(hi.abs()),
                ));
            }
            if let Some(r) = consistency
                && pairs.len() >= 5
                && r < limits.consistency
            {
                flags.push(format!(
                    "inconsistent with their co-judges (correlation {r:.2})"
                ));
            }
            if counts[j] >= 2 && halo_count * 2 > counts[j] {
                flags.push(format!(
                    "one mark for every indicator on {halo_count} of {} applications",
                    counts[j]
                ));
            }
            JudgeReport {
                judge: id.to_owned(),
                applications: counts[j],
                shared: pairs.len(),
                severity: effect.map(|e| e.0),
                severity_se: effect.map(|e| e.1),
                severity_interval: interval,
                consistency,
                halo: halo_count,
                outlying_marks: outlying_count,
                flags,
            }
        })
        .collect();
    JudgeFindings {
        judges,
        outlying,
        halo,
    }
}
