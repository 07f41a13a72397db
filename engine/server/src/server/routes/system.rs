//! Health, readiness and version. (The OpenAPI document is served by `openapi`, above the
//! routes it describes.)

use axum::Json;
use axum::extract::State;

use crate::server::answers::{Health, Readiness, Versions};
use crate::server::error::ApiError;
use crate::server::state::AppState;

pub async fn health() -> Json<Health> {
    Json(Health { status: "ok" })
}

/// Ready when the store answers: its kind, and for a database its latency and schema version.
pub async fn ready(State(state): State<AppState>) -> Result<Json<Readiness>, ApiError> {
    let store = state.store.status().map_err(|e| match e {
        crate::store::StoreError::Stopped(why) => ApiError::StorageFailed(why),
        e => ApiError::Unavailable(format!("the store does not answer: {e}")),
    })?;
    Ok(Json(Readiness {
        status: "ready",
        store,
    }))
}

pub async fn version() -> Json<Versions> {
    Json(Versions {
        laurel: env!("CARGO_PKG_VERSION"),
        api: "v1",
        definition_format: laurel::wire::FORMAT_VERSION,
        wasm_abi: laurel::ABI_VERSION,
    })
}
