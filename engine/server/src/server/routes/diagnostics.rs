//! A round's jury diagnostics (`laurel::diagnose` over its stored marks): agreement, judges,
//! outlying marks, halo, and the ranking's robustness; and the jury's warnings that a round's
//! results carry.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use serde_json::Value;

use crate::server::auth::Caller;
use crate::server::domain::diagnostics::inputs;
use crate::server::domain::rounds::load_round;
use crate::server::domain::rounds::spec;
use crate::server::error::ApiError;
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
