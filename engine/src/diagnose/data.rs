//! The marks as judged, per category: for each admitted application, each judge's mark on
//! every indicator (levels by their value), their mark per criterion (the weighted mean of
//! its indicators' marks) and overall (the weighted mean of the criteria), on the marks' scale.
//! Factors, bases, normalisation and plugins are left out: this is what the judges said.

use rust_decimal::prelude::ToPrimitive;

use super::components::Cell;
use crate::application::{Mark, Marks};
use crate::definition::model::{Category, Indicator, ScaleKind};

/// One judge's marks of one application.
#[derive(Debug, Clone)]
pub(crate) struct Sheet {
    /// Position in [`Panel::judges`].
    pub judge: usize,
    /// Per indicator of the category (in its order).
    pub indicators: Vec<Option<f64>>,
    /// Per criterion of the category.
    pub criteria: Vec<Option<f64>>,
    /// Weighted over the criteria.
    pub overall: Option<f64>,
}

/// A category's marks.
#[derive(Debug)]
pub(crate) struct Panel<'a> {
    /// Indicators in the category's order: (criterion index, indicator).
    pub indicators: Vec<(usize, &'a Indicator)>,
    /// Judges who marked in the category, by id.
    pub judges: Vec<&'a str>,
    /// Admitted applications of the category that have marks, in input order.
    pub applications: Vec<&'a str>,
    /// Per application: its judges' sheets, by judge.
    pub sheets: Vec<Vec<Sheet>>,
}

fn value(indicator: &Indicator, mark: &Mark) -> Option<f64> {
    match (mark, &indicator.scale.kind) {
        (Mark::Number(n), _) => n.to_f64(),
        (Mark::Level(id), ScaleKind::Levels(levels)) => {
            levels.iter().find(|l| &l.id == id)?.value.to_f64()
        }
        (Mark::Level(_), ScaleKind::Numeric { .. }) => None,
    }
}

fn weighted(parts: impl Iterator<Item = (f64, Option<f64>)>) -> Option<f64> {
    let (mut total, mut weights, mut plain, mut count) = (0.0, 0.0, 0.0, 0usize);
    for (w, v) in parts {
        if let Some(v) = v {
            total += w * v;
            weights += w;
            plain += v;
            count += 1;
        }
    }
    if count == 0 {
        None
    } else if weights > 0.0 {
        Some(total / weights)
    } else {
        Some(plain / count as f64)
    }
}

impl<'a> Panel<'a> {
    /// The panel of `category` over the admitted applications.
    pub(crate) fn of(category: &'a Category, admitted: &[&'a str], marks: &'a Marks) -> Panel<'a> {
        let indicators: Vec<(usize, &Indicator)> = category
            .criteria
            .iter()
            .enumerate()
            .flat_map(|(c, crit)| crit.indicators.iter().map(move |i| (c, i)))
            .collect();
        let position = |app: &str| admitted.iter().position(|a| *a == app);
        let mut judges: Vec<&str> = marks
            .evaluations
            .iter()
            .filter(|e| position(e.application.as_str()).is_some())
            .map(|e| e.judge.as_str())
            .collect();
        judges.sort_unstable();
        judges.dedup();
        let mut sheets: Vec<Vec<Sheet>> = vec![Vec::new(); admitted.len()];
        for e in &marks.evaluations {
            let Some(a) = position(e.application.as_str()) else {
                continue;
            };
            let Ok(judge) = judges.binary_search(&e.judge.as_str()) else {
                continue;
            };
            let values: Vec<Option<f64>> = indicators
                .iter()
                .map(|(_, ind)| e.marks.get(&ind.id).and_then(|m| value(ind, m)))
                .collect();
            let criteria: Vec<Option<f64>> = (0..category.criteria.len())
                .map(|c| {
                    weighted(
                        indicators
                            .iter()
                            .zip(&values)
                            .filter(|((k, _), _)| *k == c)
                            .map(|((_, ind), v)| (ind.weight.to_f64().unwrap_or(0.0), *v)),
                    )
                })
                .collect();
            let overall = weighted(
                category
                    .criteria
                    .iter()
                    .zip(&criteria)
                    .map(|(c, v)| (c.weight.to_f64().unwrap_or(0.0), *v)),
            );
            sheets[a].push(Sheet {
                judge,
                indicators: values,
                criteria,
                overall,
            });
        }
        for s in &mut sheets {
            s.sort_by_key(|x| x.judge);
        }
        let keep: Vec<bool> = sheets.iter().map(|s| !s.is_empty()).collect();
        let applications = admitted
            .iter()
            .zip(&keep)
            .filter(|(_, k)| **k)
            .map(|(a, _)| *a)
            .collect();
        let sheets = sheets.into_iter().filter(|s| !s.is_empty()).collect();
        Panel {
            indicators,
            judges,
            applications,
            sheets,
        }
    }

    /// The values `pick` takes from each sheet (those it has), as cells of the
    /// variance-components model: application by position, judge by position.
    pub(crate) fn cells(&self, pick: impl Fn(&Sheet) -> Option<f64>) -> Vec<Cell> {
        let pick = &pick;
        self.sheets
            .iter()
            .enumerate()
            .flat_map(|(app, sheets)| {
                sheets.iter().filter_map(move |s| {
                    pick(s).map(|value| Cell {
                        app,
                        judge: s.judge,
                        value,
                    })
                })
            })
            .collect()
    }

    /// How many sheets in all.
    pub(crate) fn marks(&self) -> usize {
        self.sheets.iter().map(Vec::len).sum()
    }

    /// Whether every judge marked every application.
    pub(crate) fn complete(&self) -> bool {
        self.sheets.iter().all(|s| s.len() == self.judges.len())
    }
}
