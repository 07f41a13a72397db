//! From marks to values: indicators, criteria and totals, for one judge or for the panel.

use rust_decimal::Decimal;

use super::arith::{self, Overflow, round};
use super::input::{Layout, Sheet};
use super::results::{CriterionTrace, IndicatorTrace};
use crate::application::Application;
use crate::definition::model::{Indicator, Quantity, Scoring};
use crate::definition::wire::TotalMethod;
use crate::eligibility::lookup;

/// Why an application cannot be scored.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Unscorable {
    /// Its data or marks do not allow it (no marks, too few for a trimmed mean, overflow).
    Data(String),
    /// A plugin failed.
    Plugin(crate::plugin::PluginError),
}

impl std::fmt::Display for Unscorable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unscorable::Data(s) => f.write_str(s),
            Unscorable::Plugin(e) => write!(f, "{e}"),
        }
    }
}

impl From<String> for Unscorable {
    fn from(s: String) -> Self {
        Unscorable::Data(s)
    }
}

impl From<&str> for Unscorable {
    fn from(s: &str) -> Self {
        Unscorable::Data(s.to_owned())
    }
}

impl From<Overflow> for Unscorable {
    fn from(_: Overflow) -> Self {
        Unscorable::Data("arithmetic overflow".to_owned())
    }
}

impl From<crate::plugin::PluginError> for Unscorable {
    fn from(e: crate::plugin::PluginError) -> Self {
        Unscorable::Plugin(e)
    }
}

/// A constant, or the application's number field.
pub(crate) fn quantity(q: &Quantity, app: &Application) -> Result<Decimal, Unscorable> {
    match q {
        Quantity::Number(n) => Ok(*n),
        Quantity::Field(path) => lookup(&app.fields, path)
            .and_then(crate::eligibility::decimal)
            .ok_or_else(|| format!("field `{path}` has no number").into()),
    }
}

/// A mark's points: its value times the indicator's factor, rounded at the `mark` step.
pub(crate) fn points(
    scoring: &Scoring,
    indicator: &Indicator,
    app: &Application,
    value: Decimal,
) -> Result<Decimal, Unscorable> {
    let v = match &indicator.mark_factor {
        Some(f) => arith::mul(value, quantity(f, app)?)?,
        None => value,
    };
    Ok(round(v, scoring.rounding.mark))
}

/// An indicator's value from its points: plus any base, rounded at the `indicator` step, then
/// held within its floor and cap.
pub(crate) fn with_base(
    scoring: &Scoring,
    indicator: &Indicator,
    app: &Application,
    points: Decimal,
) -> Result<Decimal, Unscorable> {
    let v = based(scoring, indicator, app, points)?;
    Ok(limit(v, indicator.floor, indicator.cap).0)
}

/// An indicator's value from its points, plus any base, rounded at the `indicator` step; before
/// its floor and cap.
pub(crate) fn based(
    scoring: &Scoring,
    indicator: &Indicator,
    app: &Application,
    points: Decimal,
) -> Result<Decimal, Unscorable> {
    let v = match &indicator.base {
        Some(b) => arith::add(points, quantity(b, app)?)?,
        None => points,
    };
    Ok(round(v, scoring.rounding.indicator))
}

/// Holds a value within a floor and a cap; says which one applied.
pub(crate) fn limit(
    v: Decimal,
    floor: Option<Decimal>,
    cap: Option<Decimal>,
) -> (Decimal, Option<&'static str>) {
    match (floor, cap) {
        (Some(f), _) if v < f => (f, Some("floor")),
        (_, Some(c)) if v > c => (c, Some("cap")),
        _ => (v, None),
    }
}

/// What a formula reads: the application's fields, and the values of the indicators before it.
pub(crate) struct FormulaInputs<'x> {
    pub app: &'x Application,
    pub layout: &'x Layout<'x>,
    pub values: &'x [Option<Decimal>],
}

impl crate::formula::Values for FormulaInputs<'_> {
    fn read(&self, r: &crate::formula::Ref) -> Option<crate::formula::eval_value::Value> {
        use crate::formula::eval_value::Value;
        match r {
            crate::formula::Ref::Field(path) => {
                crate::eligibility::FieldValues(&self.app.fields).field(path)
            }
            crate::formula::Ref::Indicator(id) => {
                let k = self
                    .layout
                    .indicators
                    .iter()
                    .position(|i| i.id.as_str() == id)?;
                self.values.get(k).copied().flatten().map(Value::Num)
            }
        }
    }

    fn describe(&self, r: &crate::formula::Ref) -> String {
        match r {
            crate::formula::Ref::Field(path) => format!("field `{path}`"),
            crate::formula::Ref::Indicator(id) => format!("indicator `{id}`"),
        }
    }
}

/// The value of a formula indicator, from the application and the values before it: rounded at
/// the `indicator` step (before its floor and cap).
pub(crate) fn formula_value(
    scoring: &Scoring,
    layout: &Layout<'_>,
    k: usize,
    app: &Application,
    values: &[Option<Decimal>],
) -> Result<Option<Decimal>, Unscorable> {
    let Some(ind) = layout.indicators.get(k) else {
        return Ok(None);
    };
    let Some(formula) = &ind.formula else {
        return Ok(None);
    };
    let inputs = FormulaInputs {
        app,
        layout,
        values,
    };
    match formula.number(&inputs) {
        Ok(v) => {
            if let Some((lo, hi)) = ind.formula_bounds
                && (v < lo || v > hi)
            {
                return Err(format!(
                    "indicator `{}`: its formula gave {v}, outside its scale ({lo} to {hi})",
                    ind.id
                )
                .into());
            }
            Ok(Some(round(v, scoring.rounding.indicator)))
        }
        // What it reads is missing (a jump not made): like a missing mark, skipped where the
        // award skips missing marks, an error where it requires every mark.
        Err(crate::formula::Failure::Missing(_))
            if scoring.missing_marks != crate::definition::wire::MissingMarks::Error =>
        {
            Ok(None)
        }
        Err(e) => Err(format!("indicator `{}`: its formula: {e}", ind.id).into()),
    }
}

/// Combines weighted parts; `None` when nothing with a weight is present. Missing parts are
/// skipped and, for a weighted sum, the present weights are scaled up to the full weight.
/// `best` and `worst` take the highest or lowest part that counts; weights only say which count.
pub(crate) fn combine(
    method: TotalMethod,
    parts: impl Iterator<Item = (Decimal, Option<Decimal>)>,
    weighted_rounding: Option<crate::definition::wire::RoundingSpec>,
    scale_up: bool,
) -> Result<Option<Decimal>, Overflow> {
    match method {
        TotalMethod::Best | TotalMethod::Worst => {
            let counted = parts.filter(|(w, _)| !w.is_zero()).filter_map(|(_, v)| v);
            Ok(if method == TotalMethod::Best {
                counted.max()
            } else {
                counted.min()
            })
        }
        TotalMethod::WeightedMean => weighted(parts, weighted_rounding, |total, _, present| {
            arith::div(total, present)
        }),
        TotalMethod::WeightedSum => weighted(parts, weighted_rounding, |total, all, present| {
            if present == all || !scale_up {
                Ok(total)
            } else {
                arith::div(arith::mul(total, all)?, present)
            }
        }),
    }
}

/// Σ wᵢxᵢ over the present parts (each product rounded), finished by `finish(total, all
/// weights, present weights)`; `None` when no part with a weight is present.
fn weighted(
    parts: impl Iterator<Item = (Decimal, Option<Decimal>)>,
    rounding: Option<crate::definition::wire::RoundingSpec>,
    finish: impl FnOnce(Decimal, Decimal, Decimal) -> arith::Num,
) -> Result<Option<Decimal>, Overflow> {
    let mut all = Decimal::ZERO;
    let mut present = Decimal::ZERO;
    let mut total = Decimal::ZERO;
    for (w, v) in parts {
        all = arith::add(all, w)?;
        if let Some(v) = v {
            present = arith::add(present, w)?;
            // Most weights are 1: their product is the value itself.
            let product = if w.scale() == 0 && w.mantissa() == 1 {
                v
            } else {
                arith::mul(w, v)?
            };
            total = arith::add(total, round(product, rounding))?;
        }
    }
    if present.is_zero() {
        return Ok(None);
    }
    finish(total, all, present).map(Some)
}

/// Criteria and total from indicator values (one judge's, or the panel's).
pub(crate) struct Computed<'a> {
    pub criteria: Vec<CriterionTrace<'a>>,
    /// Per criterion of the layout: its score, if any indicator had a value.
    pub criterion_scores: Vec<Option<Decimal>>,
    pub total_raw: Decimal,
    pub total: Decimal,
}

/// Computes criteria and total from per-indicator values; with `traced`, each criterion's
/// breakdown too.
pub(crate) fn compute<'a>(
    scoring: &Scoring,
    layout: &Layout<'a>,
    values: &[Option<Decimal>],
    marks: Option<&Sheet<'a>>,
    traced: bool,
) -> Result<Option<Computed<'a>>, Unscorable> {
    let mut criteria = Vec::with_capacity(if traced { layout.criteria.len() } else { 0 });
    let mut criterion_scores = Vec::with_capacity(layout.criteria.len());
    for (c, range) in layout.category.criteria.iter().zip(&layout.criteria) {
        let inds = range
            .clone()
            .map(|i| (layout.indicators[i].weight, values[i]));
        let scale_up = scoring.missing_marks != crate::definition::wire::MissingMarks::Skip;
        let score = match combine(c.combine, inds, scoring.rounding.weighted, scale_up)? {
            Some(raw) if !traced => {
                Some(limit(round(raw, scoring.rounding.criterion), c.floor, c.cap).0)
            }
            Some(raw) => {
                let (score, limited) =
                    limit(round(raw, scoring.rounding.criterion), c.floor, c.cap);
                criteria.push(CriterionTrace {
                    criterion: &c.id,
                    weight: c.weight,
                    indicators: range
                        .clone()
                        .map(|i| IndicatorTrace {
                            indicator: &layout.indicators[i].id,
                            weight: layout.indicators[i].weight,
                            mark: marks.and_then(|s| s.marks[i].map(|(m, _)| m)),
                            value: values[i],
                        })
                        .collect(),
                    raw,
                    limit: limited,
                    score,
                });
                Some(score)
            }
            None => None,
        };
        criterion_scores.push(score);
    }
    let scale_up = scoring.missing_marks != crate::definition::wire::MissingMarks::Skip;
    let parts = layout
        .category
        .criteria
        .iter()
        .map(|c| c.weight)
        .zip(criterion_scores.iter().copied());
    let Some(total_raw) = combine(scoring.total, parts, scoring.rounding.weighted, scale_up)?
    else {
        return Ok(None);
    };
    Ok(Some(Computed {
        criteria,
        criterion_scores,
        total_raw,
        total: round(total_raw, scoring.rounding.total),
    }))
}

/// One judge's indicator values for an application, into `values` (emptied first: one buffer
/// serves every sheet of a category).
pub(crate) fn judge_values(
    scoring: &Scoring,
    layout: &Layout<'_>,
    app: &Application,
    sheet: &Sheet<'_>,
    computed: &[Option<Decimal>],
    values: &mut Vec<Option<Decimal>>,
) -> Result<(), Unscorable> {
    values.clear();
    for (k, ((ind, mark), computed)) in layout
        .indicators
        .iter()
        .zip(&sheet.marks)
        .zip(computed)
        .enumerate()
    {
        let v = match (computed, mark) {
            (Some(v), _) => Some(limit(*v, ind.floor, ind.cap).0),
            _ if ind.formula.is_some() => formula_value(scoring, layout, k, app, values)?
                .map(|v| limit(v, ind.floor, ind.cap).0),
            (None, Some((_, v))) => {
                let p = points(scoring, ind, app, *v)?;
                Some(with_base(scoring, ind, app, p)?)
            }
            (None, None) => None,
        };
        values.push(v);
    }
    Ok(())
}

/// The values of the indicators a plugin computes for `app` (`None` for the others), rounded
/// at the `indicator` step as marked indicators' values are (before their floor and cap).
pub(crate) fn computed_values(
    scoring: &Scoring,
    layout: &Layout<'_>,
    app: &Application,
    plugins: &crate::plugin::PluginSet,
) -> Result<Vec<Option<Decimal>>, Unscorable> {
    use crate::definition::wire::Hook;
    use crate::plugin::{PluginError, hooks};
    layout
        .indicators
        .iter()
        .map(|ind| {
            let Some(plugin) = &ind.plugin else {
                return Ok(None);
            };
            let input = serde_json::json!({ "application": app, "indicator": ind.id });
            let out = plugins.call(plugin, Hook::Indicator, &input)?;
            let output: hooks::IndicatorOutput =
                hooks::parse(plugin.as_str(), Hook::Indicator, out.value)?;
            if let Err(why) = ind.scale.holds(output.value) {
                return Err(PluginError::MalformedOutput {
                    plugin: plugin.to_string(),
                    hook: Hook::Indicator.as_str().to_owned(),
                    message: format!("the value of indicator `{}`: {why}", ind.id),
                }
                .into());
            }
            Ok(Some(round(output.value, scoring.rounding.indicator)))
        })
        .collect()
}

/// The lowest and highest total a category can have, when every factor and base is a constant.
pub(crate) fn total_bounds(scoring: &Scoring, layout: &Layout<'_>) -> Option<(Decimal, Decimal)> {
    let mut crit = Vec::new();
    for (c, range) in layout.category.criteria.iter().zip(&layout.criteria) {
        let mut inds = Vec::new();
        for i in range.clone() {
            let ind = layout.indicators[i];
            if ind.formula.is_some() {
                // A formula's values lie within the scale it declares, if any, and count within
                // its floor and cap.
                let (declared_lo, declared_hi) = ind.formula_bounds.unzip();
                let (Some(lo), Some(hi)) =
                    (max_of(ind.floor, declared_lo), min_of(ind.cap, declared_hi))
                else {
                    return None;
                };
                inds.push((ind.weight, lo, hi));
                continue;
            }
            let (mut lo, mut hi) = ind.scale.bounds();
            if let Some(f) = &ind.mark_factor {
                let Quantity::Number(f) = f else { return None };
                (lo, hi) = ordered(lo.checked_mul(*f)?, hi.checked_mul(*f)?);
            }
            if let Some(b) = &ind.base {
                let Quantity::Number(b) = b else { return None };
                (lo, hi) = (lo.checked_add(*b)?, hi.checked_add(*b)?);
            }
            let (lo, _) = limit(lo, ind.floor, ind.cap);
            let (hi, _) = limit(hi, ind.floor, ind.cap);
            inds.push((ind.weight, lo, hi));
        }
        let (lo, hi) = bounds_of(c.combine, &inds)?;
        let (lo, _) = limit(lo, c.floor, c.cap);
        let (hi, _) = limit(hi, c.floor, c.cap);
        crit.push((c.weight, lo, hi));
    }
    bounds_of(scoring.total, &crit)
}

fn ordered(a: Decimal, b: Decimal) -> (Decimal, Decimal) {
    if a <= b { (a, b) } else { (b, a) }
}

fn bounds_of(
    method: TotalMethod,
    parts: &[(Decimal, Decimal, Decimal)],
) -> Option<(Decimal, Decimal)> {
    match method {
        TotalMethod::WeightedMean | TotalMethod::Best | TotalMethod::Worst => {
            let counted = parts.iter().filter(|(w, _, _)| !w.is_zero());
            let lo = counted.clone().map(|(_, lo, _)| *lo).min()?;
            let hi = counted.map(|(_, _, hi)| *hi).max()?;
            Some((lo, hi))
        }
        TotalMethod::WeightedSum => {
            let mut lo = Decimal::ZERO;
            let mut hi = Decimal::ZERO;
            for (w, l, h) in parts {
                lo = lo.checked_add(w.checked_mul(*l)?)?;
                hi = hi.checked_add(w.checked_mul(*h)?)?;
            }
            Some((lo, hi))
        }
    }
}

/// The larger of two optional bounds (either alone when the other is absent).
fn max_of(a: Option<Decimal>, b: Option<Decimal>) -> Option<Decimal> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// The smaller of two optional bounds (either alone when the other is absent).
fn min_of(a: Option<Decimal>, b: Option<Decimal>) -> Option<Decimal> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}
