//! The jury's diagnosis of a round's marks, and the warnings it adds to results.

use crate::server::domain::results::stored_applications;
use crate::server::error::ApiError;
use crate::server::records::RoundRecord;
use crate::server::state::Work;
use crate::server::state::{AppState, Loaded};
use crate::store::{Tree, prefix, scan_json};

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
