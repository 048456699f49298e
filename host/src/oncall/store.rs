//! `Store`: the on-call state behind one type, Redis or in-memory.

use super::memory_store::MemoryStore;
use super::record::{
    Acked, Actor, Asked, AttemptEntry, Created, IncidentView, NewIncident, ResolvedOutcome, State,
    StoredReceipt, Target, TargetState,
};
use super::redis_store::RedisStore;
use crate::pipeline::bindings::StatusChange;

/// A store failure. For a request this is a 503: nothing was sent.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Redis is unreachable or answered with an error.
    #[error("redis: {0}")]
    Redis(#[from] redis::RedisError),
    /// Redis has not answered since the gateway started: it is being
    /// connected in the background.
    #[error("Redis is not connected yet: {0}")]
    NotConnected(String),
    /// A write did not reach `redis.wait_replicas` replicas in time.
    #[error(
        "the write reached {reached} of the {replicas} Redis replicas asked for (redis.wait_replicas) in time"
    )]
    NotReplicated {
        /// Replicas that had it.
        reached: u32,
        /// Replicas asked for.
        replicas: u32,
    },
    /// The Redis settings are unusable.
    #[error("redis configuration: {0}")]
    Config(String),
    /// Stored data could not be read back.
    #[error("stored data: {0}")]
    Data(String),
}

impl StoreError {
    /// Whether Redis is simply not there (nobody listens, no answer, the
    /// connection dropped): worth waiting for. Anything else (TLS, auth, a
    /// bad URL) is a setting to fix.
    pub fn away(&self) -> bool {
        match self {
            Self::Redis(e) => {
                e.is_connection_refusal() || e.is_timeout() || e.is_connection_dropped()
            }
            Self::NotConnected(_) | Self::NotReplicated { .. } => true,
            Self::Config(_) | Self::Data(_) => false,
        }
    }
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

/// One escalation round of an incident: every target's status after it,
/// and the calls it made (each target that was due was called once).
#[derive(Debug, Clone, Copy)]
pub struct Round<'a> {
    /// Each target as it now stands.
    pub targets: &'a [Target],
    /// The calls made, in the order they were started.
    pub calls: &'a [AttemptEntry],
}

/// Where a round leaves the incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every target is done and at least one paged.
    Escalated,
    /// A target is still to be called at `at_ms`; `paged` when another
    /// already paged (the incident is escalated meanwhile).
    Paging {
        /// When the next target is due, Unix ms.
        at_ms: i64,
        /// Whether a target paged.
        paged: bool,
    },
    /// Every target failed for good: nobody was paged.
    Failed,
}

impl Outcome {
    /// The tag the Redis script takes.
    pub fn tag(self) -> &'static str {
        match self {
            Self::Escalated => "escalated",
            Self::Paging { paged: true, .. } => "paging",
            Self::Paging { paged: false, .. } => "retry",
            Self::Failed => "failed",
        }
    }

    /// Whether the incident counts as escalated after the round.
    pub fn paged(self) -> bool {
        matches!(self, Self::Escalated | Self::Paging { paged: true, .. })
    }
}

impl Round<'_> {
    /// Where the round leaves the incident.
    pub fn outcome(&self) -> Outcome {
        let paged = self.targets.iter().any(|t| t.state == TargetState::Paged);
        let next = self
            .targets
            .iter()
            .filter(|t| t.state == TargetState::Paging)
            .map(|t| t.retry_at_ms.unwrap_or(0))
            .min();
        match next {
            Some(at_ms) => Outcome::Paging { at_ms, paged },
            None if paged => Outcome::Escalated,
            None => Outcome::Failed,
        }
    }

    /// The last error of the round's calls, if any failed.
    pub fn last_error(&self) -> Option<&str> {
        self.calls.iter().rev().find_map(|c| c.error.as_deref())
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

    /// The outbound queues: shared in Redis, else in this process.
    pub fn outbox(&self) -> crate::outbox::Outbox {
        match self {
            Self::Redis(s) => s.outbox(),
            Self::Memory(_) => crate::outbox::Outbox::default(),
        }
    }

    /// Moves a pending incident to acknowledged, atomically against claims,
    /// remembering who did when known.
    pub async fn ack(
        &self,
        id: &str,
        now_ms: i64,
        by: Option<&Actor>,
    ) -> Result<Acked, StoreError> {
        match self {
            Self::Redis(s) => counted("ack", s.ack(id, now_ms, by).await),
            Self::Memory(s) => s.ack(id, now_ms, by),
        }
    }

    /// Makes a pending incident due at once ("Escalate now"), remembering
    /// who asked; the next claim takes it.
    pub async fn escalate_now(&self, id: &str, asked: &Asked) -> Result<Acked, StoreError> {
        match self {
            Self::Redis(s) => counted("escalate_now", s.escalate_now(id, asked).await),
            Self::Memory(s) => s.escalate_now(id, asked),
        }
    }

    /// True the first time `name` is offered within `keep_ms`, on every
    /// replica sharing the store: the replay guard of signed requests.
    pub async fn first_sighting(
        &self,
        name: &str,
        now_ms: i64,
        keep_ms: u64,
    ) -> Result<bool, StoreError> {
        match self {
            Self::Redis(s) => counted("first_sighting", s.first_sighting(name, keep_ms).await),
            Self::Memory(s) => s.first_sighting(name, now_ms, keep_ms),
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

    /// Records how an escalation round ended at `now_ms`: the state
    /// change, each target's status and the calls' entries in the log, in
    /// one step. Returns false when the incident was not being escalated
    /// (another replica's round, or it is gone): nothing was written.
    pub async fn finish(
        &self,
        id: &str,
        round: Round<'_>,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        match self {
            Self::Redis(s) => counted("finish", s.finish(id, round, now_ms).await),
            Self::Memory(s) => s.finish(id, round, now_ms),
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
        step: impl Into<Shown>,
    ) -> Result<bool, StoreError> {
        let rank = step.into().rank();
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

/// What a delivered message is updated to show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shown {
    /// A change of the incident's state.
    Change(StatusChange),
    /// The escalation's final word once every on-call target is done, when
    /// a target was still being paged as the incident escalated.
    Settled,
}

impl From<StatusChange> for Shown {
    fn from(change: StatusChange) -> Self {
        Self::Change(change)
    }
}

impl Shown {
    /// The change the channel is told of.
    pub fn change(self) -> StatusChange {
        match self {
            Self::Change(change) => change,
            Self::Settled => StatusChange::Escalated,
        }
    }

    /// The order in which a message shows them: first acknowledged,
    /// escalated or marked as failed to page (only one of them: the ACK
    /// and the claim exclude each other, and an escalation either pages or
    /// fails), then the escalation settled, then resolved. A message never
    /// goes back.
    fn rank(self) -> u8 {
        match self {
            Self::Change(
                StatusChange::Acknowledged | StatusChange::Escalated | StatusChange::PagingFailed,
            ) => 1,
            Self::Settled => 2,
            Self::Change(StatusChange::Resolved) => 3,
        }
    }
}

/// Counts a failed Redis operation in `versus_redis_errors_total`.
fn counted<T>(op: &'static str, result: Result<T, StoreError>) -> Result<T, StoreError> {
    if let Err(StoreError::Redis(_)) = &result {
        crate::metrics::get().redis_error(op);
    }
    result
}
