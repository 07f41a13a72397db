//! Each judge against their co-judges: severity (their mean offset from the others on the same
//! applications), consistency (the correlation of their marks with the others' mean), marks far
//! from the other judges' marks on the same indicator, and halo (one mark for every indicator).

use schemars::JsonSchema;
use serde::Serialize;

use super::agreement::pearson;
use super::data::Panel;

/// One judge's diagnostics in a category.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct JudgeReport {
    /// The judge.
    pub judge: String,
    /// Applications they marked.
    pub applications: usize,
    /// Of those, marked by at least one other judge too.
    pub shared: usize,
    /// Their mean overall mark minus their co-judges' mean on the same applications, in marks
    /// (negative: severe; positive: lenient).
    pub severity: Option<f64>,
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

/// A mark far from the other judges' marks on the same application and indicator.
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
    /// |severity| at or above this many marks flags a judge.
    pub severity: f64,
    /// Consistency below this (with at least five shared applications) flags a judge.
    pub consistency: f64,
    /// A mark this far from the others' mean (in marks) is outlying.
    pub outlier: f64,
}

pub(crate) struct JudgeFindings {
    pub judges: Vec<JudgeReport>,
    pub outlying: Vec<OutlyingMark>,
    pub halo: Vec<Halo>,
}

pub(crate) fn judges(panel: &Panel<'_>, limits: Thresholds) -> JudgeFindings {
    let n = panel.judges.len();
    let mut offsets: Vec<Vec<(f64, f64)>> = vec![Vec::new(); n];
    let mut counts = vec![0usize; n];
    let mut outlying = Vec::new();
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
        for (k, (_, indicator)) in panel.indicators.iter().enumerate() {
            let marks: Vec<(usize, f64)> = sheets
                .iter()
                .filter_map(|s| s.indicators[k].map(|v| (s.judge, v)))
                .collect();
            if marks.len() < 3 {
                continue;
            }
            for &(judge, mark) in &marks {
                let others: Vec<f64> = marks
                    .iter()
                    .filter(|(j, _)| *j != judge)
                    .map(|(_, v)| *v)
                    .collect();
                let mean = others.iter().sum::<f64>() / others.len() as f64;
                if (mark - mean).abs() >= limits.outlier {
                    outlying.push(OutlyingMark {
                        application: app.to_owned(),
                        judge: panel.judges[judge].to_owned(),
                        indicator: indicator.id.to_string(),
                        mark,
                        others: mean,
                    });
                }
            }
        }
    }
    let judges = (0..n)
        .map(|j| {
            let id = panel.judges[j];
            let pairs = &offsets[j];
            let severity = (!pairs.is_empty())
                .then(|| pairs.iter().map(|(m, o)| m - o).sum::<f64>() / pairs.len() as f64);
            let consistency = pearson(pairs);
            let halo_count = halo.iter().filter(|h| h.judge == id).count();
            let outlying_count = outlying.iter().filter(|o| o.judge == id).count();
            let mut flags = Vec::new();
            if let Some(s) = severity
                && s.abs() >= limits.severity
            {
                flags.push(format!(
                    "{} by {:.2} marks against their co-judges",
                    if s < 0.0 { "severe" } else { "lenient" },
                    s.abs()
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
                severity,
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
