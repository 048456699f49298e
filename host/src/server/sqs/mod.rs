//! `queue.sqs`: the gateway long-polls an SQS queue, and each message is an
//! alert, delivered as `POST /api/incidents` delivers one
//! (docs/aws-ingest.md).
//!
//! - A message from an SNS subscription without raw delivery is SNS's
//!   envelope: its `Message` is the alert. A raw message is the alert
//!   itself. Either way a JSON object is taken as it is, anything else as
//!   `{"message": <text>}`, as on `/sns`. The queue's access policy
//!   authenticates the sender, so no SNS signature is checked here.
//! - A message stays hidden while it is handled: its visibility is
//!   extended every third of `visibility_timeout`.
//! - It is deleted once its answer is final, the answer that would tell an
//!   HTTP sender not to send it again: a success, or a refusal (4xx other
//!   than 408 and 429), which is logged as an error with the reason. On
//!   any other answer (a channel failed, Redis is away, the gateway is
//!   busy) it is left, and SQS hands it out again after the timeout. The
//!   sender-retry ledger then sends it only to the channels that do not
//!   have it, as for an HTTP sender's retry.
//! - A FIFO queue's messages are handled one at a time, in order; others
//!   concurrently, one receive's worth at a time.
//!
//! Strategy: the message is deleted only after the alert is handled, so a
//! gateway killed mid-batch loses nothing: what it had not deleted comes
//! back. The price is at-least-once: an alert posted just before the kill,
//! and not yet deleted, is posted again by the next receiver.

mod queue;

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::IntoResponse;
use futures::future::join_all;
use serde_json::value::RawValue;
use tokio::sync::watch;

use super::AppState;
use super::incidents::deliver_one;
use super::sns::alert_of;
use crate::config::SqsConfig;
use crate::incident::Overrides;
pub use queue::{Queue, Received};

/// The longest wait between receives after failures.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Polls the queue until `stop` turns true. Messages being handled when
/// it does are finished (shutdown waits for them through the gate).
pub async fn run(state: AppState, config: SqsConfig, mut stop: watch::Receiver<bool>) {
    let queue = Arc::new(Queue::new(&config).await);
    tracing::info!(queue = queue.url(), "polling SQS");
    let mut backoff = Duration::from_secs(1);
    loop {
        let received = tokio::select! {
            received = queue.receive() => received,
            _ = stop.wait_for(|stopping| *stopping) => break,
        };
        let messages = match received {
            Ok(messages) => {
                backoff = Duration::from_secs(1);
                messages
            }
            Err(e) => {
                tracing::error!(queue = queue.url(), error = %e, ?backoff, "receiving from SQS failed; trying again");
                tokio::select! {
                    () = tokio::time::sleep(backoff) => {}
                    _ = stop.wait_for(|stopping| *stopping) => break,
                }
                backoff = (backoff * 2).min(MAX_BACKOFF);
                continue;
            }
        };
        let _working = state.gate.hold();
        // Each message in its own task, as each request is: a panic fails
        // that message only, which then comes back.
        let spawn = |message: Received| {
            let id = message.id.clone();
            let task = tokio::spawn(handle(state.clone(), queue.clone(), message));
            async move {
                if let Err(e) = task.await {
                    tracing::error!(message_id = %id, error = %e, "handling an SQS message failed; SQS hands it out again");
                }
            }
        };
        if config.is_fifo() {
            for message in messages {
                spawn(message).await;
            }
        } else {
            join_all(messages.into_iter().map(spawn)).await;
        }
    }
    tracing::info!(queue = queue.url(), "stopped polling SQS");
}

/// Handles one message, keeping it hidden meanwhile, and deletes it when
/// its answer is final.
async fn handle(state: AppState, queue: Arc<Queue>, message: Received) {
    let renew = async {
        loop {
            tokio::time::sleep(queue.renew_every()).await;
            if let Err(e) = queue.extend(&message.receipt).await {
                tracing::warn!(message_id = %message.id, error = %e, "extending the message's visibility failed");
            }
        }
    };
    let (status, answer) = tokio::select! {
        answered = deliver(&state, &message) => answered,
        () = renew => unreachable!("renewing never ends"),
    };
    let id = &message.id;
    let count = message.receive_count;
    if !is_final(status) {
        tracing::warn!(message_id = %id, receive_count = count, %status, %answer, "SQS message not handled; SQS hands it out again after the visibility timeout");
        crate::metrics::get().queue_message("sqs", "kept");
        return;
    }
    if status.is_success() {
        tracing::info!(message_id = %id, %status, "SQS message handled");
        crate::metrics::get().queue_message("sqs", "handled");
    } else {
        tracing::error!(message_id = %id, %status, %answer, "SQS message refused; deleting it, as sending it again cannot help");
        crate::metrics::get().queue_message("sqs", "refused");
    }
    delete(&queue, &message).await;
}

/// Runs the message through the pipeline: the answer's status and body.
async fn deliver(state: &AppState, message: &Received) -> (StatusCode, String) {
    let config = state.reloader.config();
    if config.queue.debug_body {
        tracing::info!(message_id = %message.id, body = %message.body, "incoming SQS message");
    }
    let response = match payload_of(&message.body) {
        Ok(payload) => deliver_one(
            state,
            &config,
            payload,
            Overrides::default(),
            "",
            message.body.as_bytes(),
        )
        .await
        .unwrap_or_else(IntoResponse::into_response),
        Err(e) => e.into_response(),
    };
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 64 * 1024)
        .await
        .unwrap_or_default();
    (status, String::from_utf8_lossy(&body).into_owned())
}

/// The alert a message carries: SNS's `Message` when the body is an SNS
/// notification, else the body.
fn payload_of(body: &str) -> Result<Box<RawValue>, super::error::ApiError> {
    #[derive(serde::Deserialize)]
    struct Envelope {
        #[serde(rename = "Type")]
        kind: String,
        #[serde(rename = "TopicArn")]
        topic: String,
        #[serde(rename = "Message")]
        message: String,
    }
    match serde_json::from_str::<Envelope>(body) {
        Ok(sns) if sns.kind == "Notification" && !sns.topic.is_empty() => alert_of(&sns.message),
        _ => alert_of(body),
    }
}

/// Whether an answer tells a sender not to send the same again.
fn is_final(status: StatusCode) -> bool {
    status.is_success()
        || (status.is_client_error()
            && status != StatusCode::REQUEST_TIMEOUT
            && status != StatusCode::TOO_MANY_REQUESTS)
}

/// Deletes a handled message, trying three times: a message left behind
/// comes back, and is then a new notification.
async fn delete(queue: &Queue, message: &Received) {
    let mut wait = Duration::from_millis(200);
    for attempt in 1..=3 {
        match queue.delete(&message.receipt).await {
            Ok(()) => return,
            Err(e) if attempt == 3 => {
                tracing::error!(message_id = %message.id, error = %e, "deleting the handled SQS message failed; it will be received again");
            }
            Err(e) => {
                tracing::warn!(message_id = %message.id, error = %e, "deleting the handled SQS message failed; trying again");
                tokio::time::sleep(wait).await;
                wait *= 2;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_that_end_a_message() {
        for code in [200, 201, 202, 400, 404, 413, 422] {
            assert!(
                is_final(StatusCode::from_u16(code).expect("code")),
                "{code}"
            );
        }
        for code in [408, 429, 500, 502, 503] {
            assert!(
                !is_final(StatusCode::from_u16(code).expect("code")),
                "{code}"
            );
        }
    }

    #[test]
    fn sns_envelopes_are_unwrapped_raw_bodies_kept() {
        let inner = r#"{"AlarmName":"cpu","NewStateValue":"ALARM"}"#;
        let wrapped = serde_json::json!({
            "Type": "Notification",
            "TopicArn": "arn:aws:sns:eu-west-1:1:t",
            "Message": inner,
        })
        .to_string();
        assert_eq!(payload_of(&wrapped).expect("ok").get(), inner);
        assert_eq!(payload_of(inner).expect("ok").get(), inner);
        assert_eq!(
            payload_of("disk full").expect("ok").get(),
            r#"{"message":"disk full"}"#
        );
        let not_sns = r#"{"Type":"Notification","Message":"x"}"#;
        assert_eq!(payload_of(not_sns).expect("ok").get(), not_sns);
    }
}
