//! Drains the outbound queues: a scanner finds the destinations that have
//! a queue, and this process drains each one it holds the lease of, one
//! message at a time, oldest first.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::{Item, Outbox, digest, lock};
use crate::in_flight::Gate;
use crate::incident::{ChannelOutcome, RetryPolicy, retry_after};
use crate::oncall::{Clock, OnCall};
use crate::pipeline::bindings::types::{Event, Receipt};
use crate::pipeline::{PluginError, Reloader};

/// How often the scanner looks for queues it does not drain yet (another
/// replica's, left when it stopped), and refreshes which destinations are
/// congested.
const SCAN_EVERY: Duration = Duration::from_secs(1);

/// The shortest lease a drainer holds on its destination. It is renewed
/// at least every [`NAP`], and lasts longer than any one post (see
/// [`lease`]), so it lapses only when its holder is gone: another replica
/// then takes the queue over within this long.
const LEASE: Duration = Duration::from_secs(15);

/// The longest a drainer sleeps before it renews its lease again, however
/// long the destination asked it to wait.
const NAP: Duration = Duration::from_secs(5);

/// The longest wait between two tries of one message, whatever the remote
/// side asks.
const LONGEST_WAIT: Duration = Duration::from_secs(60);

/// What a drainer needs besides the queues.
#[derive(Clone)]
struct Context {
    outbox: Arc<Outbox>,
    reloader: Arc<Reloader>,
    oncall: Option<Arc<OnCall>>,
    gate: Arc<Gate>,
    /// This process, as the owner of leases.
    owner: Arc<str>,
    stop: watch::Receiver<bool>,
}

/// Starts draining `outbox`. With shared queues, draining stops when
/// `stop` turns true (another replica takes over); queues in memory are
/// drained on while the shutdown waits for them.
pub fn start(
    outbox: Arc<Outbox>,
    reloader: Arc<Reloader>,
    oncall: Option<Arc<OnCall>>,
    gate: Arc<Gate>,
    stop: watch::Receiver<bool>,
) {
    let _ = outbox.gate.set(gate.clone());
    let context = Context {
        outbox,
        reloader,
        oncall,
        gate,
        owner: uuid::Uuid::new_v4().to_string().into(),
        stop,
    };
    tokio::spawn(scan(context));
}

async fn scan(mut cx: Context) {
    let shared = cx.outbox.store.shared();
    // Logged when the store goes away and when it is back, not every scan.
    let mut failing = false;
    loop {
        match cx.outbox.store.destinations().await {
            Ok(all) => {
                if std::mem::take(&mut failing) {
                    tracing::info!("the outbound queues can be read again");
                }
                if shared {
                    cx.outbox.refresh(all.clone());
                }
                for destination in all {
                    claim(&cx, destination).await;
                }
            }
            Err(e) if !failing => {
                failing = true;
                tracing::warn!(error = %e, "cannot list the outbound queues; queued notifications wait until it can")
            }
            Err(_) => {}
        }
        tokio::select! {
            () = cx.outbox.wake.notified() => {}
            () = tokio::time::sleep(SCAN_EVERY) => {}
            _ = cx.stop.changed(), if shared => {}
        }
        if shared && stopping(&cx.stop) {
            return;
        }
    }
}

/// Starts draining `destination` unless this process already does, or
/// another replica holds its lease.
async fn claim(cx: &Context, destination: String) {
    if !lock(&cx.outbox.draining).insert(destination.clone()) {
        return;
    }
    if !cx
        .outbox
        .store
        .lease(&destination, &cx.owner, lease(cx), false)
        .await
    {
        lock(&cx.outbox.draining).remove(&destination);
        return;
    }
    tokio::spawn(drain(cx.clone(), destination));
}

async fn drain(cx: Context, destination: String) {
    let store = &cx.outbox.store;
    let shared = store.shared();
    // A shutdown waits until the lease is given up, so the next replica
    // need not wait for it to lapse.
    let _handing_over = shared.then(|| cx.gate.hold());
    let mut failures = 0;
    // Not before this: the wait the destination (or the item) asked for.
    let mut resume = tokio::time::Instant::now();
    let mut stop = cx.stop.clone();
    loop {
        if shared && stopping(&cx.stop) {
            break;
        }
        if !store.lease(&destination, &cx.owner, lease(&cx), true).await {
            tracing::warn!(%destination, "cannot renew the lease on an outbound queue (lost to another replica, or Redis is away); draining stops until the next scan");
            break;
        }
        let now = tokio::time::Instant::now();
        if resume > now {
            // A shared queue is left to the other replicas at shutdown,
            // without waiting out the nap.
            tokio::select! {
                () = tokio::time::sleep((resume - now).min(NAP)) => {}
                _ = stop.changed(), if shared => {}
            }
            continue;
        }
        let head = match store.head(&destination).await {
            Ok(Some(head)) => head,
            Ok(None) => {
                // Marked clear, then looked at again: a notification queued
                // in between is not left waiting for the next scan.
                cx.outbox.mark(&destination, false);
                if let Ok(Some(_)) = store.head(&destination).await {
                    cx.outbox.mark(&destination, true);
                    continue;
                }
                break;
            }
            Err(e) => {
                tracing::warn!(%destination, error = %e, "cannot read an outbound queue; retrying");
                tokio::time::sleep(SCAN_EVERY).await;
                continue;
            }
        };
        let wait = match serde_json::from_str::<Item>(&head) {
            Ok(item) => post(&cx, &destination, item, head, &mut failures).await,
            Err(e) => {
                tracing::error!(%destination, error = %e, "an outbound queue holds an item that cannot be read; dropped");
                remove(&cx, &destination, &head).await;
                None
            }
        };
        if let Some(wait) = wait {
            resume = tokio::time::Instant::now() + wait.min(LONGEST_WAIT);
        }
    }
    store.release(&destination, &cx.owner).await;
    lock(&cx.outbox.draining).remove(&destination);
}

/// Whether the process is stopping: told so, or the one who would tell is
/// gone.
fn stopping(stop: &watch::Receiver<bool>) -> bool {
    *stop.borrow() || stop.has_changed().is_err()
}

/// The lease a drainer takes: longer than the longest post any channel may
/// make (its plugin's `timeout`), and than a [`NAP`].
fn lease(cx: &Context) -> Duration {
    let longest_post = cx
        .reloader
        .pipeline()
        .channels
        .iter()
        .map(|c| c.plugin.base.limits.timeout)
        .max()
        .unwrap_or_default();
    LEASE.max(longest_post + NAP)
}

/// Posts the queue's head, with the notifications behind it when its
/// channel asks for a storm digest. Answers how long to wait before the
/// next try when it must be tried again; otherwise they are removed.
async fn post(
    cx: &Context,
    destination: &str,
    head: Item,
    raw: String,
    failures: &mut u32,
) -> Option<Duration> {
    let early = head.not_before_ms - Clock::System.now_ms();
    if early > 0 {
        return Some(Duration::from_millis(early as u64));
    }
    let pipeline = cx.reloader.pipeline();
    let channel = pipeline.channels.iter().find(|c| c.name == head.channel);
    let batch = match channel {
        Some(c) if c.storm_digest && digest::mergeable(&head) => {
            behind(cx, destination, head, raw).await
        }
        _ => vec![(head, raw)],
    };
    let first = &batch[0].0;
    let result = match channel {
        Some(channel) => {
            let (message, event) = if batch.len() > 1 {
                digest::merge(&batch.iter().map(|(i, _)| i).collect::<Vec<_>>())
            } else {
                (first.message.clone(), Event::from(first.event.clone()))
            };
            // A post under way is finished before the process exits.
            let _working = cx.gate.hold();
            channel
                .plugin
                .deliver(&message, &event, &first.config)
                .await
        }
        None => Err(PluginError::Permanent(format!(
            "channel {} is no longer configured",
            first.channel
        ))),
    };
    let metrics = crate::metrics::get();
    let waited_ms = Clock::System.now_ms() - first.queued_ms;
    let merged = batch.len();
    match result {
        Ok(receipt) => {
            *failures = 0;
            let mut left = 0;
            for (item, raw) in &batch {
                left = remove(cx, destination, raw).await;
                metrics.outbox(&item.channel, "delivered");
                metrics.delivery(&item.channel, true);
            }
            tracing::info!(channel = %first.channel, incident_id = %first.event_id(), merged, waited_ms, left, "queued notification delivered");
            // A merged message is not updated later (see `digest`).
            if merged == 1 {
                record(cx, first, receipt).await;
            }
            None
        }
        Err(e) if crate::incident::retryable(&e) => {
            *failures += 1;
            let policy: RetryPolicy = cx.reloader.config().alert.retry.clone();
            let wait = retry_after(&e).unwrap_or_else(|| policy.backoff(*failures, None));
            if retry_after(&e).is_none() {
                tracing::warn!(channel = %first.channel, %destination, attempts = *failures, error = %e, "queued notification not delivered yet; retrying");
            }
            Some(wait)
        }
        Err(e) => {
            *failures = 0;
            for (item, raw) in &batch {
                remove(cx, destination, raw).await;
                metrics.outbox(&item.channel, "dropped");
                metrics.delivery(&item.channel, false);
                tracing::error!(channel = %item.channel, incident_id = %item.event_id(), waited_ms, error = %e, "queued notification failed for good; dropped");
            }
            None
        }
    }
}

/// The head and the notifications right behind it that may be merged
/// with it, up to [`digest::MOST`].
async fn behind(cx: &Context, destination: &str, head: Item, raw: String) -> Vec<(Item, String)> {
    let raws = match cx.outbox.store.peek(destination, digest::MOST).await {
        Ok(raws) if raws.first() == Some(&raw) => raws,
        _ => return vec![(head, raw)],
    };
    let now = Clock::System.now_ms();
    let mut batch = vec![(head, raw)];
    for raw in raws.into_iter().skip(1) {
        match serde_json::from_str::<Item>(&raw) {
            Ok(item)
                if digest::mergeable(&item)
                    && item.channel == batch[0].0.channel
                    && item.not_before_ms <= now =>
            {
                batch.push((item, raw))
            }
            _ => break,
        }
    }
    batch
}

/// Removes a posted (or hopeless) head; answers how many are left.
async fn remove(cx: &Context, destination: &str, head: &str) -> usize {
    loop {
        match cx.outbox.store.pop(destination, head).await {
            Ok(left) => return left,
            // Left in place, it would be posted again: keep trying.
            Err(e) => {
                tracing::warn!(%destination, error = %e, "cannot remove a posted notification from its queue; retrying");
                tokio::time::sleep(SCAN_EVERY).await;
            }
        }
    }
}

/// Records where the message lives, so on-call updates it later (and
/// brings it up to date now).
async fn record(cx: &Context, item: &Item, receipt: Receipt) {
    let (Some(oncall), Some(id)) = (&cx.oncall, &item.oncall_id) else {
        return;
    };
    let outcome = ChannelOutcome {
        attempts: 1,
        receipt: Some(receipt),
        message: Some(item.message.clone()),
        in_thread: item.in_thread,
        ..ChannelOutcome::new(&item.channel, "delivered")
    };
    oncall.record_receipts(id, &[outcome], item.first).await;
}

impl Item {
    fn event_id(&self) -> &str {
        &self.event.id
    }
}
