//! Marks: judges mark the applications assigned to them.

use std::collections::BTreeMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};

use super::applications::{assigned, conflict_with};
use super::awards::load_award;
use crate::server::auth::Caller;
use crate::server::error::ApiError;
use crate::server::records::{ApplicationRecord, AwardState, Role};
use crate::server::tx::Tx;
use crate::server::{AppState, body};
use crate::store::{Tree, get_json, key, prefix, scan_json};

/// A judge's marks of one application.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MarksBody {
    /// Marks by indicator id.
    pub marks: BTreeMap<laurel::IndicatorId, laurel::Mark>,
    /// A comment.
    #[serde(default)]
    pub comment: Option<String>,
}

pub async fn submit(
    State(state): State<AppState>,
    caller: Caller,
    Path((award, application)): Path<(String, String)>,
    bytes: Bytes,
) -> Result<Json<Value>, ApiError> {
    caller.require(&[Role::Judge])?;
    let judge = caller
        .subject
        .clone()
        .ok_or_else(|| ApiError::Forbidden("this judge key names no judge".to_owned()))?;
    let record = load_award(&state, &award)?;
    if record.state == AwardState::Draft {
        return Err(ApiError::Conflict(format!(
            "award `{award}` is not open yet"
        )));
    }
    if !assigned(&state, &award, &judge)?.contains(&application) {
        return Err(ApiError::Forbidden(format!(
            "application `{application}` is not assigned to judge `{judge}`"
        )));
    }
    let app: ApplicationRecord = get_json(
        state.store.as_ref(),
        Tree::Applications,
        &key(&[award.as_bytes(), application.as_bytes()]),
    )?
    .ok_or_else(|| ApiError::NotFound(format!("no application `{application}`")))?;
    let loaded = state.loaded(&award, app.version).await?;
    let body: MarksBody = body::json(&bytes)?;
    let evaluation = evaluation(
        &loaded.award,
        &app,
        (&application, &judge),
        (body.marks, body.comment),
        body::text(&bytes)?,
    )?;
    // No route accepts marks from a judge in conflict with the application.
    if let Some(j) = get_json::<laurel::Judge>(
        state.store.as_ref(),
        Tree::Judges,
        &key(&[award.as_bytes(), judge.as_bytes()]),
    )? && let Some(why) = conflict_with(&state, &j, &app).await?
    {
        return Err(ApiError::Forbidden(format!(
            "judge `{judge}` may not judge `{application}`: {why}"
        )));
    }
    let k = key(&[award.as_bytes(), application.as_bytes(), judge.as_bytes()]);
    let mut tx = Tx::new(&state);
    let replaced = tx.read::<laurel::Evaluation>(Tree::Marks, &k)?.is_some();
    // The assignment and the judge's registration must be as read.
    tx.read::<Value>(
        Tree::Assignments,
        &key(&[award.as_bytes(), judge.as_bytes()]),
    )?;
    tx.read::<Value>(Tree::Judges, &key(&[award.as_bytes(), judge.as_bytes()]))?;
    tx.put(Tree::Marks, k, &evaluation);
    tx.commit(caller.audit(
        if replaced {
            "marks.update"
        } else {
            "marks.submit"
        },
        format!("{award}/{application}/{judge}"),
        json!({ "marks": evaluation.marks }),
    ))?;
    Ok(Json(
        json!({ "award": award, "application": application, "judge": judge, "marks": evaluation.marks, "comment": evaluation.comment }),
    ))
}

/// Checks a judge's marks of a stored application against `award` (located in the request
/// body `text` when invalid) and makes them an evaluation.
pub(crate) fn evaluation(
    award: &laurel::Award,
    app: &ApplicationRecord,
    (application, judge): (&str, &str),
    (marks, comment): (BTreeMap<laurel::IndicatorId, laurel::Mark>, Option<String>),
    text: &str,
) -> Result<laurel::Evaluation, ApiError> {
    let category = app
        .application
        .get("category")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mut diagnostics = laurel::check_marks(award, category, &marks);
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
    })
}

pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(award): Path<String>,
) -> Result<Json<Vec<laurel::Evaluation>>, ApiError> {
    load_award(&state, &award)?;
    let all: Vec<laurel::Evaluation> = scan_json(
        state.store.as_ref(),
        Tree::Marks,
        &prefix(&[award.as_bytes()]),
    )?;
    match caller.role {
        Role::Admin | Role::Auditor => Ok(Json(all)),
        // A judge sees only their own marks.
        Role::Judge => Ok(Json(
            all.into_iter()
                .filter(|e| Some(e.judge.as_str()) == caller.subject.as_deref())
                .collect(),
        )),
        _ => Err(ApiError::Forbidden(
            "only administrators, auditors and judges see marks".to_owned(),
        )),
    }
}
