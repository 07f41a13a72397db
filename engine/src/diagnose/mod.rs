//! Can the jury be trusted, and would the winners change? Judge diagnostics from the marks as
//! judged (agreement, each judge's severity and consistency, outlying marks, halo) and the
//! ranking's robustness to the choices behind it, with warnings an administrator should read
//! before publishing. Pure: values in, data out.

mod agreement;
mod components;
mod data;
mod distributions;
mod judges;
mod robustness;

use std::collections::HashMap;

use rust_decimal::prelude::ToPrimitive;
use schemars::JsonSchema;
use serde::Serialize;

use crate::application::{Application, Marks};
use crate::definition::model::Award;
use crate::plugin::PluginSet;
use crate::scoring::{EvaluateOptions, InputErrors, evaluate_with};
use components::Cell;

pub use agreement::Icc;
pub use judges::{Halo, JudgeReport, OutlyingMark};
pub use robustness::{
    CategoryRobustness, MethodRobustness, RankInterval, RobustnessOptions, Sensitivity,
};

/// What [`diagnose`] computes, and from which seed.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct DiagnoseOptions {
    /// The seed of every interval and of the simulation: the same seed gives the same
    /// numbers, bit for bit.
    pub seed: u64,
    /// Draws for each interval (1,000 by default; 0 for none).
    pub bootstrap: u32,
    /// A judge whose effect in the additive model is at least this share of the scale's range,
    /// with a 95% interval that excludes zero, over at least five shared applications, is
    /// flagged (0.1 by default: one mark on a 0-10 scale).
    pub severity: f64,
    /// A judge whose marks correlate with their co-judges' mean below this (over at least
    /// five shared applications) is flagged (0.3 by default).
    pub consistency: f64,
    /// A mark whose residual (after its application's level and its judge's severity) is at
    /// least this share of the scale's range, and unlikely by chance given the judge's own
    /// spread, is outlying (0.3 by default).
    pub outlier: f64,
    /// The false discovery rate outlying marks are held to (Benjamini–Hochberg; 0.05 by
    /// default): of the marks flagged, about this share are expected to be chance.
    pub outlier_fdr: f64,
    /// Agreement below this alpha is a warning (0.667 by default, Krippendorff's bound for
    /// tentative conclusions).
    pub poor_alpha: f64,
    /// The ranking's robustness; `None` to skip the simulation.
    pub robustness: Option<RobustnessOptions>,
}

impl Default for DiagnoseOptions {
    fn default() -> Self {
        Self {
            seed: 2023,
            bootstrap: 1_000,
            severity: 0.1,
            consistency: 0.3,
            outlier: 0.3,
            outlier_fdr: 0.05,
            poor_alpha: 0.667,
            robustness: Some(RobustnessOptions::default()),
        }
    }
}

impl DiagnoseOptions {
    /// The options an award's rubric sets (`scoring.diagnostics`), defaults elsewhere.
    pub fn for_award(award: &Award) -> Self {
        let d = &award.scoring.diagnostics;
        let share = |v: Option<rust_decimal::Decimal>, default: f64| {
            v.and_then(|v| v.to_f64()).unwrap_or(default)
        };
        let base = Self::default();
        let r = RobustnessOptions::default();
        let draws = d.draws.unwrap_or(r.draws);
        Self {
            seed: d.seed.unwrap_or(base.seed),
            bootstrap: d.bootstrap.unwrap_or(base.bootstrap),
            severity: share(d.severity, base.severity),
            consistency: share(d.consistency, base.consistency),
            outlier: share(d.outlier, base.outlier),
            outlier_fdr: share(d.outlier_fdr, base.outlier_fdr),
            poor_alpha: share(d.poor_alpha, base.poor_alpha),
            robustness: (draws > 0).then(|| RobustnessOptions {
                draws,
                weight_range: share(d.weight_range, r.weight_range),
                normalisations: d.normalisations.unwrap_or(r.normalisations),
                aggregations: d.aggregations.unwrap_or(r.aggregations),
                leave_one_judge_out: d.leave_one_judge_out.unwrap_or(r.leave_one_judge_out),
                resample_judges: d.resample_judges.unwrap_or(r.resample_judges),
                top_k: d.top_k.or(r.top_k),
            }),
        }
    }
}

/// Agreement on one quantity (a criterion, or the overall mark).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Agreement {
    /// Krippendorff's alpha, interval metric (missing marks allowed); `None` when there is
    /// nothing to compare (fewer than two judges on any application, or no variation).
    pub alpha: Option<f64>,
    /// Its 95% interval: the agreement a single judge drawn from the same population of judges
    /// would reach, from a variance-components model (application, judge, residual; both
    /// applications and judges sampled) by generalized pivotal quantities. `None` with fewer
    /// than five applications marked by two judges or more.
    pub interval: Option<[f64; 2]>,
    /// In words.
    pub reading: String,
    /// Applications with two judges or more.
    pub units: usize,
}

/// Intraclass correlation, where the design allows it.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct IccReport {
    /// `two-way` (every judge marked every application: ICC2 and ICC2k, absolute agreement,
    /// judges random) or `one-way` (the same number of judges on every application, not the
    /// same judges: ICC1 and ICC1k).
    pub model: String,
    /// All six, as pingouin and Shrout and Fleiss define them; read the model's.
    pub values: Icc,
    /// The reliability of the panel's mean (ICC2k or ICC1k).
    pub panel: f64,
    /// Its 95% interval, from the same variance-components model as alpha's.
    pub interval: Option<[f64; 2]>,
    /// In words.
    pub reading: String,
}

/// A criterion's agreement.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CriterionAgreement {
    /// The criterion.
    pub criterion: String,
    /// Its agreement.
    #[serde(flatten)]
    pub agreement: Agreement,
}

/// An indicator's agreement: on its marks as numbers, and as ordered steps.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct IndicatorAgreement {
    /// The indicator.
    pub indicator: String,
    /// Its agreement, interval metric.
    #[serde(flatten)]
    pub agreement: Agreement,
    /// Krippendorff's alpha, ordinal metric: the marks as ordered steps (a judge's "7" and
    /// another's "8" are as far apart as the marks given between them make them); `None` as
    /// `alpha`.
    pub ordinal_alpha: Option<f64>,
}

/// One category's diagnostics.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CategoryDiagnosis {
    /// The category.
    pub category: String,
    /// Judges who marked in it.
    pub judges: usize,
    /// Admitted applications with marks.
    pub applications: usize,
    /// Evaluations.
    pub evaluations: usize,
    /// Whether every judge marked every application.
    pub complete: bool,
    /// Agreement on the overall mark (the weighted mean of a judge's marks).
    pub overall: Agreement,
    /// Agreement on the values the rubric combines and ranks by: each judge's total after
    /// normalisation; `None` when the rubric does not normalise (then it is `overall`'s scale).
    pub ranked_by: Option<Agreement>,
    /// Agreement per criterion.
    pub criteria: Vec<CriterionAgreement>,
    /// Agreement per indicator, on its marks as given (numbers and ordered steps).
    pub indicators: Vec<IndicatorAgreement>,
    /// ICC, when the design allows it; otherwise `None` (alpha applies to any design).
    pub icc: Option<IccReport>,
    /// ICC on the values the rubric ranks by (each judge's normalised total), when it
    /// normalises and the design allows it.
    pub ranked_by_icc: Option<IccReport>,
    /// Each judge.
    pub judge_reports: Vec<JudgeReport>,
    /// Marks far from the other judges' marks.
    pub outlying_marks: Vec<OutlyingMark>,
    /// One mark for every indicator.
    pub halo: Vec<Halo>,
    /// The ranking's robustness, when asked for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub robustness: Option<CategoryRobustness>,
}

/// Diagnostics of a jury and its ranking.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Diagnosis {
    /// The options used.
    pub options: DiagnoseOptions,
    /// Per category with marks.
    pub categories: Vec<CategoryDiagnosis>,
    /// What an administrator should read before publishing.
    pub warnings: Vec<String>,
}

/// The values of `cells` grouped by application (in order of first appearance).
/// The cells grouped by application, in application order.
fn by_app(cells: &[Cell]) -> Vec<Vec<Cell>> {
    let mut apps: Vec<usize> = cells.iter().map(|c| c.app).collect();
    apps.sort_unstable();
    apps.dedup();
    let mut groups = vec![Vec::new(); apps.len()];
    for c in cells {
        if let Ok(a) = apps.binary_search(&c.app) {
            groups[a].push(*c);
        }
    }
    groups
}

/// Each application's values, in application order.
fn units_of(cells: &[Cell]) -> Vec<Vec<f64>> {
    by_app(cells)
        .iter()
        .map(|g| g.iter().map(|c| c.value).collect())
        .collect()
}

fn agreement_of(cells: &[Cell], options: &DiagnoseOptions, salt: u64) -> Agreement {
    let groups = by_app(cells);
    let units: Vec<Vec<f64>> = groups
        .iter()
        .map(|g| g.iter().map(|c| c.value).collect())
        .collect();
    let alpha = agreement::alpha_interval(&units);
    let pairable = units.iter().filter(|u| u.len() >= 2).count();
    // The interval comes from the variance-components model over the applications with two
    // judges or more: both applications and judges sampled.
    let interval = alpha
        .filter(|_| pairable >= agreement::MIN_UNITS)
        .and_then(|_| {
            let paired: Vec<Cell> = groups
                .iter()
                .filter(|g| g.len() >= 2)
                .flatten()
                .copied()
                .collect();
            components::fit(&paired)?.intervals(options.bootstrap, options.seed ^ salt)
        })
        .map(|i| i.single);
    Agreement {
        alpha,
        interval,
        // No verbal reading on thin data: a word would claim more than a few applications show.
        reading: match alpha {
            None => "not measurable: no application has two judges, or no mark differs".to_owned(),
            Some(_) if pairable < agreement::MIN_UNITS => format!(
                "not read: fewer than {} applications marked by two judges or more",
                agreement::MIN_UNITS
            ),
            Some(a) => agreement::read_alpha(a).to_owned(),
        },
        units: pairable,
    }
}

fn icc_of(cells: &[Cell], options: &DiagnoseOptions, salt: u64) -> Option<IccReport> {
    // Per application its values in judge order; the same number on each, two or more.
    let rows: Vec<Vec<(usize, f64)>> = by_app(cells)
        .into_iter()
        .map(|g| g.into_iter().map(|c| (c.judge, c.value)).collect())
        .collect();
    let k = rows.first()?.len();
    if k < 2 || rows.iter().any(|r| r.len() != k) {
        return None;
    }
    let mut judges: Vec<usize> = cells.iter().map(|c| c.judge).collect();
    judges.sort_unstable();
    judges.dedup();
    // Two-way when every judge marked every application.
    let two_way = judges.len() == k;
    let table: Vec<Vec<f64>> = rows
        .into_iter()
        .map(|mut r| {
            r.sort_by_key(|x| x.0);
            r.into_iter().map(|x| x.1).collect()
        })
        .collect();
    let mut values = agreement::icc(&table)?;
    if !two_way {
        // Judges differ from application to application: the two-way types have no meaning
        // (they would change with the order the judges are listed in).
        values.icc2 = None;
        values.icc3 = None;
        values.icc2k = None;
        values.icc3k = None;
    }
    let pick = move |i: &Icc| if two_way { i.icc2k } else { Some(i.icc1k) };
    let panel_value = pick(&values)?;
    // ICC(A,k) and ICC(1,k) both estimate σa² / (σa² + (σj² + σe²) / k): the model's panel
    // interval.
    let interval = (table.len() >= agreement::MIN_UNITS)
        .then(|| components::fit(cells)?.intervals(options.bootstrap, options.seed ^ salt))
        .flatten()
        .map(|i| i.panel);
    Some(IccReport {
        model: if two_way { "two-way" } else { "one-way" }.to_owned(),
        values,
        panel: panel_value,
        interval,
        reading: if table.len() < agreement::MIN_UNITS {
            format!("not read: fewer than {} applications", agreement::MIN_UNITS)
        } else {
            agreement::read_icc(panel_value).to_owned()
        },
    })
}

/// Diagnoses the jury of `award` on `applications` and `marks`: per category, agreement,
/// judges, outlying marks and halo, and (with `options.robustness`) the ranking's robustness.
/// Fails as [`crate::evaluate`] does when the inputs are wrong.
pub fn diagnose(
    award: &Award,
    applications: &[Application],
    marks: &Marks,
    plugins: &PluginSet,
    options: &DiagnoseOptions,
) -> Result<Diagnosis, InputErrors> {
    diagnose_with_progress(award, applications, marks, plugins, options, &|_, _| {})
}

/// [`diagnose`], calling `progress(done, total)` after each scenario the robustness
/// simulation scores (both parts and the one-at-a-time view), for a caller that shows how far
/// a long diagnosis has come. The numbers are the same as [`diagnose`]'s.
pub fn diagnose_with_progress(
    award: &Award,
    applications: &[Application],
    marks: &Marks,
    plugins: &PluginSet,
    options: &DiagnoseOptions,
    progress: &dyn Fn(u32, u32),
) -> Result<Diagnosis, InputErrors> {
    let results = evaluate_with(
        award,
        applications,
        marks,
        plugins,
        EvaluateOptions { traces: true },
    )?;
    // Each judge's value as the rubric combines it (the normalised total), per application.
    let mut combined: HashMap<String, Vec<Cell>> = HashMap::new();
    for c in &results.categories {
        let mut judges: Vec<&str> = c
            .ranking
            .iter()
            .flat_map(|p| p.trace.judges.iter().map(|j| j.judge.as_str()))
            .collect();
        judges.sort_unstable();
        judges.dedup();
        let cells: Vec<Cell> = c
            .ranking
            .iter()
            .enumerate()
            .flat_map(|(app, p)| {
                let judges = &judges;
                p.trace.judges.iter().filter_map(move |j| {
                    let value = j.normalised.as_ref()?.value.to_f64()?;
                    let judge = judges.binary_search(&j.judge.as_str()).ok()?;
                    Some(Cell { app, judge, value })
                })
            })
            .collect();
        if !cells.is_empty() {
            combined.insert(c.category.to_string(), cells);
        }
    }
    let admitted: Vec<&str> = results
        .eligibility
        .iter()
        .filter(|e| e.admitted)
        .map(|e| e.decision.application.as_str())
        .collect();
    let mut baseline: HashMap<String, Vec<(String, u32, bool)>> = HashMap::new();
    for c in &results.categories {
        baseline.insert(
            c.category.to_string(),
            c.ranking
                .iter()
                .map(|p| (p.application.to_string(), p.rank, p.winner))
                .collect(),
        );
    }
    let mut warnings = Vec::new();
    let robustness::Found {
        categories: mut robust,
        asked,
        failed,
        unmeasured,
    } = match &options.robustness {
        Some(r) => robustness::robustness(
            award,
            applications,
            marks,
            plugins,
            &baseline,
            robustness::Run {
                options: r,
                seed: options.seed,
                progress,
            },
        ),
        None => robustness::Found {
            categories: HashMap::new(),
            asked: 0,
            failed: 0,
            unmeasured: Vec::new(),
        },
    };
    if failed > 0 {
        warnings.push(format!(
            "{failed} of the simulation's {asked} draws could not be scored (a plugin failed or passed its deadline) and are not counted: its figures rest on the {} others",
            asked.saturating_sub(failed)
        ));
        if failed.saturating_mul(2) > asked {
            warnings.push(
                "fewer than half of the simulation's draws could be scored: its figures are thin and may change from run to run"
                    .to_owned(),
            );
        }
    }
    if !unmeasured.is_empty() {
        warnings.push(format!(
            "the effect of {} could not be measured (a plugin failed or passed its deadline) and is not listed",
            unmeasured.join(", ")
        ));
    }
    let (lo, hi) = award.scoring.scale.bounds();
    let range = (hi - lo).to_f64().unwrap_or(0.0);
    let mut categories = Vec::new();
    for (n, category) in award.categories.iter().enumerate() {
        let in_category: Vec<&str> = applications
            .iter()
            .filter(|a| a.category == category.id && admitted.contains(&a.id.as_str()))
            .map(|a| a.id.as_str())
            .collect();
        let panel = data::Panel::of(category, &in_category, marks);
        let id = category.id.as_str();
        let robustness = robust.remove(id);
        if panel.applications.is_empty() && robustness.is_none() {
            continue;
        }
        if award.scoring.ranking.is_some() {
            warnings.push(format!(
                "category `{id}`: the judges rank rather than mark, so agreement and each judge's severity (computed from marks) are not measured here; the ranking's robustness is"
            ));
        }
        let bounds: Vec<(rust_decimal::Decimal, rust_decimal::Decimal)> = {
            let mut b: Vec<_> = panel
                .indicators
                .iter()
                .map(|(_, i)| i.scale.bounds())
                .collect();
            b.sort();
            b.dedup();
            b
        };
        if bounds.len() > 1 {
            warnings.push(format!(
                "category `{id}`: its indicators are on {} different scales ({}): the overall mark and the thresholds (a share of the award's scale) mix them; read each criterion's agreement",
                bounds.len(),
                bounds.iter().map(|(lo, hi)| format!("{lo}..{hi}")).collect::<Vec<_>>().join(", ")
            ));
        }
        let salt = (n as u64) << 32;
        let overall = agreement_of(&panel.cells(|s| s.overall), options, salt);
        let ranked_by = combined
            .get(id)
            .map(|units| agreement_of(units, options, salt | 0xff));
        let criteria: Vec<CriterionAgreement> = category
            .criteria
            .iter()
            .enumerate()
            .map(|(k, c)| CriterionAgreement {
                criterion: c.id.to_string(),
                agreement: agreement_of(
                    &panel.cells(|s| s.criteria[k]),
                    options,
                    salt | (k as u64 + 1),
                ),
            })
            .collect();
        let indicators: Vec<IndicatorAgreement> = panel
            .indicators
            .iter()
            .enumerate()
            .map(|(k, (_, indicator))| {
                let cells = panel.cells(|s| s.indicators[k]);
                IndicatorAgreement {
                    indicator: indicator.id.to_string(),
                    ordinal_alpha: agreement::alpha_ordinal(&units_of(&cells)),
                    agreement: agreement_of(&cells, options, salt | (0x100 + k as u64)),
                }
            })
            .collect();
        let found = judges::judges(
            &panel,
            judges::Thresholds {
                severity: options.severity * range,
                consistency: options.consistency,
                outlier: options.outlier * range,
                outlier_fdr: options.outlier_fdr,
                min_shared: agreement::MIN_UNITS,
            },
        );
        if panel.applications.is_empty() {
            // Rank-based judging: no marks, only the simulation.
        } else if overall.units < agreement::MIN_UNITS {
            warnings.push(format!(
                "category `{id}`: agreement rests on {} applications marked by two judges or more: too few to rely on",
                overall.units
            ));
        }
        if let Some(a) = overall.alpha
            && a < options.poor_alpha
            && overall.units >= agreement::MIN_UNITS
        {
            // An award that normalises ranks by the normalised totals: say agreement on those
            // beside the raw marks', so that raw severity differences do not read as disagreement.
            match ranked_by.as_ref().and_then(|r| r.alpha.map(|b| (b, &r.reading))) {
                Some((b, reading)) => warnings.push(format!(
                    "category `{id}`: on raw marks, {} among the judges (alpha {a:.3} on the overall mark); on the normalised totals the rubric ranks by, {reading} (alpha {b:.3})",
                    overall.reading
                )),
                None => warnings.push(format!(
                    "category `{id}`: {} among the judges (alpha {a:.3} on the overall mark)",
                    overall.reading
                )),
            }
        }
        for c in &criteria {
            if let Some(a) = c.agreement.alpha
                && a < options.poor_alpha
                && c.agreement.units >= agreement::MIN_UNITS
            {
                warnings.push(format!(
                    "category `{id}`, criterion `{}`: {} (alpha {a:.3})",
                    c.criterion, c.agreement.reading
                ));
            }
        }
        for j in &found.judges {
            for f in &j.flags {
                warnings.push(format!("category `{id}`: judge `{}` is {f}", j.judge));
            }
        }
        let names = |apps: &[String]| {
            apps.iter()
                .map(|a| format!("`{a}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        if let Some(r) = &robustness {
            if r.draws > 0 && !r.winners_robust {
                warnings.push(format!(
                    "category `{id}`: the winners depend on the jury: {} win with fewer than 90% of {} juries drawn from the same judges ({})",
                    names(&r.fragile_winners),
                    r.draws,
                    r.sampling
                ));
            }
            if let Some(m) = r
                .methods
                .as_ref()
                .filter(|m| m.draws > 0 && !m.winners_robust)
            {
                warnings.push(format!(
                    "category `{id}`: the winners depend on choices the rubric allows ({}): {} win in fewer than 90% of {} draws with the same jury",
                    m.varied.join("; "),
                    names(&m.fragile_winners),
                    m.draws
                ));
            }
        }
        categories.push(CategoryDiagnosis {
            category: id.to_owned(),
            judges: panel.judges.len(),
            applications: panel.applications.len(),
            evaluations: panel.marks(),
            complete: panel.complete(),
            icc: icc_of(&panel.cells(|s| s.overall), options, 0x1cc),
            ranked_by_icc: combined
                .get(id)
                .and_then(|cells| icc_of(cells, options, 0x1cc ^ salt ^ 0xff)),
            overall,
            ranked_by,
            criteria,
            indicators,
            judge_reports: found.judges,
            outlying_marks: found.outlying,
            halo: found.halo,
            robustness,
        });
    }
    Ok(Diagnosis {
        options: options.clone(),
        categories,
        warnings,
    })
}
