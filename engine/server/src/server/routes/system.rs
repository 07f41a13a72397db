//! Health, readiness, version and the OpenAPI document.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use crate::server::AppState;
use crate::server::error::ApiError;
use crate::store::Tree;

pub async fn health() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

pub async fn ready(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    state.store.scan(Tree::Keys, b"\xff")?;
    Ok(Json(json!({ "status": "ready" })))
}

pub async fn version() -> Json<Value> {
    Json(json!({
        "laurel": env!("CARGO_PKG_VERSION"),
        "api": "v1",
        "definition_format": laurel::wire::FORMAT_VERSION,
        "wasm_abi": laurel::ABI_VERSION,
    }))
}

pub async fn openapi() -> Json<Value> {
    Json(crate::server::openapi::document())
}
