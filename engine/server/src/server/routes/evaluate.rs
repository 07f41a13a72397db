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

use crate::server::auth::Caller;
use crate::server::body;
use crate::server::domain::awards::load_award;
use crate::server::error::ApiError;
use crate::server::records::Role;
use crate::server::state::Work;
use crate::server::state::{AppState, Loaded};

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

/// A file's bytes, in base64 (RFC 4648, with padding).
#[derive(JsonSchema)]
#[schemars(transparent)]
#[allow(dead_code)] // a schema only
struct Base64(#[schemars(regex(pattern = r"^[A-Za-z0-9+/]*={0,2}$"))] String);

// Its marks are `M`: read as their text in the common case (`Marks::Text`), straight into
// their types, or as a tree when the request is read as one.
/// An evaluation request.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EvaluateRequest<M = Value> {
    /// An award definition, inline (give this or `award`).
    #[serde(default)]
    #[schemars(with = "Option<laurel::wire::AwardDefinition>")]
    pub definition: Option<Value>,
    /// Plugin files of an inline definition: path -> base64.
    #[serde(default)]
    #[schemars(with = "BTreeMap<String, Base64>")]
    pub files: BTreeMap<String, String>,
    /// A published award (give this or `definition`).
    #[serde(default)]
    pub award: Option<AwardRef>,
    /// The applications.
    #[schemars(with = "Vec<laurel::Application>")]
    pub applications: Value,
    /// Marks, rankings and decisions.
    #[serde(default)]
    #[schemars(with = "Option<laurel::Marks>", extend("default" = null))]
    pub marks: Option<M>,
    /// Score as this marked round of the award does (its criteria, its aggregation and
    /// normalisation), as the server scores the round; the whole award when absent.
    #[serde(default)]
    pub round: Option<String>,
}

fn prefixed(
    prefix: &'static str,
    d: laurel::Diagnostics,
) -> impl Iterator<Item = laurel::Diagnostic> {
    d.into_iter().map(move |d| laurel::Diagnostic {
        pointer: format!("{prefix}{}", d.pointer),
        line: None,
        column: None,
        ..d
    })
}

/// What the request scores with: a definition checked and loaded for this request, or a
/// published version.
enum Scorer {
    Inline(Box<(laurel::Award, laurel::PluginSet)>),
    Published(std::sync::Arc<Loaded>),
}

/// How to answer.
#[derive(Debug, Deserialize)]
pub struct Answer {
    /// With each score's breakdown (the default), or the numbers only (`trace=false`).
    #[serde(default = "with_traces")]
    trace: bool,
}

fn with_traces() -> bool {
    true
}

pub async fn evaluate(
    State(state): State<AppState>,
    caller: Caller,
    axum::extract::Query(answer): axum::extract::Query<Answer>,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    caller.require(&[Role::Admin, Role::Integrator])?;
    let request = read_request(&bytes)?;
    let scorer = match (request.definition, &request.award) {
        (Some(definition), None) => {
            let files = request
                .files
                .iter()
                .map(|(k, v)| {
                    STANDARD.decode(v).map(|b| (k.clone(), b)).map_err(|e| {
                        ApiError::located(
                            &format!("/files/{}", k.replace('~', "~0").replace('/', "~1")),
                            format!("not base64: {e}"),
                        )
                    })
                })
                .collect::<Result<BTreeMap<_, _>, _>>()?;
            // Checking compiles the definition's plugins: on a plugin thread.
            let work = Work::definition(&definition.to_string());
            let checked = state
                .engine(work, move || {
                    let report = laurel::check_definition(&definition.to_string(), &files);
                    let Some(award) = report.award else {
                        return Err(prefixed("/definition", report.diagnostics).collect::<Vec<_>>());
                    };
                    laurel::load_plugins(&award, &files)
                        .map(|plugins| (award, plugins))
                        .map_err(|d| prefixed("/definition", d).collect())
                })
                .await?;
            match checked {
                Ok(pair) => Scorer::Inline(Box::new(pair)),
                Err(diagnostics) => return Err(invalid(&bytes, diagnostics)),
            }
        }
        (None, Some(r)) => {
            let record = load_award(&state, &r.id)?;
            let version = r.version.or(record.current()).ok_or_else(|| {
                ApiError::Conflict(format!("award `{}` has no published version", r.id))
            })?;
            Scorer::Published(state.loaded(&r.id, version).await?)
        }
        _ => {
            return Err(ApiError::located("", "give either `definition` or `award`"));
        }
    };
    let applications = request.applications;
    // Read here, not in the job: a plugin award's job holds its lane's one thread, which
    // should spend its time on what needs it. Its errors still come after the applications'.
    let marks = read_marks(request.marks);
    let round = request.round;
    let work = match &scorer {
        Scorer::Inline(pair) => Work::of(&pair.0),
        Scorer::Published(l) => Work::of(&l.award),
    };
    let scored = state
        .engine_sized(
            work,
            bytes.len(),
            move || -> Result<Vec<u8>, Vec<laurel::Diagnostic>> {
                let (award, plugins, checker) = match &scorer {
                    Scorer::Inline(pair) => (&pair.0, &pair.1, None),
                    Scorer::Published(l) => (&l.award, &l.plugins, Some(&l.checker)),
                };
                let in_round;
                let award = match &round {
                    None => award,
                    Some(id) => {
                        in_round = award.for_round_id(id).map_err(|why| {
                            vec![laurel::Diagnostic::error(
                                laurel::Code::Schema,
                                "/round",
                                why,
                            )]
                        })?;
                        &in_round
                    }
                };
                let (diagnostics, apps) = match checker {
                    Some(c) => c.check(award, &applications, plugins),
                    None => laurel::check_applications(award, &applications, plugins),
                };
                let Some(apps) = apps else {
                    return Err(prefixed("/applications", diagnostics).collect());
                };
                let marks = marks?;
                // Without traces, the breakdowns are not even built.
                let options = laurel::EvaluateOptions {
                    traces: answer.trace,
                };
                let mut results = laurel::evaluate_with(award, &apps, &marks, plugins, options)
                    .map_err(|e| {
                        prefixed("/applications", e.applications)
                            .chain(prefixed("/marks", e.marks))
                            .collect::<Vec<_>>()
                    })?;
                // Applications a failed `validate` plugin could not check were scored: say so.
                results.warnings.extend(
                    diagnostics
                        .iter()
                        .filter(|d| !d.is_error())
                        .map(|d| format!("/applications{}: {}", d.pointer, d.message)),
                );
                // Serialised straight to bytes: no intermediate JSON tree.
                serde_json::to_vec(&results).map_err(|e| {
                    vec![laurel::Diagnostic::error(
                        laurel::Code::Schema,
                        "",
                        e.to_string(),
                    )]
                })
            },
        )
        .await?
        .map_err(|diagnostics| invalid(&bytes, diagnostics))?;
    Ok(([(header::CONTENT_TYPE, "application/json")], scored).into_response())
}

/// A request's marks as they were read.
enum Marks {
    /// Their text: read straight into their types, without a tree (a batch's marks are most of
    /// its bytes).
    Text(Box<serde_json::value::RawValue>),
    /// A tree, from a request read as one.
    Tree(Value),
}

/// The request: its bytes decoded once, the marks kept as their text, in the common case; a
/// request that does not decode that way is read as [`body::json`] reads any body, with its
/// answers and errors.
fn read_request(bytes: &Bytes) -> Result<EvaluateRequest<Marks>, ApiError> {
    if laurel::check_strict_slice(bytes).is_ok()
        && let Ok(r) =
            serde_json::from_slice::<EvaluateRequest<Box<serde_json::value::RawValue>>>(bytes)
    {
        return Ok(r.with_marks(Marks::Text));
    }
    let r: EvaluateRequest = body::json(bytes)?;
    Ok(r.with_marks(Marks::Tree))
}

impl<M> EvaluateRequest<M> {
    fn with_marks<N>(self, f: impl FnOnce(M) -> N) -> EvaluateRequest<N> {
        EvaluateRequest {
            marks: self.marks.map(f),
            definition: self.definition,
            files: self.files,
            award: self.award,
            applications: self.applications,
            round: self.round,
        }
    }
}

/// The request's marks, or where and why they do not read.
fn read_marks(marks: Option<Marks>) -> Result<laurel::Marks, Vec<laurel::Diagnostic>> {
    let read = match marks {
        None => return Ok(laurel::Marks::default()),
        Some(Marks::Text(text)) => laurel::from_str_located(text.get()),
        Some(Marks::Tree(tree)) => laurel::from_value_located(&tree),
    };
    read.map_err(|d| prefixed("/marks", [d].into_iter().collect()).collect())
}

fn invalid(bytes: &[u8], diagnostics: Vec<laurel::Diagnostic>) -> ApiError {
    let mut d: laurel::Diagnostics = diagnostics.into_iter().collect();
    if let Ok(text) = std::str::from_utf8(bytes) {
        d.locate_in(text);
    }
    ApiError::Invalid {
        title: "The evaluation request is invalid".to_owned(),
        diagnostics: d.into_iter().collect(),
    }
}
