//! A delivery handed to its destination's outbound queue (see
//! [`crate::outbox`]) instead of being retried inside the request: the
//! channel is then answered `queued`, which the sender is told is success.

use std::sync::Arc;

use super::{ChannelOutcome, Incident};
use crate::oncall::Clock;
use crate::outbox::{Item, Outbox, QueuedEvent};
use crate::pipeline::bindings::types::Event;

/// What a delivery needs to queue itself.
#[derive(Clone, Copy)]
pub struct Queueing<'a> {
    /// The queues.
    pub outbox: &'a Outbox,
    /// The on-call incident the message belongs to, whose messages are
    /// updated later.
    pub oncall_id: Option<&'a str>,
}

/// One delivery ready to queue.
pub struct Waiting<'a> {
    pub channel: &'a str,
    pub incident: &'a Incident,
    pub event: &'a Arc<Event>,
    pub message: &'a str,
    pub config: &'a str,
    pub in_thread: bool,
    /// Attempts made before it was queued (0 when the destination was
    /// already congested).
    pub attempts: u32,
    /// The wait the destination asked for, when it refused this one.
    pub retry_after: Option<std::time::Duration>,
    pub template_error: Option<String>,
}

impl Queueing<'_> {
    /// Whether the destination has notifications waiting, so this one must
    /// wait behind them.
    pub fn congested(&self, channel: &str, incident: &Incident) -> bool {
        self.outbox.congested(channel, &incident.overrides)
    }

    /// Queues `w` and answers the channel's outcome: `queued`, or `failed`
    /// when it could not be queued (the sender then sends it again).
    pub async fn queue(&self, w: Waiting<'_>) -> ChannelOutcome {
        let now = Clock::System.now_ms();
        let item = Item {
            key: super::new_id(),
            channel: w.channel.to_string(),
            message: w.message.to_string(),
            config: w.config.to_string(),
            event: QueuedEvent::from(&**w.event),
            oncall_id: self.oncall_id.map(str::to_string),
            in_thread: w.in_thread,
            first: !w.incident.repeat,
            queued_ms: now,
            not_before_ms: now + w.retry_after.map_or(0, |d| d.as_millis() as i64),
        };
        let destination = Outbox::destination(w.channel, &w.incident.overrides);
        let outcome = |status| ChannelOutcome {
            attempts: w.attempts,
            template_error: w.template_error.clone(),
            in_thread: w.in_thread,
            ..ChannelOutcome::new(w.channel, status)
        };
        match self.outbox.push(&destination, &item).await {
            Ok(()) => outcome("queued"),
            Err(e) => {
                tracing::error!(error = %e, "the destination is rate-limiting and the notification cannot be queued");
                ChannelOutcome {
                    error: Some(format!(
                        "the destination is rate-limiting and the notification cannot be queued: {e}"
                    )),
                    error_kind: Some("queue"),
                    ..outcome("failed")
                }
            }
        }
    }
}
