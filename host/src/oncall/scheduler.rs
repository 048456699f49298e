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
/// over. Longer than one StartIncident call with its SDK retries (25 s).
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
    let result = oncall.escalator.start(&view.record).await;
    let now = oncall.clock.now_ms();
    let attempt_no = view.attempts + 1;
    let outcome = match &result {
        Ok(arn) => {
            tracing::info!(incident_arn = %arn, plan = %view.record.response_plan_arn, "response plan started");
            Attempt::Escalated
        }
        Err(e) if attempt_no >= oncall.settings.max_attempts => {
            tracing::error!(
                attempts = attempt_no,
                error = %e,
                "ESCALATION FAILED: could not start the response plan; nobody was paged by AWS"
            );
            Attempt::Failed(e)
        }
        Err(e) => {
            let wait = backoff(attempt_no);
            tracing::warn!(attempt = attempt_no, error = %e, retry_in_ms = wait.as_millis() as u64, "StartIncident failed; will retry");
            Attempt::Retry {
                at_ms: now + wait.as_millis() as i64,
                error: e,
            }
        }
    };
    if let Err(e) = oncall.store.finish(id, outcome, now).await {
        tracing::warn!(error = %e, "cannot record the escalation outcome; the lease will expire and it is retried (AWS dedups by client token)");
        return;
    }
    if result.is_ok() {
        oncall
            .update_channels(
                id,
                crate::pipeline::bindings::types::StatusChange::Escalated,
            )
            .await;
    }
}

/// 2 s, 4 s, 8 s, … capped at 60 s.
fn backoff(attempt: u32) -> Duration {
    Duration::from_secs(2u64.saturating_pow(attempt.min(6))).min(Duration::from_secs(60))
}

#[cfg(test)]
mod tests;
