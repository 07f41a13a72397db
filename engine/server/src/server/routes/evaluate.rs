//! `POST /v1/evaluate`: the integrators' scoring API. A definition (inline, or a published
//! award) with applications and marks in, results out; nothing is stored.

use std::collections::BTreeMap;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use super::awards::load_award;
use crate::server::auth::Caller;
use crate::server::error::ApiError;
use crate::server::records::Role;
use crate::server::{AppState, body};

/// Which award to score with.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AwardRef {
    /// A published award's id.
    pub id: String,
    /// Its version; the latest when absent.
    #[serde(default)]
    pub version: Option<u32>,
}

/// An evaluation request.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EvaluateRequest {
    /// An award definition, inline (give this or `award`).
    #[serde(default)]
    pub definition: Option<Value>,
    /// Plugin files of an inline definition: path -> base64.
    #[serde(default)]
    pub files: BTreeMap<String, String>,
    /// A published award (give this or `definition`).
    #[serde(default)]
    pub award: Option<AwardRef>,
    /// The applications.
    pub applications: Value,
    /// Marks, rankings and decisions.
    #[serde(default)]
    pub marks: Option<Value>,
}

fn prefixed(prefix: &str, d: laurel::Diagnostics) -> impl Iterator<Item = laurel::Diagnostic> + '_ {
    d.into_iter().map(move |d| laurel::Diagnostic {
        pointer: format!("{prefix}{}", d.pointer),
        line: None,
        column: None,
        ..d
    })
}

pub async fn evaluate(
    State(state): State<AppState>,
    caller: Caller,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    caller.require(&[Role::Admin, Role::Integrator])?;
    let request: EvaluateRequest = body::json(&bytes)?;
    let text = body::text(&bytes)?;
    let invalid = |diagnostics: Vec<laurel::Diagnostic>| {
        let mut d: laurel::Diagnostics = diagnostics.into_iter().collect();
        d.locate_in(text);
        ApiError::Invalid {
            title: "The evaluation request is invalid".to_owned(),
            diagnostics: d.into_iter().collect(),
        }
    };
    let loaded_holder;
    let inline;
    let mut checker = None;
    let (award, plugins) = match (&request.definition, &request.award) {
        (Some(definition), None) => {
            let files = request
                .files
                .iter()
                .map(|(k, v)| STANDARD.decode(v).map(|b| (k.clone(), b)))
                .collect::<Result<BTreeMap<_, _>, _>>()
                .map_err(|e| ApiError::BadRequest(format!("`files` must hold base64: {e}")))?;
            let report = laurel::check_definition(&definition.to_string(), &files);
            let Some(award) = report.award else {
                return Err(invalid(
                    prefixed("/definition", report.diagnostics).collect(),
                ));
            };
            let plugins = laurel::load_plugins(&award, &files)
                .map_err(|d| invalid(prefixed("/definition", d).collect()))?;
            inline = (award, plugins);
            (&inline.0, &inline.1)
        }
        (None, Some(r)) => {
            let record = load_award(&state, &r.id)?;
            let version = r.version.or(record.current()).ok_or_else(|| {
                ApiError::Conflict(format!("award `{}` has no published version", r.id))
            })?;
            loaded_holder = state.loaded(&r.id, version)?;
            checker = Some(&loaded_holder.checker);
            (&loaded_holder.award, &loaded_holder.plugins)
        }
        _ => {
            return Err(ApiError::BadRequest(
                "give either `definition` or `award`".to_owned(),
            ));
        }
    };
    let (diagnostics, apps) = match &checker {
        Some(c) => c.check(award, &request.applications, plugins),
        None => laurel::check_applications(award, &request.applications, plugins),
    };
    let Some(apps) = apps else {
        return Err(invalid(prefixed("/applications", diagnostics).collect()));
    };
    let marks: laurel::Marks = match &request.marks {
        Some(m) => serde_path_to_error::deserialize(m).map_err(|e| {
            invalid(vec![laurel::Diagnostic::error(
                laurel::Code::Schema,
                format!(
                    "/marks/{}",
                    e.path()
                        .to_string()
                        .replace(['.', '['], "/")
                        .replace(']', "")
                )
                .replace("//", "/"),
                e.inner().to_string(),
            )])
        })?,
        None => laurel::Marks::default(),
    };
    let results = laurel::evaluate(award, &apps, &marks, plugins).map_err(|e| {
        invalid(
            prefixed("/applications", e.applications)
                .chain(prefixed("/marks", e.marks))
                .collect(),
        )
    })?;
    // Serialised straight to bytes: no intermediate JSON tree.
    let out = serde_json::to_vec(&results).map_err(|e| ApiError::Internal(e.to_string()))?;
    Ok(([(header::CONTENT_TYPE, "application/json")], out).into_response())
}
