//! The read-only incident view, for operators.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::json;

use super::error::STORE_UNAVAILABLE;
use super::{AppState, auth};
use crate::oncall::{IncidentView, timeline};

/// The incident view as `GET /api/incidents/{id}` shows it.
#[derive(Serialize)]
struct Shown<'a> {
    #[serde(flatten)]
    view: &'a IncidentView,
    timeline: Vec<timeline::Entry>,
}

/// `GET /api/incidents/{id}`: state and timeline, for operators. With
/// ingest authentication on, it takes a source's bearer token (see
/// [`auth::check_read`]).
pub async fn show(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    if let Err(e) = auth::check_read(&state.reloader.config().ingest, &headers) {
        return e.into_response();
    }
    let Some(oncall) = state.oncall.as_ref() else {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({"status": "error", "error": "on-call is not enabled"})),
        )
            .into_response();
    };
    match oncall.store.get(&id).await {
        Ok(Some(view)) => {
            let shown = Shown {
                timeline: timeline::timeline(&view),
                view: &view,
            };
            (StatusCode::OK, Json(shown)).into_response()
        }
        Ok(None) => (
            StatusCode::NOT_FOUND,
            Json(json!({"status": "error", "error": "no such incident"})),
        )
            .into_response(),
        Err(e) => {
            tracing::error!(error = %e, "incident lookup failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "error", "error": STORE_UNAVAILABLE})),
            )
                .into_response()
        }
    }
}
