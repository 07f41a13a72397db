//! Assigning `k` judges to each application: conflicts are hard constraints, loads are balanced
//! to within one, expertise is preferred, and the result depends only on the inputs and the seed.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::{ConflictRule, Judge, conflict, expertise_matches};
use crate::application::Application;
use crate::definition::model::Award;
use crate::definition::wire::RoundSpec;
use crate::random::Draw;

/// Who judges what in a round.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AssignmentPlan {
    /// The round.
    pub round: String,
    /// The seed it was drawn with.
    pub seed: u64,
    /// Judges of each application.
    pub by_application: BTreeMap<String, Vec<String>>,
    /// Applications of each judge.
    pub by_judge: BTreeMap<String, Vec<String>>,
    /// How well it covers the applications.
    pub coverage: Coverage,
}

/// A coverage report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Coverage {
    /// Judges per application.
    pub judges_per_application: u32,
    /// Fewest applications any judge has.
    pub min_load: usize,
    /// Most applications any judge has.
    pub max_load: usize,
    /// Assignments where the judge's expertise meets the application's (with an expertise field).
    pub expertise_matched: usize,
    /// All assignments.
    pub assignments: usize,
    /// Judge-application pairs excluded by a conflict of interest.
    pub conflicts_avoided: usize,
    /// Those pairs by the rule that kept them apart.
    pub conflicts_by_rule: BTreeMap<ConflictRule, usize>,
    /// Every pair kept apart, and why (by application, then judge).
    pub kept_apart: Vec<KeptApart>,
    /// Groups of judges linked by shared applications: 1 means every judge's marks can be
    /// compared with every other's through the applications they share (what normalisation needs).
    pub judge_groups: usize,
}

/// A judge kept away from an application by a conflict of interest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeptApart {
    /// The judge.
    pub judge: String,
    /// The application.
    pub application: String,
    /// The rule.
    pub rule: ConflictRule,
    /// Why, in words.
    pub reason: String,
}

/// Why no plan exists: each application that cannot get its judges, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("{} applications cannot be assigned", problems.len())]
pub struct AssignError {
    /// (application, reason).
    pub problems: Vec<(String, String)>,
}

/// Assigns `round.judges_per_application` judges to each application.
pub fn assign(
    award: &Award,
    round: &RoundSpec,
    applications: &[Application],
    judges: &[Judge],
    seed: u64,
) -> Result<AssignmentPlan, AssignError> {
    let k = round.judges_per_application.unwrap_or(0) as usize;
    if k == 0 {
        return Err(AssignError {
            problems: vec![(
                String::new(),
                format!("round `{}` has no judges to assign", round.id),
            )],
        });
    }
    let mut draw = Draw::new(seed);
    // Applications in a seeded order, from a sorted start so that input order does not matter.
    let mut order: Vec<usize> = (0..applications.len()).collect();
    order.sort_by(|&a, &b| applications[a].id.cmp(&applications[b].id));
    for i in (1..order.len()).rev() {
        let j = (draw.next() % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    let mut judge_order: Vec<usize> = (0..judges.len()).collect();
    judge_order.sort_by(|&a, &b| judges[a].id.cmp(&judges[b].id));
    let tiebreak: Vec<u64> = judge_order.iter().map(|_| draw.next()).collect();
    let field = round.expertise_field.as_ref().map(|f| f.as_str());
    let mut load = vec![0usize; judges.len()];
    let mut chosen: Vec<Vec<usize>> = vec![Vec::new(); applications.len()];
    let mut allowed: Vec<Vec<bool>> = vec![vec![true; judges.len()]; applications.len()];
    let mut problems = Vec::new();
    let mut kept_apart = Vec::new();
    for &a in &order {
        let app = &applications[a];
        let mut excluded = Vec::new();
        for (j, judge) in judges.iter().enumerate() {
            if let Some(why) = conflict(award, judge, app) {
                allowed[a][j] = false;
                excluded.push(format!("{} ({why})", judge.id));
                kept_apart.push(KeptApart {
                    judge: judge.id.to_string(),
                    application: app.id.to_string(),
                    rule: why.rule,
                    reason: why.reason,
                });
            }
        }
        let mut candidates: Vec<usize> = (0..judges.len()).filter(|&j| allowed[a][j]).collect();
        if candidates.len() < k {
            problems.push((
                app.id.to_string(),
                format!(
                    "{} judges are free of conflicts, {k} are needed; conflicted: {}",
                    candidates.len(),
                    excluded.join(", ")
                ),
            ));
            continue;
        }
        let rank = |j: usize| {
            judge_order
                .iter()
                .position(|&x| x == j)
                .map_or(0, |p| tiebreak[p])
        };
        candidates.sort_by_key(|&j| {
            (
                load[j],
                field.is_some_and(|f| !expertise_matches(&judges[j], app, f)),
                rank(j),
            )
        });
        for &j in candidates.iter().take(k) {
            chosen[a].push(j);
            load[j] += 1;
        }
    }
    if !problems.is_empty() {
        problems.sort();
        return Err(AssignError { problems });
    }
    rebalance(&mut chosen, &mut load, &allowed);
    let mut by_application = BTreeMap::new();
    let mut by_judge: BTreeMap<String, Vec<String>> = judges
        .iter()
        .map(|j| (j.id.to_string(), Vec::new()))
        .collect();
    let mut expertise_matched = 0;
    for (a, js) in chosen.iter().enumerate() {
        let app = &applications[a];
        let mut names: Vec<String> = js.iter().map(|&j| judges[j].id.to_string()).collect();
        names.sort();
        for &j in js {
            by_judge
                .entry(judges[j].id.to_string())
                .or_default()
                .push(app.id.to_string());
            if field.is_some_and(|f| expertise_matches(&judges[j], app, f)) {
                expertise_matched += 1;
            }
        }
        by_application.insert(app.id.to_string(), names);
    }
    for apps in by_judge.values_mut() {
        apps.sort();
    }
    kept_apart.sort_by(|x, y| (&x.application, &x.judge).cmp(&(&y.application, &y.judge)));
    let coverage = Coverage {
        judges_per_application: k as u32,
        min_load: load.iter().copied().min().unwrap_or(0),
        max_load: load.iter().copied().max().unwrap_or(0),
        expertise_matched,
        assignments: chosen.iter().map(Vec::len).sum(),
        conflicts_avoided: kept_apart.len(),
        conflicts_by_rule: kept_apart.iter().fold(BTreeMap::new(), |mut m, k| {
            *m.entry(k.rule).or_default() += 1;
            m
        }),
        kept_apart,
        judge_groups: groups(&chosen, judges.len(), &load),
    };
    Ok(AssignmentPlan {
        round: round.id.clone(),
        seed,
        by_application,
        by_judge,
        coverage,
    })
}

/// Moves assignments from the busiest judges to the least busy, where no conflict forbids it,
/// until loads differ by at most one (or no move helps).
fn rebalance(chosen: &mut [Vec<usize>], load: &mut [usize], allowed: &[Vec<bool>]) {
    for _ in 0..chosen.len() * 4 + 16 {
        let (Some(max), Some(min)) = (load.iter().copied().max(), load.iter().copied().min())
        else {
            return;
        };
        if max <= min + 1 {
            return;
        }
        let mut moved = false;
        'search: for heavy in (0..load.len()).filter(|&j| load[j] == max) {
            for light in (0..load.len()).filter(|&j| load[j] == min) {
                for (a, js) in chosen.iter_mut().enumerate() {
                    if js.contains(&heavy) && !js.contains(&light) && allowed[a][light] {
                        if let Some(slot) = js.iter_mut().find(|j| **j == heavy) {
                            *slot = light;
                        }
                        load[heavy] -= 1;
                        load[light] += 1;
                        moved = true;
                        break 'search;
                    }
                }
            }
        }
        if !moved {
            return;
        }
    }
}

/// Connected groups of judges (with at least one application) linked by shared applications.
fn groups(chosen: &[Vec<usize>], judges: usize, load: &[usize]) -> usize {
    let mut parent: Vec<usize> = (0..judges).collect();
    fn find(p: &mut [usize], x: usize) -> usize {
        let mut x = x;
        while p[x] != x {
            p[x] = p[p[x]];
            x = p[x];
        }
        x
    }
    for js in chosen {
        for w in js.windows(2) {
            let (a, b) = (find(&mut parent, w[0]), find(&mut parent, w[1]));
            parent[a] = b;
        }
    }
    let roots: BTreeSet<usize> = (0..judges)
        .filter(|&j| load[j] > 0)
        .map(|j| find(&mut parent, j))
        .collect();
    roots.len()
}

/// Who replaces a judge on one application of a round (after a recusal, or a judge removed):
/// the least-loaded registered judge who is free of conflicts with it, not already among its
/// judges and not excluded (recused from it, or removed), ties broken by a draw from the
/// round's seed and the application; `None` when nobody is free. Deterministic from its
/// inputs, whatever their order.
pub fn replacement<'j>(
    award: &Award,
    application: &Application,
    judges: &'j [Judge],
    by_judge: &BTreeMap<String, Vec<String>>,
    excluded: &BTreeSet<String>,
    seed: u64,
) -> Option<&'j Judge> {
    let load = |j: &Judge| by_judge.get(j.id.as_str()).map_or(0, Vec::len);
    let assigned = |j: &Judge| {
        by_judge
            .get(j.id.as_str())
            .is_some_and(|apps| apps.iter().any(|a| a == application.id.as_str()))
    };
    let mut salt = seed;
    for b in application.id.as_str().bytes() {
        salt = salt.rotate_left(5) ^ u64::from(b);
    }
    let mut draw = Draw::new(salt);
    let mut ordered: Vec<&Judge> = judges.iter().collect();
    ordered.sort_by(|a, b| a.id.cmp(&b.id));
    let tiebreak: BTreeMap<&str, u64> = ordered
        .iter()
        .map(|j| (j.id.as_str(), draw.next()))
        .collect();
    ordered
        .into_iter()
        .filter(|j| !excluded.contains(j.id.as_str()) && !assigned(j))
        .filter(|j| conflict(award, j, application).is_none())
        .min_by_key(|j| (load(j), tiebreak.get(j.id.as_str()).copied().unwrap_or(0)))
}
