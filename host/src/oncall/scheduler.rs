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

use super::aws::StartError;
use super::{AttemptEntry, OnCall, Outcome, Round, Shown, State, Target, TargetState};
use crate::pipeline::bindings::oncall_types::EscalationReceipt;

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
    // Whether the last claim failed: a store that is away is logged when
    // it goes and when it comes back, not every tick.
    let mut failing = false;
    loop {
        let now = oncall.clock.now_ms();
        match oncall
            .store
            .claim_due(now, now + LEASE.as_millis() as i64, BATCH)
            .await
        {
            Ok(ids) => {
                if std::mem::take(&mut failing) {
                    tracing::info!("scheduler reaches the store again");
                }
                for id in ids {
                    let oncall = oncall.clone();
                    tokio::spawn(async move { escalate(&oncall, &id).await });
                }
            }
            Err(e) => {
                if !std::mem::replace(&mut failing, true) {
                    tracing::warn!(error = %e, "scheduler cannot reach the store; retrying every second");
                }
            }
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

/// One escalation round for a claimed incident: each target that is due
/// is called once, all at once.
///
/// Strategy: a target's start is one call (the AWS SDK does not retry by
/// itself, see [`super::Escalator::new`]). A failed target is due again at
/// `now + backoff` (or later, when the provider asked), until
/// `max_attempts` of its calls have failed; a refusal no retry can fix
/// ends it at once. Targets never wait for each other: one that fails does
/// not stop another from paging, and one that paged is never called
/// again. The incident is escalated once any target paged, and failed
/// only when every target failed. Every call is logged with the incident;
/// every retry, like the first call, sends the same idempotency key (the
/// incident id as AWS's `clientToken`, the dedup key to a plugin).
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
        // first round says how late the scheduler was.
        let late_ms = (started - view.record.deadline_ms).max(0);
        crate::metrics::get()
            .escalation_lateness
            .observe(late_ms as f64 / 1000.0);
    }
    let mut targets = if view.targets.is_empty() {
        oncall.targets().iter().map(|t| Target::new(t)).collect()
    } else {
        view.targets.clone()
    };
    let due: Vec<usize> = (0..targets.len())
        .filter(|&i| targets[i].due(started))
        .collect();
    let results = futures::future::join_all(
        due.iter()
            .map(|&i| oncall.start(&view, &targets[i].provider)),
    )
    .await;
    let now = oncall.clock.now_ms();
    let mut calls = Vec::new();
    for (&i, result) in due.iter().zip(results) {
        let target = &mut targets[i];
        target.attempts += 1;
        let error = settle(oncall, target, result, now);
        if error.is_some() {
            oncall.stats.record_attempt_error();
        }
        calls.push(AttemptEntry {
            at_ms: started,
            provider: Some(target.provider.clone()),
            error,
        });
    }
    let round = Round {
        targets: &targets,
        calls: &calls,
    };
    let outcome = round.outcome();
    match oncall.store.finish(id, round, now).await {
        Ok(true) => {}
        Ok(false) => return,
        Err(e) => {
            tracing::warn!(error = %e, "cannot record the escalation outcome; the lease will expire and it is retried (providers dedup by the incident's key)");
            return;
        }
    }
    let first_page = outcome.paged() && view.state != State::Escalated;
    if first_page {
        oncall.stats.record_started();
        oncall
            .update_channels(id, crate::pipeline::bindings::StatusChange::Escalated)
            .await;
    }
    match outcome {
        // A target that was still being paged is done: the messages say
        // how each went.
        Outcome::Escalated if !first_page => oncall.update_channels(id, Shown::Settled).await,
        Outcome::Escalated => {}
        Outcome::Failed => {
            tracing::error!(
                "ESCALATION FAILED: no on-call target could be paged; nobody was paged"
            );
            oncall.stats.record_failed();
            oncall
                .update_channels(id, crate::pipeline::bindings::StatusChange::PagingFailed)
                .await;
        }
        // The loop may be asleep for a full tick: make it see the retry
        // time, so short backoffs are kept.
        Outcome::Paging { .. } => oncall.wake.notify_one(),
    }
}

/// Records how one call to `target` went, at `now_ms`, and returns its
/// error, if it failed.
fn settle(
    oncall: &OnCall,
    target: &mut Target,
    result: Result<EscalationReceipt, StartError>,
    now_ms: i64,
) -> Option<String> {
    let provider = target.provider.as_str();
    let attempt = target.attempts;
    let max_attempts = oncall.settings.max_attempts;
    target.retry_at_ms = None;
    let e = match result {
        Ok(page) => {
            tracing::info!(provider, page_id = %page.id, attempt, "page started");
            target.state = TargetState::Paged;
            target.id = Some(page.id);
            target.url = page.url;
            target.last_error = None;
            return None;
        }
        Err(e) => e,
    };
    if e.permanent {
        tracing::error!(
            provider,
            attempts = attempt,
            error = %e.message,
            "PAGING FAILED through this provider: it refused the page with an error no retry can fix (permissions, validation, no such plan or key)"
        );
        target.state = TargetState::Failed;
    } else if attempt >= max_attempts {
        tracing::error!(
            provider,
            attempts = attempt,
            error = %e.message,
            "PAGING FAILED through this provider: could not start the page after the last attempt"
        );
        target.state = TargetState::Failed;
    } else {
        let wait = super::target::next_wait(oncall.settings.backoff(attempt), e.retry_after);
        tracing::warn!(provider, attempt, max_attempts, error = %e.message, retry_in_ms = wait.as_millis() as u64, "starting the page failed; will retry");
        target.retry_at_ms = Some(now_ms + wait.as_millis() as i64);
    }
    target.last_error = Some(e.message.clone());
    Some(e.message)
}

#[cfg(test)]
mod tests;
