//! Judging rounds: judges, conflict-free assignment drawn from a seed, recusals, marks per
//! round with blind views, closing (which locks marks), audited late corrections, and
//! advancement to the next round.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::awards::load_award;
use super::results::{score, stored_applications};
use crate::server::auth::Caller;
use crate::server::crypto;
use crate::server::error::ApiError;
use crate::server::records::{
    Advancement, ApplicationRecord, AwardState, Recusal, Role, RoundRecord, RoundStatus,
};
use crate::server::tx::Tx;
use crate::server::{AppState, Loaded, body};
use crate::store::{Tree, get_json, key, now, prefix, scan_json};

fn round_key(award: &str, round: &str) -> Vec<u8> {
    key(&[award.as_bytes(), round.as_bytes()])
}

fn mark_key(award: &str, round: &str, app: &str, judge: &str) -> Vec<u8> {
    key(&[
        award.as_bytes(),
        round.as_bytes(),
        app.as_bytes(),
        judge.as_bytes(),
    ])
}

/// The award's current version and the round's definition.
async fn spec(
    state: &AppState,
    award: &str,
    round: &str,
) -> Result<(std::sync::Arc<Loaded>, laurel::wire::RoundSpec, usize), ApiError> {
    let record = load_award(state, award)?;
    let version = record
        .current()
        .ok_or_else(|| ApiError::Conflict(format!("award `{award}` has no published version")))?;
    let loaded = state.loaded(award, version).await?;
    let index = loaded
        .award
        .rounds
        .iter()
        .position(|r| r.id == round)
        .ok_or_else(|| ApiError::NotFound(format!("award `{award}` has no round `{round}`")))?;
    let r = loaded.award.rounds[index].clone();
    Ok((loaded, r, index))
}

fn load_round(state: &AppState, award: &str, round: &str) -> Result<RoundRecord, ApiError> {
    get_json(state.store.as_ref(), Tree::Rounds, &round_key(award, round))?
        .ok_or_else(|| ApiError::Conflict(format!("round `{round}` is not open yet")))
}

/// A round, read for update: the commit requires it unchanged.
fn round_for_update(tx: &mut Tx<'_>, award: &str, round: &str) -> Result<RoundRecord, ApiError> {
    tx.read(Tree::Rounds, &round_key(award, round))?
        .ok_or_else(|| ApiError::Conflict(format!("round `{round}` is not open yet")))
}

fn save_round(
    mut tx: Tx<'_>,
    caller: &Caller,
    r: &RoundRecord,
    action: &str,
    detail: Value,
) -> Result<(), ApiError> {
    tx.put(Tree::Rounds, round_key(&r.award, &r.round), r);
    tx.commit(caller.audit(action, format!("{}/{}", r.award, r.round), detail))?;
    Ok(())
}

fn judges(state: &AppState, award: &str) -> Result<Vec<laurel::Judge>, ApiError> {
    Ok(scan_json(
        state.store.as_ref(),
        Tree::Judges,
        &crate::store::prefix(&[award.as_bytes()]),
    )?)
}

pub async fn put_judge(
    State(state): State<AppState>,
    caller: Caller,
    Path((award, id)): Path<(String, String)>,
    bytes: Bytes,
) -> Result<Json<laurel::Judge>, ApiError> {
    caller.require(&[Role::Admin])?;
    load_award(&state, &award)?;
    let judge: laurel::Judge = body::json(&bytes)?;
    if judge.id.as_str() != id {
        return Err(ApiError::BadRequest(format!(
            "the body's id `{}` is not `{id}`",
            judge.id
        )));
    }
    let mut tx = Tx::new(&state);
    let k = key(&[award.as_bytes(), id.as_bytes()]);
    tx.read::<laurel::Judge>(Tree::Judges, &k)?;
    tx.put(Tree::Judges, k, &judge);
    let declared: Vec<&str> = judge
        .declared_conflicts
        .iter()
        .map(|d| d.application.as_str())
        .collect();
    tx.commit(caller.audit(
        "judge.set",
        format!("{award}/{id}"),
        json!({ "declared_conflicts": declared }),
    ))?;
    Ok(Json(judge))
}

pub async fn list_judges(
    State(state): State<AppState>,
    caller: Caller,
    Path(award): Path<String>,
) -> Result<Json<Vec<laurel::Judge>>, ApiError> {
    caller.require(&[Role::Admin, Role::Auditor])?;
    Ok(Json(judges(&state, &award)?))
}

/// How to open a round.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenRound {
    /// The seed of the assignment's draw.
    #[serde(default)]
    pub seed: u64,
}

pub async fn open(
    State(state): State<AppState>,
    caller: Caller,
    Path((award, round)): Path<(String, String)>,
    bytes: Bytes,
) -> Result<Json<RoundRecord>, ApiError> {
    caller.require(&[Role::Admin])?;
    let options: OpenRound = body::json_or_default(&bytes)?;
    let record = load_award(&state, &award)?;
    if record.state == AwardState::Draft {
        return Err(ApiError::Conflict(format!(
            "award `{award}` has not opened yet"
        )));
    }
    let (loaded, spec, index) = spec(&state, &award, &round).await?;
    let mut tx = Tx::new(&state);
    if !tx.absent(Tree::Rounds, &round_key(&award, &round))? {
        return Err(ApiError::Conflict(format!(
            "round `{round}` is already open"
        )));
    }
    // Entrants: every admitted application in the first round; those advanced from the
    // previous round after it.
    let entrants: Vec<String> = if index == 0 {
        let (apps, reviews) = stored_applications(&state, &loaded, &award, None)?;
        let l = loaded.clone();
        state
            .engine(move || {
                apps.iter()
                    .filter(|a| {
                        laurel::decide(&l.award, a, &l.plugins)
                            .admits(reviews.iter().find(|r| r.application == a.id))
                    })
                    .map(|a| a.id.to_string())
                    .collect()
            })
            .await?
    } else {
        let previous = &loaded.award.rounds[index - 1].id;
        let p = load_round(&state, &award, previous)?;
        p.advanced
            .ok_or_else(|| {
                ApiError::Conflict(format!("round `{previous}` has not decided who goes on"))
            })?
            .into_iter()
            .map(|a| a.application)
            .collect()
    };
    let (assignments, coverage) = if spec.judges_per_application.is_some() {
        let (apps, _) = stored_applications(&state, &loaded, &award, Some(&entrants))?;
        let plan = laurel::assign(
            &loaded.award,
            &spec,
            &apps,
            &judges(&state, &award)?,
            options.seed,
        )
        .map_err(|e| ApiError::Invalid {
            title: "No valid assignment exists".to_owned(),
            diagnostics: e
                .problems
                .iter()
                .map(|(a, why)| {
                    laurel::Diagnostic::error(
                        laurel::Code::Scoring,
                        "",
                        format!("application `{a}`: {why}"),
                    )
                })
                .collect(),
        })?;
        (
            plan.by_judge.clone(),
            Some(serde_json::to_value(&plan.coverage).unwrap_or(Value::Null)),
        )
    } else {
        (BTreeMap::new(), None)
    };
    let r = RoundRecord {
        award: award.clone(),
        round: round.clone(),
        version: loaded.version,
        status: RoundStatus::Open,
        seed: options.seed,
        entrants,
        assignments,
        coverage: coverage.clone(),
        recusals: Vec::new(),
        results_sha256: None,
        advanced: None,
    };
    save_round(
        tx,
        &caller,
        &r,
        "round.open",
        json!({ "seed": r.seed, "entrants": r.entrants.len(), "coverage": coverage }),
    )?;
    Ok(Json(r))
}

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path((award, round)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    caller.require(&[Role::Admin, Role::Auditor, Role::Judge])?;
    let r = load_round(&state, &award, &round)?;
    match (caller.role, &caller.subject) {
        (Role::Admin | Role::Auditor, _) => {
            Ok(Json(serde_json::to_value(&r).unwrap_or(Value::Null)))
        }
        (Role::Judge, Some(judge)) => Ok(Json(
            json!({ "award": award, "round": round, "status": r.status, "applications": r.assignments.get(judge).cloned().unwrap_or_default() }),
        )),
        _ => Err(ApiError::Forbidden(
            "only administrators, auditors and judges see rounds".to_owned(),
        )),
    }
}

/// A manual change of a judge's applications.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ManualAssignment {
    /// The judge's applications.
    pub applications: Vec<String>,
    /// Why, for the audit log.
    pub reason: String,
}

fn conflict_of(
    state: &AppState,
    loaded: &Loaded,
    award: &str,
    judge: &str,
    application: &str,
) -> Result<Option<String>, ApiError> {
    let Some(j): Option<laurel::Judge> = get_json(
        state.store.as_ref(),
        Tree::Judges,
        &key(&[award.as_bytes(), judge.as_bytes()]),
    )?
    else {
        return Ok(Some(format!("`{judge}` is not a registered judge")));
    };
    let (apps, _) = stored_applications(state, loaded, award, Some(&[application.to_owned()]))?;
    Ok(apps
        .first()
        .and_then(|a| laurel::conflict(&loaded.award, &j, a)))
}

pub async fn set_assignment(
    State(state): State<AppState>,
    caller: Caller,
    Path((award, round, judge)): Path<(String, String, String)>,
    bytes: Bytes,
) -> Result<Json<RoundRecord>, ApiError> {
    caller.require(&[Role::Admin])?;
    let change: ManualAssignment = body::json(&bytes)?;
    let (loaded, _, _) = spec(&state, &award, &round).await?;
    let mut tx = Tx::new(&state);
    let mut r = round_for_update(&mut tx, &award, &round)?;
    if r.status == RoundStatus::Closed {
        return Err(ApiError::Conflict(format!("round `{round}` is closed")));
    }
    let mut problems = Vec::new();
    for (i, app) in change.applications.iter().enumerate() {
        if !r.entrants.contains(app) {
            problems.push(laurel::Diagnostic::error(
                laurel::Code::UnknownReference,
                format!("/applications/{i}"),
                format!("`{app}` is not in round `{round}`"),
            ));
        } else if let Some(why) = conflict_of(&state, &loaded, &award, &judge, app)? {
            problems.push(laurel::Diagnostic::error(
                laurel::Code::Scoring,
                format!("/applications/{i}"),
                format!("judge `{judge}` may not judge `{app}`: {why}"),
            ));
        }
    }
    if !problems.is_empty() {
        let mut d: laurel::Diagnostics = problems.into_iter().collect();
        d.locate_in(body::text(&bytes)?);
        return Err(ApiError::Invalid {
            title: "The assignment breaks a rule".to_owned(),
            diagnostics: d.into_iter().collect(),
        });
    }
    let before = r
        .assignments
        .insert(judge.clone(), change.applications.clone());
    save_round(
        tx,
        &caller,
        &r,
        "round.assignment",
        json!({ "judge": judge, "before": before, "after": change.applications, "reason": change.reason }),
    )?;
    Ok(Json(r))
}

/// A recusal.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecusalBody {
    /// The application.
    pub application: String,
    /// Why.
    pub reason: String,
    /// The judge (administrators recording a judge's recusal; a judge recuses itself).
    #[serde(default)]
    pub judge: Option<String>,
}

pub async fn recuse(
    State(state): State<AppState>,
    caller: Caller,
    Path((award, round)): Path<(String, String)>,
    bytes: Bytes,
) -> Result<Json<RoundRecord>, ApiError> {
    caller.require(&[Role::Admin, Role::Judge])?;
    let b: RecusalBody = body::json(&bytes)?;
    let judge = match caller.role {
        Role::Judge => caller
            .subject
            .clone()
            .ok_or_else(|| ApiError::Forbidden("this judge key names no judge".into()))?,
        _ => b
            .judge
            .clone()
            .ok_or_else(|| ApiError::BadRequest("name the `judge` who recuses".into()))?,
    };
    let mut tx = Tx::new(&state);
    let mut r = round_for_update(&mut tx, &award, &round)?;
    if r.status == RoundStatus::Closed {
        return Err(ApiError::Conflict(format!("round `{round}` is closed")));
    }
    let apps = r.assignments.get_mut(&judge).ok_or_else(|| {
        ApiError::NotFound(format!(
            "judge `{judge}` has no applications in round `{round}`"
        ))
    })?;
    let before = apps.len();
    apps.retain(|a| a != &b.application);
    if apps.len() == before {
        return Err(ApiError::NotFound(format!(
            "`{}` is not assigned to judge `{judge}`",
            b.application
        )));
    }
    tx.delete(
        Tree::RoundMarks,
        mark_key(&award, &round, &b.application, &judge),
    );
    r.recusals.push(Recusal {
        judge: judge.clone(),
        application: b.application.clone(),
        reason: b.reason.clone(),
        at: now(),
    });
    tx.put(Tree::Rounds, round_key(&award, &round), &r);
    tx.commit(caller.audit(
        "round.recusal",
        format!("{award}/{round}/{}", b.application),
        json!({ "judge": judge, "reason": b.reason }),
    ))?;
    Ok(Json(r))
}

/// Marks of one application in a round.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RoundMarks {
    /// Marks by indicator.
    pub marks: BTreeMap<laurel::IndicatorId, laurel::Mark>,
    /// A comment.
    #[serde(default)]
    pub comment: Option<String>,
    /// Administrators correcting marks after the round closed: why.
    #[serde(default)]
    pub reason: Option<String>,
}

/// Whose marks of what, in which round.
struct Sheet<'a> {
    award: &'a str,
    round: &'a str,
    app: &'a str,
    judge: &'a str,
}

fn check_and_store(
    state: &AppState,
    caller: &Caller,
    (loaded, spec): (&Loaded, &laurel::wire::RoundSpec),
    Sheet {
        award,
        round,
        app,
        judge,
    }: Sheet<'_>,
    bytes: &Bytes,
    action: &str,
    reason: Option<String>,
) -> Result<Value, ApiError> {
    let b: RoundMarks = body::json(bytes)?;
    let record: ApplicationRecord = get_json(
        state.store.as_ref(),
        Tree::Applications,
        &key(&[award.as_bytes(), app.as_bytes()]),
    )?
    .ok_or_else(|| ApiError::NotFound(format!("no application `{app}`")))?;
    let evaluation = super::marks::evaluation(
        &loaded.award.for_round(spec),
        &record,
        (app, judge),
        (b.marks, b.comment),
        body::text(bytes)?,
    )?;
    let k = mark_key(award, round, app, judge);
    let mut tx = Tx::new(state);
    // The round (its status, assignments, recusals) and the judge must be as checked.
    tx.read::<RoundRecord>(Tree::Rounds, &round_key(award, round))?;
    tx.read::<laurel::Judge>(Tree::Judges, &key(&[award.as_bytes(), judge.as_bytes()]))?;
    let before: Option<laurel::Evaluation> = tx.read(Tree::RoundMarks, &k)?;
    tx.put(Tree::RoundMarks, k, &evaluation);
    tx.commit(caller.audit(
        action,
        format!("{award}/{round}/{app}/{judge}"),
        json!({ "before": before.map(|e| e.marks), "after": evaluation.marks, "reason": reason }),
    ))?;
    Ok(
        json!({ "award": award, "round": round, "application": app, "judge": judge, "marks": evaluation.marks }),
    )
}

pub async fn submit_marks(
    State(state): State<AppState>,
    caller: Caller,
    Path((award, round, app)): Path<(String, String, String)>,
    bytes: Bytes,
) -> Result<Json<Value>, ApiError> {
    caller.require(&[Role::Judge])?;
    let judge = caller
        .subject
        .clone()
        .ok_or_else(|| ApiError::Forbidden("this judge key names no judge".into()))?;
    let (loaded, spec, _) = spec(&state, &award, &round).await?;
    let r = load_round(&state, &award, &round)?;
    if r.status == RoundStatus::Closed {
        return Err(ApiError::Conflict(format!(
            "round `{round}` is closed: its marks are locked; an administrator corrects them with a reason"
        )));
    }
    if let Some(why) = conflict_of(&state, &loaded, &award, &judge, &app)? {
        return Err(ApiError::Forbidden(format!(
            "judge `{judge}` has a conflict of interest with `{app}`: {why}"
        )));
    }
    if !r.assignments.get(&judge).is_some_and(|a| a.contains(&app)) {
        return Err(ApiError::Forbidden(format!(
            "`{app}` is not assigned to judge `{judge}` in round `{round}`"
        )));
    }
    let sheet = Sheet {
        award: &award,
        round: &round,
        app: &app,
        judge: &judge,
    };
    Ok(Json(check_and_store(
        &state,
        &caller,
        (&loaded, &spec),
        sheet,
        &bytes,
        "round.marks",
        None,
    )?))
}

pub async fn correct_marks(
    State(state): State<AppState>,
    caller: Caller,
    Path((award, round, app, judge)): Path<(String, String, String, String)>,
    bytes: Bytes,
) -> Result<Json<Value>, ApiError> {
    caller.require(&[Role::Admin])?;
    let (loaded, spec, _) = spec(&state, &award, &round).await?;
    let r = load_round(&state, &award, &round)?;
    if r.status != RoundStatus::Closed {
        return Err(ApiError::Conflict(format!(
            "round `{round}` is open: judges change their own marks"
        )));
    }
    let reason = body::json::<RoundMarks>(&bytes)?
        .reason
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| {
            ApiError::BadRequest("a correction of locked marks needs a `reason`".into())
        })?;
    let sheet = Sheet {
        award: &award,
        round: &round,
        app: &app,
        judge: &judge,
    };
    let out = check_and_store(
        &state,
        &caller,
        (&loaded, &spec),
        sheet,
        &bytes,
        "round.correction",
        Some(reason),
    )?;
    let mut tx = Tx::new(&state);
    let mut r = round_for_update(&mut tx, &award, &round)?;
    let (_, _, sha) = round_results(&state, &loaded, &spec, &r).await?;
    r.results_sha256 = Some(sha.clone());
    save_round(
        tx,
        &caller,
        &r,
        "round.results",
        json!({ "results_sha256": sha, "after": "correction" }),
    )?;
    Ok(Json(out))
}

pub async fn list_marks(
    State(state): State<AppState>,
    caller: Caller,
    Path((award, round)): Path<(String, String)>,
) -> Result<Json<Vec<laurel::Evaluation>>, ApiError> {
    caller.require(&[Role::Admin, Role::Auditor, Role::Judge])?;
    let (_, spec, _) = spec(&state, &award, &round).await?;
    let r = load_round(&state, &award, &round)?;
    let all: Vec<laurel::Evaluation> = scan_json(
        state.store.as_ref(),
        Tree::RoundMarks,
        &prefix(&[award.as_bytes(), round.as_bytes()]),
    )?;
    match (caller.role, caller.subject.as_deref()) {
        (Role::Admin | Role::Auditor, _) => Ok(Json(all)),
        (Role::Judge, Some(judge)) => {
            use laurel::wire::SeeOtherMarks;
            let mine: Vec<String> = all
                .iter()
                .filter(|e| e.judge.as_str() == judge)
                .map(|e| e.application.to_string())
                .collect();
            let visible = |e: &laurel::Evaluation| {
                e.judge.as_str() == judge
                    || match spec.see_other_marks {
                        SeeOtherMarks::Always => r
                            .assignments
                            .get(judge)
                            .is_some_and(|a| a.contains(&e.application.to_string())),
                        SeeOtherMarks::AfterMarking => mine.contains(&e.application.to_string()),
                        SeeOtherMarks::AfterClose => {
                            r.status == RoundStatus::Closed
                                && r.assignments
                                    .get(judge)
                                    .is_some_and(|a| a.contains(&e.application.to_string()))
                        }
                    }
            };
            Ok(Json(all.iter().filter(|e| visible(e)).cloned().collect()))
        }
        _ => Err(ApiError::Forbidden(
            "only administrators, auditors and judges see marks".to_owned(),
        )),
    }
}

pub async fn view(
    State(state): State<AppState>,
    caller: Caller,
    Path((award, round, app)): Path<(String, String, String)>,
) -> Result<Json<Value>, ApiError> {
    caller.require(&[Role::Judge])?;
    let judge = caller.subject.clone().unwrap_or_default();
    let (loaded, spec, _) = spec(&state, &award, &round).await?;
    let r = load_round(&state, &award, &round)?;
    if !r.assignments.get(&judge).is_some_and(|a| a.contains(&app)) {
        return Err(ApiError::Forbidden(format!(
            "`{app}` is not assigned to judge `{judge}` in round `{round}`"
        )));
    }
    let record: ApplicationRecord = get_json(
        state.store.as_ref(),
        Tree::Applications,
        &key(&[award.as_bytes(), app.as_bytes()]),
    )?
    .ok_or_else(|| ApiError::NotFound(format!("no application `{app}`")))?;
    let mut value = record.application;
    // Personal data never reaches a judge; in a blind round, neither do hidden fields.
    crypto::redact(&loaded.award, &mut value, spec.blind);
    Ok(Json(
        json!({ "award": award, "round": round, "blind": spec.blind, "application": value }),
    ))
}

/// The round's results from its stored marks.
async fn round_results(
    state: &AppState,
    loaded: &std::sync::Arc<Loaded>,
    spec: &laurel::wire::RoundSpec,
    r: &RoundRecord,
) -> Result<(Value, String, String), ApiError> {
    let (apps, review_decisions) = stored_applications(state, loaded, &r.award, Some(&r.entrants))?;
    let evaluations: Vec<laurel::Evaluation> = scan_json(
        state.store.as_ref(),
        Tree::RoundMarks,
        &prefix(&[r.award.as_bytes(), r.round.as_bytes()]),
    )?;
    let marks = laurel::Marks {
        evaluations,
        review_decisions,
        ..laurel::Marks::default()
    };
    score(
        state,
        loaded.clone(),
        Some(loaded.award.for_round(spec)),
        apps,
        marks,
    )
    .await
}

pub async fn close(
    State(state): State<AppState>,
    caller: Caller,
    Path((award, round)): Path<(String, String)>,
) -> Result<Json<RoundRecord>, ApiError> {
    caller.require(&[Role::Admin])?;
    let (loaded, spec, _) = spec(&state, &award, &round).await?;
    let mut tx = Tx::new(&state);
    let mut r = round_for_update(&mut tx, &award, &round)?;
    if r.status == RoundStatus::Closed {
        return Err(ApiError::Conflict(format!(
            "round `{round}` is already closed"
        )));
    }
    r.status = RoundStatus::Closed;
    if spec.judges_per_application.is_some() {
        let (_, _, sha) = round_results(&state, &loaded, &spec, &r).await?;
        r.results_sha256 = Some(sha);
    }
    save_round(
        tx,
        &caller,
        &r,
        "round.close",
        json!({ "results_sha256": r.results_sha256 }),
    )?;
    Ok(Json(r))
}

pub async fn results(
    State(state): State<AppState>,
    caller: Caller,
    Path((award, round)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    caller.require(&[Role::Admin, Role::Auditor])?;
    let (loaded, spec, _) = spec(&state, &award, &round).await?;
    let r = load_round(&state, &award, &round)?;
    let (mut results, inputs_sha256, results_sha256) =
        round_results(&state, &loaded, &spec, &r).await?;
    crypto::for_caller(caller.role, &state.sealer, &award, &mut results);
    Ok(Json(
        json!({ "round": round, "status": r.status, "stored_results_sha256": r.results_sha256, "results_sha256": results_sha256, "inputs_sha256": inputs_sha256, "results": results }),
    ))
}

/// An administrator's advancement decisions.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AdvanceBody {
    /// For rounds decided by an administrator: who goes on, each with a reason.
    #[serde(default)]
    pub decisions: Vec<AdvanceDecision>,
}

/// One decision.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AdvanceDecision {
    /// The application.
    pub application: String,
    /// Why.
    pub reason: String,
}

pub async fn advance(
    State(state): State<AppState>,
    caller: Caller,
    Path((award, round)): Path<(String, String)>,
    bytes: Bytes,
) -> Result<Json<RoundRecord>, ApiError> {
    caller.require(&[Role::Admin])?;
    let b: AdvanceBody = body::json_or_default(&bytes)?;
    let (loaded, spec, _) = spec(&state, &award, &round).await?;
    let mut tx = Tx::new(&state);
    let mut r = round_for_update(&mut tx, &award, &round)?;
    if r.status != RoundStatus::Closed {
        return Err(ApiError::Conflict(format!(
            "round `{round}` must be closed first"
        )));
    }
    let advanced: Vec<Advancement> = if spec.judges_per_application.is_none() {
        r.entrants
            .iter()
            .map(|a| Advancement {
                application: a.clone(),
                reason: None,
            })
            .collect()
    } else {
        let (apps, reviews) = stored_applications(&state, &loaded, &award, Some(&r.entrants))?;
        let evaluations: Vec<laurel::Evaluation> = scan_json(
            state.store.as_ref(),
            Tree::RoundMarks,
            &prefix(&[award.as_bytes(), round.as_bytes()]),
        )?;
        let marks = laurel::Marks {
            evaluations,
            review_decisions: reviews,
            ..laurel::Marks::default()
        };
        let scoring_award = loaded.award.for_round(&spec);
        let (l, s) = (loaded.clone(), spec.clone());
        let advancing = state
            .engine(move || {
                laurel::evaluate(&scoring_award, &apps, &marks, &l.plugins)
                    .map(|results| laurel::advancing(&s, &results))
                    .map_err(|e| ApiError::Internal(e.to_string()))
            })
            .await??;
        match advancing {
            Some(ids) => ids
                .into_iter()
                .map(|a| Advancement {
                    application: a,
                    reason: None,
                })
                .collect(),
            None => {
                if b.decisions.is_empty() {
                    return Err(ApiError::BadRequest(format!(
                        "round `{round}` advances by decision: give `decisions`, each with a reason"
                    )));
                }
                let unknown: Vec<&str> = b
                    .decisions
                    .iter()
                    .filter(|d| !r.entrants.contains(&d.application))
                    .map(|d| d.application.as_str())
                    .collect();
                if !unknown.is_empty() {
                    return Err(ApiError::BadRequest(format!(
                        "not in round `{round}`: {}",
                        unknown.join(", ")
                    )));
                }
                b.decisions
                    .iter()
                    .map(|d| Advancement {
                        application: d.application.clone(),
                        reason: Some(d.reason.clone()),
                    })
                    .collect()
            }
        }
    };
    r.advanced = Some(advanced.clone());
    save_round(
        tx,
        &caller,
        &r,
        "round.advance",
        json!({ "advanced": advanced }),
    )?;
    Ok(Json(r))
}
