//! What a round judges (a subset of criteria, its own aggregation) and who goes on from it.

use rust_decimal::Decimal;

use crate::definition::model::Award;
use crate::definition::wire::{AdvanceSpec, RoundSpec};
use crate::scoring::Results;

impl Award {
    /// The award as a round judges it: only the round's criteria (all when it names none) and
    /// the round's aggregation when it has one.
    pub fn for_round(&self, round: &RoundSpec) -> Award {
        let mut award = self.clone();
        if !round.criteria.is_empty() {
            for c in &mut award.categories {
                c.criteria.retain(|x| round.criteria.contains(&x.id));
            }
        }
        if let Some(a) = round.aggregation {
            award.scoring.aggregation = a;
        }
        if let Some(n) = round.normalisation {
            award.scoring.normalisation = n;
        }
        award
    }

    /// The award as its marked round `id` judges it, or why it cannot be scored so (no such
    /// round, naming the rounds it has; a round that takes no marks).
    pub fn for_round_id(&self, id: &str) -> Result<Award, String> {
        let rounds = self.judging_rounds();
        let Some(spec) = rounds.iter().find(|r| r.id == id) else {
            let ids: Vec<&str> = rounds.iter().map(|r| r.id.as_str()).collect();
            return Err(format!(
                "the award has no round `{id}` (its rounds: {})",
                ids.join(", ")
            ));
        };
        if !spec.is_marked() {
            return Err(format!("round `{id}` takes no marks: it has no scores"));
        }
        Ok(self.for_round(spec))
    }

    /// The rounds the award judges in: those it declares, or one implicit round.
    pub fn judging_rounds(&self) -> Vec<RoundSpec> {
        if self.rounds.is_empty() {
            vec![RoundSpec::implicit()]
        } else {
            self.rounds.clone()
        }
    }
}

/// The applications that go on from a round, by its rule, best first per category; `None` for
/// a rule an administrator decides (`decision`). `applications` are the round's (their fields
/// name the groups of `top_per_group`).
pub fn advancing(
    round: &RoundSpec,
    results: &Results<'_>,
    applications: &[crate::application::Application],
) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let by_id: std::collections::HashMap<&str, &crate::application::Application> =
        applications.iter().map(|a| (a.id.as_str(), a)).collect();
    for c in &results.categories {
        // An application under a pass mark that excludes from advancing does not go on, and
        // does not take a place.
        let ranked: Vec<&crate::scoring::Placed<'_>> = c
            .ranking
            .iter()
            .filter(|p| {
                !p.below_pass_marks
                    .iter()
                    .any(|f| f.excludes == crate::definition::wire::PassMarkEffect::Advancing)
            })
            .collect();
        let take = match &round.advance {
            AdvanceSpec::Decision => return None,
            AdvanceSpec::Eligible => {
                out.extend(ranked.iter().map(|p| p.application.to_string()));
                out.extend(c.unscored.iter().map(|u| u.application.to_string()));
                continue;
            }
            AdvanceSpec::Knockout {
                field,
                lucky_losers,
            } => {
                let group = |id: &str| group_of(&by_id, field.as_str(), id);
                // The better of each pair (both, when tied), in the category's order.
                let mut best_rank: std::collections::BTreeMap<String, u32> =
                    std::collections::BTreeMap::new();
                for p in &ranked {
                    if let Some(g) = group(p.application.as_str()) {
                        let r = best_rank.entry(g).or_insert(p.rank);
                        *r = (*r).min(p.rank);
                    }
                }
                let won = |p: &crate::scoring::Placed<'_>| {
                    group(p.application.as_str())
                        .and_then(|g| best_rank.get(&g).copied())
                        .is_some_and(|r| r == p.rank)
                };
                let losers: Vec<&crate::scoring::Placed<'_>> =
                    ranked.iter().copied().filter(|p| !won(p)).collect();
                let lucky: std::collections::BTreeSet<&str> =
                    best(&losers, *lucky_losers as usize).into_iter().collect();
                out.extend(
                    ranked
                        .iter()
                        .filter(|p| won(p) || lucky.contains(p.application.as_str()))
                        .map(|p| p.application.to_string()),
                );
                continue;
            }
            AdvanceSpec::TopPerGroup { field, take } => {
                // Each group's best, in the category's order.
                let group = |id: &str| group_of(&by_id, field.as_str(), id);
                let mut groups: std::collections::BTreeMap<
                    String,
                    Vec<&crate::scoring::Placed<'_>>,
                > = std::collections::BTreeMap::new();
                for p in &ranked {
                    if let Some(g) = group(p.application.as_str()) {
                        groups.entry(g).or_default().push(p);
                    }
                }
                let mut chosen: std::collections::BTreeSet<&str> =
                    std::collections::BTreeSet::new();
                for (g, members) in &groups {
                    let n = take.of(g) as usize;
                    chosen.extend(best(members, n));
                }
                out.extend(
                    ranked
                        .iter()
                        .filter(|p| chosen.contains(p.application.as_str()))
                        .map(|p| p.application.to_string()),
                );
                continue;
            }
            AdvanceSpec::TopN { n } => *n as usize,
            AdvanceSpec::TopFraction { fraction } => {
                let n = (Decimal::from(c.ranking.len()) * fraction).ceil();
                n.to_string().parse::<usize>().unwrap_or(0)
            }
            AdvanceSpec::Threshold { score } => ranked.iter().filter(|p| p.score >= *score).count(),
            AdvanceSpec::Winners => {
                // The ranking's winners: its places among those who may win (a pass mark that
                // excludes from winning keeps an application from it, at any rank).
                out.extend(
                    c.ranking
                        .iter()
                        .filter(|p| p.winner)
                        .map(|p| p.application.to_string()),
                );
                continue;
            }
        };
        out.extend(best(&ranked, take).into_iter().map(str::to_owned));
    }
    Some(out)
}

/// The value of `field` that names an application's group.
fn group_of(
    applications: &std::collections::HashMap<&str, &crate::application::Application>,
    field: &str,
    id: &str,
) -> Option<String> {
    let app = applications.get(id)?;
    match crate::eligibility::lookup(&app.fields, field)? {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// The first `take` of a ranking, with everyone tied with the last place taken; all of them
/// when it has fewer.
fn best<'p>(ranked: &[&'p crate::scoring::Placed<'_>], take: usize) -> Vec<&'p str> {
    let cutoff = ranked
        .get(take.min(ranked.len()).saturating_sub(1))
        .map(|p| p.rank);
    ranked
        .iter()
        .filter(|p| take > 0 && cutoff.is_some_and(|r| p.rank <= r))
        .map(|p| p.application.as_str())
        .collect()
}

/// Problems with an administrator's decisions on who goes on from a round: applications
/// that are not in it, named twice, and, when it is the last round (its decisions make the
/// winners), more winners in a category than the category declares. Located at
/// `/decisions/<i>/application`; every one of them may be overridden by an administrator
/// with a reason.
pub fn check_decisions(
    award: &Award,
    last: bool,
    entrants: &[(String, String)],
    decided: &[String],
) -> crate::diagnostics::Diagnostics {
    use crate::diagnostics::{Code, Diagnostic, Diagnostics};
    let mut out = Diagnostics::new();
    let mut seen = std::collections::BTreeSet::new();
    let mut per_category: std::collections::BTreeMap<&str, u32> = Default::default();
    for (i, app) in decided.iter().enumerate() {
        let pointer = format!("/decisions/{i}/application");
        if !seen.insert(app.as_str()) {
            out.push(Diagnostic::error(
                Code::DuplicateId,
                pointer,
                format!("`{app}` is named twice"),
            ));
            continue;
        }
        let Some((_, category)) = entrants.iter().find(|(a, _)| a == app) else {
            out.push(
                Diagnostic::error(
                    Code::UnknownReference,
                    pointer,
                    format!("`{app}` did not reach this round"),
                )
                .with_hint("only the round's entrants can go on"),
            );
            continue;
        };
        let n = per_category.entry(category.as_str()).or_default();
        *n += 1;
        if last
            && let Some(c) = award.category(category)
            && *n > c.winners
        {
            out.push(
                Diagnostic::error(
                    Code::Category,
                    pointer,
                    format!(
                        "`{app}` would be winner {n} of category `{category}`, which has {} winners",
                        c.winners
                    ),
                )
                .with_hint("name fewer winners, or give `override_reason` to record why there are more"),
            );
        }
    }
    out
}
