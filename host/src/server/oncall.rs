//! ACK links and the read-only incident view.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::error::STORE_UNAVAILABLE;
use super::{AppState, auth};
use crate::oncall::{AckLinkError, Acked, IncidentView, State as IncidentState, timeline};
use crate::pipeline::bindings::types::StatusChange;

/// The signed part of an ACK link.
#[derive(Debug, Deserialize)]
pub struct AckQuery {
    exp: Option<String>,
    sig: Option<String>,
}

/// `GET|POST /api/ack/{id}` (and `/api/incidents/ack/{id}`): acknowledge.
#[tracing::instrument(skip_all, fields(incident_id = %id))]
pub async fn ack(
    State(state): State<AppState>,
    Path(id): Path<String>,
    query: Result<Query<AckQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    let html = wants_html(&headers);
    let metrics = crate::metrics::get();
    let Some(oncall) = state.oncall.clone() else {
        metrics.ack("unknown");
        return reply(
            html,
            StatusCode::NOT_FOUND,
            "not_found",
            "on-call is not enabled on this gateway",
        );
    };
    let (exp, sig) = query.map_or((None, None), |Query(q)| (q.exp, q.sig));
    let now = oncall.clock.now_ms();
    if let Err(e) = oncall
        .signer
        .verify(&id, exp.as_deref(), sig.as_deref(), now / 1000)
    {
        let (status, outcome) = match e {
            AckLinkError::Expired => (StatusCode::FORBIDDEN, "expired"),
            AckLinkError::Missing | AckLinkError::BadSignature => {
                (StatusCode::UNAUTHORIZED, "bad_signature")
            }
        };
        metrics.ack(outcome);
        tracing::warn!(error = %e, "ACK refused");
        return reply(html, status, "refused", &e.to_string());
    }
    match oncall.store.ack(&id, now).await {
        Ok(Acked::Done) => {
            metrics.ack("acknowledged");
            tracing::info!("incident acknowledged; escalation cancelled");
            tokio::spawn(async move {
                oncall
                    .update_channels(&id, StatusChange::Acknowledged)
                    .await
            });
            reply(
                html,
                StatusCode::OK,
                "acknowledged",
                "Acknowledged — escalation cancelled",
            )
        }
        Ok(Acked::NotPending(s)) => {
            metrics.ack("conflict");
            let (code, msg) = match s {
                IncidentState::Acknowledged => ("already_acknowledged", "Already acknowledged"),
                IncidentState::Escalating
                | IncidentState::Escalated
                | IncidentState::EscalationFailed => (
                    "already_escalated",
                    "Too late: the incident was already escalated to on-call",
                ),
                IncidentState::Resolved => ("already_resolved", "The alert already resolved"),
                IncidentState::Pending => ("pending", "Still pending"),
            };
            reply(html, StatusCode::CONFLICT, code, msg)
        }
        Ok(Acked::Unknown) => {
            metrics.ack("unknown");
            reply(html, StatusCode::NOT_FOUND, "not_found", "No such incident")
        }
        Err(e) => {
            metrics.ack("unavailable");
            tracing::error!(error = %e, "ACK failed: store unavailable");
            reply(
                html,
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                STORE_UNAVAILABLE,
            )
        }
    }
}

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
    State(state): State<AppState>,
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

/// Browsers (Accept: text/html without application/json) get a page.
fn wants_html(headers: &HeaderMap) -> bool {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    accept.contains("text/html") && !accept.contains("application/json")
}

fn reply(html: bool, status: StatusCode, code: &str, message: &str) -> Response {
    if html {
        let body = format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>Versus</title></head>\
             <body style=\"font-family:sans-serif;margin:3em\"><h1>{}</h1></body></html>",
            escape(message)
        );
        (status, Html(body)).into_response()
    } else {
        (status, Json(json!({ "status": code, "message": message }))).into_response()
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}
