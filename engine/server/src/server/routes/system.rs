//! Health, readiness and version. (The OpenAPI document is served by `openapi`, above the
//! routes it describes.)

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::server::error::ApiError;
use crate::server::state::AppState;

pub async fn health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// Ready when the store answers: its kind, and for a database its latency and schema version.
pub async fn ready(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let store = state
        .store
        .status()
        .map_err(|e| ApiError::Unavailable(format!("the store does not answer: {e}")))?;
    Ok(Json(json!({ "status": "ready", "store": store })))
}

pub async fn version() -> Json<Value> {
    Json(json!({
        "laurel": env!("CARGO_PKG_VERSION"),
        "api": "v1",
        "definition_format": laurel::wire::FORMAT_VERSION,
        "wasm_abi": laurel::ABI_VERSION,
    }))
}
