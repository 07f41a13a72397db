//! An award's final results, from its rounds: per category the winners (the last round's rule,
//! or the committee's decisions) and special mentions; per application its eligibility (a
//! review's decision included), the furthest round it reached, its score and rank in each
//! round, and its outcome. Pure: the rounds' results and decisions in, a document out.

use std::collections::{BTreeMap, BTreeSet};

use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::application::{MentionDecision, ReviewDecision};
use crate::definition::model::Award;
use crate::definition::wire::{AdvanceSpec, RoundSpec};
use crate::eligibility::Status;
use crate::scoring::Results;

/// An application's eligibility, as decided when it was submitted (and reviewed).
#[derive(Debug, Clone)]
pub struct Entrant {
    /// The application.
    pub application: String,
    /// Its category.
    pub category: String,
    /// What its rules decided.
    pub status: Status,
    /// An administrator's decision, when it needed review.
    pub review: Option<ReviewDecision>,
    /// Why it may win but receives no prize money (a rule with the `no_prize` outcome), if so.
    pub no_prize: Option<String>,
}

impl Entrant {
    fn admitted(&self) -> bool {
        match self.status {
            Status::Eligible => true,
            Status::Ineligible => false,
            Status::NeedsReview => self.review.as_ref().is_some_and(|r| r.eligible),
        }
    }
}

/// One round as it ran.
#[derive(Debug)]
pub struct RoundRun<'r> {
    /// Its definition.
    pub spec: &'r RoundSpec,
    /// The applications in it.
    pub entrants: &'r [String],
    /// Who went on (the winners, for the last round), with the committee's reasons; `None`
    /// while undecided.
    pub advanced: Option<&'r [(String, Option<String>)]>,
    /// Its results, for a marked round.
    pub results: Option<&'r Results<'r>>,
    /// SHA-256 of its results as computed.
    pub results_sha256: Option<String>,
    /// Coverage problems (an application left with fewer judges than the round draws).
    pub shortfalls: &'r [String],
}

/// The final results of an award.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct FinalResults {
    /// The award.
    pub award: String,
    /// SHA-256 of the definition judged.
    pub definition_sha256: String,
    /// Each round: its results' SHA-256, how many entered and went on.
    pub rounds: Vec<RoundSummary>,
    /// Each category's winners and special mentions.
    pub categories: Vec<CategoryOutcome>,
    /// Each application's path through the award.
    pub applications: Vec<ApplicationOutcome>,
    /// What an administrator should know before publishing.
    pub warnings: Vec<String>,
    /// Which of `warnings` (by index) repeat what a plugin said in a round, which may quote an
    /// application's personal values: a store seals these by this mark, never by their wording.
    #[serde(skip)]
    pub plugin_warnings: Vec<usize>,
}

/// A round, in the final results.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RoundSummary {
    /// The round.
    pub round: String,
    /// SHA-256 of its results, for a marked round.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub results_sha256: Option<String>,
    /// How many applications it had.
    pub entrants: usize,
    /// How many went on (won, for the last round); `None` while undecided.
    pub advanced: Option<usize>,
}

/// A category's outcome.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct CategoryOutcome {
    /// The category.
    pub category: String,
    /// How many winners it declares.
    pub declared_winners: u32,
    /// Its winners, best first when ranked.
    pub winners: Vec<Winner>,
    /// Special mentions from it.
    pub special_mentions: Vec<Mention>,
}

/// A winner.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Winner {
    /// The application.
    pub application: String,
    /// Its rank in the last round, when ranked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rank: Option<u32>,
    /// Its score in the last round, when scored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<Decimal>,
    /// The committee's reason, when it decided.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The prize of its winning place, when the category declares one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prize: Option<AwardedPrize>,
}

pub use crate::prizes::AwardedPrize;

/// A special mention.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Mention {
    /// The application.
    pub application: String,
    /// Why.
    pub reason: String,
}

/// What became of an application.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "FinalOutcome")]
pub enum Outcome {
    /// It won its category.
    Winner,
    /// It received a special mention (and did not win).
    SpecialMention,
    /// It was admitted and judged, and did not win.
    NotAwarded,
    /// Its rules made it ineligible.
    Ineligible,
    /// An administrator refused it on review.
    NotAdmitted,
    /// It awaits an administrator's review.
    PendingReview,
    /// It is still being judged (a round is undecided).
    InProgress,
}

/// One application's path.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ApplicationOutcome {
    /// The application.
    pub application: String,
    /// Its category.
    pub category: String,
    /// What its rules decided.
    pub eligibility: Status,
    /// The review's decision and reason, when it needed one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub review: Option<ReviewDecision>,
    /// The last round it entered.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub furthest_round: Option<String>,
    /// Each round it entered.
    pub rounds: Vec<RoundPlace>,
    /// What became of it.
    pub outcome: Outcome,
    /// Its place in its category over the whole award: by the round it reached (further
    /// first), then winners first, then its rank in that round (score, then the tie-break
    /// chain). Applications equal on every key share a place. `None` when not admitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_rank: Option<u32>,
    /// Also mentioned, when it won too.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub special_mention: bool,
}

/// An application in one round.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RoundPlace {
    /// The round.
    pub round: String,
    /// Its score, when the round is marked and it was scored.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub score: Option<Decimal>,
    /// Its rank in its category.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rank: Option<u32>,
    /// Why it was not scored, when it was not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unscored: Option<String>,
    /// Whether it went on (won, for the last round); `None` while undecided.
    pub advanced: Option<bool>,
}

/// Places each admitted application in its category over the whole award: the round reached,
/// then winning, then the rank in that round.
fn final_ranks(
    applications: &mut [ApplicationOutcome],
    rounds: &[RoundRun<'_>],
    winners: &BTreeMap<&str, Option<&str>>,
) {
    type Key = (std::cmp::Reverse<usize>, bool, u32);
    let key = |a: &ApplicationOutcome| -> Option<Key> {
        let furthest = a.furthest_round.as_deref()?;
        if matches!(
            a.outcome,
            Outcome::Ineligible | Outcome::NotAdmitted | Outcome::PendingReview
        ) {
            return None;
        }
        let reached = rounds.iter().position(|r| r.spec.id == furthest)?;
        let rank = a
            .rounds
            .iter()
            .find(|p| p.round == furthest)
            .and_then(|p| p.rank)
            .unwrap_or(u32::MAX);
        Some((
            std::cmp::Reverse(reached),
            !winners.contains_key(a.application.as_str()),
            rank,
        ))
    };
    let keys: Vec<Option<Key>> = applications.iter().map(key).collect();
    // Sorted by category, then key: a place is 1 + how many of its category come before its key.
    let mut order: Vec<usize> = (0..applications.len())
        .filter(|&i| keys[i].is_some())
        .collect();
    order.sort_by(|&x, &y| {
        (&applications[x].category, keys[x]).cmp(&(&applications[y].category, keys[y]))
    });
    let mut start = 0;
    let mut rank = 1;
    for (n, &i) in order.iter().enumerate() {
        let first = order.get(start).copied().unwrap_or(i);
        if applications[first].category != applications[i].category {
            start = n;
            rank = 1;
        } else if n > 0 && keys[order[n - 1]] != keys[i] {
            rank = (n - start) as u32 + 1;
        }
        applications[i].final_rank = Some(rank);
    }
}

/// The final results of `award` from its rounds, in order, and the special mentions given.
pub fn final_results(
    award: &Award,
    entrants: &[Entrant],
    rounds: &[RoundRun<'_>],
    mentions: &[MentionDecision],
) -> FinalResults {
    let mut warnings = Vec::new();
    let last = rounds.last();
    // Winners: who went on from the last round, in its ranking's order when it has one.
    let winners_of: BTreeMap<&str, Option<&str>> = last
        .and_then(|r| r.advanced)
        .map(|a| {
            a.iter()
                .map(|(app, reason)| (app.as_str(), reason.as_deref()))
                .collect()
        })
        .unwrap_or_default();
    let place = |round: &RoundRun<'_>, app: &str| -> Option<(u32, Decimal)> {
        round
            .results?
            .categories
            .iter()
            .flat_map(|c| c.ranking.iter())
            .find(|p| p.application.as_str() == app)
            .map(|p| (p.rank, p.score))
    };
    let unscored = |round: &RoundRun<'_>, app: &str| -> Option<String> {
        round
            .results?
            .categories
            .iter()
            .flat_map(|c| c.unscored.iter())
            .find(|u| u.application.as_str() == app)
            .map(|u| u.reason.clone())
    };
    let mentioned: BTreeMap<&str, &str> = mentions
        .iter()
        .map(|m| (m.application.as_str(), m.reason.as_str()))
        .collect();
    let mut categories = Vec::new();
    for c in &award.categories {
        let members: BTreeSet<&str> = entrants
            .iter()
            .filter(|e| e.category == c.id.as_str())
            .map(|e| e.application.as_str())
            .collect();
        let mut winners: Vec<Winner> = winners_of
            .iter()
            .filter(|(app, _)| members.contains(**app))
            .map(|(app, reason)| {
                let p = last.and_then(|r| place(r, app));
                Winner {
                    application: (*app).to_owned(),
                    rank: p.map(|x| x.0),
                    score: p.map(|x| x.1),
                    reason: reason.map(str::to_owned),
                    prize: None,
                }
            })
            .collect();
        winners.sort_by(|a, b| {
            (a.rank.unwrap_or(u32::MAX), &a.application)
                .cmp(&(b.rank.unwrap_or(u32::MAX), &b.application))
        });
        // Prizes by winning place: the rank among the winners (tied winners share a place), or
        // the order of the committee's decisions when the round is not ranked.
        let given = crate::prizes::award(
            &c.prizes,
            &winners
                .iter()
                .map(|w| crate::prizes::PrizeWinner {
                    rank: w.rank,
                    no_prize: entrants
                        .iter()
                        .find(|e| e.application == w.application)
                        .and_then(|e| e.no_prize.clone()),
                })
                .collect::<Vec<_>>(),
        );
        for (w, prize) in winners.iter_mut().zip(given) {
            w.prize = prize;
        }
        if winners.len() > c.winners as usize && last.is_some_and(|r| r.advanced.is_some()) {
            warnings.push(format!(
                "category `{}` has {} winners, {} declared{}",
                c.id,
                winners.len(),
                c.winners,
                if last.is_some_and(|r| r.spec.advance != AdvanceSpec::Decision) {
                    ": applications tied at the last winning place all win; a committee may decide otherwise"
                } else {
                    " (the committee's decision overrode the limit)"
                }
            ));
        }
        let special_mentions = mentions
            .iter()
            .filter(|m| members.contains(m.application.as_str()))
            .map(|m| Mention {
                application: m.application.to_string(),
                reason: m.reason.clone(),
            })
            .collect();
        categories.push(CategoryOutcome {
            category: c.id.to_string(),
            declared_winners: c.winners,
            winners,
            special_mentions,
        });
    }
    let mut applications = Vec::new();
    for e in entrants {
        let mut places = Vec::new();
        let mut furthest = None;
        let mut decided = true;
        for r in rounds {
            if !r.entrants.iter().any(|a| a == &e.application) {
                continue;
            }
            furthest = Some(r.spec.id.clone());
            let advanced = r
                .advanced
                .map(|a| a.iter().any(|(app, _)| app == &e.application));
            decided &= advanced.is_some();
            let p = place(r, &e.application);
            places.push(RoundPlace {
                round: r.spec.id.clone(),
                score: p.map(|x| x.1),
                rank: p.map(|x| x.0),
                unscored: unscored(r, &e.application),
                advanced,
            });
        }
        let admitted = e.admitted();
        let winner = winners_of.contains_key(e.application.as_str());
        let mention = mentioned.contains_key(e.application.as_str());
        let outcome = match (e.status, admitted) {
            (Status::Ineligible, _) => Outcome::Ineligible,
            (Status::NeedsReview, false) if e.review.is_none() => Outcome::PendingReview,
            (_, false) => Outcome::NotAdmitted,
            _ if winner => Outcome::Winner,
            _ if mention => Outcome::SpecialMention,
            _ if !decided || last.is_none_or(|r| r.advanced.is_none()) => Outcome::InProgress,
            _ => Outcome::NotAwarded,
        };
        if outcome == Outcome::PendingReview {
            warnings.push(format!(
                "application `{}` still needs an administrator's review",
                e.application
            ));
        }
        applications.push(ApplicationOutcome {
            application: e.application.clone(),
            category: e.category.clone(),
            eligibility: e.status,
            review: e.review.clone(),
            furthest_round: furthest,
            rounds: places,
            outcome,
            final_rank: None,
            special_mention: mention && winner,
        });
    }
    final_ranks(&mut applications, rounds, &winners_of);
    applications.sort_by(|a, b| (&a.category, &a.application).cmp(&(&b.category, &b.application)));
    let mut summaries = Vec::new();
    let mut plugin_warnings = Vec::new();
    for r in rounds {
        if let Some(results) = r.results {
            for (k, w) in results.warnings.iter().enumerate() {
                if results.plugin_warnings.contains(&k) {
                    plugin_warnings.push(warnings.len());
                }
                warnings.push(format!("round `{}`: {w}", r.spec.id));
            }
        }
        for s in r.shortfalls {
            warnings.push(format!("round `{}`: {s}", r.spec.id));
        }
        summaries.push(RoundSummary {
            round: r.spec.id.clone(),
            results_sha256: r.results_sha256.clone(),
            entrants: r.entrants.len(),
            advanced: r.advanced.map(<[_]>::len),
        });
    }
    FinalResults {
        award: award.id.to_string(),
        definition_sha256: award.sha256.clone(),
        rounds: summaries,
        categories,
        applications,
        warnings,
        plugin_warnings,
    }
}

/// The final results as CSV: one row per application, with its score and rank in each round.
pub fn final_csv(results: &FinalResults) -> String {
    let mut header = vec![
        "category".to_owned(),
        "application".to_owned(),
        "outcome".to_owned(),
        "eligibility".to_owned(),
        "review".to_owned(),
        "furthest_round".to_owned(),
        "place".to_owned(),
    ];
    for r in &results.rounds {
        header.push(format!("{}_score", r.round));
        header.push(format!("{}_rank", r.round));
    }
    let mut out = String::new();
    let line = |cells: &[String]| -> String {
        let quoted: Vec<String> = cells
            .iter()
            .map(|c| {
                if c.contains([',', '"', '\n']) {
                    format!("\"{}\"", c.replace('"', "\"\""))
                } else {
                    c.clone()
                }
            })
            .collect();
        quoted.join(",") + "\n"
    };
    out.push_str(&line(&header));
    for a in &results.applications {
        let status = serde_json::to_value(a.eligibility)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let outcome = serde_json::to_value(a.outcome)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        let review = a.review.as_ref().map_or_else(String::new, |r| {
            format!(
                "{}: {}",
                if r.eligible { "admitted" } else { "refused" },
                r.reason
            )
        });
        let mut row = vec![
            a.category.clone(),
            a.application.clone(),
            outcome,
            status,
            review,
            a.furthest_round.clone().unwrap_or_default(),
            a.final_rank.map_or_else(String::new, |r| r.to_string()),
        ];
        for r in &results.rounds {
            let p = a.rounds.iter().find(|p| p.round == r.round);
            row.push(
                p.and_then(|p| p.score)
                    .map_or_else(String::new, |s| s.to_string()),
            );
            row.push(
                p.and_then(|p| p.rank)
                    .map_or_else(String::new, |s| s.to_string()),
            );
        }
        out.push_str(&line(&row));
    }
    out
}
