//! Making a bundle from an award's real inputs and published results: applications and judges
//! renamed by pseudonyms, withheld answers left out, free text that may name people (comments,
//! review reasons, plugins' words) dropped.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};

use super::bundle::{
    BUNDLE_FORMAT, Bundle, BundleAdvance, BundleApplication, BundleDecision, BundleFailure,
    BundleRound,
};
use crate::application::{Application, Evaluation, Marks, MentionDecision, RankingSubmission};
use crate::definition::model::{Award, Field, FieldKind, TextFormat};
use crate::eligibility::Decision;
use crate::ids::{ApplicationId, JudgeId};
use crate::judging::FinalResults;

/// What is renamed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Party {
    /// An application.
    Application,
    /// A judge.
    Judge,
}

/// One round's real inputs.
#[derive(Debug, Clone)]
pub struct RoundInputs {
    /// The round's id.
    pub round: String,
    /// Its entrants.
    pub entrants: Vec<String>,
    /// Its draw.
    pub assignments: BTreeMap<String, Vec<String>>,
    /// The draw's seed.
    pub seed: u64,
    /// Its marks.
    pub marks: Marks,
    /// Who went on, with reasons.
    pub advanced: Option<Vec<(String, Option<String>)>>,
}

/// An award's real inputs and its results, as the server holds them.
#[derive(Debug, Clone)]
pub struct BundleInputs<'a> {
    /// The checked award.
    pub award: &'a Award,
    /// Its version.
    pub version: u32,
    /// The definition's text.
    pub definition: &'a str,
    /// Its plugin files, base64.
    pub plugin_files: &'a BTreeMap<String, String>,
    /// Every submitted application with its eligibility decision and review, opened.
    pub applications: Vec<(Application, Decision, Option<bool>)>,
    /// Receipts' SHA-256 by application.
    pub receipts: BTreeMap<String, String>,
    /// The rounds that ran.
    pub rounds: Vec<RoundInputs>,
    /// The committee's mentions.
    pub special_mentions: &'a [MentionDecision],
    /// The results published.
    pub results: &'a FinalResults,
}

/// Whether a top-level field's answer stays out of the bundle: personal, hidden from judges,
/// an e-mail address or a file, or holding one.
fn withheld(field: &Field) -> bool {
    field.personal
        || field.hidden_from_judges
        || match &field.kind {
            FieldKind::File { .. } => true,
            FieldKind::Text { format, .. } => *format == TextFormat::Email,
            FieldKind::Group { fields } => fields.iter().any(withheld),
            FieldKind::List { item, .. } => withheld(item),
            _ => false,
        }
}

/// The ids of the fields whose answers a bundle leaves out.
pub fn withheld_fields(award: &Award) -> Vec<String> {
    let mut out: BTreeSet<String> = BTreeSet::new();
    for f in award
        .fields
        .iter()
        .chain(award.categories.iter().flat_map(|c| c.fields.iter()))
    {
        if withheld(f) {
            out.insert(f.id.to_string());
        }
    }
    out.into_iter().collect()
}

/// The bundle of `inputs`, every application and judge renamed by `pseudonym`.
pub fn make_bundle(inputs: &BundleInputs<'_>, pseudonym: &dyn Fn(Party, &str) -> String) -> Bundle {
    let withheld_ids = withheld_fields(inputs.award);
    let app = |id: &str| pseudonym(Party::Application, id);
    let judge = |id: &str| pseudonym(Party::Judge, id);
    let applications = inputs
        .applications
        .iter()
        .map(|(a, decision, review)| BundleApplication {
            id: app(a.id.as_str()),
            category: a.category.to_string(),
            applicant_type: a.applicant_type.to_string(),
            fields: a
                .fields
                .iter()
                .filter(|(k, _)| !withheld_ids.iter().any(|w| w == *k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect::<Map<String, Value>>(),
            eligibility: BundleDecision {
                status: decision.status,
                failures: decision
                    .failures
                    .iter()
                    .map(|f| BundleFailure {
                        rule: f.rule.clone(),
                        outcome: f.outcome,
                        message: f.message.clone(),
                    })
                    .collect(),
            },
            admitted_on_review: *review,
            receipt_sha256: inputs.receipts.get(a.id.as_str()).cloned(),
        })
        .collect();
    let rounds = inputs
        .rounds
        .iter()
        .map(|r| BundleRound {
            round: r.round.clone(),
            entrants: r.entrants.iter().map(|e| app(e)).collect(),
            assignments: r
                .assignments
                .iter()
                .map(|(j, apps)| (judge(j), apps.iter().map(|a| app(a)).collect()))
                .collect(),
            seed: r.seed,
            evaluations: r
                .marks
                .evaluations
                .iter()
                .map(|e| Evaluation {
                    schema: None,
                    judge: JudgeId::new(judge(e.judge.as_str())),
                    application: ApplicationId::new(app(e.application.as_str())),
                    marks: e.marks.clone(),
                    comment: None,
                    criterion_comments: BTreeMap::new(),
                    abstained: e.abstained.clone(),
                })
                .collect(),
            rankings: r
                .marks
                .rankings
                .iter()
                .map(|k| RankingSubmission {
                    judge: JudgeId::new(judge(k.judge.as_str())),
                    order: k
                        .order
                        .iter()
                        .map(|a| ApplicationId::new(app(a.as_str())))
                        .collect(),
                    ..k.clone()
                })
                .collect(),
            advanced: r.advanced.as_ref().map(|a| {
                a.iter()
                    .map(|(id, reason)| BundleAdvance {
                        application: app(id),
                        reason: reason.clone(),
                    })
                    .collect()
            }),
        })
        .collect();
    Bundle {
        format: BUNDLE_FORMAT.to_owned(),
        award: inputs.award.id.to_string(),
        version: inputs.version,
        definition: inputs.definition.to_owned(),
        plugin_files: inputs.plugin_files.clone(),
        withheld_fields: withheld_ids,
        applications,
        rounds,
        special_mentions: inputs
            .special_mentions
            .iter()
            .map(|m| MentionDecision {
                application: ApplicationId::new(app(m.application.as_str())),
                ..m.clone()
            })
            .collect(),
        results: renamed_results(inputs.results, &app),
    }
}

/// `results` with every application renamed, and the words that may quote an application
/// (unscored reasons, review reasons, warnings) left out.
fn renamed_results(results: &FinalResults, app: &dyn Fn(&str) -> String) -> FinalResults {
    let mut r = results.clone();
    for c in &mut r.categories {
        for w in &mut c.winners {
            w.application = app(&w.application);
        }
        for m in &mut c.special_mentions {
            m.application = app(&m.application);
        }
    }
    for a in &mut r.applications {
        a.application = app(&a.application);
        if let Some(review) = &mut a.review {
            review.application = ApplicationId::new(app(review.application.as_str()));
            review.reason = String::new();
        }
        for p in &mut a.rounds {
            if p.unscored.is_some() {
                p.unscored = Some(String::new());
            }
        }
    }
    r.warnings = Vec::new();
    r.plugin_warnings = Vec::new();
    r
}
