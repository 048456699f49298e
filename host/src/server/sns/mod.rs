//! `POST <queue.sns.https_endpoint_subscription_path>` (default `/sns`):
//! AWS SNS deliveries. Nothing in a message is trusted before its
//! signature is checked with a certificate fetched from AWS's own SNS host
//! (docs/aws-ingest.md):
//!
//! 1. the body is an SNS message with every field its type signs;
//! 2. `TopicArn` is `queue.sns.topic_arn`, and `Timestamp` is within an hour;
//! 3. `SigningCertURL` is on `https://sns.<region>.amazonaws.com[.cn]/`;
//! 4. the signature (version 1: SHA1withRSA, 2: SHA256withRSA) matches.
//!
//! Any failure is a 400 and nothing is delivered. Then a
//! `SubscriptionConfirmation` is confirmed by a GET of its `SubscribeURL`
//! (on the same AWS host pattern), an `UnsubscribeConfirmation` is logged,
//! and a `Notification`'s `Message` is the alert: a JSON object as it is,
//! anything else as `{"message": <text>}`. It then goes through the same
//! flow as `POST /api/incidents`, query overrides included.

mod message;
mod signature;

use std::sync::{Arc, OnceLock};
use std::time::{Duration, SystemTime};

use axum::Json;
use axum::body::Body;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use serde_json::value::RawValue;

pub use message::{Kind, Message};
pub use signature::{Certificates, trusted_url};

use super::AppState;
use super::error::ApiError;
use super::incidents::{deliver_one, read_body};
use crate::config::SnsConfig;
use crate::incident::Overrides;

/// A message older (or newer) than this is refused as a replay.
const MAX_AGE: Duration = Duration::from_secs(3600);

/// The certificates fetched so far, built on first use.
pub type Shared = std::sync::Arc<OnceLock<Certificates>>;

/// Handles a delivery from SNS.
pub async fn receive(
    State(state): State<Arc<AppState>>,
    query: Result<Query<Overrides>, QueryRejection>,
    uri: Uri,
    body: Body,
) -> Result<Response, ApiError> {
    let config = state.reloader.config();
    let Some(sns) = config.queue.sns() else {
        return Err(ApiError::NotFound(uri.path().to_string()));
    };
    let Query(overrides) =
        query.map_err(|e| ApiError::BadRequest(format!("bad query string: {}", e.body_text())))?;
    let bytes = read_body(&config, body).await?;
    if config.queue.debug_body {
        tracing::info!(body = %String::from_utf8_lossy(&bytes), "incoming SNS body");
    }
    let message = Message::parse(&bytes).map_err(refuse)?;
    let certificates = state.sns.get_or_init(Certificates::new);
    trust(sns, certificates, &message).await?;
    match message.kind {
        Kind::SubscriptionConfirmation => confirm(sns, certificates, &message).await,
        Kind::UnsubscribeConfirmation => {
            tracing::warn!(
                topic = message.field("TopicArn"),
                "SNS unsubscribed this endpoint from the topic"
            );
            Ok((StatusCode::OK, Json(json!({"status": "unsubscribed"}))).into_response())
        }
        Kind::Notification => {
            let payload = alert_of(message.field("Message"))?;
            deliver_one(
                &state,
                &config,
                payload,
                overrides,
                uri.query().unwrap_or_default(),
                &bytes,
            )
            .await
        }
    }
}

/// Every check before anything in the message is believed.
async fn trust(
    sns: &SnsConfig,
    certificates: &Certificates,
    message: &Message,
) -> Result<(), ApiError> {
    let topic = message.field("TopicArn");
    if topic != sns.topic_arn.trim() {
        return Err(refuse(format!(
            "TopicArn `{topic}` is not queue.sns.topic_arn"
        )));
    }
    let stamp = message.field("Timestamp");
    let at = humantime::parse_rfc3339_weak(stamp)
        .map_err(|_| refuse(format!("Timestamp `{stamp}` is not an RFC 3339 time")))?;
    let age = SystemTime::now()
        .duration_since(at)
        .unwrap_or_else(|e| e.duration());
    if age > MAX_AGE {
        return Err(refuse(format!(
            "Timestamp `{stamp}` is more than an hour away: refused as a replay"
        )));
    }
    let url = message.field("SigningCertURL");
    if !trusted_url(url, sns.cert_url_prefix.trim(), true) {
        return Err(refuse(format!(
            "SigningCertURL `{url}` is not an AWS SNS certificate URL"
        )));
    }
    let version = message.field("SignatureVersion");
    let text = message.string_to_sign();
    certificates
        .verify(sns, url, version, &text, message.field("Signature"))
        .await
        .map_err(|refused| match refused {
            signature::Refused::Invalid(why) => refuse(why),
            signature::Refused::Unreachable(why) => {
                tracing::warn!(%why, "SNS message not checked: its certificate is unreachable");
                ApiError::BadGateway(why)
            }
        })
}

/// Confirms a subscription to our topic by a GET of its `SubscribeURL`.
async fn confirm(
    sns: &SnsConfig,
    certificates: &Certificates,
    message: &Message,
) -> Result<Response, ApiError> {
    let url = message.field("SubscribeURL");
    if !trusted_url(url, sns.cert_url_prefix.trim(), false) {
        return Err(refuse(format!(
            "SubscribeURL `{url}` is not an AWS SNS URL"
        )));
    }
    let answer = certificates
        .client(sns)
        .get(url)
        .timeout(signature::FETCH_TIMEOUT)
        .send()
        .await
        .map_err(|e| ApiError::BadGateway(format!("confirming the subscription failed: {e}")))?;
    if !answer.status().is_success() {
        return Err(ApiError::BadGateway(format!(
            "confirming the subscription failed: HTTP {}",
            answer.status()
        )));
    }
    tracing::info!(
        topic = message.field("TopicArn"),
        "SNS subscription confirmed"
    );
    Ok((StatusCode::OK, Json(json!({"status": "subscribed"}))).into_response())
}

/// The alert a notification carries: its `Message` when that is a JSON
/// object, else the text as `{"message": …}`.
pub(super) fn alert_of(text: &str) -> Result<Box<RawValue>, ApiError> {
    if text.trim_start().starts_with('{')
        && let Ok(raw) = serde_json::from_str::<Box<RawValue>>(text)
    {
        return Ok(raw);
    }
    serde_json::value::to_raw_value(&json!({ "message": text })).map_err(|_| ApiError::Internal)
}

fn refuse(why: impl Into<String>) -> ApiError {
    let why = why.into();
    tracing::warn!(%why, "SNS message refused");
    ApiError::BadRequest(format!("SNS message refused: {why}"))
}
