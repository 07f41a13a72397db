//! The award's final results, from its rounds: computed (every round's results recomputed
//! from its stored marks, then the winners, mentions and each application's path), stored
//! with their hashes and the audit chain's head, published, and shown to each applicant.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::server::answers::{
    ApplicantOutcome, CertificateIssued, OutcomePending, OutcomePublished, OutcomeRound, Published,
    ResultsComputed, ReviewShown,
};
use crate::server::auth::Caller;
use crate::server::crypto;
use crate::server::domain::awards::load_award;
use crate::server::domain::results::{hashed, stored_applications};
use crate::server::domain::rounds::round_key;
use crate::server::error::ApiError;
use crate::server::records::{
    ApplicationRecord, ApplicationStatus, AwardRecord, ResultsRecord, Role, RoundRecord,
};
use crate::server::state::Work;
use crate::server::state::{AppState, Loaded};
use crate::server::tx::Tx;
use crate::store::{Tree, get_json, key, now, prefix, scan_json};

/// Who a round advanced, with the reason given for each override.
type Advanced = Vec<(String, Option<String>)>;

/// One round's inputs, gathered from the store.
struct RoundData {
    spec: laurel::wire::RoundSpec,
    record: Option<RoundRecord>,
    scoring: laurel::Award,
    applications: Vec<laurel::Application>,
    marks: laurel::Marks,
}

/// The message of the first `no_prize` rule a stored decision failed, in the default language.
fn no_prize(eligibility: &Value, language: &str) -> Option<String> {
    let failure = eligibility
        .get("failures")?
        .as_array()?
        .iter()
        .find(|f| f.get("outcome").and_then(Value::as_str) == Some("no_prize"))?;
    let message: laurel::Text = serde_json::from_value(failure.get("message")?.clone()).ok()?;
    Some(message.get(language, language).to_owned())
}

/// The final results of an award from what is stored: every round's results recomputed, then
/// the winners, mentions and each application's path. Returns the document (sealed where it
/// repeats what plugins said) and its SHA-256 (of the document as computed).
async fn compute_final(
    state: &AppState,
    award: &str,
) -> Result<(AwardRecord, std::sync::Arc<Loaded>, Value, String), ApiError> {
    let record = load_award(state, award)?;
    let version = record
        .current()
        .ok_or_else(|| ApiError::Conflict(format!("award `{award}` has no published version")))?;
    let loaded = state.loaded(award, version).await?;
    let stored: Vec<ApplicationRecord> = scan_json(
        state.store.as_ref(),
        Tree::Applications,
        &prefix(&[award.as_bytes()]),
    )?;
    let entrants: Vec<laurel::Entrant> = stored
        .iter()
        .filter(|r| r.status == ApplicationStatus::Submitted)
        .map(|r| laurel::Entrant {
            application: r
                .application
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            category: r
                .application
                .get("category")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            status: match r.eligibility.get("status").and_then(Value::as_str) {
                Some("eligible") => laurel::Status::Eligible,
                Some("needs_review") => laurel::Status::NeedsReview,
                _ => laurel::Status::Ineligible,
            },
            review: r.review.clone(),
            no_prize: no_prize(&r.eligibility, &loaded.award.default_language),
        })
        .collect();
    let mut rounds = Vec::new();
    for spec in loaded.award.judging_rounds() {
        let r: Option<RoundRecord> = get_json(
            state.store.as_ref(),
            Tree::Rounds,
            &round_key(award, &spec.id),
        )?;
        let (applications, review_decisions, evaluations) = match &r {
            Some(r) if spec.is_marked() => {
                let (apps, reviews) =
                    stored_applications(state, &loaded, award, Some(&r.entrants))?;
                let evaluations: Vec<laurel::Evaluation> = scan_json(
                    state.store.as_ref(),
                    Tree::RoundMarks,
                    &prefix(&[award.as_bytes(), spec.id.as_bytes()]),
                )?;
                (apps, reviews, evaluations)
            }
            _ => (Vec::new(), Vec::new(), Vec::new()),
        };
        rounds.push(RoundData {
            scoring: loaded.award.for_round(&spec),
            spec,
            record: r,
            applications,
            marks: laurel::Marks {
                evaluations,
                review_decisions,
                ..laurel::Marks::default()
            },
        });
    }
    let mentions = record.special_mentions.clone();
    let l = loaded.clone();
    let (value, sha, plugin_warnings) = state
        .engine(
            Work::of(&loaded.award),
            move || -> Result<(Value, String, Vec<usize>), ApiError> {
                let mut results = Vec::new();
                let mut hashes = Vec::new();
                for d in &rounds {
                    if d.record.is_none() || !d.spec.is_marked() {
                        results.push(None);
                        hashes.push(None);
                        continue;
                    }
                    let r = laurel::evaluate(&d.scoring, &d.applications, &d.marks, &l.plugins)
                        .map_err(|e| ApiError::Invalid {
                            title: "The stored marks cannot be scored".to_owned(),
                            diagnostics: e.applications.into_iter().chain(e.marks).collect(),
                        })?;
                    hashes.push(Some(hashed(&r, &d.applications, &d.marks)?.2));
                    results.push(Some(r));
                }
                let advanced: Vec<Option<Advanced>> = rounds
                    .iter()
                    .map(|d| {
                        d.record.as_ref().and_then(|r| {
                            r.advanced.as_ref().map(|a| {
                                a.iter()
                                    .map(|x| (x.application.clone(), x.reason.clone()))
                                    .collect()
                            })
                        })
                    })
                    .collect();
                let empty: Vec<String> = Vec::new();
                let runs: Vec<laurel::RoundRun<'_>> = rounds
                    .iter()
                    .zip(&results)
                    .zip(&hashes)
                    .zip(&advanced)
                    .filter(|(((d, _), _), _)| d.record.is_some())
                    .map(|(((d, r), h), a)| laurel::RoundRun {
                        spec: &d.spec,
                        entrants: d.record.as_ref().map_or(&empty[..], |r| &r.entrants[..]),
                        advanced: a.as_deref(),
                        results: r.as_ref(),
                        results_sha256: h.clone(),
                        shortfalls: d.record.as_ref().map_or(&empty[..], |r| &r.shortfalls[..]),
                    })
                    .collect();
                let fin = laurel::final_results(&l.award, &entrants, &runs, &mentions);
                let value =
                    serde_json::to_value(&fin).map_err(|e| ApiError::Internal(e.to_string()))?;
                let bytes =
                    serde_json::to_vec(&value).map_err(|e| ApiError::Internal(e.to_string()))?;
                Ok((
                    value,
                    hex::encode(Sha256::digest(&bytes)),
                    fin.plugin_warnings,
                ))
            },
        )
        .await??;
    let mut value = value;
    crypto::seal_final(&loaded.award, &state.sealer, &mut value, &plugin_warnings);
    Ok((record, loaded, value, sha))
}

pub(crate) fn latest_record(
    state: &AppState,
    award: &str,
) -> Result<Option<ResultsRecord>, ApiError> {
    let all = state
        .store
        .scan(Tree::Results, &prefix(&[award.as_bytes()]))?;
    match all.last() {
        Some((_, v)) => Ok(Some(
            serde_json::from_slice(v).map_err(|e| ApiError::Internal(e.to_string()))?,
        )),
        None => Ok(None),
    }
}

fn record_at(state: &AppState, award: &str, seq: u64) -> Result<Option<ResultsRecord>, ApiError> {
    Ok(get_json(
        state.store.as_ref(),
        Tree::Results,
        &key(&[award.as_bytes(), &seq.to_be_bytes()]),
    )?)
}

pub async fn compute(
    State(state): State<AppState>,
    caller: Caller,
    Path(award): Path<String>,
) -> Result<(StatusCode, super::Located, Json<ResultsComputed>), ApiError> {
    caller.require(&[Role::Admin])?;
    // One computation, one stored record: concurrent computations each take their own
    // number (a taken number is a conflict, retried with the next).
    let mut attempts = 0;
    loop {
        let seq = latest_record(&state, &award)?.map_or(1, |r| r.seq + 1);
        let (_, loaded, results, results_sha256) = compute_final(&state, &award).await?;
        let record = ResultsRecord {
            audit_head: crate::store::head(state.store.as_ref())?.map(|r| r.head()),
            award: award.clone(),
            version: loaded.version,
            seq,
            computed_at: now(),
            definition_sha256: loaded.award.sha256.clone(),
            inputs_sha256: String::new(),
            results_sha256,
            results,
        };
        let mut tx = Tx::new(&state);
        let k = key(&[award.as_bytes(), &seq.to_be_bytes()]);
        tx.absent(Tree::Results, &k)?;
        tx.put(Tree::Results, k, &record);
        let committed = tx.commit(caller.audit(
            "results.compute",
            award.clone(),
            json!({ "seq": seq, "version": record.version, "definition_sha256": record.definition_sha256, "results_sha256": record.results_sha256, "audit_head": record.audit_head }),
        ));
        match committed {
            Ok(_) => {
                let at = super::location(format!("/v1/awards/{award}/results"));
                return Ok((StatusCode::CREATED, at, Json(summary(&record))));
            }
            Err(ApiError::Conflict(_)) if attempts < 5 => attempts += 1,
            Err(e) => return Err(e),
        }
    }
}

fn summary(r: &ResultsRecord) -> ResultsComputed {
    ResultsComputed {
        award: r.award.clone(),
        version: r.version,
        seq: r.seq,
        computed_at: r.computed_at.clone(),
        definition_sha256: r.definition_sha256.clone(),
        results_sha256: r.results_sha256.clone(),
        audit_head: r.audit_head.clone(),
        rounds: r.results["rounds"].clone(),
        categories: r.results["categories"].clone(),
        warnings: r.results["warnings"].clone(),
    }
}

pub async fn latest(
    State(state): State<AppState>,
    caller: Caller,
    Path(award): Path<String>,
) -> Result<Json<ResultsRecord>, ApiError> {
    caller.require(&[Role::Admin, Role::Auditor])?;
    load_award(&state, &award)?;
    let mut r = latest_record(&state, &award)?
        .ok_or_else(|| ApiError::NotFound(format!("no results computed for `{award}`")))?;
    crypto::for_caller(
        caller.role == Role::Admin,
        &state.sealer,
        &award,
        &mut r.results,
    );
    Ok(Json(r))
}

pub async fn csv(
    State(state): State<AppState>,
    caller: Caller,
    Path(award): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(&[Role::Admin, Role::Auditor])?;
    load_award(&state, &award)?;
    let mut r = latest_record(&state, &award)?
        .ok_or_else(|| ApiError::NotFound(format!("no results computed for `{award}`")))?;
    crypto::for_caller(
        caller.role == Role::Admin,
        &state.sealer,
        &award,
        &mut r.results,
    );
    let fin: laurel::FinalResults = parse_final(&r.results)?;
    let head = r
        .audit_head
        .as_ref()
        .map_or_else(String::new, |h| format!("{}:{}", h.seq, h.hash));
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::HeaderName::from_static("laurel-results-sha256"),
                r.results_sha256.clone(),
            ),
            (header::HeaderName::from_static("laurel-audit-head"), head),
        ],
        laurel::final_csv(&fin),
    )
        .into_response())
}

/// Final results as stored, read back into their type.
fn parse_final(v: &Value) -> Result<laurel::FinalResults, ApiError> {
    serde_json::from_value(v.clone())
        .map_err(|e| ApiError::Internal(format!("stored results: {e}")))
}

pub async fn publish(
    State(state): State<AppState>,
    caller: Caller,
    Path(award): Path<String>,
) -> Result<Json<Published>, ApiError> {
    caller.require(&[Role::Admin])?;
    let mut tx = Tx::new(&state);
    let mut record: AwardRecord = tx
        .read(Tree::Awards, award.as_bytes())?
        .ok_or_else(|| ApiError::NotFound(format!("no award `{award}`")))?;
    let latest = latest_record(&state, &award)?
        .ok_or_else(|| ApiError::Conflict(format!("no results computed for `{award}`")))?;
    // Read as stored, sealed parts opened (an unscored reason may quote personal data).
    let mut opened = latest.results.clone();
    crypto::open_all(&state.sealer, &award, &mut opened);
    let fin = parse_final(&opened)?;
    if fin.applications.iter().any(|a| {
        a.outcome == laurel::Outcome::InProgress || a.outcome == laurel::Outcome::PendingReview
    }) {
        return Err(ApiError::Conflict(
            "the results are not final: a round is undecided or an application awaits review"
                .to_owned(),
        ));
    }
    if record
        .published
        .as_ref()
        .is_some_and(|p| p.seq == latest.seq)
    {
        return Err(ApiError::Conflict(format!(
            "results {} are published already",
            latest.seq
        )));
    }
    // The results published are the ones read.
    tx.read::<ResultsRecord>(
        Tree::Results,
        &key(&[award.as_bytes(), &latest.seq.to_be_bytes()]),
    )?;
    let published = crate::server::records::Publication {
        seq: latest.seq,
        results_sha256: latest.results_sha256.clone(),
        at: now(),
    };
    record.published = Some(published.clone());
    tx.put(Tree::Awards, award.as_bytes().to_vec(), &record);
    // Signed, with the public bundle anyone recomputes the results from.
    let certificate = crate::server::domain::certificates::certify(
        &state,
        &mut tx,
        &record,
        &latest,
        &fin,
        &published.at,
    )
    .await?;
    // Each applicant with an account hears of their own outcome.
    let loaded = state.loaded(&award, latest.version).await?;
    let apps: Vec<ApplicationRecord> = scan_json(
        state.store.as_ref(),
        Tree::Applications,
        &prefix(&[award.as_bytes()]),
    )?;
    let people =
        crate::server::notices::people_named(&state, apps.iter().map(|a| a.owner.as_str()))?;
    let people: BTreeMap<&str, &crate::server::people::Person> =
        people.iter().map(|p| (p.id.as_str(), p)).collect();
    let stored: BTreeMap<&str, &ApplicationRecord> = apps
        .iter()
        .filter_map(|r| Some((r.application.get("id")?.as_str()?, r)))
        .collect();
    for a in &fin.applications {
        let Some(r) = stored.get(a.application.as_str()) else {
            continue;
        };
        let Some(person) = people.get(r.owner.as_str()) else {
            continue;
        };
        let mut opened = r.application.clone();
        crate::server::crypto::open(&loaded.award, &state.sealer, &mut opened);
        let named = crate::server::notices::entry_words(
            &loaded.award,
            &a.application,
            opened["category"].as_str().unwrap_or_default(),
            &opened["fields"],
        );
        let outcome = serde_json::to_value(a.outcome).unwrap_or(Value::Null);
        crate::server::notices::send(
            &state,
            &mut tx,
            &record.notifications,
            (&award, Some(&loaded)),
            person,
            &crate::server::notices::Notice::Outcome {
                application: &named,
                outcome: outcome.as_str().unwrap_or_default(),
            },
        )?;
    }
    crate::server::webhooks::emit(
        &mut tx,
        &award,
        "results.published",
        &published.at,
        json!({ "results_sha256": published.results_sha256, "seq": published.seq, "certificate": certificate.number }),
    )?;
    tx.commit(caller.audit(
        "results.publish",
        award.clone(),
        json!({ "seq": published.seq, "results_sha256": published.results_sha256, "certificate": certificate.number, "bundle_recomputes": certificate.mismatches.is_empty() }),
    ))?;
    Ok(Json(Published {
        certificate: CertificateIssued {
            number: certificate.number,
            recomputes: certificate.mismatches.is_empty(),
            file: format!("/v1/awards/{award}/certificates/{}", certificate.number),
        },
        award,
        published,
    }))
}

/// What an applicant sees of their application: before publication its status; after, its
/// path through the rounds and its outcome, with scores and comments if the award shares them.
pub async fn outcome(
    State(state): State<AppState>,
    caller: Caller,
    Path((award, id)): Path<(String, String)>,
) -> Result<Json<ApplicantOutcome>, ApiError> {
    caller.require(&[Role::Admin, Role::Applicant, Role::Integrator])?;
    let app: ApplicationRecord = get_json(
        state.store.as_ref(),
        Tree::Applications,
        &key(&[award.as_bytes(), id.as_bytes()]),
    )?
    .ok_or_else(|| ApiError::NotFound(format!("no application `{id}` in award `{award}`")))?;
    if caller.role != Role::Admin && app.owner != caller.key {
        // As if it did not exist: no answer tells one applicant of another's records.
        return Err(ApiError::NotFound(format!(
            "no application `{id}` in award `{award}`"
        )));
    }
    let record = load_award(&state, &award)?;
    let Some(publication) = record.published else {
        return Ok(Json(ApplicantOutcome::Pending(OutcomePending {
            application: id,
            status: app.status,
            published: false,
            eligibility: app
                .eligibility
                .get("status")
                .and_then(|s| serde_json::from_value(s.clone()).ok()),
        })));
    };
    let results = record_at(&state, &award, publication.seq)?
        .ok_or_else(|| ApiError::Internal("published results are missing".to_owned()))?;
    let mut value = results.results;
    crypto::for_caller(true, &state.sealer, &award, &mut value);
    let fin = parse_final(&value)?;
    let mine = fin
        .applications
        .iter()
        .find(|a| a.application == id)
        .ok_or_else(|| ApiError::NotFound(format!("`{id}` is not in the published results")))?;
    let loaded = state.loaded(&award, results.version).await?;
    let feedback = loaded.award.feedback;
    let rounds: Vec<OutcomeRound> = mine
        .rounds
        .iter()
        .map(|p| OutcomeRound {
            round: p.round.clone(),
            advanced: p.advanced,
            score: feedback.scores.then_some(p.score),
            rank: feedback.scores.then_some(p.rank),
        })
        .collect();
    let mut out = OutcomePublished {
        application: id.clone(),
        published: true,
        published_at: publication.at,
        eligibility: mine.eligibility,
        review: mine.review.as_ref().map(|r| ReviewShown {
            admitted: r.eligible,
            reason: r.reason.clone(),
        }),
        rounds,
        outcome: mine.outcome,
        special_mention: mine.special_mention || mine.outcome == laurel::Outcome::SpecialMention,
        comments: None,
        criterion_comments: None,
    };
    if feedback.comments {
        let mut comments: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let mut by_criterion: BTreeMap<String, BTreeMap<String, Vec<String>>> = BTreeMap::new();
        for p in &mine.rounds {
            let marks: Vec<laurel::Evaluation> = scan_json(
                state.store.as_ref(),
                Tree::RoundMarks,
                &prefix(&[award.as_bytes(), p.round.as_bytes(), id.as_bytes()]),
            )?;
            for e in &marks {
                for (criterion, text) in &e.criterion_comments {
                    by_criterion
                        .entry(p.round.clone())
                        .or_default()
                        .entry(criterion.to_string())
                        .or_default()
                        .push(text.clone());
                }
            }
            let texts: Vec<String> = marks.into_iter().filter_map(|e| e.comment).collect();
            if !texts.is_empty() {
                comments.insert(p.round.clone(), texts);
            }
        }
        out.comments = Some(comments);
        out.criterion_comments = Some(by_criterion);
    }
    Ok(Json(ApplicantOutcome::Published(Box::new(out))))
}
