//! Checks the inputs of scoring against the award and indexes them. Every problem is reported,
//! located by JSON pointer into the applications or the marks document; nothing is scored
//! unless there is none.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::ops::Range;

use rust_decimal::Decimal;

use crate::application::{Application, Mark, Marks, RankingSubmission, ReviewDecision};
use crate::definition::check::{backticked, closest};
use crate::definition::model::{Award, Category, Indicator, ScaleKind};
use crate::definition::wire::MissingMarks;
use crate::diagnostics::{Code, Diagnostic, Diagnostics, escape_segment};
use crate::ids::JudgeId;

/// Problems in the inputs of scoring, by document.
#[derive(Debug, Clone, Default, PartialEq, Eq, thiserror::Error)]
#[error("the inputs have {} problems", self.applications.len() + self.marks.len())]
pub struct InputErrors {
    /// Problems in the applications, pointers relative to the list of applications.
    pub applications: Diagnostics,
    /// Problems in the marks document.
    pub marks: Diagnostics,
}

impl InputErrors {
    pub(crate) fn is_empty(&self) -> bool {
        !self.applications.has_errors() && !self.marks.has_errors()
    }
}

/// A category's indicators in one flat list, with each criterion's range in it.
#[derive(Debug)]
pub(crate) struct Layout<'a> {
    pub category: &'a Category,
    pub indicators: Vec<&'a Indicator>,
    pub criteria: Vec<Range<usize>>,
    /// Indicator ids in sorted order with their position, to walk alongside a sorted mark map.
    sorted: Vec<(&'a str, usize)>,
    /// Per indicator: 1 / step, when the scale has a step whose inverse is an integer.
    step_inverse: Vec<Option<Decimal>>,
}

impl<'a> Layout<'a> {
    pub(crate) fn new(category: &'a Category) -> Self {
        let mut indicators = Vec::new();
        let mut criteria = Vec::new();
        for c in &category.criteria {
            let start = indicators.len();
            indicators.extend(c.indicators.iter());
            criteria.push(start..indicators.len());
        }
        let mut sorted: Vec<(&str, usize)> = indicators
            .iter()
            .enumerate()
            .map(|(i, ind)| (ind.id.as_str(), i))
            .collect();
        sorted.sort_unstable();
        let step_inverse = indicators
            .iter()
            .map(|ind| match &ind.scale.kind {
                ScaleKind::Numeric {
                    step: Some(step), ..
                } => Decimal::ONE.checked_div(*step).filter(Decimal::is_integer),
                _ => None,
            })
            .collect();
        Self {
            category,
            indicators,
            criteria,
            sorted,
            step_inverse,
        }
    }

    /// The position of an indicator, searching from `from` in the sorted ids (marks arrive
    /// sorted, so each search continues where the last one stopped).
    fn position(&self, id: &str, from: &mut usize) -> Option<usize> {
        let rest = self.sorted.get(*from..)?;
        // Usually the next id is the one: a complete, sorted sheet matches one to one.
        if let Some((x, i)) = rest.first()
            && *x == id
        {
            *from += 1;
            return Some(*i);
        }
        let k = rest.partition_point(|(x, _)| *x < id);
        match rest.get(k) {
            Some((x, i)) if *x == id => {
                *from += k + 1;
                Some(*i)
            }
            _ => {
                *from += k;
                None
            }
        }
    }
}

/// One judge's marks of one application, aligned with its category's layout.
#[derive(Debug)]
pub(crate) struct Sheet<'a> {
    pub judge: &'a JudgeId,
    /// The judge's position in `Inputs::judges` (judges sorted by id).
    pub judge_index: usize,
    /// The evaluation's position in the marks document.
    pub evaluation: usize,
    /// Per indicator: the mark as given and its value (a level's value, or the number).
    pub marks: Vec<Option<(&'a Mark, Decimal)>>,
    /// The criteria the judge abstained on, in the category's order.
    pub abstained: Vec<&'a crate::ids::CriterionId>,
}

/// The checked, indexed inputs.
#[derive(Debug)]
pub(crate) struct Inputs<'a> {
    pub layouts: HashMap<&'a str, Layout<'a>>,
    /// Every judge who marked something, sorted by id.
    pub judges: Vec<&'a JudgeId>,
    /// Per application (same order as given): its sheets.
    pub sheets: Vec<Vec<Sheet<'a>>>,
    /// Rankings by category.
    pub rankings: HashMap<&'a str, Vec<&'a RankingSubmission>>,
    pub reviews: HashMap<&'a str, &'a ReviewDecision>,
}

pub(crate) fn index<'a>(
    award: &'a Award,
    applications: &'a [Application],
    marks: &'a Marks,
) -> (Inputs<'a>, InputErrors) {
    let mut errors = InputErrors::default();
    let layouts: HashMap<&str, Layout<'_>> = award
        .categories
        .iter()
        .map(|c| (c.id.as_str(), Layout::new(c)))
        .collect();
    let mut app_index: HashMap<&str, usize> = HashMap::new();
    for (i, app) in applications.iter().enumerate() {
        if let Some(first) = app_index.insert(app.id.as_str(), i) {
            app_index.insert(app.id.as_str(), first);
            errors.applications.push(
                Diagnostic::error(
                    Code::DuplicateId,
                    format!("/{i}/id"),
                    format!("duplicate application `{}`", app.id),
                )
                .with_hint(format!("first given at /{first}")),
            );
        }
        if award.category(app.category.as_str()).is_none() {
            errors.applications.push(unknown(
                &format!("/{i}/category"),
                "category",
                app.category.as_str(),
                award.categories.iter().map(|c| c.id.as_str()),
            ));
        }
        if award.applicant_type(app.applicant_type.as_str()).is_none() {
            errors.applications.push(unknown(
                &format!("/{i}/applicant_type"),
                "applicant type",
                app.applicant_type.as_str(),
                award.applicant_types.iter().map(|t| t.id.as_str()),
            ));
        }
    }
    let known_apps = || applications.iter().map(|a| a.id.as_str());
    let mut sheets: Vec<Vec<Sheet<'_>>> = applications.iter().map(|_| Vec::new()).collect();
    let mut judge_index: HashMap<&str, usize> = HashMap::new();
    let mut judges: Vec<&JudgeId> = Vec::new();
    let ranked = award.scoring.ranking.is_some();
    for (k, e) in marks.evaluations.iter().enumerate() {
        // Pointers are formatted only when there is something to report.
        let at = || format!("/evaluations/{k}");
        if ranked {
            errors.marks.push(Diagnostic::error(
                Code::Scoring,
                at(),
                "this award is judged by ranking: give `rankings`, not marks",
            ));
            continue;
        }
        let Some(&a) = app_index.get(e.application.as_str()) else {
            errors.marks.push(unknown(
                &format!("{}/application", at()),
                "application",
                e.application.as_str(),
                known_apps(),
            ));
            continue;
        };
        let judge = *judge_index.entry(e.judge.as_str()).or_insert_with(|| {
            judges.push(&e.judge);
            judges.len() - 1
        });
        if let Some(first) = sheets[a].iter().find(|s| s.judge_index == judge) {
            errors.marks.push(
                Diagnostic::error(
                    Code::DuplicateId,
                    at(),
                    format!("judge `{}` already marked application `{}`", e.judge, e.application),
                )
                .with_hint(format!(
                    "first evaluation at /evaluations/{}; give one evaluation per judge and application",
                    first.evaluation
                )),
            );
            continue;
        }
        let app = &applications[a];
        let Some(layout) = layouts.get(app.category.as_str()) else {
            continue;
        };
        let values = read_sheet(
            award,
            layout,
            app.category.as_str(),
            (Some(e.judge.as_str()), &e.abstained),
            &e.marks,
            &at,
            &mut errors.marks,
        );
        sheets[a].push(Sheet {
            judge: &e.judge,
            judge_index: judge,
            evaluation: k,
            marks: values,
            abstained: layout
                .category
                .criteria
                .iter()
                .filter(|c| e.abstained.contains(&c.id))
                .map(|c| &c.id)
                .collect(),
        });
    }
    // Judges in a fixed order (by id), so that results and traces do not depend on the input's.
    let mut by_id: Vec<usize> = (0..judges.len()).collect();
    by_id.sort_by(|&x, &y| judges[x].cmp(judges[y]));
    let mut position = vec![0; judges.len()];
    for (p, &j) in by_id.iter().enumerate() {
        position[j] = p;
    }
    let judges: Vec<&JudgeId> = by_id.iter().map(|&j| judges[j]).collect();
    for s in &mut sheets {
        for sheet in s.iter_mut() {
            sheet.judge_index = position[sheet.judge_index];
        }
        s.sort_by_key(|sheet| sheet.judge_index);
    }
    let rankings = rankings(award, applications, &app_index, marks, &mut errors);
    let mut reviews = HashMap::new();
    for (k, r) in marks.review_decisions.iter().enumerate() {
        if !app_index.contains_key(r.application.as_str()) {
            errors.marks.push(unknown(
                &format!("/review_decisions/{k}/application"),
                "application",
                r.application.as_str(),
                known_apps(),
            ));
        } else if reviews.insert(r.application.as_str(), r).is_some() {
            errors.marks.push(Diagnostic::error(
                Code::DuplicateId,
                format!("/review_decisions/{k}"),
                format!(
                    "a second review decision for application `{}`",
                    r.application
                ),
            ));
        }
    }
    for (k, m) in marks.special_mentions.iter().enumerate() {
        if !app_index.contains_key(m.application.as_str()) {
            errors.marks.push(unknown(
                &format!("/special_mentions/{k}/application"),
                "application",
                m.application.as_str(),
                known_apps(),
            ));
        }
    }
    (
        Inputs {
            layouts,
            judges,
            sheets,
            rankings,
            reviews,
        },
        errors,
    )
}

fn rankings<'a>(
    award: &'a Award,
    applications: &'a [Application],
    app_index: &HashMap<&str, usize>,
    marks: &'a Marks,
    errors: &mut InputErrors,
) -> HashMap<&'a str, Vec<&'a RankingSubmission>> {
    let mut out: HashMap<&str, Vec<&RankingSubmission>> = HashMap::new();
    let Some(spec) = &award.scoring.ranking else {
        for k in 0..marks.rankings.len() {
            errors.marks.push(Diagnostic::error(
                Code::Scoring,
                format!("/rankings/{k}"),
                "this award is judged by marks: give `evaluations`, not rankings",
            ));
        }
        return out;
    };
    let named = spec.sources.iter().any(|s| !s.is_empty());
    let mut seen: HashMap<(&str, &str, &str), usize> = HashMap::new();
    let mut sets: HashMap<(&str, &str), (usize, BTreeSet<&str>)> = HashMap::new();
    for (k, r) in marks.rankings.iter().enumerate() {
        let at = format!("/rankings/{k}");
        let mut ok = true;
        if award.category(r.category.as_str()).is_none() {
            errors.marks.push(unknown(
                &format!("{at}/category"),
                "category",
                r.category.as_str(),
                award.categories.iter().map(|c| c.id.as_str()),
            ));
            ok = false;
        }
        let source = r.source.as_deref().unwrap_or("");
        match (named, &r.source) {
            (true, None) => {
                errors.marks.push(
                    Diagnostic::error(Code::Scoring, &at, "missing `source`").with_hint(format!(
                        "this award's sources: {}",
                        backticked(&spec.sources)
                    )),
                );
                ok = false;
            }
            (true, Some(s)) if !spec.sources.contains(s) => {
                errors.marks.push(unknown(
                    &format!("{at}/source"),
                    "ranking source",
                    s,
                    spec.sources.iter().map(String::as_str),
                ));
                ok = false;
            }
            (false, Some(_)) => {
                errors.marks.push(Diagnostic::error(
                    Code::Scoring,
                    format!("{at}/source"),
                    "this award's rankings have no sources",
                ));
                ok = false;
            }
            _ => {}
        }
        if let Some(first) = seen.insert((r.judge.as_str(), r.category.as_str(), source), k) {
            errors.marks.push(
                Diagnostic::error(
                    Code::DuplicateId,
                    &at,
                    format!(
                        "judge `{}` already ranked this category{}",
                        r.judge,
                        if source.is_empty() {
                            String::new()
                        } else {
                            format!(" in `{source}`")
                        }
                    ),
                )
                .with_hint(format!("first ranking at /rankings/{first}")),
            );
            continue;
        }
        let mut set = BTreeSet::new();
        for (i, a) in r.order.iter().enumerate() {
            let pointer = format!("{at}/order/{i}");
            match app_index.get(a.as_str()) {
                None => {
                    errors.marks.push(unknown(
                        &pointer,
                        "application",
                        a.as_str(),
                        applications.iter().map(|x| x.id.as_str()),
                    ));
                    ok = false;
                }
                Some(&ix) if applications[ix].category != r.category => {
                    errors.marks.push(Diagnostic::error(
                        Code::Scoring,
                        pointer,
                        format!(
                            "application `{a}` is in category `{}`, not `{}`",
                            applications[ix].category, r.category
                        ),
                    ));
                    ok = false;
                }
                Some(_) => {}
            }
            if !set.insert(a.as_str()) {
                errors.marks.push(Diagnostic::error(
                    Code::DuplicateId,
                    format!("{at}/order/{i}"),
                    format!("application `{a}` is ranked twice"),
                ));
                ok = false;
            }
        }
        match sets.get(&(r.judge.as_str(), r.category.as_str())) {
            Some((first, other)) if *other != set => {
                errors.marks.push(
                    Diagnostic::error(
                        Code::Scoring,
                        format!("{at}/order"),
                        format!(
                            "judge `{}` ranks other applications here than in /rankings/{first}",
                            r.judge
                        ),
                    )
                    .with_hint("a judge's rankings of a category must rank the same applications"),
                );
                ok = false;
            }
            Some(_) => {}
            None => {
                sets.insert((r.judge.as_str(), r.category.as_str()), (k, set));
            }
        }
        if ok {
            out.entry(r.category.as_str()).or_default().push(r);
        }
    }
    out
}

/// Whether `x` is a whole number: its mantissa a multiple of ten to its scale, read as a `u64`
/// when it fits (every mark does), which is several times cheaper than
/// [`Decimal::is_integer`]'s division of the 96-bit mantissa.
fn whole(x: Decimal) -> bool {
    let scale = x.scale();
    if scale == 0 {
        return true;
    }
    match (
        u64::try_from(x.mantissa().unsigned_abs()),
        10u64.checked_pow(scale),
    ) {
        (Ok(m), Some(ten)) => m % ten == 0,
        _ => x.is_integer(),
    }
}

/// A mark's value on its indicator's scale, or why it is not on it.
fn mark_value(
    indicator: &Indicator,
    inverse: Option<Decimal>,
    mark: &Mark,
) -> Result<Decimal, Diagnostic> {
    match (&indicator.scale.kind, mark) {
        (ScaleKind::Numeric { min, max, step }, Mark::Number(n)) => {
            if n < min || n > max {
                return Err(Diagnostic::error(
                    Code::Scoring,
                    "",
                    format!(
                        "mark `{n}` is off the scale {min}..{max} of indicator `{}`",
                        indicator.id
                    ),
                ));
            }
            let on_step = |step: &Decimal| {
                let Some(offset) = n.checked_sub(*min) else {
                    return false;
                };
                // Multiplying by the step's exact integer inverse (0.5 -> 2), computed once per
                // layout, is much cheaper than a decimal remainder; marks come by the million.
                match inverse {
                    Some(inv) => offset.checked_mul(inv).is_some_and(whole),
                    None => offset.checked_rem(*step).is_some_and(|r| r.is_zero()),
                }
            };
            if let Some(step) = step
                && !on_step(step)
            {
                return Err(Diagnostic::error(
                    Code::Scoring,
                    "",
                    format!("mark `{n}` is not on the scale's steps of {step} from {min}"),
                ));
            }
            Ok(*n)
        }
        (ScaleKind::Numeric { .. }, Mark::Level(s)) => Err(Diagnostic::error(
            Code::Scoring,
            "",
            format!(
                "indicator `{}` is marked with a number, not `{s}`",
                indicator.id
            ),
        )),
        (ScaleKind::Levels(levels), mark) => {
            let id = match mark {
                Mark::Level(s) => s.clone(),
                Mark::Number(n) => n.to_string(),
            };
            levels
                .iter()
                .find(|l| l.id == id)
                .map(|l| l.value)
                .ok_or_else(|| {
                    let ids: Vec<&str> = levels.iter().map(|l| l.id.as_str()).collect();
                    let d = Diagnostic::error(
                        Code::Scoring,
                        "",
                        format!("`{id}` is not a level of indicator `{}`", indicator.id),
                    );
                    match closest(&id, ids.iter().copied()) {
                        Some(best) => d.with_hint(format!("did you mean `{best}`?")),
                        None => d.with_hint(format!("levels: {}", backticked(&ids))),
                    }
                })
        }
    }
}

fn unknown<'x>(
    pointer: &str,
    what: &str,
    id: &str,
    known: impl Iterator<Item = &'x str> + Clone,
) -> Diagnostic {
    let d = Diagnostic::error(
        Code::UnknownReference,
        pointer,
        format!("unknown {what} `{id}`"),
    );
    match closest(id, known) {
        Some(best) => d.with_hint(format!("did you mean `{best}`?")),
        None => d,
    }
}

/// Checks decisions that depend on eligibility: reviews only of applications that need one,
/// mentions only of admitted applications of the allowed categories, no more than allowed.
pub(crate) fn check_decisions(
    award: &Award,
    applications: &[Application],
    marks: &Marks,
    needs_review: &HashSet<&str>,
    admitted: &HashSet<&str>,
    errors: &mut InputErrors,
) {
    for (k, r) in marks.review_decisions.iter().enumerate() {
        if applications.iter().any(|a| a.id == r.application)
            && !needs_review.contains(r.application.as_str())
        {
            errors.marks.push(Diagnostic::error(
                Code::Scoring,
                format!("/review_decisions/{k}/application"),
                format!("application `{}` does not need review", r.application),
            ));
        }
    }
    let Some(mentions) = &award.special_mentions else {
        for k in 0..marks.special_mentions.len() {
            errors.marks.push(Diagnostic::error(
                Code::Scoring,
                format!("/special_mentions/{k}"),
                "this award has no special mentions",
            ));
        }
        return;
    };
    let mut seen = HashSet::new();
    for (k, m) in marks.special_mentions.iter().enumerate() {
        let at = format!("/special_mentions/{k}/application");
        let Some(app) = applications.iter().find(|a| a.id == m.application) else {
            continue;
        };
        if !seen.insert(m.application.as_str()) {
            errors.marks.push(Diagnostic::error(
                Code::DuplicateId,
                &at,
                format!("application `{}` is mentioned twice", m.application),
            ));
        }
        if !mentions.from_categories.contains(&app.category) {
            errors.marks.push(
                Diagnostic::error(
                    Code::Scoring,
                    &at,
                    format!(
                        "special mentions are not given in category `{}`",
                        app.category
                    ),
                )
                .with_hint(format!(
                    "they are given in {}",
                    backticked(
                        &mentions
                            .from_categories
                            .iter()
                            .map(|c| c.as_str())
                            .collect::<Vec<_>>()
                    )
                )),
            );
        }
        if !admitted.contains(m.application.as_str()) {
            errors.marks.push(Diagnostic::error(
                Code::Scoring,
                &at,
                format!("application `{}` is not eligible", m.application),
            ));
        }
    }
    if marks.special_mentions.len() > mentions.max as usize {
        errors.marks.push(Diagnostic::error(
            Code::Scoring,
            "/special_mentions",
            format!(
                "{} special mentions given, at most {} allowed",
                marks.special_mentions.len(),
                mentions.max
            ),
        ));
    }
}

/// Reads one judge's marks against a category's layout: each indicator's mark and value, and
/// every problem (unknown indicator, computed indicator, off the scale, missing, an abstention
/// the award does not allow or a mark of a criterion abstained on), with pointers
/// `{at}/marks/<indicator>` and `{at}/abstained/<n>`. A mark given but wrong is reported once,
/// as wrong, not as missing.
#[allow(clippy::too_many_arguments)]
fn read_sheet<'m>(
    award: &Award,
    layout: &Layout<'_>,
    category: &str,
    (judge, abstained): (Option<&str>, &[crate::ids::CriterionId]),
    marks: &'m std::collections::BTreeMap<crate::ids::IndicatorId, Mark>,
    at: &dyn Fn() -> String,
    out: &mut Diagnostics,
) -> Vec<Option<(&'m Mark, Decimal)>> {
    let mut values = vec![None; layout.indicators.len()];
    let mut given = vec![false; layout.indicators.len()];
    // Per indicator: whether the judge abstained on its criterion (sized at the first
    // abstention: most sheets have none).
    let mut abstains: Vec<bool> = Vec::new();
    for (n, id) in abstained.iter().enumerate() {
        let pointer = format!("{}/abstained/{n}", at());
        if abstained[..n].contains(id) {
            out.push(Diagnostic::error(
                Code::DuplicateId,
                pointer,
                format!("criterion `{id}` is named twice"),
            ));
            continue;
        }
        let Some(k) = layout.category.criteria.iter().position(|c| c.id == *id) else {
            out.push(unknown(
                &pointer,
                &format!("criterion of category `{category}`"),
                id.as_str(),
                layout.category.criteria.iter().map(|c| c.id.as_str()),
            ));
            continue;
        };
        if !layout.category.criteria[k].abstain {
            out.push(
                Diagnostic::error(
                    Code::Scoring,
                    pointer,
                    format!(
                        "judges may not abstain on criterion `{id}`: it needs every judge's marks"
                    ),
                )
                .with_hint("the award lets judges abstain on a criterion with `\"abstain\": true`"),
            );
            continue;
        }
        for i in layout.criteria[k].clone() {
            if abstains.is_empty() {
                abstains = vec![false; layout.indicators.len()];
            }
            abstains[i] = true;
        }
    }
    let mut from = 0;
    for (indicator, mark) in marks {
        let pointer = || format!("{}/marks/{}", at(), escape_segment(indicator.as_str()));
        let Some(i) = layout.position(indicator.as_str(), &mut from) else {
            out.push(unknown(
                &pointer(),
                &format!("indicator of category `{category}`"),
                indicator.as_str(),
                layout.indicators.iter().map(|i| i.id.as_str()),
            ));
            continue;
        };
        given[i] = true;
        if abstains.get(i) == Some(&true) {
            out.push(Diagnostic::error(
                Code::Scoring,
                pointer(),
                format!("indicator `{indicator}` belongs to a criterion the judge abstains on: give no mark for it, or do not abstain"),
            ));
            continue;
        }
        if let Some(plugin) = &layout.indicators[i].plugin {
            out.push(Diagnostic::error(Code::Scoring, pointer(), format!("indicator `{indicator}` is computed by plugin `{plugin}`; judges do not mark it")));
            continue;
        }
        if layout.indicators[i].formula.is_some() {
            out.push(Diagnostic::error(
                Code::Scoring,
                pointer(),
                format!(
                    "indicator `{indicator}` is computed by its formula; judges do not mark it"
                ),
            ));
            continue;
        }
        if let (Some(panel), Some(judge)) = (&layout.indicators[i].panel, judge)
            && !panel.judges.iter().any(|j| j.as_str() == judge)
        {
            out.push(
                Diagnostic::error(
                    Code::Scoring,
                    pointer(),
                    format!(
                        "judge `{judge}` is not on panel `{}`, which marks indicator `{indicator}`",
                        panel.id
                    ),
                )
                .with_hint(format!(
                    "panel `{}`: {}",
                    panel.id,
                    backticked(&panel.judges.iter().map(|j| j.as_str()).collect::<Vec<_>>())
                )),
            );
            continue;
        }
        match mark_value(layout.indicators[i], layout.step_inverse[i], mark) {
            Ok(v) => values[i] = Some((mark, v)),
            Err(d) => out.push(Diagnostic {
                pointer: pointer(),
                ..d
            }),
        }
    }
    if award.scoring.missing_marks == MissingMarks::Error {
        let missing: Vec<&str> = layout
            .indicators
            .iter()
            .zip(&given)
            .enumerate()
            .filter(|(k, (i, g))| {
                !**g && abstains.get(*k) != Some(&true) && !i.is_computed() && on_panel(i, judge)
            })
            .map(|(_, (i, _))| i.id.as_str())
            .collect();
        if !missing.is_empty() {
            out.push(
                Diagnostic::error(Code::Scoring, format!("{}/marks", at()), format!("missing marks for {}", backticked(&missing)))
                    .with_hint("every indicator needs a mark; or set `\"missing_marks\": \"renormalise\"` in the award"),
            );
        }
    }
    values
}

/// Whether `judge` marks `indicator`: it has no panel, or the judge is on it (an unknown judge
/// is on every panel, for a check without one).
pub(crate) fn on_panel(indicator: &Indicator, judge: Option<&str>) -> bool {
    match (&indicator.panel, judge) {
        (Some(panel), Some(judge)) => panel.judges.iter().any(|j| j.as_str() == judge),
        _ => true,
    }
}

/// Checks one judge's marks of an application of `category`, as scoring will: every indicator
/// known, the judge on the panel of each indicator they mark, every mark on its scale, none
/// missing (when the award says missing marks are an error) but those of the criteria the
/// judge abstains on (`abstained`, each one the award allows abstaining on, with no mark).
/// Pointers are `/marks/<indicator>` and `/abstained/<n>`.
pub fn check_marks(
    award: &Award,
    category: &str,
    judge: &str,
    marks: &std::collections::BTreeMap<crate::ids::IndicatorId, Mark>,
    abstained: &[crate::ids::CriterionId],
) -> Diagnostics {
    let mut out = Diagnostics::new();
    let Some(c) = award.category(category) else {
        out.push(Diagnostic::error(
            Code::UnknownReference,
            "",
            format!("unknown category `{category}`"),
        ));
        return out;
    };
    read_sheet(
        award,
        &Layout::new(c),
        category,
        (Some(judge), abstained),
        marks,
        &String::new,
        &mut out,
    );
    out
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use rust_decimal::Decimal;

    proptest! {
        /// The cheap test of a whole number agrees with the decimal library's, whatever the
        /// mantissa (within `u64` or beyond), its sign and its scale.
        #[test]
        fn whole_agrees_with_is_integer(
            lo in any::<u32>(), mid in any::<u32>(), hi in prop_oneof![Just(0u32), any::<u32>()],
            negative in any::<bool>(), scale in 0u32..=28, zeros in 0u32..=28,
        ) {
            let x = Decimal::from_parts(lo, mid, hi, negative, scale);
            prop_assert_eq!(super::whole(x), x.is_integer(), "{}", x);
            // Values with trailing zeros (whole when there are as many as the scale): the two
            // agree on these too.
            if let Some(m) = 10i128.checked_pow(zeros.min(scale)).and_then(|t| i128::from(lo).checked_mul(t))
                && let Ok(y) = Decimal::try_from_i128_with_scale(m, scale)
            {
                prop_assert_eq!(super::whole(y), y.is_integer(), "{}", y);
            }
        }
    }
}
