//! The escalation scheduler. Every replica runs one; Redis decides which
//! replica handles which incident.
//!
//! Strategy: sleep until the earliest deadline in the due-set, or at most
//! [`TICK`] (another replica may have added an earlier one), or until this
//! process registers a new incident. Then claim what is due, with a lease,
//! and start each response plan. A failed attempt is put back in the
//! due-set at its retry time, so retries survive a crash too.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

use super::OnCall;
use super::store::Attempt;

/// Longest sleep between due-set checks: bounds lateness for deadlines set
/// by other replicas, at one cheap Redis round trip per second when idle.
pub const TICK: Duration = Duration::from_secs(1);

/// How long a claim holds an incident before another replica may take it
/// over. Longer than one StartIncident call (at most 25 s, see
/// [`super::Escalator::new`]).
pub const LEASE: Duration = Duration::from_secs(30);

/// Incidents claimed per round.
const BATCH: usize = 100;

/// Runs the scheduler until `shutdown` is notified.
pub async fn run(oncall: Arc<OnCall>, wake: Arc<Notify>, shutdown: Arc<Notify>) {
    loop {
        let now = oncall.clock.now_ms();
        match oncall
            .store
            .claim_due(now, now + LEASE.as_millis() as i64, BATCH)
            .await
        {
            Ok(ids) => {
                for id in ids {
                    let oncall = oncall.clone();
                    tokio::spawn(async move { escalate(&oncall, &id).await });
                }
            }
            Err(e) => tracing::warn!(error = %e, "scheduler cannot reach the store; will retry"),
        }
        let next = oncall.store.next_due_ms().await.ok().flatten();
        let now = oncall.clock.now_ms();
        let wait = next.map_or(TICK, |at| {
            Duration::from_millis((at - now).max(0) as u64).min(TICK)
        });
        tokio::select! {
            _ = tokio::time::sleep(wait) => {}
            _ = wake.notified() => {}
            _ = shutdown.notified() => return,
        }
    }
}

/// One escalation attempt for a claimed incident.
///
/// Strategy: StartIncident is called once (the SDK does not retry by
/// itself, see [`super::Escalator::new`]); a failure goes back into the
/// due-set at `now + backoff`, until `max_attempts` calls have failed.
/// Every attempt is logged with the incident, and every retry, like the
/// first call, sends the incident id as `clientToken`.
#[tracing::instrument(skip_all, fields(incident_id = %id))]
pub async fn escalate(oncall: &OnCall, id: &str) {
    let view = match oncall.store.get(id).await {
        Ok(Some(v)) => v,
        Ok(None) => return,
        Err(e) => {
            tracing::warn!(error = %e, "cannot read claimed incident; its lease will expire and it will be retried");
            return;
        }
    };
    let started = oncall.clock.now_ms();
    if view.attempts == 0 {
        // Retries are due at their backoff, not the deadline: only the
        // first call says how late the scheduler was.
        let late_ms = (started - view.record.deadline_ms).max(0);
        crate::metrics::get()
            .escalation_lateness
            .observe(late_ms as f64 / 1000.0);
    }
    let result = oncall.start(&view).await;
    let now = oncall.clock.now_ms();
    let attempt_no = view.attempts + 1;
    let max_attempts = oncall.settings.max_attempts;
    let provider = oncall.provider();
    let outcome = match &result {
        Ok(page) => {
            tracing::info!(provider, page_id = %page.id, plan = %view.record.response_plan_arn, attempt = attempt_no, "page started");
            Attempt::Escalated(Some(page))
        }
        Err(e) if e.permanent => {
            tracing::error!(
                provider,
                attempts = attempt_no,
                error = %e.message,
                "ESCALATION FAILED: the on-call provider refused the page with an error no retry can fix (permissions, validation, no such plan or key); nobody was paged"
            );
            Attempt::Failed(&e.message)
        }
        Err(e) if attempt_no >= max_attempts => {
            tracing::error!(
                provider,
                attempts = attempt_no,
                error = %e.message,
                "ESCALATION FAILED: could not start the page after the last attempt; nobody was paged"
            );
            Attempt::Failed(&e.message)
        }
        Err(e) => {
            let wait = super::target::next_wait(oncall.settings.backoff(attempt_no), e.retry_after);
            tracing::warn!(provider, attempt = attempt_no, max_attempts, error = %e.message, retry_in_ms = wait.as_millis() as u64, "starting the page failed; will retry");
            Attempt::Retry {
                at_ms: now + wait.as_millis() as i64,
                error: &e.message,
            }
        }
    };
    if result.is_err() {
        oncall.stats.record_attempt_error();
    }
    if let Err(e) = oncall.store.finish(id, outcome, started, now).await {
        tracing::warn!(error = %e, "cannot record the escalation outcome; the lease will expire and it is retried (AWS dedups by client token)");
        return;
    }
    match outcome {
        Attempt::Escalated(_) => {
            oncall.stats.record_started();
            oncall
                .update_channels(id, crate::pipeline::bindings::StatusChange::Escalated)
                .await;
        }
        Attempt::Failed(_) => {
            oncall.stats.record_failed();
            oncall
                .update_channels(id, crate::pipeline::bindings::StatusChange::PagingFailed)
                .await;
        }
        // The loop may be asleep for a full tick: make it see the retry
        // time, so short backoffs are kept.
        Attempt::Retry { .. } => oncall.wake.notify_one(),
    }
}

#[cfg(test)]
mod tests;
