//! A round's jury diagnostics (`laurel::diagnose` over its stored marks): agreement, judges,
//! outlying marks, halo, and the ranking's robustness; and the jury's warnings that a round's
//! results carry.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, Query, State};

use crate::server::auth::Caller;
use crate::server::domain::diagnostics::inputs;
use crate::server::domain::jobs;
use crate::server::domain::rounds::load_round;
use crate::server::domain::rounds::spec;
use crate::server::error::ApiError;
use crate::server::jobs::JobStatus;
use crate::server::records::Role;
use crate::server::state::AppState;
use crate::server::state::Work;

/// The most draws one request may ask for.
pub const MAX_DRAWS: u32 = 1_000;

fn number<T: std::str::FromStr>(
    query: &BTreeMap<String, String>,
    name: &str,
    default: T,
    ok: impl Fn(&T) -> bool,
    range: &str,
) -> Result<T, ApiError> {
    match query.get(name) {
        None => Ok(default),
        Some(text) => text
            .parse::<T>()
            .ok()
            .filter(ok)
            .ok_or_else(|| ApiError::BadRequest(format!("`{name}` is a whole number {range}"))),
    }
}

/// What a diagnosis of a round runs on: the award as the round scores, its admitted
/// applications and marks, its plugins, and the options (the rubric's, then the query's).
struct Prepared {
    award: laurel::Award,
    loaded: std::sync::Arc<crate::server::state::Loaded>,
    apps: Vec<laurel::Application>,
    marks: laurel::Marks,
    options: laurel::DiagnoseOptions,
}

async fn prepare(
    state: &AppState,
    caller: &Caller,
    award: &str,
    round: &str,
    query: &BTreeMap<String, String>,
) -> Result<Prepared, ApiError> {
    caller.require(&[Role::Admin, Role::Auditor])?;
    let (loaded, spec, _, _) = spec(state, award, round).await?;
    if !spec.is_marked() {
        return Err(ApiError::Conflict(format!(
            "round `{round}` takes no marks: it has no jury to diagnose"
        )));
    }
    // The rubric's settings, then the query's; a request does at most 1,000 draws and
    // resamples.
    let scoring_award = loaded.award.for_round(&spec);
    let mut options = laurel::DiagnoseOptions::for_award(&scoring_award);
    let written = options.robustness.as_ref().map_or(0, |r| r.draws);
    let draws = number(
        query,
        "draws",
        written.min(MAX_DRAWS),
        |d| *d <= MAX_DRAWS,
        "from 0 to 1000",
    )?;
    options.seed = number(
        query,
        "seed",
        options.seed,
        |s: &u64| *s < 1 << 53,
        "from 0 to 2^53 - 1",
    )?;
    options.bootstrap = options.bootstrap.min(MAX_DRAWS);
    if draws == 0 {
        options.robustness = None;
    } else {
        options
            .robustness
            .get_or_insert_with(laurel::RobustnessOptions::default)
            .draws = draws;
    }
    let r = load_round(state, award, round)?;
    let (apps, marks) = inputs(state, &loaded, &r)?;
    Ok(Prepared {
        award: scoring_award,
        loaded,
        apps,
        marks,
        options,
    })
}

fn unscorable(e: impl std::fmt::Display) -> String {
    format!("the round's marks cannot be scored: {e}")
}

/// `GET …/rounds/{round}/diagnostics`: the diagnosis, within the request.
pub async fn diagnostics(
    State(state): State<AppState>,
    caller: Caller,
    Path((award, round)): Path<(String, String)>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Result<Json<laurel::Diagnosis>, ApiError> {
    let p = prepare(&state, &caller, &award, &round, &query).await?;
    let diagnosis = state
        .engine(Work::of(&p.loaded.award), move || {
            laurel::diagnose(&p.award, &p.apps, &p.marks, &p.loaded.plugins, &p.options)
        })
        .await?
        .map_err(|e| ApiError::Conflict(unscorable(e)))?;
    Ok(Json(diagnosis))
}

/// How long a diagnosis job's plugins may run in all: a job is not bound by one request's
/// time, so its draws are not cut short by load.
const JOB_PLUGIN_DEADLINE: std::time::Duration = std::time::Duration::from_secs(600);

/// `POST …/rounds/{round}/diagnostics/jobs`: the same diagnosis, run as a job; answers `202`
/// with where to follow it.
pub async fn start_job(
    State(state): State<AppState>,
    caller: Caller,
    Path((award, round)): Path<(String, String)>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Result<
    (
        axum::http::StatusCode,
        [(axum::http::header::HeaderName, String); 1],
        Json<JobStatus>,
    ),
    ApiError,
> {
    let p = prepare(&state, &caller, &award, &round, &query).await?;
    let mut random = [0u8; 8];
    getrandom::fill(&mut random).map_err(|e| ApiError::Internal(format!("no randomness: {e}")))?;
    let id = format!("diag-{}", hex::encode(random));
    let progress = state.jobs.start(&id).ok_or_else(|| {
        ApiError::Unavailable("too many jobs are running: try again shortly".to_owned())
    })?;
    let target = format!("{award}/{round}");
    let detail = serde_json::json!({
        "job": id,
        "seed": p.options.seed,
        "draws": p.options.robustness.as_ref().map_or(0, |r| r.draws),
    });
    if let Err(e) = jobs::started(
        &state,
        &id,
        &award,
        caller.audit("diagnosis.start", target.clone(), detail),
    ) {
        state.jobs.end(&id);
        return Err(e);
    }
    let (job, runner, actor) = (id.clone(), state.clone(), caller.actor());
    let work = Work::of(&p.loaded.award);
    tokio::spawn(async move {
        let counter = progress.clone();
        let outcome = runner
            .engine_within(work, JOB_PLUGIN_DEADLINE, move || {
                laurel::diagnose_with_progress(
                    &p.award,
                    &p.apps,
                    &p.marks,
                    &p.loaded.plugins,
                    &p.options,
                    &|done, total| counter.set(done, total),
                )
            })
            .await;
        let outcome = match outcome {
            Ok(Ok(d)) => serde_json::to_value(&d).map_err(|e| e.to_string()),
            Ok(Err(e)) => Err(unscorable(e)),
            Err(ApiError::Unavailable(e)) => Err(e),
            Err(_) => Err("the diagnosis stopped on the server's side".to_owned()),
        };
        if let Err(e) = jobs::finished(&runner, &job, actor, target, outcome, progress.get()) {
            tracing::error!(job, error = ?e, "a diagnosis job's end could not be recorded");
        }
        runner.jobs.end(&job);
    });
    let status = jobs::status(&state, &id, &award)?
        .ok_or_else(|| ApiError::Internal("a job vanished as it started".to_owned()))?;
    Ok((
        axum::http::StatusCode::ACCEPTED,
        [(
            axum::http::header::LOCATION,
            format!("/v1/awards/{award}/rounds/{round}/diagnostics/jobs/{id}"),
        )],
        Json(status),
    ))
}

/// `GET …/rounds/{round}/diagnostics/jobs/{job}`: how far the job has come; its diagnosis
/// once done.
pub async fn job_status(
    State(state): State<AppState>,
    caller: Caller,
    Path((award, _round, job)): Path<(String, String, String)>,
) -> Result<Json<JobStatus>, ApiError> {
    caller.require(&[Role::Admin, Role::Auditor])?;
    jobs::status(&state, &job, &award)?
        .map(Json)
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "no job `{job}` for this award: a job's record is kept an hour after it started"
            ))
        })
}
