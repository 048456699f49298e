//! ACK links: `GET` shows what the link would acknowledge, only `POST`
//! acknowledges.
//!
//! Mail link scanners and chat link previews fetch every URL in a message,
//! so a `GET` must never change anything: it checks the signature and the
//! expiry (so the page shows nothing to someone without a valid link) and
//! answers with a confirmation page whose one button POSTs to the same URL.
//! Browsers get HTML ([`super::ack_page`]), API clients JSON.

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::AppState;
use super::ack_page::Page;
use crate::in_flight::Gate;
use crate::oncall::{AckLinkError, Acked, Actor, IncidentView, OnCall, State as IncidentState};
use crate::pipeline::bindings::StatusChange;

/// The signed part of an ACK link.
#[derive(Debug, Deserialize)]
pub struct AckQuery {
    exp: Option<String>,
    sig: Option<String>,
}

/// Every way an ACK request can end, with what each side is told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Outcome {
    /// `POST` moved the incident from pending to acknowledged.
    Acknowledged,
    /// It was already acknowledged.
    AlreadyAcknowledged,
    /// The deadline passed and paging is under way.
    Escalating,
    /// On-call was paged.
    Escalated,
    /// On-call was paged, and the ACK is passed on to these providers
    /// (comma-separated).
    PassedOn(String),
    /// Starting the response plan failed for good: nobody was paged.
    EscalationFailed,
    /// The alert resolved first.
    Resolved,
    /// Not pending but still pending: a store answer that cannot happen.
    StillPending,
    /// The link's signature or expiry is missing, forged or past.
    Refused(AckLinkError),
    /// No such incident.
    Unknown,
    /// On-call is not configured on this gateway.
    OnCallOff,
    /// The store did not answer.
    Unavailable,
}

impl Outcome {
    /// What a `POST` found the incident in, if not pending.
    pub(super) fn of_state(state: IncidentState) -> Self {
        match state {
            IncidentState::Pending => Self::StillPending,
            IncidentState::Escalating => Self::Escalating,
            IncidentState::Acknowledged => Self::AlreadyAcknowledged,
            IncidentState::Escalated => Self::Escalated,
            IncidentState::EscalationFailed => Self::EscalationFailed,
            IncidentState::Resolved => Self::Resolved,
        }
    }

    fn status(&self) -> StatusCode {
        match self {
            Self::Acknowledged => StatusCode::OK,
            Self::AlreadyAcknowledged
            | Self::Escalating
            | Self::Escalated
            | Self::PassedOn(_)
            | Self::EscalationFailed
            | Self::Resolved
            | Self::StillPending => StatusCode::CONFLICT,
            Self::Refused(AckLinkError::Expired) => StatusCode::FORBIDDEN,
            Self::Refused(AckLinkError::Missing | AckLinkError::BadSignature) => {
                StatusCode::UNAUTHORIZED
            }
            Self::Unknown | Self::OnCallOff => StatusCode::NOT_FOUND,
            Self::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
        }
    }

    /// The JSON `status`.
    fn code(&self) -> &'static str {
        match self {
            Self::Acknowledged => "acknowledged",
            Self::AlreadyAcknowledged => "already_acknowledged",
            Self::Escalating | Self::Escalated | Self::PassedOn(_) => "already_escalated",
            Self::EscalationFailed => "escalation_failed",
            Self::Resolved => "already_resolved",
            Self::StillPending => "pending",
            Self::Refused(_) => "refused",
            Self::Unknown | Self::OnCallOff => "not_found",
            Self::Unavailable => "unavailable",
        }
    }

    /// The JSON `message`.
    pub(super) fn message(&self) -> String {
        let text = match self {
            Self::Acknowledged => "Acknowledged — escalation cancelled",
            Self::AlreadyAcknowledged => "Already acknowledged",
            Self::Escalating | Self::Escalated => {
                "Too late: the incident was already escalated to on-call"
            }
            Self::EscalationFailed => "Paging failed: nobody was paged",
            Self::Resolved => "The alert already resolved",
            Self::StillPending => "Still pending",
            Self::Refused(e) => return e.to_string(),
            Self::PassedOn(provider) => {
                return format!(
                    "Too late: the incident was already escalated to on-call; the \
                     acknowledgement is passed on to {provider}"
                );
            }
            Self::Unknown => "No such incident",
            Self::OnCallOff => "on-call is not enabled on this gateway",
            Self::Unavailable => super::error::STORE_UNAVAILABLE,
        };
        text.to_owned()
    }

    /// The page's heading and sentence.
    fn page(&self) -> (&'static str, &'static str) {
        match self {
            Self::Acknowledged => (
                "Acknowledged",
                "Escalation cancelled: the on-call engineers will not be paged for this incident.",
            ),
            Self::AlreadyAcknowledged => (
                "Already acknowledged",
                "Someone acknowledged this incident before you: nobody will be paged.",
            ),
            Self::Escalating => (
                "Already escalated",
                "Too late: the deadline passed and the on-call engineers are being paged now.",
            ),
            Self::Escalated => (
                "Already escalated",
                "Too late: the deadline passed and the on-call engineers were paged.",
            ),
            Self::PassedOn(_) => (
                "Already escalated",
                "Too late: the deadline passed and the on-call engineers were paged. Your \
                 acknowledgement is passed on to the on-call provider.",
            ),
            Self::EscalationFailed => (
                "Paging failed",
                "The deadline passed, but the response plan could not be started: nobody \
                 was paged. Page the on-call engineers by hand.",
            ),
            Self::Resolved => (
                "Resolved",
                "The alert resolved before anyone was paged: there is nothing to acknowledge.",
            ),
            Self::StillPending => (
                "Not acknowledged",
                "The incident is still waiting; try the button again.",
            ),
            Self::Refused(AckLinkError::Expired) => ("Link expired", "This ACK link has expired."),
            Self::Refused(AckLinkError::Missing | AckLinkError::BadSignature) => {
                ("Invalid link", "This ACK link is not valid.")
            }
            Self::Unknown => ("Unknown incident", "No incident matches this link."),
            Self::OnCallOff => ("Not available", "On-call is not enabled on this gateway."),
            Self::Unavailable => (
                "Try again",
                "The gateway could not reach its state store: nothing was changed. \
                 Try again in a moment.",
            ),
        }
    }

    /// The `outcome` label of `versus_acks_total`.
    pub(super) fn metric(&self) -> &'static str {
        match self {
            Self::Acknowledged => "acknowledged",
            Self::AlreadyAcknowledged
            | Self::Escalating
            | Self::Escalated
            | Self::PassedOn(_)
            | Self::EscalationFailed
            | Self::Resolved
            | Self::StillPending => "conflict",
            Self::Refused(AckLinkError::Expired) => "expired",
            Self::Refused(AckLinkError::Missing | AckLinkError::BadSignature) => "bad_signature",
            Self::Unknown | Self::OnCallOff => "unknown",
            Self::Unavailable => "unavailable",
        }
    }

    /// The answer: a page for a browser (with the incident, when known),
    /// JSON otherwise.
    fn reply(self, html: bool, view: Option<&IncidentView>, now_ms: i64) -> Response {
        crate::metrics::get().ack(self.metric());
        if !html {
            let mut body = json!({ "status": self.code(), "message": self.message() });
            if let Self::PassedOn(provider) = &self {
                body["passed_on_to"] = json!(provider);
            }
            return (self.status(), Json(body)).into_response();
        }
        let (heading, text) = self.page();
        Page {
            heading,
            text,
            incident: view,
            button: false,
        }
        .into_response(self.status(), now_ms)
    }
}

/// `GET /api/ack/{id}` (and `/api/incidents/ack/{id}`): the confirmation
/// page, or for an API client the incident in JSON. Acknowledges nothing.
#[tracing::instrument(skip_all, fields(incident_id = %id))]
pub async fn confirm(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    query: Result<Query<AckQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    let html = wants_html(&headers);
    let (oncall, now) = match checked(&state, &id, query) {
        Ok(checked) => checked,
        Err(refused) => return refused.reply(html, None, 0),
    };
    let view = match oncall.store.get(&id).await {
        Ok(Some(view)) => view,
        Ok(None) => return Outcome::Unknown.reply(html, None, now),
        Err(e) => {
            tracing::error!(error = %e, "ACK page failed: store unavailable");
            return Outcome::Unavailable.reply(html, None, now);
        }
    };
    crate::metrics::get().ack("viewed");
    tracing::debug!(state = view.state.as_str(), "ACK page shown");
    if !html {
        let body = json!({
            "status": "confirm",
            "message": "Nothing was acknowledged: POST to this link to acknowledge",
            "incident": {
                "id": view.record.id,
                "title": view.record.title,
                "severity": view.record.severity,
                "state": view.state,
                "deadline_ms": view.record.deadline_ms,
            },
        });
        return (StatusCode::OK, Json(body)).into_response();
    }
    let pending = view.state == IncidentState::Pending;
    let (heading, text) = if pending {
        (
            "Acknowledge this incident?",
            "Nothing has been acknowledged yet. Acknowledge to cancel the page to on-call.",
        )
    } else {
        Outcome::of_state(view.state).page()
    };
    Page {
        heading,
        text,
        incident: Some(&view),
        button: pending,
    }
    .into_response(StatusCode::OK, now)
}

/// `POST /api/ack/{id}` (and `/api/incidents/ack/{id}`): acknowledge.
#[tracing::instrument(skip_all, fields(incident_id = %id))]
pub async fn ack(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    query: Result<Query<AckQuery>, QueryRejection>,
    headers: HeaderMap,
) -> Response {
    let html = wants_html(&headers);
    let (oncall, now) = match checked(&state, &id, query) {
        Ok(checked) => checked,
        Err(refused) => return refused.reply(html, None, 0),
    };
    let outcome = acknowledge(&oncall, &state.gate, &id, now, None).await;
    // A person sees the incident as it now stands; an API client needs
    // only the outcome, so it costs no second store round trip.
    let view = match outcome {
        Outcome::Unknown | Outcome::Unavailable => None,
        _ if html => oncall.store.get(&id).await.ok().flatten(),
        _ => None,
    };
    outcome.reply(html, view.as_ref(), now)
}

/// Acknowledges incident `id` at `now` (Unix ms), by `by` when known: a
/// pending incident's escalation is cancelled and its messages updated in
/// the background; an ACK after the page is passed on. The background
/// work holds a place in `gate`, so a graceful shutdown finishes it.
pub(super) async fn acknowledge(
    oncall: &Arc<OnCall>,
    gate: &Arc<Gate>,
    id: &str,
    now: i64,
    by: Option<&Actor>,
) -> Outcome {
    match oncall.store.ack(id, now, by).await {
        Ok(Acked::Done) => {
            let by = by.map(Actor::label);
            tracing::info!(by, "incident acknowledged; escalation cancelled");
            let updater = oncall.clone();
            let updated = id.to_string();
            gate.spawn(async move {
                updater
                    .update_channels(&updated, StatusChange::Acknowledged)
                    .await
            });
            Outcome::Acknowledged
        }
        Ok(Acked::NotPending(IncidentState::Escalated)) => pass_on(oncall, gate, id, by).await,
        Ok(Acked::NotPending(s)) => Outcome::of_state(s),
        Ok(Acked::Unknown) => Outcome::Unknown,
        Err(e) => {
            tracing::error!(error = %e, "ACK failed: store unavailable");
            Outcome::Unavailable
        }
    }
}

/// An ACK after the page: passed on to each provider that paged and can
/// be told, naming `by` when known, in the background (their calls are
/// retried).
async fn pass_on(oncall: &Arc<OnCall>, gate: &Arc<Gate>, id: &str, by: Option<&Actor>) -> Outcome {
    let view = match oncall.store.get(id).await {
        Ok(Some(view)) => view,
        _ => return Outcome::Escalated,
    };
    let providers = oncall.acknowledgeable(&view);
    if providers.is_empty() {
        return Outcome::Escalated;
    }
    let provider = providers.join(", ");
    tracing::info!(
        provider,
        "ACK after the page; passing it on to the providers that paged"
    );
    let oncall = oncall.clone();
    let who = by.map(Actor::label);
    gate.spawn(async move {
        oncall
            .follow_up(&view, crate::oncall::FollowUp::Acknowledge, who.as_deref())
            .await
    });
    Outcome::PassedOn(provider)
}

/// On-call and now (Unix ms) when the link is signed and not expired;
/// otherwise why it is refused.
fn checked(
    state: &AppState,
    id: &str,
    query: Result<Query<AckQuery>, QueryRejection>,
) -> Result<(Arc<OnCall>, i64), Outcome> {
    let oncall = state.oncall.clone().ok_or(Outcome::OnCallOff)?;
    if !oncall.signer.ready() {
        // The key shared through Redis is read once Redis answers.
        return Err(Outcome::Unavailable);
    }
    let (exp, sig) = query.map_or((None, None), |Query(q)| (q.exp, q.sig));
    let now = oncall.clock.now_ms();
    if let Err(e) = oncall
        .signer
        .verify(id, exp.as_deref(), sig.as_deref(), now / 1000)
    {
        tracing::warn!(error = %e, "ACK link refused");
        return Err(Outcome::Refused(e));
    }
    Ok((oncall, now))
}

/// Browsers (Accept: text/html without application/json) get a page.
fn wants_html(headers: &HeaderMap) -> bool {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    accept.contains("text/html") && !accept.contains("application/json")
}

#[cfg(test)]
mod tests;
