//! A round's jury diagnostics (`laurel::diagnose` over its stored marks): agreement, judges,
//! outlying marks, halo, and the ranking's robustness; and the jury's warnings that a round's
//! results carry.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use serde_json::Value;

use super::results::stored_applications;
use super::rounds::{load_round, spec};
use crate::server::Work;
use crate::server::auth::Caller;
use crate::server::error::ApiError;
use crate::server::records::{Role, RoundRecord};
use crate::server::{AppState, Loaded};
use crate::store::{Tree, prefix, scan_json};

/// The most draws one request may ask for.
pub const MAX_DRAWS: u32 = 1_000;

/// A round's applications and marks, as scoring reads them.
pub(crate) fn inputs(
    state: &AppState,
    loaded: &Loaded,
    r: &RoundRecord,
) -> Result<(Vec<laurel::Application>, laurel::Marks), ApiError> {
    let (apps, review_decisions) = stored_applications(state, loaded, &r.award, Some(&r.entrants))?;
    let evaluations: Vec<laurel::Evaluation> = scan_json(
        state.store.as_ref(),
        Tree::RoundMarks,
        &prefix(&[r.award.as_bytes(), r.round.as_bytes()]),
    )?;
    Ok((
        apps,
        laurel::Marks {
            evaluations,
            review_decisions,
            ..laurel::Marks::default()
        },
    ))
}

/// The jury's warnings (agreement and judges; no simulation), for a round's results.
pub(crate) async fn jury_warnings(
    state: &AppState,
    loaded: &std::sync::Arc<Loaded>,
    spec: &laurel::wire::RoundSpec,
    r: &RoundRecord,
) -> Result<Vec<String>, ApiError> {
    let (apps, marks) = inputs(state, loaded, r)?;
    if marks.evaluations.is_empty() {
        return Ok(Vec::new());
    }
    let award = loaded.award.for_round(spec);
    let l = loaded.clone();
    let options = laurel::DiagnoseOptions {
        bootstrap: 0,
        robustness: None,
        ..laurel::DiagnoseOptions::for_award(&award)
    };
    let diagnosis = state
        .engine(Work::of(&loaded.award), move || {
            laurel::diagnose(&award, &apps, &marks, &l.plugins, &options)
        })
        .await?;
    // Inputs that cannot be scored are the results' own error, said there.
    Ok(diagnosis
        .map(|d| {
            d.warnings
                .into_iter()
                .map(|w| format!("jury: {w}"))
                .collect()
        })
        .unwrap_or_default())
}

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

pub async fn diagnostics(
    State(state): State<AppState>,
    caller: Caller,
    Path((award, round)): Path<(String, String)>,
    Query(query): Query<BTreeMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    caller.require(&[Role::Admin, Role::Auditor])?;
    let (loaded, spec, _, _) = spec(&state, &award, &round).await?;
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
        &query,
        "draws",
        written.min(MAX_DRAWS),
        |d| *d <= MAX_DRAWS,
        "from 0 to 1000",
    )?;
    options.seed = number(
        &query,
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
    let r = load_round(&state, &award, &round)?;
    let (apps, marks) = inputs(&state, &loaded, &r)?;
    let diagnosis = state
        .engine(Work::of(&loaded.award), move || {
            laurel::diagnose(&scoring_award, &apps, &marks, &loaded.plugins, &options)
        })
        .await?
        .map_err(|e| ApiError::Conflict(format!("the round's marks cannot be scored: {e}")))?;
    Ok(Json(
        serde_json::to_value(&diagnosis).map_err(|e| ApiError::Internal(e.to_string()))?,
    ))
}
