//! Judging rounds, the one judging model: every award judges in the rounds it declares (or in
//! one implicit round). Judges are registered per award; a round opens with its entrants and a
//! conflict-free assignment drawn from a seed (or set by an administrator), takes marks, closes
//! (which locks them), and decides who goes on (by its rule, or by the committee, checked).
//! A recusal or a judge removed draws a replacement from the same seed; where none is free,
//! the round records the shortfall.

use std::collections::{BTreeMap, BTreeSet};

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::server::answers::{
    JudgesRound, Reminded, RoundClosed, RoundListed, RoundPhase, RoundShown,
};
use crate::server::auth::Caller;
use crate::server::body;
use crate::server::domain::awards::load_award;
use crate::server::domain::conflicts::{add_known, conflict_of, known_conflicts};
use crate::server::domain::results::stored_applications;
use crate::server::domain::rounds::round_results;
use crate::server::domain::rounds::{Notify, load_round, mark_key, notify_judges, round_key, spec};
use crate::server::error::ApiError;
use crate::server::records::{
    Advancement, ApplicationRecord, ApplicationStatus, AwardState, Recusal, Role, RoundRecord,
    RoundStatus,
};
use crate::server::state::Work;
use crate::server::state::{AppState, Loaded};
use crate::server::tx::Tx;
use crate::store::{Tree, get_json, key, now, prefix, scan_json};

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
    let event = match action {
        "round.open" => Some("round.opened"),
        "round.close" => Some("round.closed"),
        _ => None,
    };
    if let Some(event) = event {
        crate::server::webhooks::emit(
            &mut tx,
            &r.award,
            event,
            &now(),
            json!({ "round": r.round, "entrants": r.entrants.len(), "results_sha256": r.results_sha256 }),
        )?;
    }
    tx.commit(caller.audit(action, format!("{}/{}", r.award, r.round), detail))?;
    Ok(())
}

/// Reminds the judges of an open round of what they have not marked (an administrator's act).
pub async fn remind(
    State(state): State<AppState>,
    caller: Caller,
    Path((award, round)): Path<(String, String)>,
) -> Result<Json<Reminded>, ApiError> {
    caller.require(&[Role::Admin])?;
    let (loaded, _, _, _) = spec(&state, &award, &round).await?;
    let record = crate::server::domain::awards::load_award(&state, &award)?;
    let r = load_round(&state, &award, &round)?;
    if r.status != RoundStatus::Open {
        return Err(ApiError::Conflict(format!("round `{round}` is not open")));
    }
    let mut tx = Tx::new(&state);
    let reminded = notify_judges(&state, &mut tx, &record, &loaded, &r, Notify::Reminder)?;
    tx.commit(caller.audit(
        "round.remind",
        format!("{award}/{round}"),
        json!({ "reminded": reminded }),
    ))?;
    Ok(Json(Reminded { round, reminded }))
}

/// The judges of `award` as registered.
pub(crate) fn registered_judges(
    state: &AppState,
    award: &str,
) -> Result<Vec<laurel::Judge>, ApiError> {
    Ok(scan_json(
        state.store.as_ref(),
        Tree::Judges,
        &prefix(&[award.as_bytes()]),
    )?)
}

/// The judges of `award` as a draw sees them: with every conflict the installation knows.
pub(crate) fn judges(state: &AppState, award: &str) -> Result<Vec<laurel::Judge>, ApiError> {
    let mut judges = registered_judges(state, award)?;
    let known = known_conflicts(state, award)?;
    for j in &mut judges {
        add_known(j, &known);
    }
    Ok(judges)
}

pub async fn put_judge(
    State(state): State<AppState>,
    caller: Caller,
    Path((award, id)): Path<(String, String)>,
    bytes: Bytes,
) -> Result<Json<laurel::Judge>, ApiError> {
    caller.require(&[Role::Admin])?;
    load_award(&state, &award)?;
    let mut judge: laurel::Judge = body::json(&bytes)?;
    if judge.id.as_str() != id {
        return Err(ApiError::located(
            "/id",
            format!("the body's id `{}` is not `{id}`", judge.id),
        ));
    }
    // A country is kept as its ISO 3166-1 code, whatever name it was written with, so that
    // conflicts of interest compare codes.
    if let Some(country) = judge.country.as_deref().filter(|c| !c.trim().is_empty()) {
        let Some(code) = laurel::country_code(country) else {
            let hint = laurel::country_suggestion(country)
                .map(|(code, name)| format!(": did you mean `{code}` ({name})?"))
                .unwrap_or_else(|| {
                    ": write its two-letter ISO 3166-1 code, such as `KR`".to_owned()
                });
            return Err(ApiError::located(
                "/country",
                format!("`{country}` names no country{hint}"),
            ));
        };
        judge.country = Some(code.to_owned());
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
    Ok(Json(registered_judges(&state, &award)?))
}

/// How to open a round.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OpenRound {
    /// The seed of the assignment's draw.
    #[serde(default)]
    pub seed: u64,
}

/// The admitted applications of an award, from their stored decisions and reviews.
fn admitted(state: &AppState, award: &str) -> Result<Vec<String>, ApiError> {
    let stored: Vec<ApplicationRecord> = scan_json(
        state.store.as_ref(),
        Tree::Applications,
        &prefix(&[award.as_bytes()]),
    )?;
    Ok(stored
        .iter()
        .filter(|r| {
            r.status == ApplicationStatus::Submitted && crate::server::domain::results::admits(r)
        })
        .filter_map(|r| r.application.get("id").and_then(Value::as_str))
        .map(str::to_owned)
        .collect())
}

pub async fn open(
    State(state): State<AppState>,
    caller: Caller,
    Path((award, round)): Path<(String, String)>,
    bytes: Bytes,
) -> Result<Json<RoundRecord>, ApiError> {
    caller.require(&[Role::Admin])?;
    let options: OpenRound = body::json_or_default(&bytes)?;
    let (loaded, spec, index, _) = spec(&state, &award, &round).await?;
    let mut tx = Tx::new(&state);
    let record: crate::server::records::AwardRecord = tx
        .read(Tree::Awards, award.as_bytes())?
        .ok_or_else(|| ApiError::NotFound(format!("no award `{award}`")))?;
    if record.state != AwardState::Closed {
        return Err(ApiError::Conflict(format!(
            "award `{award}` is still taking applications: close it before judging starts"
        )));
    }
    if !tx.absent(Tree::Rounds, &round_key(&award, &round))? {
        return Err(ApiError::Conflict(format!(
            "round `{round}` is already open"
        )));
    }
    // Entrants: every admitted application in the first round; those the previous round
    // advanced after it.
    let entrants: Vec<String> = if index == 0 {
        admitted(&state, &award)?
    } else {
        let previous = &loaded.award.judging_rounds()[index - 1].id;
        let p: RoundRecord = tx
            .read(Tree::Rounds, &round_key(&award, previous))?
            .ok_or_else(|| ApiError::Conflict(format!("round `{previous}` has not run")))?;
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
        removed: BTreeMap::new(),
        shortfalls: Vec::new(),
        results_sha256: None,
        advanced: None,
        override_reason: None,
    };
    notify_judges(&state, &mut tx, &record, &loaded, &r, Notify::Assigned)?;
    save_round(
        tx,
        &caller,
        &r,
        "round.open",
        json!({ "seed": r.seed, "entrants": r.entrants.len(), "coverage": coverage }),
    )?;
    Ok(Json(r))
}

/// Every round of an award: its definition and, once opened, its state.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(award): Path<String>,
) -> Result<Json<Vec<RoundListed>>, ApiError> {
    caller.require(&[Role::Admin, Role::Auditor])?;
    let record = load_award(&state, &award)?;
    let version = record
        .current()
        .ok_or_else(|| ApiError::Conflict(format!("award `{award}` has no published version")))?;
    let loaded = state.loaded(&award, version).await?;
    let mut out = Vec::new();
    for spec in loaded.award.judging_rounds() {
        let r: Option<RoundRecord> = get_json(
            state.store.as_ref(),
            Tree::Rounds,
            &round_key(&award, &spec.id),
        )?;
        out.push(RoundListed {
            marked: spec.is_marked(),
            judges_per_application: spec.judges_per_application,
            status: match r.as_ref().map(|r| r.status) {
                None => RoundPhase::NotOpen,
                Some(RoundStatus::Open) => RoundPhase::Open,
                Some(RoundStatus::Closed) => RoundPhase::Closed,
            },
            entrants: r.as_ref().map(|r| r.entrants.len()),
            advanced: r.as_ref().and_then(|r| r.advanced.as_ref().map(Vec::len)),
            shortfalls: r.as_ref().map(|r| r.shortfalls.clone()).unwrap_or_default(),
            round: spec.id,
            name: spec.name,
        });
    }
    Ok(Json(out))
}

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path((award, round)): Path<(String, String)>,
) -> Result<Json<RoundShown>, ApiError> {
    caller.require(&[Role::Admin, Role::Auditor, Role::Judge])?;
    let r = load_round(&state, &award, &round)?;
    match (caller.role, &caller.subject) {
        (Role::Admin | Role::Auditor, _) => Ok(Json(RoundShown::Whole(Box::new(
            crate::server::answers::RoundWhole {
                progress: crate::server::domain::rounds::progress(
                    state.store.as_ref(),
                    &award,
                    &r,
                )?,
                record: r,
            },
        )))),
        (Role::Judge, Some(judge)) => Ok(Json(RoundShown::ForJudge(JudgesRound {
            applications: r.assignments.get(judge).cloned().unwrap_or_default(),
            award,
            round,
            status: r.status,
        }))),
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
    /// Why, for the record.
    #[serde(default)]
    pub reason: Option<String>,
}

pub async fn set_assignment(
    State(state): State<AppState>,
    caller: Caller,
    Path((award, round, judge)): Path<(String, String, String)>,
    bytes: Bytes,
) -> Result<Json<RoundRecord>, ApiError> {
    caller.require(&[Role::Admin])?;
    let change: ManualAssignment = body::json(&bytes)?;
    let (loaded, spec, _, _) = spec(&state, &award, &round).await?;
    if !spec.is_marked() {
        return Err(ApiError::Conflict(format!(
            "round `{round}` takes no marks: it has no judges"
        )));
    }
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
    // The judge's registration (conflicts declared) must be as read.
    tx.read::<laurel::Judge>(Tree::Judges, &key(&[award.as_bytes(), judge.as_bytes()]))?;
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

/// A judge leaving one application of a round.
struct Leave<'a> {
    judge: &'a str,
    application: &'a str,
    reason: &'a str,
    /// The judges each application should have, when the round says.
    wanted: Option<u32>,
}

/// Takes the judge off the application in round `r` and draws who replaces them (the same
/// seed, free of conflicts, least loaded), recording the recusal; deletes their marks of it.
fn replace_judge(
    state: &AppState,
    tx: &mut Tx<'_>,
    loaded: &Loaded,
    r: &mut RoundRecord,
    leave: Leave<'_>,
) -> Result<Option<String>, ApiError> {
    let Leave {
        judge,
        application,
        reason,
        wanted,
    } = leave;
    if let Some(apps) = r.assignments.get_mut(judge) {
        apps.retain(|a| a != application);
    }
    tx.delete(
        Tree::RoundMarks,
        mark_key(&r.award, &r.round, application, judge),
    );
    let mut excluded: BTreeSet<String> = r.removed.keys().cloned().collect();
    excluded.insert(judge.to_owned());
    excluded.extend(
        r.recusals
            .iter()
            .filter(|x| x.application == application)
            .map(|x| x.judge.clone()),
    );
    let registered = judges(state, &r.award)?;
    let (apps, _) = stored_applications(state, loaded, &r.award, Some(&[application.to_owned()]))?;
    let replaced_by = match (apps.first(), wanted) {
        (Some(app), Some(_)) => laurel::replacement(
            &loaded.award,
            app,
            &registered,
            &r.assignments,
            &excluded,
            r.seed,
        )
        .map(|j| j.id.to_string()),
        _ => None,
    };
    if let Some(j) = &replaced_by {
        r.assignments
            .entry(j.clone())
            .or_default()
            .push(application.to_owned());
        // Their registration (conflicts declared) must be as read.
        tx.read::<laurel::Judge>(Tree::Judges, &key(&[r.award.as_bytes(), j.as_bytes()]))?;
    } else if let Some(k) = wanted {
        let has = r
            .assignments
            .values()
            .filter(|apps| apps.iter().any(|a| a == application))
            .count();
        r.shortfalls.push(format!(
            "`{application}` has {has} judges of {k}: no other judge is free of conflicts"
        ));
    }
    r.recusals.push(Recusal {
        judge: judge.to_owned(),
        application: application.to_owned(),
        reason: reason.to_owned(),
        at: now(),
        replaced_by: replaced_by.clone(),
    });
    Ok(replaced_by)
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
            .ok_or_else(|| ApiError::located("/judge", "name the `judge` who recuses"))?,
    };
    if b.reason.trim().is_empty() {
        return Err(ApiError::located("/reason", "a recusal needs a `reason`"));
    }
    let (loaded, spec, _, _) = spec(&state, &award, &round).await?;
    let mut tx = Tx::new(&state);
    let mut r = round_for_update(&mut tx, &award, &round)?;
    if r.status == RoundStatus::Closed {
        return Err(ApiError::Conflict(format!("round `{round}` is closed")));
    }
    if !r
        .assignments
        .get(&judge)
        .is_some_and(|apps| apps.contains(&b.application))
    {
        return Err(ApiError::NotFound(format!(
            "`{}` is not assigned to judge `{judge}` in round `{round}`",
            b.application
        )));
    }
    let replaced_by = replace_judge(
        &state,
        &mut tx,
        &loaded,
        &mut r,
        Leave {
            judge: &judge,
            application: &b.application,
            reason: &b.reason,
            wanted: spec.judges_per_application,
        },
    )?;
    save_round(
        tx,
        &caller,
        &r,
        "round.recusal",
        json!({ "judge": judge, "application": b.application, "reason": b.reason, "replaced_by": replaced_by }),
    )?;
    Ok(Json(r))
}

/// Why a judge is removed from a round.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RemovalBody {
    /// Why.
    pub reason: String,
}

pub async fn remove_judge(
    State(state): State<AppState>,
    caller: Caller,
    Path((award, round, judge)): Path<(String, String, String)>,
    bytes: Bytes,
) -> Result<Json<RoundRecord>, ApiError> {
    caller.require(&[Role::Admin])?;
    let b: RemovalBody = body::json(&bytes)?;
    if b.reason.trim().is_empty() {
        return Err(ApiError::located("/reason", "a removal needs a `reason`"));
    }
    let (loaded, spec, _, _) = spec(&state, &award, &round).await?;
    let mut tx = Tx::new(&state);
    let mut r = round_for_update(&mut tx, &award, &round)?;
    if r.status == RoundStatus::Closed {
        return Err(ApiError::Conflict(format!("round `{round}` is closed")));
    }
    let apps = r.assignments.get(&judge).cloned().ok_or_else(|| {
        ApiError::NotFound(format!(
            "judge `{judge}` has no applications in round `{round}`"
        ))
    })?;
    r.removed.insert(judge.clone(), b.reason.clone());
    let mut replaced = BTreeMap::new();
    for app in &apps {
        let by = replace_judge(
            &state,
            &mut tx,
            &loaded,
            &mut r,
            Leave {
                judge: &judge,
                application: app,
                reason: &b.reason,
                wanted: spec.judges_per_application,
            },
        )?;
        replaced.insert(app.clone(), by);
    }
    r.assignments.remove(&judge);
    save_round(
        tx,
        &caller,
        &r,
        "round.judge_removed",
        json!({ "judge": judge, "reason": b.reason, "replaced": replaced }),
    )?;
    Ok(Json(r))
}

pub async fn close(
    State(state): State<AppState>,
    caller: Caller,
    Path((award, round)): Path<(String, String)>,
) -> Result<Json<RoundClosed>, ApiError> {
    caller.require(&[Role::Admin])?;
    let (loaded, spec, _, _) = spec(&state, &award, &round).await?;
    let mut tx = Tx::new(&state);
    let mut r = round_for_update(&mut tx, &award, &round)?;
    if r.status == RoundStatus::Closed {
        return Err(ApiError::Conflict(format!(
            "round `{round}` is already closed"
        )));
    }
    r.status = RoundStatus::Closed;
    let mut warnings = Vec::new();
    if spec.is_marked() {
        let (results, _, sha) = round_results(&state, &loaded, &spec, &r).await?;
        r.results_sha256 = Some(sha);
        warnings.extend(
            results["warnings"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_owned),
        );
    }
    save_round(
        tx,
        &caller,
        &r,
        "round.close",
        json!({ "results_sha256": r.results_sha256, "shortfalls": r.shortfalls }),
    )?;
    Ok(Json(RoundClosed { round: r, warnings }))
}

/// An administrator's advancement decisions.
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AdvanceBody {
    /// For rounds decided by an administrator: who goes on (for the last round: who wins),
    /// each with a reason.
    #[serde(default)]
    pub decisions: Vec<AdvanceDecision>,
    /// Records why the decisions stand although they break a check (more winners than a
    /// category declares, an application that did not reach the round).
    #[serde(default)]
    pub override_reason: Option<String>,
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

/// The first twenty of a list, and how many more.
fn listed(items: &[String]) -> String {
    const SHOWN: usize = 20;
    let mut out = items
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join("; ");
    if items.len() > SHOWN {
        out.push_str(&format!("; and {} more", items.len() - SHOWN));
    }
    out
}

/// The category of each of the round's entrants.
fn entrant_categories(
    state: &AppState,
    award: &str,
    entrants: &[String],
) -> Result<Vec<(String, String)>, ApiError> {
    let mut out = Vec::new();
    for app in entrants {
        if let Some(r) = get_json::<ApplicationRecord>(
            state.store.as_ref(),
            Tree::Applications,
            &key(&[award.as_bytes(), app.as_bytes()]),
        )? {
            let category = r
                .application
                .get("category")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            out.push((app.clone(), category));
        }
    }
    Ok(out)
}

pub async fn advance(
    State(state): State<AppState>,
    caller: Caller,
    Path((award, round)): Path<(String, String)>,
    bytes: Bytes,
) -> Result<Json<RoundRecord>, ApiError> {
    caller.require(&[Role::Admin])?;
    let b: AdvanceBody = body::json_or_default(&bytes)?;
    let (loaded, spec, index, count) = spec(&state, &award, &round).await?;
    let last = index + 1 == count;
    let mut tx = Tx::new(&state);
    let mut r = round_for_update(&mut tx, &award, &round)?;
    if r.status != RoundStatus::Closed {
        return Err(ApiError::Conflict(format!(
            "round `{round}` must be closed first"
        )));
    }
    let by_rule: Option<Vec<String>> = if !spec.is_marked() {
        Some(r.entrants.clone())
    } else if spec.advance == laurel::wire::AdvanceSpec::Decision {
        None
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
        let (going, unscored) = state
            .engine(Work::of(&loaded.award), move || {
                laurel::evaluate(&scoring_award, &apps, &marks, &l.plugins)
                    .map(|results| {
                        let unscored: Vec<String> = results
                            .categories
                            .iter()
                            .flat_map(|c| c.unscored.iter())
                            .map(|u| format!("`{}` ({})", u.application, u.reason))
                            .collect();
                        (laurel::advancing(&s, &results, &apps), unscored)
                    })
                    .map_err(|e| ApiError::Internal(e.to_string()))
            })
            .await??;
        // A rule ranks the scored; an entrant without a score would silently stay behind
        // (or, with nobody scored, nobody would go on): an administrator says so first.
        if !unscored.is_empty() {
            match b.override_reason.as_deref().map(str::trim) {
                Some(why) if !why.is_empty() => r.override_reason = Some(why.to_owned()),
                _ => {
                    return Err(ApiError::Conflict(format!(
                        "{} of the {} entrants of round `{round}` have no score, so its rule cannot rank them: {}. Collect their marks (or a review decision), or advance with an `override_reason`: they then do not go on",
                        unscored.len(),
                        r.entrants.len(),
                        listed(&unscored)
                    )));
                }
            }
        }
        going
    };
    let advanced: Vec<Advancement> = match by_rule {
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
            if let Some(i) = b.decisions.iter().position(|d| d.reason.trim().is_empty()) {
                return Err(ApiError::BadRequest(format!("decision {i} has no reason")));
            }
            let decided: Vec<String> = b.decisions.iter().map(|d| d.application.clone()).collect();
            let entrants = entrant_categories(&state, &award, &r.entrants)?;
            let problems = laurel::check_decisions(&loaded.award, last, &entrants, &decided);
            let overridden = b
                .override_reason
                .as_deref()
                .is_some_and(|s| !s.trim().is_empty());
            if problems.has_errors() && !overridden {
                let mut d = problems;
                d.locate_in(body::text(&bytes)?);
                return Err(ApiError::Invalid {
                    title: if last {
                        "The committee's decisions break the award's rules".to_owned()
                    } else {
                        "The decisions break the round's rules".to_owned()
                    },
                    diagnostics: d.into_iter().collect(),
                });
            }
            if problems.has_errors() {
                r.override_reason = b.override_reason.clone();
            }
            b.decisions
                .iter()
                .map(|d| Advancement {
                    application: d.application.clone(),
                    reason: Some(d.reason.clone()),
                })
                .collect()
        }
    };
    r.advanced = Some(advanced.clone());
    save_round(
        tx,
        &caller,
        &r,
        "round.advance",
        json!({ "advanced": advanced, "override_reason": r.override_reason }),
    )?;
    Ok(Json(r))
}
