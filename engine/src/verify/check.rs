//! Recomputing a bundle: the definition and plugins checked and loaded from the bundle alone,
//! every marked round scored again from its marks, each round's advancement checked against its
//! rule, the final results computed again, and every score, rank, advancement and winner
//! compared with the results the bundle says were published.

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use schemars::JsonSchema;
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::bundle::{BUNDLE_FORMAT, Bundle, BundleApplication};
use crate::application::{Application, Marks, ReviewDecision};
use crate::definition::wire::{AdvanceSpec, Outcome as RuleOutcome};
use crate::eligibility::{Decision, RuleFailure};
use crate::ids::{ApplicantTypeId, ApplicationId, CategoryId};
use crate::judging::{
    ApplicationOutcome, CategoryOutcome, Entrant, FinalResults, RoundRun, advancing, final_results,
};
use crate::scoring::{EvaluateOptions, Results, evaluate_decided};

/// One thing in a bundle that its recomputation does not give.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, JsonSchema)]
pub struct Mismatch {
    /// What: the application, round and quantity, or the part of the bundle.
    pub what: String,
    /// What the bundle says.
    pub bundle: String,
    /// What recomputing gives.
    pub recomputed: String,
}

/// What recomputing a bundle found.
#[derive(Debug, Clone, Default, Serialize, JsonSchema)]
pub struct Verification {
    /// The award.
    pub award: String,
    /// Its version.
    pub version: u32,
    /// How many applications, rounds recomputed and evaluations.
    pub applications: usize,
    /// Rounds scored again.
    pub rounds_scored: usize,
    /// Evaluations read.
    pub evaluations: usize,
    /// Everything that does not match; empty when the results are what the inputs give.
    pub mismatches: Vec<Mismatch>,
}

impl Verification {
    fn differ(
        &mut self,
        what: impl Into<String>,
        bundle: impl Into<String>,
        again: impl Into<String>,
    ) {
        self.mismatches.push(Mismatch {
            what: what.into(),
            bundle: bundle.into(),
            recomputed: again.into(),
        });
    }
}

/// The SHA-256 (hex) of `bytes`.
fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Recomputes `bundle` and compares: see the module's documentation.
pub fn verify_bundle(bundle: &Bundle) -> Verification {
    let mut v = Verification {
        award: bundle.award.clone(),
        version: bundle.version,
        applications: bundle.applications.len(),
        ..Verification::default()
    };
    if bundle.format != BUNDLE_FORMAT {
        v.differ("format", &bundle.format, BUNDLE_FORMAT);
        return v;
    }
    let definition_sha = sha256(bundle.definition.as_bytes());
    if definition_sha != bundle.results.definition_sha256 {
        v.differ(
            "the definition's SHA-256",
            &bundle.results.definition_sha256,
            &definition_sha,
        );
    }
    let mut files: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for (path, encoded) in &bundle.plugin_files {
        match STANDARD.decode(encoded) {
            Ok(bytes) => {
                files.insert(path.clone(), bytes);
            }
            Err(e) => v.differ(
                format!("plugin file `{path}`"),
                "base64",
                format!("not base64: {e}"),
            ),
        }
    }
    let report = crate::definition::check_definition(&bundle.definition, &files);
    let Some(award) = report.award else {
        let first = report
            .diagnostics
            .iter()
            .next()
            .map_or_else(String::new, |d| format!("{} at `{}`", d.message, d.pointer));
        v.differ(
            "the definition",
            "a valid definition",
            format!("invalid: {first}"),
        );
        return v;
    };
    if award.id.as_str() != bundle.award {
        v.differ("the award's id", &bundle.award, award.id.as_str());
    }
    let plugins = match crate::plugin::load_plugins(&award, &files) {
        Ok(p) => p,
        Err(d) => {
            v.differ(
                "the plugins",
                "loadable",
                format!("{} problems loading them", d.len()),
            );
            return v;
        }
    };
    let mut seen = BTreeSet::new();
    for a in &bundle.applications {
        if !seen.insert(a.id.as_str()) {
            v.differ(
                format!("application {}", a.id),
                "listed once",
                "listed twice",
            );
        }
    }
    let by_id: BTreeMap<&str, &BundleApplication> = bundle
        .applications
        .iter()
        .map(|a| (a.id.as_str(), a))
        .collect();
    let entrants: Vec<Entrant> = bundle
        .applications
        .iter()
        .map(|a| entrant(a, &award.default_language))
        .collect();
    let admitted: BTreeSet<&str> = bundle
        .applications
        .iter()
        .filter(|a| is_admitted(a))
        .map(|a| a.id.as_str())
        .collect();
    // Each round's inputs, in the definition's order.
    let specs = award.judging_rounds();
    let mut ran = Vec::new();
    for r in &bundle.rounds {
        if !specs.iter().any(|s| s.id.as_str() == r.round) {
            v.differ(
                format!("round `{}`", r.round),
                "a round of the definition",
                "no such round",
            );
        }
    }
    let mut previous: Option<(&str, BTreeSet<&str>)> = None;
    for spec in &specs {
        let Some(round) = bundle.rounds.iter().find(|r| r.round == spec.id.as_str()) else {
            continue;
        };
        let entered: BTreeSet<&str> = round.entrants.iter().map(String::as_str).collect();
        match &previous {
            None => {
                for e in &entered {
                    if !admitted.contains(e) {
                        v.differ(
                            format!("round `{}`: entrant {e}", round.round),
                            "entered",
                            "not an admitted application",
                        );
                    }
                }
            }
            Some((from, went_on)) => {
                if &entered != went_on {
                    v.differ(
                        format!("round `{}`: its entrants", round.round),
                        list(&entered),
                        format!("those round `{from}` sent on: {}", list(went_on)),
                    );
                }
            }
        }
        let members: Vec<&BundleApplication> = round
            .entrants
            .iter()
            .filter_map(|e| by_id.get(e.as_str()).copied())
            .collect();
        let applications: Vec<Application> = members.iter().map(|a| application(a)).collect();
        let decisions: Vec<Decision> = members.iter().map(|a| decision(a)).collect();
        for e in &round.evaluations {
            v.evaluations += 1;
            if !round.assignments.is_empty()
                && !round
                    .assignments
                    .get(e.judge.as_str())
                    .is_some_and(|apps| apps.iter().any(|x| x == e.application.as_str()))
            {
                v.differ(
                    format!(
                        "round `{}`: marks of {} for {}",
                        round.round, e.judge, e.application
                    ),
                    "given",
                    "not in the round's draw",
                );
            }
        }
        let marks = Marks {
            schema: None,
            evaluations: round.evaluations.clone(),
            rankings: round.rankings.clone(),
            review_decisions: members.iter().filter_map(|a| review(a)).collect(),
            special_mentions: Vec::new(),
        };
        let advanced: Option<Vec<(String, Option<String>)>> = round.advanced.as_ref().map(|a| {
            a.iter()
                .map(|x| (x.application.clone(), x.reason.clone()))
                .collect()
        });
        if let Some(a) = &advanced {
            for (id, _) in a {
                if !entered.contains(id.as_str()) {
                    v.differ(
                        format!("round `{}`: {id} went on", round.round),
                        "went on",
                        "it did not enter the round",
                    );
                }
            }
        }
        previous = Some((
            round.round.as_str(),
            round
                .advanced
                .as_ref()
                .map(|a| a.iter().map(|x| x.application.as_str()).collect())
                .unwrap_or_default(),
        ));
        ran.push((
            spec.clone(),
            round,
            applications,
            decisions,
            marks,
            advanced,
        ));
    }
    // Scored again.
    let scoring: Vec<_> = ran.iter().map(|(spec, ..)| award.for_round(spec)).collect();
    let mut results: Vec<Option<Results<'_>>> = Vec::new();
    for ((spec, round, applications, decisions, marks, advanced), scoring) in
        ran.iter().zip(&scoring)
    {
        if !spec.is_marked() {
            results.push(None);
            continue;
        }
        match evaluate_decided(
            scoring,
            applications,
            marks,
            &plugins,
            decisions.clone(),
            EvaluateOptions { traces: false },
        ) {
            Ok(r) => {
                v.rounds_scored += 1;
                if let (Some(a), false) = (advanced, matches!(spec.advance, AdvanceSpec::Decision))
                {
                    check_rule(&mut v, &round.round, a, advancing(spec, &r, applications));
                }
                results.push(Some(r));
            }
            Err(e) => {
                let first = e
                    .applications
                    .iter()
                    .chain(&e.marks)
                    .next()
                    .map_or_else(String::new, |d| format!("{} at `{}`", d.message, d.pointer));
                v.differ(
                    format!("round `{}`: its marks", round.round),
                    "scorable",
                    format!("cannot be scored: {first}"),
                );
                results.push(None);
            }
        }
    }
    let empty: Vec<String> = Vec::new();
    let runs: Vec<RoundRun<'_>> = ran
        .iter()
        .zip(&results)
        .map(|((spec, round, _, _, _, advanced), r)| RoundRun {
            spec,
            entrants: &round.entrants,
            advanced: advanced.as_deref(),
            results: r.as_ref(),
            results_sha256: None,
            shortfalls: &empty,
        })
        .collect();
    let again = final_results(&award, &entrants, &runs, &bundle.special_mentions);
    compare(&mut v, &bundle.results, &again);
    v
}

/// Who a rule-decided round sent on, against what its rule gives: a person's reason explains
/// a difference; none explains none.
fn check_rule(
    v: &mut Verification,
    round: &str,
    recorded: &[(String, Option<String>)],
    by_rule: Option<Vec<String>>,
) {
    let Some(by_rule) = by_rule else { return };
    let by_rule: BTreeSet<&str> = by_rule.iter().map(String::as_str).collect();
    let explained = recorded.iter().any(|(_, reason)| reason.is_some());
    let went: BTreeSet<&str> = recorded.iter().map(|(a, _)| a.as_str()).collect();
    if went != by_rule && !explained {
        v.differ(
            format!("round `{round}`: who went on"),
            list(&went),
            format!("by the round's rule: {}", list(&by_rule)),
        );
    }
}

fn list(ids: &BTreeSet<&str>) -> String {
    if ids.is_empty() {
        "none".to_owned()
    } else {
        ids.iter().copied().collect::<Vec<_>>().join(", ")
    }
}

fn is_admitted(a: &BundleApplication) -> bool {
    match a.eligibility.status {
        crate::eligibility::Status::Eligible => true,
        crate::eligibility::Status::Ineligible => false,
        crate::eligibility::Status::NeedsReview => a.admitted_on_review == Some(true),
    }
}

fn review(a: &BundleApplication) -> Option<ReviewDecision> {
    a.admitted_on_review.map(|eligible| ReviewDecision {
        application: ApplicationId::new(a.id.clone()),
        eligible,
        reason: String::new(),
    })
}

fn entrant(a: &BundleApplication, language: &str) -> Entrant {
    Entrant {
        application: a.id.clone(),
        category: a.category.clone(),
        status: a.eligibility.status,
        review: review(a),
        no_prize: a
            .eligibility
            .failures
            .iter()
            .find(|f| f.outcome == RuleOutcome::NoPrize)
            .map(|f| f.message.get(language, language).to_owned()),
    }
}

fn application(a: &BundleApplication) -> Application {
    Application {
        schema: None,
        id: ApplicationId::new(a.id.clone()),
        category: CategoryId::new(a.category.clone()),
        applicant_type: ApplicantTypeId::new(a.applicant_type.clone()),
        fields: a.fields.clone(),
    }
}

fn decision(a: &BundleApplication) -> Decision {
    Decision {
        application: a.id.clone(),
        status: a.eligibility.status,
        failures: a
            .eligibility
            .failures
            .iter()
            .map(|f| RuleFailure {
                rule: f.rule.clone(),
                outcome: f.outcome,
                message: f.message.clone(),
                values: BTreeMap::new(),
                details: Vec::new(),
            })
            .collect(),
        rules_checked: 0,
    }
}

fn show<T: Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_default()
}

/// Compares what was published with what the inputs give, part by part.
fn compare(v: &mut Verification, published: &FinalResults, again: &FinalResults) {
    if published.award != again.award {
        v.differ("the results' award", &published.award, &again.award);
    }
    let categories = |r: &FinalResults| -> BTreeMap<String, CategoryOutcome> {
        r.categories
            .iter()
            .map(|c| (c.category.clone(), c.clone()))
            .collect()
    };
    let (p, a) = (categories(published), categories(again));
    for id in p.keys().chain(a.keys()).collect::<BTreeSet<_>>() {
        let winners = |c: Option<&CategoryOutcome>| -> String {
            c.map_or_else(
                || "no such category".to_owned(),
                |c| {
                    let mut w: Vec<String> = c
                        .winners
                        .iter()
                        .map(|w| {
                            format!(
                                "{} (rank {}, score {}, prize {})",
                                w.application,
                                w.rank.map_or_else(|| "-".to_owned(), |r| r.to_string()),
                                w.score
                                    .map_or_else(|| "-".to_owned(), |s| s.normalize().to_string()),
                                w.prize
                                    .as_ref()
                                    .and_then(|p| p.amount)
                                    .map_or_else(|| "-".to_owned(), |m| m.normalize().to_string())
                            )
                        })
                        .collect();
                    w.sort();
                    w.join("; ")
                },
            )
        };
        let mentions = |c: Option<&CategoryOutcome>| -> BTreeSet<String> {
            c.map(|c| {
                c.special_mentions
                    .iter()
                    .map(|m| m.application.clone())
                    .collect()
            })
            .unwrap_or_default()
        };
        let (wp, wa) = (winners(p.get(id)), winners(a.get(id)));
        if wp != wa {
            v.differ(format!("category `{id}`: its winners"), wp, wa);
        }
        let (mp, ma) = (mentions(p.get(id)), mentions(a.get(id)));
        if mp != ma {
            v.differ(
                format!("category `{id}`: its special mentions"),
                show(&mp),
                show(&ma),
            );
        }
    }
    let apps = |r: &FinalResults| -> BTreeMap<String, ApplicationOutcome> {
        r.applications
            .iter()
            .map(|x| (x.application.clone(), x.clone()))
            .collect()
    };
    let (p, a) = (apps(published), apps(again));
    for id in p.keys().chain(a.keys()).collect::<BTreeSet<_>>() {
        let (Some(x), Some(y)) = (p.get(id), a.get(id)) else {
            v.differ(
                format!("application {id}"),
                if p.contains_key(id) {
                    "in the results"
                } else {
                    "absent"
                },
                if a.contains_key(id) {
                    "in the results"
                } else {
                    "absent"
                },
            );
            continue;
        };
        let mut field = |name: &str, b: String, r: String| {
            if b != r {
                v.differ(format!("application {id}: {name}"), b, r);
            }
        };
        field("eligibility", show(&x.eligibility), show(&y.eligibility));
        field(
            "admitted on review",
            show(&x.review.as_ref().map(|r| r.eligible)),
            show(&y.review.as_ref().map(|r| r.eligible)),
        );
        field("outcome", show(&x.outcome), show(&y.outcome));
        field("final rank", show(&x.final_rank), show(&y.final_rank));
        field(
            "special mention",
            show(&x.special_mention),
            show(&y.special_mention),
        );
        let rounds = |o: &ApplicationOutcome| -> BTreeMap<String, String> {
            o.rounds
                .iter()
                .map(|r| {
                    (
                        r.round.clone(),
                        format!(
                            "score {}, rank {}, {}, {}",
                            r.score
                                .map_or_else(|| "-".to_owned(), |s| s.normalize().to_string()),
                            r.rank.map_or_else(|| "-".to_owned(), |k| k.to_string()),
                            if r.unscored.is_some() {
                                "unscored"
                            } else {
                                "scored"
                            },
                            match r.advanced {
                                Some(true) => "went on",
                                Some(false) => "stopped",
                                None => "undecided",
                            }
                        ),
                    )
                })
                .collect()
        };
        let (rx, ry) = (rounds(x), rounds(y));
        for round in rx.keys().chain(ry.keys()).collect::<BTreeSet<_>>() {
            let none = "not in the round".to_owned();
            field(
                &format!("round `{round}`"),
                rx.get(round).unwrap_or(&none).clone(),
                ry.get(round).unwrap_or(&none).clone(),
            );
        }
    }
}
