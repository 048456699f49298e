//! The in-memory store: one process, nothing survives a restart. For demos
//! and development when no Redis is configured. Same semantics as Redis.

use std::collections::{BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use super::record::{
    Acked, Actor, Asked, Created, IncidentView, NewIncident, ResolvedOutcome, State, StoredReceipt,
};
use super::{Outcome, Retention, Round, StoreError};

struct Inner {
    incidents: HashMap<String, IncidentView>,
    /// (due ms, id), ordered by due time.
    due: BTreeSet<(i64, String)>,
    due_of: HashMap<String, i64>,
    dedup: HashMap<String, String>,
    /// Incident id → receipt key → the rank of the change it shows.
    shown: HashMap<String, HashMap<String, u8>>,
    /// (expiry ms, id) of finished incidents, soonest first.
    expiry: BTreeSet<(i64, String)>,
    expiry_of: HashMap<String, i64>,
    retention: Retention,
    /// Names seen by [`MemoryStore::first_sighting`], with when each is
    /// forgotten (Unix ms).
    seen: HashMap<String, i64>,
}

impl Inner {
    fn new(retention: Retention) -> Self {
        Self {
            incidents: HashMap::new(),
            due: BTreeSet::new(),
            due_of: HashMap::new(),
            dedup: HashMap::new(),
            shown: HashMap::new(),
            expiry: BTreeSet::new(),
            expiry_of: HashMap::new(),
            seen: HashMap::new(),
            retention,
        }
    }

    /// Forgets incident `id` `after_ms` from `now_ms` (and its dedup key,
    /// if it still names it); a later call moves the time.
    fn expire(&mut self, id: &str, now_ms: i64, after_ms: i64) {
        if let Some(old) = self.expiry_of.remove(id) {
            self.expiry.remove(&(old, id.to_string()));
        }
        let at = now_ms.saturating_add(after_ms);
        self.expiry.insert((at, id.to_string()));
        self.expiry_of.insert(id.to_string(), at);
    }

    /// Drops every incident whose retention has run out by `now_ms`.
    fn sweep(&mut self, now_ms: i64) {
        while let Some((at, id)) = self.expiry.first().cloned() {
            if at > now_ms {
                return;
            }
            self.expiry.remove(&(at, id.clone()));
            self.expiry_of.remove(&id);
            self.shown.remove(&id);
            self.remove_due(&id);
            if let Some(inc) = self.incidents.remove(&id)
                && let Some(key) = inc.record.dedup_key
                && self.dedup.get(&key) == Some(&id)
            {
                self.dedup.remove(&key);
            }
        }
    }

    fn set_due(&mut self, id: &str, at: i64) {
        self.remove_due(id);
        self.due.insert((at, id.to_string()));
        self.due_of.insert(id.to_string(), at);
    }

    fn remove_due(&mut self, id: &str) {
        if let Some(old) = self.due_of.remove(id) {
            self.due.remove(&(old, id.to_string()));
        }
    }
}

/// An in-process store. Cheap to clone.
#[derive(Clone)]
pub struct MemoryStore {
    inner: Arc<Mutex<Inner>>,
}

impl Default for MemoryStore {
    fn default() -> Self {
        Self::new(Retention::default())
    }
}

impl MemoryStore {
    /// An empty store that forgets finished incidents after `retention`.
    pub fn new(retention: Retention) -> Self {
        Self {
            inner: Arc::new(Mutex::new(Inner::new(retention))),
        }
    }

    /// How many incidents it holds, finished or not (for tests).
    pub fn len(&self) -> usize {
        self.lock().map_or(0, |s| s.incidents.len())
    }

    /// Whether it holds no incident.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> Result<MutexGuard<'_, Inner>, StoreError> {
        self.inner
            .lock()
            .map_err(|_| StoreError::Data("in-memory store poisoned".into()))
    }

    /// See [`super::Store::create`].
    pub fn create(&self, new: &NewIncident) -> Result<Created, StoreError> {
        let mut s = self.lock()?;
        s.sweep(new.created_ms);
        if let Some(key) = &new.dedup_key
            && let Some(open) = s.dedup.get(key).cloned()
            && let Some(existing) = s.incidents.get_mut(&open)
            && existing.absorbs_repeat(new.created_ms, new.ack_expiry_ms)
        {
            existing.repeats += 1;
            let joined = Created::Joined {
                id: open.clone(),
                state: existing.state,
                ack_exp: existing.record.ack_exp,
            };
            // An escalated incident still firing lives on.
            if existing.state == State::Escalated {
                let keep = s.retention.finished_ms;
                s.expire(&open, new.created_ms, keep);
            }
            return Ok(joined);
        }
        s.incidents
            .insert(new.id.clone(), IncidentView::pending(new.clone()));
        s.set_due(&new.id, new.deadline_ms);
        if let Some(key) = &new.dedup_key {
            s.dedup.insert(key.clone(), new.id.clone());
        }
        Ok(Created::New)
    }

    /// See [`super::Store::ack`].
    pub fn ack(&self, id: &str, now_ms: i64, by: Option<&Actor>) -> Result<Acked, StoreError> {
        let mut s = self.lock()?;
        let Some(inc) = s.incidents.get_mut(id) else {
            return Ok(Acked::Unknown);
        };
        if inc.state != State::Pending {
            return Ok(Acked::NotPending(inc.state));
        }
        inc.state = State::Acknowledged;
        inc.acked_ms = Some(now_ms);
        inc.acked_by = by.cloned();
        s.remove_due(id);
        let keep = s.retention.acknowledged_ms();
        s.expire(id, now_ms, keep);
        Ok(Acked::Done)
    }

    /// See [`super::Store::escalate_now`].
    pub fn escalate_now(&self, id: &str, asked: &Asked) -> Result<Acked, StoreError> {
        let mut s = self.lock()?;
        let Some(inc) = s.incidents.get_mut(id) else {
            return Ok(Acked::Unknown);
        };
        if inc.state != State::Pending {
            return Ok(Acked::NotPending(inc.state));
        }
        inc.escalate_now = Some(asked.clone());
        s.set_due(id, asked.at_ms);
        Ok(Acked::Done)
    }

    /// See [`super::Store::first_sighting`].
    pub fn first_sighting(
        &self,
        name: &str,
        now_ms: i64,
        keep_ms: u64,
    ) -> Result<bool, StoreError> {
        let mut s = self.lock()?;
        s.seen.retain(|_, until| *until > now_ms);
        if s.seen.contains_key(name) {
            return Ok(false);
        }
        let until = now_ms.saturating_add(i64::try_from(keep_ms).unwrap_or(i64::MAX));
        s.seen.insert(name.to_string(), until);
        Ok(true)
    }

    /// See [`super::Store::claim_due`].
    pub fn claim_due(
        &self,
        now_ms: i64,
        lease_until_ms: i64,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        let mut s = self.lock()?;
        let due: Vec<String> = s
            .due
            .iter()
            .take_while(|(at, _)| *at <= now_ms)
            .take(limit)
            .map(|(_, id)| id.clone())
            .collect();
        let mut claimed = Vec::new();
        for id in due {
            let claimable = s.incidents.get(&id).is_some_and(|i| {
                matches!(i.state, State::Pending | State::Escalating) || i.still_paging()
            });
            if claimable {
                if let Some(i) = s.incidents.get_mut(&id)
                    && i.state == State::Pending
                {
                    i.state = State::Escalating;
                }
                s.set_due(&id, lease_until_ms);
                claimed.push(id);
            } else {
                s.remove_due(&id);
            }
        }
        Ok(claimed)
    }

    /// See [`super::Store::due_count`].
    pub fn due_count(&self) -> Result<u64, StoreError> {
        Ok(self.lock()?.due.len() as u64)
    }

    /// See [`super::Store::next_due_ms`].
    pub fn next_due_ms(&self) -> Result<Option<i64>, StoreError> {
        Ok(self.lock()?.due.first().map(|(at, _)| *at))
    }

    /// See [`super::Store::finish`].
    pub fn finish(&self, id: &str, round: Round<'_>, now_ms: i64) -> Result<bool, StoreError> {
        let mut s = self.lock()?;
        let Some(inc) = s.incidents.get_mut(id) else {
            return Ok(false);
        };
        if !inc.escalating() {
            return Ok(false);
        }
        inc.attempts += round.calls.len() as u32;
        inc.attempt_log.extend_from_slice(round.calls);
        inc.targets = round.targets.to_vec();
        if let Some(e) = round.last_error() {
            inc.last_error = Some(e.to_string());
        }
        let outcome = round.outcome();
        if outcome.paged() && inc.state != State::Escalated {
            inc.state = State::Escalated;
            inc.escalated_ms = Some(now_ms);
        }
        match outcome {
            Outcome::Escalated => {
                s.remove_due(id);
                let keep = s.retention.finished_ms;
                s.expire(id, now_ms, keep);
            }
            Outcome::Failed => {
                inc.state = State::EscalationFailed;
                inc.failed_ms = Some(now_ms);
                s.remove_due(id);
                let keep = s.retention.finished_ms;
                s.expire(id, now_ms, keep);
            }
            Outcome::Paging { at_ms, .. } => s.set_due(id, at_ms),
        }
        Ok(true)
    }

    /// See [`super::Store::resolve`].
    pub fn resolve(&self, dedup_key: &str, now_ms: i64) -> Result<ResolvedOutcome, StoreError> {
        let mut s = self.lock()?;
        s.sweep(now_ms);
        let Some(id) = s.dedup.remove(dedup_key) else {
            return Ok(ResolvedOutcome::NoIncident);
        };
        let Some(inc) = s.incidents.get_mut(&id) else {
            return Ok(ResolvedOutcome::NoIncident);
        };
        inc.resolved_ms = Some(now_ms);
        let state = inc.state;
        if matches!(state, State::Pending | State::Acknowledged) {
            inc.state = State::Resolved;
        }
        // One being escalated gets its expiry when the attempt ends.
        if state != State::Escalating {
            let keep = s.retention.finished_ms;
            s.expire(&id, now_ms, keep);
        }
        if state == State::Pending {
            s.remove_due(&id);
            Ok(ResolvedOutcome::Cancelled(id))
        } else {
            Ok(ResolvedOutcome::Closed(id, state))
        }
    }

    /// See [`super::Store::add_receipts`].
    pub fn add_receipts(
        &self,
        id: &str,
        receipts: &[StoredReceipt],
    ) -> Result<Option<State>, StoreError> {
        Ok(self.lock()?.incidents.get_mut(id).map(|inc| {
            inc.receipts.extend_from_slice(receipts);
            inc.state
        }))
    }

    /// See [`super::Store::mark_shown`].
    pub fn mark_shown(
        &self,
        id: &str,
        receipt: &StoredReceipt,
        rank: u8,
    ) -> Result<bool, StoreError> {
        let mut s = self.lock()?;
        if !s.incidents.contains_key(id) {
            return Ok(false);
        }
        let shown = s
            .shown
            .entry(id.to_string())
            .or_default()
            .entry(receipt.key())
            .or_insert(0);
        if *shown >= rank {
            return Ok(false);
        }
        *shown = rank;
        Ok(true)
    }

    /// See [`super::Store::get`].
    pub fn get(&self, id: &str) -> Result<Option<IncidentView>, StoreError> {
        Ok(self.lock()?.incidents.get(id).cloned())
    }
}
