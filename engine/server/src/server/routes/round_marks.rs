//! Marks in a round: judges mark what they are assigned while the round is open, see
//! applications blind when the round says so, see their co-judges' marks only when it allows;
//! after it closes, only an administrator corrects marks, with a reason, audited. And the
//! round's results.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::server::answers::{JudgeView, RoundResults, StoredMarks};
use crate::server::auth::Caller;
use crate::server::body;
use crate::server::crypto;
use crate::server::domain::conflicts::conflict_of;
use crate::server::domain::rounds::mark_key;
use crate::server::domain::rounds::round_key;
use crate::server::domain::rounds::round_results;
use crate::server::domain::rounds::spec;
use crate::server::domain::rounds::{load_round, load_round_as_read, round_for_judge};
use crate::server::error::ApiError;
use crate::server::records::{ApplicationRecord, Role, RoundRecord, RoundStatus};
use crate::server::state::{AppState, Loaded};
use crate::server::tx::Tx;
use crate::store::{Tree, get_json, key, prefix};

/// Marks of one application in a round.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RoundMarks {
    /// Marks by indicator.
    pub marks: BTreeMap<laurel::IndicatorId, laurel::Mark>,
    /// A comment, for the panel (and, when the award shares feedback, for the applicant).
    #[serde(default)]
    pub comment: Option<String>,
    /// A comment on each criterion, by criterion id (shared like `comment`).
    #[serde(default)]
    pub criterion_comments: BTreeMap<laurel::CriterionId, String>,
    /// The criteria the judge abstains on (each one the award lets judges abstain on, with
    /// no mark given for it).
    #[serde(default)]
    pub abstained: Vec<laurel::CriterionId>,
    /// Administrators correcting marks after the round closed: why.
    #[serde(default)]
    pub reason: Option<String>,
}

/// Checks a judge's marks of a stored application against `award` (located in the request
/// body `text` when invalid) and makes them an evaluation.
fn evaluation(
    award: &laurel::Award,
    app: &ApplicationRecord,
    (application, judge): (&str, &str),
    b: RoundMarks,
    text: &str,
) -> Result<laurel::Evaluation, ApiError> {
    let RoundMarks {
        marks,
        comment,
        criterion_comments,
        abstained,
        reason: _,
    } = b;
    let category = app
        .application
        .get("category")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mut diagnostics = laurel::check_marks(award, category, judge, &marks, &abstained);
    for d in unknown_criteria(award, category, &criterion_comments) {
        diagnostics.push(d);
    }
    let criterion_comments: BTreeMap<laurel::CriterionId, String> = criterion_comments
        .into_iter()
        .filter(|(_, text)| !text.trim().is_empty())
        .collect();
    if diagnostics.has_errors() {
        diagnostics.locate_in(text);
        return Err(ApiError::Invalid {
            title: "The marks are invalid".to_owned(),
            diagnostics: diagnostics.into_iter().collect(),
        });
    }
    Ok(laurel::Evaluation {
        schema: None,
        judge: laurel::JudgeId::new(judge),
        application: laurel::ApplicationId::new(application),
        marks,
        comment,
        criterion_comments,
        abstained,
    })
}

/// A comment is on one of the category's criteria: one problem per comment that is not.
pub(super) fn unknown_criteria(
    award: &laurel::Award,
    category: &str,
    comments: &BTreeMap<laurel::CriterionId, String>,
) -> Vec<laurel::Diagnostic> {
    let criteria = award.category(category).map(|c| &c.criteria);
    comments
        .keys()
        .filter(|id| !criteria.is_some_and(|cs| cs.iter().any(|c| c.id == **id)))
        .map(|id| {
            laurel::Diagnostic::error(
                laurel::Code::Schema,
                format!("/criterion_comments/{id}"),
                format!("`{id}` is not a criterion of category `{category}`"),
            )
        })
        .collect()
}

/// Whose marks of what, in which round.
struct Sheet<'a> {
    award: &'a str,
    round: &'a str,
    app: &'a str,
    judge: &'a str,
    /// The round's record as it was read and checked: the commit requires it unchanged.
    round_as_checked: Vec<u8>,
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
        round_as_checked,
    }: Sheet<'_>,
    bytes: &Bytes,
    action: &str,
    reason: Option<String>,
) -> Result<StoredMarks, ApiError> {
    let b: RoundMarks = body::json(bytes)?;
    let record: ApplicationRecord = get_json(
        state.store.as_ref(),
        Tree::Applications,
        &key(&[award.as_bytes(), app.as_bytes()]),
    )?
    .ok_or_else(|| ApiError::NotFound(format!("no application `{app}`")))?;
    let evaluation = evaluation(
        &loaded.award.for_round(spec),
        &record,
        (app, judge),
        b,
        body::text(bytes)?,
    )?;
    let k = mark_key(award, round, app, judge);
    let mut tx = Tx::new(state);
    // The round (its status, assignments, recusals) and the judge must be as checked.
    tx.expect(
        Tree::Rounds,
        &round_key(award, round),
        Some(round_as_checked),
    );
    tx.read::<laurel::Judge>(Tree::Judges, &key(&[award.as_bytes(), judge.as_bytes()]))?;
    let before: Option<laurel::Evaluation> = tx.read(Tree::RoundMarks, &k)?;
    tx.put(Tree::RoundMarks, k, &evaluation);
    // The sheet saved for later, if any, is done with.
    tx.delete(
        Tree::Meta,
        crate::server::domain::rounds::sheet_key(award, round, app, judge),
    );
    crate::server::webhooks::emit(
        &mut tx,
        award,
        "marks.submitted",
        &crate::store::now(),
        json!({ "round": round, "application": app, "judge": judge, "correction": reason.is_some() }),
    )?;
    tx.commit(caller.audit(
        action,
        format!("{award}/{round}/{app}/{judge}"),
        json!({
            "before": before.as_ref().map(|e| &e.marks),
            "after": evaluation.marks,
            "abstained": evaluation.abstained,
            "abstained_before": before.map(|e| e.abstained).filter(|a| !a.is_empty()),
            "reason": reason,
        }),
    ))?;
    Ok(StoredMarks {
        award: award.to_owned(),
        round: round.to_owned(),
        application: app.to_owned(),
        judge: judge.to_owned(),
        marks: evaluation.marks,
        comment: evaluation.comment,
        criterion_comments: evaluation.criterion_comments,
        abstained: evaluation.abstained,
    })
}

/// Whether the caller, a judge, may mark `app` in `round` now: the round open, the entry
/// assigned to them, no conflict of interest. Their judge id, the award, the round, and the
/// round's record as read (a commit that rests on the check expects it unchanged).
pub(super) async fn may_mark(
    state: &AppState,
    caller: &Caller,
    (award, round, app): (&str, &str, &str),
) -> Result<
    (
        String,
        std::sync::Arc<Loaded>,
        laurel::wire::RoundSpec,
        Vec<u8>,
    ),
    ApiError,
> {
    caller.require(&[Role::Judge])?;
    let judge = caller
        .subject
        .clone()
        .ok_or_else(|| ApiError::Forbidden("this judge key names no judge".into()))?;
    let (loaded, spec, _, _) = spec(state, award, round).await?;
    let (status, assigned, read) = round_for_judge(state, award, round, &judge)?;
    if status == RoundStatus::Closed {
        return Err(ApiError::Conflict(format!(
            "round `{round}` is closed: its marks are locked; an administrator corrects them with a reason"
        )));
    }
    if !assigned.iter().any(|a| a == app) {
        return Err(ApiError::Forbidden(format!(
            "`{app}` is not assigned to judge `{judge}` in round `{round}`"
        )));
    }
    if let Some(why) = conflict_of(state, &loaded, award, &judge, app)? {
        return Err(ApiError::Forbidden(format!(
            "judge `{judge}` has a conflict of interest with `{app}`: {why}"
        )));
    }
    Ok((judge, loaded, spec, read))
}

pub async fn submit_marks(
    State(state): State<AppState>,
    caller: Caller,
    Path((award, round, app)): Path<(String, String, String)>,
    bytes: Bytes,
) -> Result<Json<StoredMarks>, ApiError> {
    let (judge, loaded, spec, round_as_checked) =
        may_mark(&state, &caller, (&award, &round, &app)).await?;
    let sheet = Sheet {
        award: &award,
        round: &round,
        app: &app,
        judge: &judge,
        round_as_checked,
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
) -> Result<Json<StoredMarks>, ApiError> {
    caller.require(&[Role::Admin])?;
    let (loaded, spec, _, _) = spec(&state, &award, &round).await?;
    let (r, round_as_checked) = load_round_as_read(&state, &award, &round)?;
    if r.status != RoundStatus::Closed {
        return Err(ApiError::Conflict(format!(
            "round `{round}` is open: judges change their own marks"
        )));
    }
    let reason = body::json::<RoundMarks>(&bytes)?
        .reason
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| {
            ApiError::located("/reason", "a correction of locked marks needs a `reason`")
        })?;
    if let Some(why) = conflict_of(&state, &loaded, &award, &judge, &app)? {
        return Err(ApiError::Forbidden(format!(
            "judge `{judge}` has a conflict of interest with `{app}`: {why}"
        )));
    }
    let sheet = Sheet {
        award: &award,
        round: &round,
        app: &app,
        judge: &judge,
        round_as_checked,
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
    let mut r: RoundRecord = tx
        .read(Tree::Rounds, &round_key(&award, &round))?
        .ok_or_else(|| ApiError::Conflict(format!("round `{round}` is not open yet")))?;
    let (_, _, sha) = round_results(&state, &loaded, &spec, &r).await?;
    r.results_sha256 = Some(sha.clone());
    tx.put(Tree::Rounds, round_key(&award, &round), &r);
    tx.commit(caller.audit(
        "round.results",
        format!("{award}/{round}"),
        json!({ "results_sha256": sha, "after": "correction" }),
    ))?;
    Ok(Json(out))
}

pub async fn list_marks(
    State(state): State<AppState>,
    caller: Caller,
    Path((award, round)): Path<(String, String)>,
    axum::extract::RawQuery(query): axum::extract::RawQuery,
) -> Result<Json<Vec<laurel::Evaluation>>, ApiError> {
    caller.require(&[Role::Admin, Role::Auditor, Role::Judge])?;
    let (_, spec, _, _) = spec(&state, &award, &round).await?;
    let r = load_round(&state, &award, &round)?;
    let judge = match (caller.role, caller.subject.as_deref()) {
        (Role::Admin | Role::Auditor, _) => None,
        (Role::Judge, Some(judge)) => Some(judge),
        _ => {
            return Err(ApiError::Forbidden(
                "only administrators, auditors and judges see marks".to_owned(),
            ));
        }
    };
    let Some(wanted) = crate::server::paging::Wanted::of(query.as_deref(), super::listings::MARKS)
    else {
        return Ok(Json(Vec::new())); // a `limit` that is none: the layer says so
    };
    // `after` is `application/judge`, the order marks are stored in.
    let after = wanted.after.as_ref().map(|a| {
        let (app, judge) = a.split_once('/').unwrap_or((a, ""));
        mark_key(&award, &round, app, judge)
    });
    let store = state.store.as_ref();
    // Whether the judge has marked an application (asked once per application).
    let mut marked: std::collections::HashMap<String, bool> = std::collections::HashMap::new();
    let mut has_marked = |app: &str, judge: &str| -> Result<bool, ApiError> {
        if let Some(&m) = marked.get(app) {
            return Ok(m);
        }
        let m = store
            .get(Tree::RoundMarks, &mark_key(&award, &round, app, judge))?
            .is_some();
        marked.insert(app.to_owned(), m);
        Ok(m)
    };
    let marks = crate::server::paging::keyset(
        store,
        (
            Tree::RoundMarks,
            &prefix(&[award.as_bytes(), round.as_bytes()]),
        ),
        after,
        &wanted,
        |v| {
            let e = serde_json::from_slice::<laurel::Evaluation>(&v)
                .map_err(|e| ApiError::Internal(format!("stored marks: {e}")));
            let shown = e.and_then(|e| match judge {
                None => Ok(Some(e)),
                Some(judge) => {
                    use laurel::wire::SeeOtherMarks;
                    let app = e.application.as_str();
                    let assigned = r
                        .assignments
                        .get(judge)
                        .is_some_and(|a| a.iter().any(|x| x == app));
                    let visible = e.judge.as_str() == judge
                        || match spec.see_other_marks {
                            SeeOtherMarks::Always => assigned,
                            SeeOtherMarks::AfterMarking => has_marked(app, judge)?,
                            SeeOtherMarks::AfterClose => {
                                r.status == RoundStatus::Closed && assigned
                            }
                        };
                    Ok(visible.then_some(e))
                }
            });
            std::future::ready(shown)
        },
    )
    .await?;
    Ok(Json(marks))
}

pub async fn view(
    State(state): State<AppState>,
    caller: Caller,
    Path((award, round, app)): Path<(String, String, String)>,
) -> Result<Json<JudgeView>, ApiError> {
    caller.require(&[Role::Judge])?;
    let judge = caller.subject.clone().unwrap_or_default();
    let (loaded, spec, _, _) = spec(&state, &award, &round).await?;
    let (_, assigned, _) = round_for_judge(&state, &award, &round, &judge)?;
    if !assigned.contains(&app) {
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
    crate::server::domain::files::neutral_names(&mut value, &award, &app);
    Ok(Json(JudgeView {
        award,
        round,
        blind: spec.blind,
        application: value,
    }))
}

/// The round's results (JSON), computed again from its stored marks.
async fn computed(
    state: &AppState,
    caller: &Caller,
    award: &str,
    round: &str,
) -> Result<(RoundRecord, Value, String, String), ApiError> {
    caller.require(&[Role::Admin, Role::Auditor])?;
    let (loaded, spec, _, _) = spec(state, award, round).await?;
    if !spec.is_marked() {
        return Err(ApiError::Conflict(format!(
            "round `{round}` takes no marks: it has no scores"
        )));
    }
    let r = load_round(state, award, round)?;
    let (mut results, inputs_sha256, results_sha256) =
        round_results(state, &loaded, &spec, &r).await?;
    crypto::for_caller(
        caller.role == Role::Admin,
        &state.sealer,
        award,
        &mut results,
    );
    Ok((r, results, inputs_sha256, results_sha256))
}

pub async fn results(
    State(state): State<AppState>,
    caller: Caller,
    Path((award, round)): Path<(String, String)>,
) -> Result<Json<RoundResults>, ApiError> {
    let (r, results, inputs_sha256, results_sha256) =
        computed(&state, &caller, &award, &round).await?;
    Ok(Json(RoundResults {
        round,
        status: r.status,
        stored_results_sha256: r.results_sha256,
        results_sha256,
        inputs_sha256,
        shortfalls: r.shortfalls,
        results,
    }))
}

pub async fn results_csv(
    State(state): State<AppState>,
    caller: Caller,
    Path((award, round)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (r, results, _, _) = computed(&state, &caller, &award, &round).await?;
    let advanced: Vec<&str> = r
        .advanced
        .iter()
        .flatten()
        .map(|a| a.application.as_str())
        .collect();
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut write = |row: &[&str]| {
        w.write_record(row)
            .map_err(|e| ApiError::Internal(e.to_string()))
    };
    write(&[
        "category",
        "rank",
        "application",
        "score",
        "judges",
        "tied",
        "advanced",
        "status",
    ])?;
    let s = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_owned);
    for c in results["categories"].as_array().into_iter().flatten() {
        for p in c["ranking"].as_array().into_iter().flatten() {
            let app = s(&p["application"]);
            write(&[
                &s(&c["category"]),
                &s(&p["rank"]),
                &app,
                &s(&p["score"]),
                &s(&p["judges"]),
                &s(&p["tied"]),
                if r.advanced.is_none() {
                    ""
                } else if advanced.contains(&app.as_str()) {
                    "true"
                } else {
                    "false"
                },
                "scored",
            ])?;
        }
        for u in c["unscored"].as_array().into_iter().flatten() {
            write(&[
                &s(&c["category"]),
                "",
                &s(&u["application"]),
                "",
                "",
                "",
                "",
                &format!("unscored: {}", s(&u["reason"])),
            ])?;
        }
    }
    let bytes = w
        .into_inner()
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], bytes).into_response())
}
