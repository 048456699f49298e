//! Per-destination outbound queues: where a notification waits when its
//! destination is rate-limiting the gateway.
//!
//! Strategy. A chat service such as Slack takes about one message per
//! second per channel. Under an alert storm, holding each sender's request
//! open through the retries cannot work: the sender gives up after its own
//! timeout and sends again while the held attempt still posts (a
//! duplicate), and requests pile up until they are shed (a lost alert).
//! So a delivery the remote side answers with "wait" (a `Retry-After`)
//! is not retried inside the request. It is appended to its destination's
//! queue, the channel is answered `queued`, and the request is answered
//! like a delivered one (`201 Incident created`, as upstream answers),
//! because the gateway now owns the delivery: the sender must not send it
//! again. While a destination has a queue, every later notification for it
//! joins the queue too, so messages reach each destination in the order
//! the gateway accepted them. (Another replica learns of the queue at its
//! next scan, within a second, or at its own first "wait" answer; until
//! then a notification it takes may go out ahead of the queue.)
//!
//! One drainer per destination posts the queue's head, and removes it only
//! once it is posted; a "wait" answer is honoured before the next try. So a
//! queue drains as fast as the destination's limit allows, one message in
//! flight at a time.
//!
//! Where the queue lives follows on-call's store: with Redis, the queues
//! are Redis lists every replica shares, written (and `WAIT`ed for, as
//! `redis.wait_replicas` asks) before the sender is answered; a lease
//! in Redis makes one replica the drainer of each destination, and another
//! takes over when it stops. Without Redis the queues are in memory, and a
//! graceful shutdown waits for them to drain (within its grace period).
//!
//! A destination is a channel and the query overrides that pick its target
//! (`slack_channel_id`, …): the unit a chat service rate-limits.
//!
//! On-call does not wait for the queue: the page goes out `wait_minutes`
//! after the alert was accepted, whether or not its chat message was
//! posted yet, so a congested chat service can delay a message but never a
//! page. The message's receipt is recorded when it is posted, and the
//! message is then brought up to date (acknowledged, escalated) at once.

mod digest;
mod drain;
mod store;

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use serde::{Deserialize, Serialize};

pub use drain::start;
use store::Store;

use crate::incident::Overrides;
use crate::pipeline::bindings::types::Event;

/// How many notifications one destination's queue holds at most. Past it,
/// a notification is refused (the sender is told delivery failed, and
/// sends it again later), so memory stays bounded however long a storm
/// lasts.
pub const MAX_QUEUED: usize = 10_000;

/// One notification waiting for its destination.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Item {
    /// Unique per queued item, so a drainer removes exactly the one it
    /// posted.
    pub key: String,
    /// The channel's name.
    pub channel: String,
    /// The rendered message.
    pub message: String,
    /// The channel's settings for this notification (overrides applied).
    pub config: String,
    /// The event as the channel gets it.
    pub event: QueuedEvent,
    /// The on-call incident whose messages are updated later.
    pub oncall_id: Option<String>,
    /// A reply in a thread: not updated later.
    pub in_thread: bool,
    /// The incident's first notification (not a repeat): its message is
    /// brought up to date when posted.
    pub first: bool,
    /// When it was queued, ms since the epoch.
    pub queued_ms: i64,
    /// Not posted before this time, ms since the epoch: the wait the
    /// destination asked for when it refused this notification.
    #[serde(default)]
    pub not_before_ms: i64,
}

/// [`Event`], in a form that can be stored.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct QueuedEvent {
    id: String,
    payload: String,
    resolved: bool,
    severity: Option<String>,
    ack_url: Option<String>,
    dedup_key: Option<String>,
}

impl From<&Event> for QueuedEvent {
    fn from(e: &Event) -> Self {
        Self {
            id: e.id.clone(),
            payload: e.payload.clone(),
            resolved: e.resolved,
            severity: e.severity.clone(),
            ack_url: e.ack_url.clone(),
            dedup_key: e.dedup_key.clone(),
        }
    }
}

impl From<QueuedEvent> for Event {
    fn from(e: QueuedEvent) -> Self {
        Self {
            id: e.id,
            payload: e.payload,
            resolved: e.resolved,
            severity: e.severity,
            ack_url: e.ack_url,
            dedup_key: e.dedup_key,
        }
    }
}

/// The queues, and which destinations have one.
pub struct Outbox {
    store: Store,
    /// Destinations known to have a queue: new notifications for them
    /// queue too. With Redis, refreshed from the shared list every scan.
    congested: Mutex<HashSet<String>>,
    /// `congested.len()`, read without the lock on every delivery.
    congested_count: AtomicUsize,
    /// Destinations this process drains now.
    draining: Mutex<HashSet<String>>,
    /// Wakes the scanner when something was queued.
    wake: tokio::sync::Notify,
    /// What a graceful shutdown waits for: queues in memory hold it until
    /// they are drained. Set when draining starts.
    gate: OnceLock<Arc<crate::in_flight::Gate>>,
}

impl Default for Outbox {
    fn default() -> Self {
        Self::with(Store::memory())
    }
}

impl Outbox {
    /// Queues every replica shares, in Redis under `prefix`.
    pub fn redis(
        link: crate::oncall::redis_link::RedisLink,
        prefix: &str,
        durability: Option<(u32, std::time::Duration)>,
    ) -> Self {
        Self::with(Store::redis(link, prefix, durability))
    }

    fn with(store: Store) -> Self {
        Self {
            store,
            congested: Mutex::default(),
            congested_count: AtomicUsize::new(0),
            draining: Mutex::default(),
            wake: tokio::sync::Notify::new(),
            gate: OnceLock::new(),
        }
    }

    /// The destination `channel` delivers to with `overrides`.
    pub fn destination(channel: &str, overrides: &Overrides) -> String {
        let mut key = channel.to_string();
        for o in crate::channel::query_overrides(channel) {
            if let Some(v) = overrides.channel(o.query) {
                key.push('|');
                key.push_str(o.query);
                key.push('=');
                key.push_str(v);
            }
        }
        key
    }

    /// Whether notifications for `channel` with `overrides` must queue,
    /// because earlier ones are waiting.
    pub fn congested(&self, channel: &str, overrides: &Overrides) -> bool {
        if self.congested_count.load(Ordering::Acquire) == 0 {
            return false;
        }
        let destination = Self::destination(channel, overrides);
        lock(&self.congested).contains(&destination)
    }

    /// Appends `item` to `destination`'s queue. `Err` says why it could not
    /// be queued (a full queue, the store away): the caller reports the
    /// channel as failed.
    pub async fn push(&self, destination: &str, item: &Item) -> Result<(), String> {
        let text = serde_json::to_string(item).map_err(|e| e.to_string())?;
        // Only this process holds a queue in memory: it must not exit
        // before the queue is posted.
        let permit = (!self.store.shared())
            .then(|| self.gate.get().map(|g| g.hold()))
            .flatten();
        let queued = self.store.push(destination, &text, permit).await?;
        self.mark(destination, true);
        self.wake.notify_one();
        crate::metrics::get().outbox(&item.channel, "queued");
        tracing::info!(
            channel = %item.channel,
            destination,
            queued,
            "the destination is rate-limiting: notification queued"
        );
        Ok(())
    }

    fn mark(&self, destination: &str, congested: bool) {
        let mut set = lock(&self.congested);
        if congested {
            set.insert(destination.to_string());
        } else {
            set.remove(destination);
        }
        self.congested_count.store(set.len(), Ordering::Release);
    }

    /// Replaces the known congested destinations with `all`.
    fn refresh(&self, all: HashSet<String>) {
        let mut set = lock(&self.congested);
        *set = all;
        self.congested_count.store(set.len(), Ordering::Release);
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests;
