//! `Store`: the on-call state behind one type, Redis or in-memory.

use super::memory_store::MemoryStore;
use super::record::{
    Acked, AttemptEntry, Created, Escalation, IncidentView, NewIncident, ResolvedOutcome, State,
    StoredReceipt,
};
use super::redis_store::RedisStore;
use crate::pipeline::bindings::StatusChange;

/// A store failure. For a request this is a 503: nothing was sent.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Redis is unreachable or answered with an error.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// The Redis settings are unusable.
    #[error("redis configuration: {0}")]
    Config(String),
    /// Stored data could not be read back.
    #[error("stored data: {0}")]
    Data(String),
}

/// How long the store keeps incidents that need no more action, so state
/// does not grow without bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Kept this long after they are resolved, escalated or failed
    /// (`oncall.retention`); an escalated incident that still receives
    /// repeats is kept this long after the last one.
    pub finished_ms: i64,
    /// How long an acknowledged incident holds its dedup key
    /// (`oncall.ack_expiry`); it is kept that long plus `finished_ms`.
    pub ack_hold_ms: i64,
}

impl Retention {
    /// From the `oncall` section.
    pub fn from_config(oncall: &crate::config::OnCallConfig) -> Self {
        Self {
            finished_ms: millis(oncall.retention),
            ack_hold_ms: millis(oncall.ack_expiry),
        }
    }

    /// How long an incident is kept after its ACK.
    pub fn acknowledged_ms(&self) -> i64 {
        self.ack_hold_ms.saturating_add(self.finished_ms)
    }
}

impl Default for Retention {
    fn default() -> Self {
        Self::from_config(&crate::config::OnCallConfig::default())
    }
}

fn millis(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// How one escalation attempt ended.
#[derive(Debug, Clone, Copy)]
pub enum Attempt<'a> {
    /// The page was started; the provider's receipt, when it gave one.
    Escalated(Option<&'a Escalation>),
    /// It failed; try again at `at_ms`.
    Retry {
        /// When to retry, Unix ms.
        at_ms: i64,
        /// The error.
        error: &'a str,
    },
    /// It failed for the last time.
    Failed(&'a str),
}

impl<'a> Attempt<'a> {
    /// The attempt's log entry, for a call made at `started_ms`.
    pub fn entry(self, started_ms: i64) -> AttemptEntry {
        let error = match self {
            Self::Escalated(_) => None,
            Self::Retry { error, .. } | Self::Failed(error) => Some(error.to_string()),
        };
        AttemptEntry {
            at_ms: started_ms,
            error,
        }
    }

    /// (tag, retry-at, error, escalation JSON or "") as the Lua script
    /// takes them.
    pub fn parts(self) -> (&'static str, i64, &'a str, String) {
        match self {
            Self::Escalated(escalation) => {
                let json = escalation
                    .and_then(|e| serde_json::to_string(e).ok())
                    .unwrap_or_default();
                ("escalated", 0, "", json)
            }
            Self::Retry { at_ms, error } => ("retry", at_ms, error, String::new()),
            Self::Failed(error) => ("failed", 0, error, String::new()),
        }
    }
}

/// The on-call state store.
#[derive(Clone)]
pub enum Store {
    /// Shared by every replica (boxed: it holds five scripts and a connection).
    Redis(Box<RedisStore>),
    /// This process only.
    Memory(MemoryStore),
}

impl Store {
    /// Writes a new incident and its deadline, or joins the open incident
    /// with the same dedup key.
    pub async fn create(&self, new: &NewIncident) -> Result<Created, StoreError> {
        match self {
            Self::Redis(s) => counted("create", s.create(new).await),
            Self::Memory(s) => s.create(new),
        }
    }

    /// Where notification copies are tracked: beside the incidents.
    pub fn ledger(&self) -> crate::incident::ledger::Ledger {
        match self {
            Self::Redis(s) => s.ledger(),
            Self::Memory(_) => crate::incident::ledger::Ledger::default(),
        }
    }

    /// Moves a pending incident to acknowledged, atomically against claims.
    pub async fn ack(&self, id: &str, now_ms: i64) -> Result<Acked, StoreError> {
        match self {
            Self::Redis(s) => counted("ack", s.ack(id, now_ms).await),
            Self::Memory(s) => s.ack(id, now_ms),
        }
    }

    /// Claims up to `limit` incidents due at `now_ms`, leasing them until
    /// `lease_until_ms`.
    pub async fn claim_due(
        &self,
        now_ms: i64,
        lease_until_ms: i64,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        match self {
            Self::Redis(s) => counted(
                "claim_due",
                s.claim_due(now_ms, lease_until_ms, limit).await,
            ),
            Self::Memory(s) => s.claim_due(now_ms, lease_until_ms, limit),
        }
    }

    /// The earliest due time, if anything is due at all.
    pub async fn next_due_ms(&self) -> Result<Option<i64>, StoreError> {
        match self {
            Self::Redis(s) => counted("next_due_ms", s.next_due_ms().await),
            Self::Memory(s) => s.next_due_ms(),
        }
    }

    /// Records how an escalation attempt made at `started_ms` ended at
    /// `now_ms`: the state change and the attempt's entry in the log, in
    /// one step.
    pub async fn finish(
        &self,
        id: &str,
        outcome: Attempt<'_>,
        started_ms: i64,
        now_ms: i64,
    ) -> Result<(), StoreError> {
        match self {
            Self::Redis(s) => counted("finish", s.finish(id, outcome, started_ms, now_ms).await),
            Self::Memory(s) => s.finish(id, outcome, started_ms, now_ms),
        }
    }

    /// Handles a resolved notification for `dedup_key`.
    pub async fn resolve(
        &self,
        dedup_key: &str,
        now_ms: i64,
    ) -> Result<ResolvedOutcome, StoreError> {
        match self {
            Self::Redis(s) => counted("resolve", s.resolve(dedup_key, now_ms).await),
            Self::Memory(s) => s.resolve(dedup_key, now_ms),
        }
    }

    /// Remembers delivered messages so they can be updated later. Returns
    /// the incident's state when they were added (`None`: no such incident).
    pub async fn add_receipts(
        &self,
        id: &str,
        receipts: &[StoredReceipt],
    ) -> Result<Option<State>, StoreError> {
        match self {
            Self::Redis(s) => counted("add_receipts", s.add_receipts(id, receipts).await),
            Self::Memory(s) => s.add_receipts(id, receipts),
        }
    }

    /// Claims the showing of `change` on the delivered message `receipt`
    /// of incident `id`, atomically: `true` for exactly one caller per
    /// change and message, so a change racing the first delivery's
    /// receipts is shown once. A message never goes back from "resolved".
    pub async fn mark_shown(
        &self,
        id: &str,
        receipt: &StoredReceipt,
        change: StatusChange,
    ) -> Result<bool, StoreError> {
        let rank = shown_rank(change);
        match self {
            Self::Redis(s) => counted("mark_shown", s.mark_shown(id, receipt, rank).await),
            Self::Memory(s) => s.mark_shown(id, receipt, rank),
        }
    }

    /// Everything known about an incident.
    pub async fn get(&self, id: &str) -> Result<Option<IncidentView>, StoreError> {
        match self {
            Self::Redis(s) => counted("get", s.get(id).await),
            Self::Memory(s) => s.get(id),
        }
    }

    /// How many incidents are in the due-set: pending, being escalated or
    /// waiting for a retry. One `ZCARD` on Redis.
    pub async fn due_count(&self) -> Result<u64, StoreError> {
        match self {
            Self::Redis(s) => counted("due_count", s.due_count().await),
            Self::Memory(s) => s.due_count(),
        }
    }

    /// Whether the store answers (always true in memory).
    pub async fn ping(&self) -> Result<(), StoreError> {
        match self {
            Self::Redis(s) => counted("ping", s.ping().await),
            Self::Memory(_) => Ok(()),
        }
    }
}

/// The order in which a message shows changes: a message is first
/// acknowledged, escalated or marked as failed to page (only one of them:
/// the ACK and the claim exclude each other, and an escalation either
/// starts the plan or fails), then resolved.
fn shown_rank(change: StatusChange) -> u8 {
    match change {
        StatusChange::Acknowledged | StatusChange::Escalated | StatusChange::PagingFailed => 1,
        StatusChange::Resolved => 2,
    }
}

/// Counts a failed Redis operation in `versus_redis_errors_total`.
fn counted<T>(op: &'static str, result: Result<T, StoreError>) -> Result<T, StoreError> {
    if let Err(StoreError::Redis(_)) = &result {
        crate::metrics::get().redis_error(op);
    }
    result
}
