//! `POST /v1/validate`: a rubric checked as `laurel validate` checks it (every located problem
//! at once), without storing anything; open to anyone, as the playground is.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use serde_json::{Value, json};

use crate::server::error::ApiError;
use crate::server::state::AppState;
use crate::server::state::Work;

/// No plugin files: a pasted rubric's plugins are reported missing, never run.
struct NoFiles;

impl laurel::PluginFiles for NoFiles {
    fn read(&self, _path: &str) -> std::io::Result<Vec<u8>> {
        Err(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "plugin files are not sent to the validator",
        ))
    }
}

/// Checks `source` on a plugin thread (checking compiles plugins): its diagnostics, located.
pub(crate) async fn check(
    state: &AppState,
    source: String,
) -> Result<laurel::DefinitionReport, ApiError> {
    state
        .engine(Work::Anonymous, move || {
            laurel::check_definition(&source, &NoFiles)
        })
        .await
}

pub async fn validate(
    State(state): State<AppState>,
    bytes: Bytes,
) -> Result<Json<Value>, ApiError> {
    let source = String::from_utf8(bytes.to_vec())
        .map_err(|_| ApiError::BadRequest("the rubric is not UTF-8 text".to_owned()))?;
    let report = check(&state, source).await?;
    let d = &report.diagnostics;
    Ok(Json(json!({
        "valid": !d.has_errors(),
        "errors": d.error_count(),
        "warnings": d.len() - d.error_count(),
        "diagnostics": d,
    })))
}
