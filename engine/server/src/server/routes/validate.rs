//! `POST /v1/validate`: a rubric checked as `laurel validate` checks it (every located problem
//! at once), without storing anything; open to anyone, as the playground is.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;

use crate::server::domain::awards::check_pasted as check;
use crate::server::error::ApiError;
use crate::server::state::AppState;

pub async fn validate(
    State(state): State<AppState>,
    bytes: Bytes,
) -> Result<Json<crate::server::answers::Checked>, ApiError> {
    let source = String::from_utf8(bytes.to_vec())
        .map_err(|_| ApiError::BadRequest("the rubric is not UTF-8 text".to_owned()))?;
    let report = check(&state, source).await?;
    let d = report.diagnostics;
    Ok(Json(crate::server::answers::Checked {
        valid: !d.has_errors(),
        errors: d.error_count(),
        warnings: d.len() - d.error_count(),
        diagnostics: d,
    }))
}
