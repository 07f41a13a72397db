//! A judge's score sheet saved for later: the marks given so far, each checked on its scale,
//! kept apart from the marks that count. It counts only when every mark is given and the
//! sheet is submitted (`PUT …/marks/{application}`), which removes it; the answer says what is
//! still missing.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use serde_json::{Value, json};

use super::round_marks::{RoundMarks, may_mark, unknown_criteria};
use crate::server::answers::{SheetKept, SheetTotal, StoredMarks};
use crate::server::auth::Caller;
use crate::server::body;
use crate::server::domain::rounds::{judge_total, sheet_key, still_to_mark};
use crate::server::error::ApiError;
use crate::server::records::{ApplicationRecord, Role};
use crate::server::state::AppState;
use crate::server::tx::Tx;
use crate::store::{Tree, get_json, key, now};

/// The stored application and its category.
fn stored(
    state: &AppState,
    award: &str,
    app: &str,
) -> Result<(ApplicationRecord, String), ApiError> {
    let record: ApplicationRecord = get_json(
        state.store.as_ref(),
        Tree::Applications,
        &key(&[award.as_bytes(), app.as_bytes()]),
    )?
    .ok_or_else(|| ApiError::NotFound(format!("no application `{app}`")))?;
    let category = record
        .application
        .get("category")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    Ok((record, category))
}

/// The marks given so far, checked as scoring will check them (each on its scale, the judge on
/// each indicator's panel): a mark not given yet is no problem here.
fn check_given(
    award_in_round: &laurel::Award,
    category: &str,
    judge: &str,
    (marks, abstained): (
        &std::collections::BTreeMap<laurel::IndicatorId, laurel::Mark>,
        &[laurel::CriterionId],
    ),
) -> Vec<laurel::Diagnostic> {
    let mut lenient = award_in_round.clone();
    lenient.scoring.missing_marks = laurel::wire::MissingMarks::Skip;
    laurel::check_marks(&lenient, category, judge, marks, abstained)
        .into_iter()
        .filter(|d| d.severity == laurel::Severity::Error)
        .collect()
}

/// `PUT /v1/awards/{award}/rounds/{round}/sheets/{application}`: keeps the judge's sheet.
pub async fn keep(
    State(state): State<AppState>,
    caller: Caller,
    Path((award, round, app)): Path<(String, String, String)>,
    bytes: Bytes,
) -> Result<Json<SheetKept>, ApiError> {
    let (judge, loaded, spec, _) = may_mark(&state, &caller, (&award, &round, &app)).await?;
    let b: RoundMarks = body::json(&bytes)?;
    if b.reason.is_some() {
        return Err(ApiError::located(
            "/reason",
            "a sheet kept for later has no reason (corrections do)",
        ));
    }
    let (_, category) = stored(&state, &award, &app)?;
    let award_in_round = loaded.award.for_round(&spec);
    let mut problems = check_given(&award_in_round, &category, &judge, (&b.marks, &b.abstained));
    problems.extend(unknown_criteria(
        &award_in_round,
        &category,
        &b.criterion_comments,
    ));
    if !problems.is_empty() {
        return Err(ApiError::Invalid {
            title: "The marks are invalid".to_owned(),
            diagnostics: problems,
        });
    }
    let missing = still_to_mark(&award_in_round, &category, &judge, (&b.marks, &b.abstained));
    let kept = SheetKept {
        sheet: StoredMarks {
            award: award.clone(),
            round: round.clone(),
            application: app.clone(),
            judge: judge.clone(),
            marks: b.marks,
            comment: b.comment.filter(|c| !c.trim().is_empty()),
            criterion_comments: b
                .criterion_comments
                .into_iter()
                .filter(|(_, t)| !t.trim().is_empty())
                .collect(),
            abstained: b.abstained,
        },
        missing,
        saved_at: now(),
    };
    let mut tx = Tx::new(&state);
    tx.put(Tree::Meta, sheet_key(&award, &round, &app, &judge), &kept);
    tx.commit(caller.audit(
        "round.sheet_kept",
        format!("{award}/{round}/{app}/{judge}"),
        json!({ "given": kept.sheet.marks.len(), "missing": kept.missing.len() }),
    ))?;
    Ok(Json(kept))
}

/// `GET /v1/awards/{award}/rounds/{round}/sheets/{application}`: the judge's sheet kept for
/// later, if any.
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path((award, round, app)): Path<(String, String, String)>,
) -> Result<Json<SheetKept>, ApiError> {
    caller.require(&[Role::Judge])?;
    let judge = caller
        .subject
        .clone()
        .ok_or_else(|| ApiError::Forbidden("this judge key names no judge".into()))?;
    get_json(
        state.store.as_ref(),
        Tree::Meta,
        &sheet_key(&award, &round, &app, &judge),
    )?
    .map(Json)
    .ok_or_else(|| {
        ApiError::NotFound(format!(
            "no sheet of yours kept for `{app}` in round `{round}`"
        ))
    })
}

/// `POST /v1/awards/{award}/rounds/{round}/sheets/{application}/total`: the judge's total
/// for the marks given so far, as the rubric computes it, stored nowhere (the sheet's running
/// total as marks are chosen).
pub async fn total(
    State(state): State<AppState>,
    caller: Caller,
    Path((award, round, app)): Path<(String, String, String)>,
    bytes: Bytes,
) -> Result<Json<SheetTotal>, ApiError> {
    let (judge, loaded, spec, _) = may_mark(&state, &caller, (&award, &round, &app)).await?;
    let b: RoundMarks = body::json(&bytes)?;
    let (record, category) = stored(&state, &award, &app)?;
    let problems = check_given(
        &loaded.award.for_round(&spec),
        &category,
        &judge,
        (&b.marks, &b.abstained),
    );
    if !problems.is_empty() {
        return Err(ApiError::Invalid {
            title: "The marks are invalid".to_owned(),
            diagnostics: problems,
        });
    }
    // The entry as the judge sees it: nothing personal, nothing hidden in a blind round.
    let mut seen = record.application;
    crate::server::crypto::redact(&loaded.award, &mut seen, spec.blind);
    let evaluation = laurel::Evaluation {
        schema: None,
        judge: laurel::JudgeId::new(&judge),
        application: laurel::ApplicationId::new(&app),
        marks: b.marks,
        comment: None,
        criterion_comments: std::collections::BTreeMap::new(),
        abstained: b.abstained,
    };
    judge_total(&loaded, &round, &seen, evaluation)
        .map(Json)
        .ok_or_else(|| {
            ApiError::Conflict(format!(
                "`{app}` cannot be scored from what a judge sees of it: its total is computed when the round's results are"
            ))
        })
}
