//! HTTP server: the router and one file per route group.

mod ack;
mod ack_page;
pub mod auth;
#[cfg(test)]
mod auth_tests;
mod error;
#[cfg(test)]
mod fuzz;
mod health;
mod incidents;
pub mod limits;
pub mod listen;
mod oncall;
#[cfg(test)]
mod rig;
mod slack;
mod sns;
pub mod sqs;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use tower_http::trace::TraceLayer;

use crate::oncall::OnCall;
use crate::pipeline::Reloader;

/// State shared by every handler. The router holds it in one `Arc`, so a
/// request's handlers share it for one reference count, not one per field.
/// `Clone` is for the SQS poller, which runs outside the router.
#[derive(Clone)]
pub struct AppState {
    /// The current pipeline and its reloader.
    pub reloader: Arc<Reloader>,
    /// On-call, when configured.
    pub oncall: Option<Arc<OnCall>>,
    /// Requests in flight on the alert endpoint, for load shedding.
    pub gate: Arc<limits::Gate>,
    /// Which channels have each notification, for senders' retries.
    pub ledger: Arc<crate::incident::ledger::Ledger>,
    /// Where notifications wait for a rate-limiting destination.
    pub outbox: Arc<crate::outbox::Outbox>,
    /// SNS signing certificates fetched so far.
    pub sns: sns::Shared,
}

impl AppState {
    /// State with no on-call.
    pub fn new(reloader: Arc<Reloader>) -> Self {
        Self {
            reloader,
            oncall: None,
            gate: Arc::default(),
            ledger: Arc::default(),
            outbox: Arc::default(),
            sns: sns::Shared::default(),
        }
    }
}

/// The gateway's router. Tests drive it with `oneshot`, no socket needed.
pub fn app(state: AppState) -> Router {
    let state = Arc::new(state);
    // The SNS path is read at startup (a reload that changes it is
    // reported as needing a restart).
    let config = state.reloader.config();
    let sns_path = config
        .queue
        .sns()
        .map(|sns| sns.https_endpoint_subscription_path.clone());
    let router = match sns_path {
        Some(path) => Router::new().route(
            &path,
            post(sns::receive).layer(axum::middleware::from_fn_with_state(
                state.clone(),
                limits::shed,
            )),
        ),
        None => Router::new(),
    };
    router
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route(
            "/api/incidents",
            post(incidents::create).layer(axum::middleware::from_fn_with_state(
                state.clone(),
                limits::shed,
            )),
        )
        .route("/api/incidents/{id}", get(oncall::show))
        // A GET only shows what the link would acknowledge: link scanners
        // and chat previews fetch every URL. Only a POST acknowledges.
        .route("/api/ack/{id}", get(ack::confirm).post(ack::ack))
        .route("/api/incidents/ack/{id}", get(ack::confirm).post(ack::ack))
        .route(
            "/api/slack/interactions",
            post(slack::interactions).layer(DefaultBodyLimit::max(slack::BODY_LIMIT)),
        )
        // Every answer is JSON, the router's own 404 and 405 included.
        // `method_not_allowed_fallback` applies to the routes above, so it
        // must come after them.
        .fallback(error::not_found)
        .method_not_allowed_fallback(error::method_not_allowed)
        // The incidents handler applies `alert.max_body_bytes` itself, so
        // the limit follows config reloads and answers in JSON.
        .layer(DefaultBodyLimit::disable())
        .with_state(state)
        // The request span names the path only: a query string may carry
        // an ACK signature or a token.
        .layer(TraceLayer::new_for_http().make_span_with(request_span))
}

fn request_span<B>(request: &axum::http::Request<B>) -> tracing::Span {
    tracing::debug_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        version = ?request.version(),
    )
}
