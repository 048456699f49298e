//! The Slack app's Interactivity Request URL: `POST /api/slack/interactions`.
//!
//! Strategy: nothing in a request is trusted until its signature checks
//! out ([`signature`]), and a signature is accepted once, on every replica
//! (the store remembers it for as long as its timestamp would pass).
//! Slack wants an answer within 3 s, so the answer is an empty 200 as
//! soon as the request is known to be Slack's; the ACK or escalation runs
//! after, and what the person must know (too late, paging failed) comes
//! back as an ephemeral reply through the payload's `response_url`
//! ([`reply`]). The message itself is updated by the Slack channel, like
//! any other change.

mod reply;
pub mod signature;

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use tracing::Instrument;

use super::AppState;
use super::ack::{Outcome, acknowledge};
use crate::in_flight::Gate;
use crate::oncall::{Acked, Actor, Asked, OnCall, State as IncidentState};

/// Largest request accepted. A click's payload carries the whole message
/// (up to 50 blocks of 3,000 characters), form-encoded.
pub const BODY_LIMIT: usize = 1 << 20;

/// How long a signature is remembered: as long as its timestamp could
/// still pass, either side of now, with a minute to spare.
const SEEN_KEEP_MS: u64 = (2 * signature::MAX_SKEW_SECS as u64 + 60) * 1000;

/// The part of a `block_actions` payload the gateway reads.
#[derive(Debug, Deserialize)]
struct Payload {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    user: Option<User>,
    #[serde(default)]
    actions: Vec<Action>,
    #[serde(default)]
    response_url: Option<String>,
}

#[derive(Debug, Deserialize)]
struct User {
    id: String,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Action {
    action_id: String,
    #[serde(default)]
    value: Option<String>,
}

/// What a click asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ask {
    Acknowledge,
    Escalate,
}

impl Ask {
    fn of(action_id: &str) -> Option<Self> {
        match action_id {
            ACK_ACTION_ID => Some(Self::Acknowledge),
            ESCALATE_ACTION_ID => Some(Self::Escalate),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Self::Acknowledge => "acknowledge",
            Self::Escalate => "escalate",
        }
    }
}

/// `action_id` of the Slack channel's ACK button (the plugin's constant;
/// a test checks they agree).
const ACK_ACTION_ID: &str = "ack_incident";
/// `action_id` of its "Escalate now" button.
const ESCALATE_ACTION_ID: &str = "escalate_incident";

fn refuse(status: StatusCode, reason: &'static str, message: &str) -> Response {
    crate::metrics::get().slack_interaction("none", reason);
    (
        status,
        Json(json!({ "status": "refused", "reason": reason, "message": message })),
    )
        .into_response()
}

/// `POST /api/slack/interactions`.
pub async fn interactions(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let config = state.reloader.config();
    let settings = &config.alert.channels.slack;
    if !settings.interactive() {
        return (
            StatusCode::NOT_FOUND,
            Json(json!({
                "status": "error",
                "error": "Slack interactivity is not configured: set alert.slack.signing_secret (SLACK_SIGNING_SECRET)",
            })),
        )
            .into_response();
    }
    let body = match body {
        Ok(body) => body,
        Err(e) => return refuse(e.status(), "malformed", &e.body_text()),
    };
    let now_ms = state.oncall.as_ref().map_or_else(
        || crate::oncall::Clock::System.now_ms(),
        |o| o.clock.now_ms(),
    );
    let secret = settings.signing_secret.trim().as_bytes();
    let signed = match signature::verify(secret, &headers, &body, now_ms / 1000) {
        Ok(signed) => signed,
        Err(refused) => {
            tracing::warn!(
                reason = refused.as_str(),
                "Slack request refused: its signature does not check out"
            );
            return refuse(
                StatusCode::UNAUTHORIZED,
                refused.as_str(),
                "the request is not signed by the Slack app",
            );
        }
    };
    if let Some(oncall) = &state.oncall {
        match oncall
            .store
            .first_sighting(&format!("slack-sig:{}", signed.0), now_ms, SEEN_KEEP_MS)
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                tracing::warn!("Slack request refused: its signature was used before (a replay)");
                return refuse(
                    StatusCode::UNAUTHORIZED,
                    "replayed",
                    "this request was already received",
                );
            }
            Err(e) => {
                tracing::error!(error = %e, "Slack request not handled: store unavailable");
                crate::metrics::get().slack_interaction("none", "unavailable");
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    Json(json!({ "status": "unavailable", "message": super::error::STORE_UNAVAILABLE })),
                )
                    .into_response();
            }
        }
    }
    let payload = match parse(&body) {
        Ok(payload) => payload,
        Err(why) => return refuse(StatusCode::BAD_REQUEST, "malformed", &why),
    };
    let clicked = payload
        .actions
        .iter()
        .find_map(|a| Some((Ask::of(&a.action_id)?, a.value.clone()?)));
    let (Some((ask, id)), Some(user), "block_actions") =
        (clicked, payload.user, payload.kind.as_str())
    else {
        crate::metrics::get().slack_interaction("none", "ignored");
        return StatusCode::OK.into_response();
    };
    let actor = Actor {
        source: "slack".into(),
        user_id: user.id,
        name: user.username.or(user.name).filter(|n| !n.is_empty()),
    };
    let replier = reply::Replier::new(payload.response_url, &settings.api_url);
    let oncall = state.oncall.clone();
    let gate = state.gate.clone();
    // Answered now; the work runs after (Slack waits 3 s at most), held in
    // the gate so that a graceful shutdown finishes it.
    state.gate.spawn(async move {
        let told = match oncall {
            Some(oncall) => {
                let span = tracing::info_span!("slack", incident_id = %id, by = %actor.label(), action = ask.as_str());
                act(&oncall, &gate, ask, &id, &actor, now_ms)
                    .instrument(span)
                    .await
            }
            None => {
                crate::metrics::get().slack_interaction(ask.as_str(), "unknown");
                Some(Outcome::OnCallOff.message())
            }
        };
        if let Some(text) = told {
            replier.ephemeral(&text).await;
        }
    });
    StatusCode::OK.into_response()
}

/// The payload of a form-encoded interaction request.
fn parse(body: &[u8]) -> Result<Payload, String> {
    let payload = form_urlencoded::parse(body)
        .find(|(k, _)| k == "payload")
        .map(|(_, v)| v.into_owned())
        .ok_or("the form has no `payload` field")?;
    serde_json::from_str(&payload).map_err(|e| format!("`payload` is not a Slack interaction: {e}"))
}

/// Does what `actor` asked of incident `id`; what they must be told
/// privately, if anything (the message's own update says the rest).
async fn act(
    oncall: &Arc<OnCall>,
    gate: &Arc<Gate>,
    ask: Ask,
    id: &str,
    actor: &Actor,
    now_ms: i64,
) -> Option<String> {
    match ask {
        Ask::Acknowledge => {
            let outcome = acknowledge(oncall, gate, id, now_ms, Some(actor)).await;
            crate::metrics::get().ack(outcome.metric());
            crate::metrics::get().slack_interaction(ask.as_str(), outcome.metric());
            (outcome != Outcome::Acknowledged).then(|| outcome.message())
        }
        Ask::Escalate => {
            let asked = Asked {
                by: actor.clone(),
                at_ms: now_ms,
            };
            let (metric, text) = match oncall.store.escalate_now(id, &asked).await {
                Ok(Acked::Done) => {
                    tracing::info!("escalation requested: paging on-call now");
                    oncall.wake.notify_one();
                    ("escalating", "Paging on-call now.".to_string())
                }
                Ok(Acked::NotPending(IncidentState::Pending))
                | Ok(Acked::NotPending(IncidentState::Escalating)) => {
                    ("conflict", "On-call is being paged already.".to_string())
                }
                Ok(Acked::NotPending(s)) => {
                    let outcome = Outcome::of_state(s);
                    ("conflict", outcome.message())
                }
                Ok(Acked::Unknown) => ("unknown", Outcome::Unknown.message()),
                Err(e) => {
                    tracing::error!(error = %e, "escalation request failed: store unavailable");
                    ("unavailable", Outcome::Unavailable.message())
                }
            };
            crate::metrics::get().slack_interaction(ask.as_str(), metric);
            Some(text)
        }
    }
}

#[cfg(test)]
mod tests;
