//! Liveness and readiness.

use axum::Json;
use axum::extract::State;
use serde_json::{Value, json};

use super::AppState;

/// Liveness: the process answers. Always cheap.
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// Readiness: a pipeline is loaded (it always is once the server listens),
/// with its generation and channels.
pub async fn readyz(State(state): State<AppState>) -> Json<Value> {
    let pipeline = state.reloader.pipeline();
    let channels: Vec<&str> = pipeline.channels.iter().map(|c| c.name.as_str()).collect();
    Json(json!({
        "status": "ready",
        "generation": pipeline.generation,
        "channels": channels,
    }))
}
