//! Escalation counters of this process, shown by `GET /readyz` (a
//! `/metrics` endpoint can read the same numbers later).

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Serialize;

/// Counts escalation outcomes since this process started. Every replica
/// counts only the escalations it handled.
#[derive(Debug, Default)]
pub struct EscalationStats {
    started: AtomicU64,
    failed: AtomicU64,
    attempt_errors: AtomicU64,
}

/// The counters at one moment, as JSON.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct StatsSnapshot {
    /// Response plans started.
    pub started: u64,
    /// Incidents given up on (`escalation_failed`): nobody was paged.
    pub failed: u64,
    /// StartIncident calls that failed, including ones retried later.
    pub attempt_errors: u64,
}

impl EscalationStats {
    /// A response plan was started.
    pub fn record_started(&self) {
        self.started.fetch_add(1, Ordering::Relaxed);
        crate::metrics::get().escalations_started.inc();
    }

    /// An incident was marked `escalation_failed`.
    pub fn record_failed(&self) {
        self.failed.fetch_add(1, Ordering::Relaxed);
        crate::metrics::get().escalations_failed.inc();
    }

    /// One StartIncident call failed.
    pub fn record_attempt_error(&self) {
        self.attempt_errors.fetch_add(1, Ordering::Relaxed);
        crate::metrics::get().escalation_attempt_errors.inc();
    }

    /// The current values.
    pub fn snapshot(&self) -> StatsSnapshot {
        StatsSnapshot {
            started: self.started.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            attempt_errors: self.attempt_errors.load(Ordering::Relaxed),
        }
    }
}
