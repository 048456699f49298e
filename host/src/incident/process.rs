//! Runs one incident through a pipeline: transforms in order, then render and
//! deliver on every channel concurrently, each with its own retries, so one
//! failing channel never blocks the others.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use futures::future::join_all;
use serde::Serialize;
use serde_json::Value;
use tracing::Instrument;

use super::ledger::Prior;
use super::queueing::{Queueing, Waiting};
use super::retry::{retry_after, retryable};
use super::{Incident, RetryPolicy};
use crate::pipeline::bindings::types::{Event, Receipt, TransformOutcome};
use crate::pipeline::{ChannelRuntime, Pipeline, PluginError};

/// What became of one incident.
#[derive(Debug)]
pub enum Outcome {
    /// A transform dropped the event; nothing was sent.
    Dropped {
        /// The transform's reason.
        reason: String,
    },
    /// Channels were tried; see each result.
    Delivered {
        /// One entry per enabled channel.
        channels: Vec<ChannelOutcome>,
    },
}

impl Outcome {
    /// True when nothing failed.
    pub fn ok(&self) -> bool {
        match self {
            Self::Dropped { .. } => true,
            Self::Delivered { channels } => channels.iter().all(|c| c.error.is_none()),
        }
    }
}

/// A delivery attempt that was still running when the retry budget ran
/// out: it goes on in the background, and this ends with its result.
pub type LateDelivery = tokio::task::JoinHandle<Result<Receipt, PluginError>>;

/// What happened on one channel.
#[derive(Debug, Serialize)]
pub struct ChannelOutcome {
    /// Channel name.
    pub channel: String,
    /// `delivered`, `failed`, `in_flight` (an attempt is still running,
    /// for this request or for an earlier copy of the same notification),
    /// or `queued` (the destination is rate-limiting: the notification
    /// waits in its outbound queue, see [`crate::outbox`]).
    pub status: &'static str,
    /// Delivered by an earlier copy of this notification, not by this
    /// request (see [`super::ledger`]).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub delivered_before: bool,
    /// Delivery attempts made by this request (0 when an earlier copy of
    /// the notification has the channel).
    pub attempts: u32,
    /// The failure, for the caller.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The failure's kind (`permanent`, `transient`, `trap`, …).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_kind: Option<&'static str>,
    /// Where the message lives, for later updates.
    #[serde(skip)]
    pub receipt: Option<Receipt>,
    /// The rendered text, kept for later updates.
    #[serde(skip)]
    pub message: Option<String>,
    /// Set when the channel's template failed at render time: the channel
    /// got the fallback message instead (see [`super::fallback`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub template_error: Option<String>,
    /// The attempt still running after the budget, when `status` is
    /// `in_flight` for this request.
    #[serde(skip)]
    pub late: Option<LateDelivery>,
    /// Posted as a reply in the incident's thread: the message that is
    /// updated is the thread's first, not this one.
    #[serde(skip)]
    pub in_thread: bool,
}

impl ChannelOutcome {
    /// An outcome of `status` on `channel`, with nothing else set.
    pub fn new(channel: &str, status: &'static str) -> Self {
        Self {
            channel: channel.to_string(),
            status,
            delivered_before: false,
            attempts: 0,
            error: None,
            error_kind: None,
            receipt: None,
            message: None,
            template_error: None,
            late: None,
            in_thread: false,
        }
    }

    /// Whether this request settled the channel: delivered, queued, or
    /// failed (not skipped for an earlier copy, not still running).
    pub fn settled_here(&self) -> bool {
        self.late.is_none()
            && (self.attempts > 0 || self.status == "queued" || self.error_kind == Some("queue"))
    }

    /// An earlier copy of the notification has this channel: delivered, or
    /// still being delivered (a failure for the sender, which sends again).
    fn earlier(channel: &str, prior: Prior) -> Option<Self> {
        match prior {
            Prior::Go => None,
            Prior::Delivered => Some(Self {
                delivered_before: true,
                ..Self::new(channel, "delivered")
            }),
            Prior::InFlight => Some(Self {
                error: Some(
                    "an earlier copy of this notification is still being delivered here; \
                     send it again later"
                        .into(),
                ),
                error_kind: Some("in_flight"),
                ..Self::new(channel, "in_flight")
            }),
        }
    }
}

/// The event as the transforms leave it, or why they dropped it.
pub enum Transformed {
    /// Carry on with this event.
    Keep(Event),
    /// A transform dropped it.
    Dropped(String),
}

/// Runs the transforms in order, unless the host dropped the incident.
pub async fn transform(pipeline: &Pipeline, incident: &Incident) -> Transformed {
    if let Some(reason) = &incident.dropped {
        tracing::info!(%reason, "incident dropped");
        return Transformed::Dropped(reason.clone());
    }
    let mut event = Event {
        id: incident.id.clone(),
        payload: incident.payload.get().to_owned(),
        resolved: incident.resolved,
        severity: incident.severity.clone(),
        ack_url: None,
        dedup_key: incident.dedup_key.clone(),
    };
    for t in &pipeline.transforms {
        match t.transform(&event).await {
            Ok(TransformOutcome::Keep(next)) => event = next,
            Ok(TransformOutcome::Drop(reason)) => {
                tracing::info!(plugin = &*t.base.name, %reason, "transform dropped the incident");
                return Transformed::Dropped(reason);
            }
            // Fail open: a broken transform must not stop a page. The event
            // goes on as it was before this transform.
            Err(e) => {
                tracing::error!(plugin = &*t.base.name, error = %e, "transform failed; continuing without it")
            }
        }
    }
    // A key the sender chose wins over one a transform derived.
    if incident.overrides.dedup_key.is_some() {
        event.dedup_key.clone_from(&incident.dedup_key);
    }
    Transformed::Keep(event)
}

/// Renders and delivers `event` on every channel concurrently, except
/// where `priors` says an earlier copy of the notification has it. With
/// `queueing`, a destination that is rate-limiting gets the notification
/// through its outbound queue.
pub async fn deliver(
    pipeline: &Pipeline,
    event: &Event,
    incident: &Incident,
    retry: &RetryPolicy,
    priors: &HashMap<String, Prior>,
    queueing: Option<Queueing<'_>>,
) -> Outcome {
    // Shared by every attempt on every channel (see `deliver_one`).
    let event = &Arc::new(event.clone());
    let channels = join_all(pipeline.channels.iter().map(|c| async {
        let prior = priors.get(&c.name).copied().unwrap_or(Prior::Go);
        if let Some(skipped) = ChannelOutcome::earlier(&c.name, prior) {
            return skipped;
        }
        let span = tracing::info_span!("channel", channel = %c.name);
        deliver_one(pipeline, c, event, incident, retry, queueing)
            .instrument(span)
            .await
    }))
    .await;
    let metrics = crate::metrics::get();
    // A queued notification is counted when its queue posts it.
    for c in channels
        .iter()
        .filter(|c| c.settled_here() && c.status != "queued")
    {
        metrics.delivery(&c.channel, c.error.is_none());
    }
    Outcome::Delivered { channels }
}

async fn deliver_one(
    pipeline: &Pipeline,
    channel: &ChannelRuntime,
    event: &Arc<Event>,
    incident: &Incident,
    retry: &RetryPolicy,
    queueing: Option<Queueing<'_>>,
) -> ChannelOutcome {
    let failed = |attempts, e: PluginError| ChannelOutcome {
        attempts,
        error: Some(e.to_string()),
        error_kind: Some(e.kind()),
        ..ChannelOutcome::new(&channel.name, "failed")
    };
    let data = template_data(event, channel.ack_in_template, incident.repeat);
    // A template that fails at render time must not lose the alert: the
    // channel gets a plain message built from the alert, with the error.
    let (message, template_error) = match pipeline.renderer.render(&channel.template, &data).await {
        Ok(m) => (m, None),
        Err(e) => {
            tracing::error!(
                error = %e,
                template = %channel.template_path.display(),
                "rendering failed; sending the fallback message"
            );
            crate::metrics::get().template_error(&channel.name);
            let text = super::fallback::message(
                &event.payload,
                event.severity.as_deref(),
                event.resolved,
                &e,
            );
            (text, Some(e.to_string()))
        }
    };
    let reply_to = incident.reply_to.get(&channel.name);
    let in_thread = reply_to.is_some();
    let config: Arc<str> = super::overrides::channel_config(
        &channel.name,
        &channel.config_json,
        &incident.overrides,
        reply_to,
    )
    .into();
    let message: Arc<str> = message.into();
    let waiting = |attempts, retry_after, template_error| Waiting {
        channel: &channel.name,
        incident,
        event,
        message: &message,
        config: &config,
        in_thread,
        attempts,
        retry_after,
        template_error,
    };
    // Behind notifications already waiting for this destination.
    if let Some(q) = queueing
        && q.congested(&channel.name, incident)
    {
        return q.queue(waiting(0, None, template_error)).await;
    }
    // Strategy: `retry.max_elapsed` bounds attempts as well as the waits
    // between them. Each attempt gets what is left of the budget, so an
    // attempt that hangs until the plugin's own `timeout` cannot carry the
    // delivery past the budget; a retry is only made when its wait ends
    // inside the budget.
    let started = Instant::now();
    let mut attempt = 0;
    loop {
        attempt += 1;
        let left = retry.max_elapsed.saturating_sub(started.elapsed());
        // The call owns what it needs (shared, so an attempt copies
        // nothing), so that an attempt the budget cuts short can finish in
        // the background instead of being dropped while the remote side
        // may already have posted.
        let mut call = Box::pin({
            let (plugin, message, event, config) = (
                channel.plugin.clone(),
                message.clone(),
                event.clone(),
                config.clone(),
            );
            async move { plugin.deliver(&message, &event, &config).await }
        });
        let Ok(result) = tokio::time::timeout(left, &mut call).await else {
            tracing::warn!(
                attempts = attempt,
                "retry budget ran out during an attempt; it goes on in the background"
            );
            return ChannelOutcome {
                attempts: attempt,
                error: Some(format!(
                    "attempt {attempt} was still running when the {:?} retry budget \
                     (alert.retry.max_elapsed) ran out; it goes on in the background, \
                     and a copy of this notification sent again is not delivered twice",
                    retry.max_elapsed
                )),
                error_kind: Some("in_flight"),
                message: Some(message.to_string()),
                template_error,
                late: Some(tokio::spawn(call)),
                in_thread,
                ..ChannelOutcome::new(&channel.name, "in_flight")
            };
        };
        match result {
            Ok(receipt) => {
                tracing::info!(attempts = attempt, "delivered");
                return ChannelOutcome {
                    attempts: attempt,
                    receipt: Some(receipt),
                    message: Some(message.to_string()),
                    template_error,
                    in_thread,
                    ..ChannelOutcome::new(&channel.name, "delivered")
                };
            }
            // The destination asked for a wait: the notification waits in
            // its queue instead of holding up the request.
            Err(e) if retryable(&e) && queueing.is_some() && retry_after(&e).is_some() => {
                tracing::info!(attempts = attempt, error = %e, "rate-limited; queueing");
                if let Some(q) = queueing {
                    return q
                        .queue(waiting(attempt, retry_after(&e), template_error))
                        .await;
                }
            }
            Err(e) if retryable(&e) => {
                let wait = retry.backoff(attempt, retry_after(&e));
                if started.elapsed() + wait >= retry.max_elapsed {
                    tracing::error!(attempts = attempt, error = %e, "delivery failed; retry budget exhausted");
                    return failed(attempt, e);
                }
                tracing::warn!(attempt, error = %e, wait_ms = wait.as_millis() as u64, "delivery failed; retrying");
                crate::metrics::get().delivery_retries.inc();
                tokio::time::sleep(wait).await;
            }
            Err(e) => {
                tracing::error!(attempts = attempt, error = %e, "delivery failed permanently");
                return failed(attempt, e);
            }
        }
    }
}

/// The data a template sees: the (transformed) payload, plus
/// - `AckURL` while an ACK link is pending, for channels that do not show it
///   as a button of their own (`with_ack`);
/// - `Repeat: true` when the alert joined an open incident.
///
/// A payload that is not a JSON object is passed on unchanged.
///
/// Strategy: the members are appended to the object's text, which is
/// otherwise passed on as the sender wrote it, instead of decoding the
/// payload and encoding it again. A payload that already has a member of
/// that name then has it twice, and the later one (ours) is what a
/// template sees: a repeated key keeps its last value in the renderers'
/// decoders (the built-in renderer's, as Go's `encoding/json`, serde_json,
/// JavaScript's and Python's).
pub fn template_data(event: &Event, with_ack: bool, repeat: bool) -> String {
    let ack_url = event.ack_url.as_ref().filter(|_| with_ack);
    let payload = event.payload.trim_end();
    let (true, Some(body)) = (
        ack_url.is_some() || repeat,
        payload
            .strip_suffix('}')
            .filter(|_| payload.trim_start().starts_with('{')),
    ) else {
        return event.payload.clone();
    };
    // `{` and whitespace only: the first member needs no comma.
    let mut comma = !body.trim_start()[1..].trim().is_empty();
    let mut data = String::with_capacity(payload.len() + 64);
    data.push_str(body);
    let mut member = |name: &str, value: Value| {
        if comma {
            data.push(',');
        }
        comma = true;
        data.push_str(name);
        data.push(':');
        data.push_str(&value.to_string());
    };
    if let Some(url) = ack_url {
        member(r#""AckURL""#, Value::String(url.clone()));
    }
    if repeat {
        member(r#""Repeat""#, Value::Bool(true));
    }
    data.push('}');
    data
}

#[cfg(test)]
mod tests;
