//! The Redis store: every replica shares it, every transition is one Lua
//! script, so replicas never race each other.

use std::time::Duration;

use redis::{AsyncCommands, Script};

use super::StoreError;
use super::record::{Created, NewIncident, ResolvedOutcome, State, StoredReceipt};
use super::redis_con::{Con, Server};
use super::redis_link::RedisLink;
use super::scripts;
use super::shard::Keys;

mod asked;
mod view;

/// A Redis-backed store. Cheap to clone.
#[derive(Clone)]
pub struct RedisStore {
    server: Server,
    link: RedisLink,
    prefix: String,
    keys: Keys,
    create: Script,
    ack: Script,
    escalate_now: Script,
    claim: Script,
    finish: Script,
    resolve: Script,
    add_receipts: Script,
    show: Script,
    uncreate: Script,
    retention: super::Retention,
    /// Replicas a new incident and an ACK must reach, and how long to wait
    /// for them (`redis.wait_replicas`, `redis.wait_timeout`).
    durability: Option<(u32, Duration)>,
}

impl RedisStore {
    /// A store on one server at `url` (`redis://` or `rediss://`); see
    /// [`Self::on`].
    pub fn open(url: &str, prefix: &str, place: &str) -> Result<Self, StoreError> {
        let server = Server::single(url, None).map_err(|e| StoreError::Config(e.to_string()))?;
        Ok(Self::on(server, prefix, place))
    }

    /// A store on `server` whose keys get `prefix`, not connected yet
    /// ([`Self::dial`], then [`RedisLink::publish`]); `place` names it in
    /// the log. Keys are sharded on a cluster only.
    pub fn on(server: Server, prefix: &str, place: &str) -> Self {
        let sharded = matches!(server, Server::Cluster(_));
        Self {
            server,
            link: RedisLink::new(place),
            prefix: prefix.to_string(),
            keys: Keys::new(prefix, sharded),
            create: Script::new(&format!("{}{}", scripts::RETIRE, scripts::CREATE)),
            ack: Script::new(&format!("{}{}", scripts::RETIRE, scripts::ACK)),
            escalate_now: Script::new(scripts::ESCALATE_NOW),
            claim: Script::new(scripts::CLAIM),
            finish: Script::new(&format!("{}{}", scripts::RETIRE, scripts::FINISH)),
            resolve: Script::new(scripts::RESOLVE),
            add_receipts: Script::new(scripts::ADD_RECEIPTS),
            show: Script::new(scripts::SHOW),
            uncreate: Script::new(scripts::UNCREATE),
            retention: super::Retention::default(),
            durability: None,
        }
    }

    /// The same store with its keys in the sharded layout a cluster needs,
    /// on any server (the claim bench compares the layouts on one Redis).
    pub fn sharded(mut self) -> Self {
        self.keys = Keys::new(&self.prefix, true);
        self
    }

    /// Opens and connects at once (tests, benches): fails when Redis does
    /// not answer.
    pub async fn connect(url: &str, prefix: &str) -> Result<Self, StoreError> {
        let store = Self::open(url, prefix, url)?;
        let con = store.dial().await?;
        store.link.publish(con, None);
        Ok(store)
    }

    /// One attempt to connect. Once published, the connection reconnects
    /// by itself.
    pub async fn dial(&self) -> Result<Con, StoreError> {
        Ok(self.server.dial().await?)
    }

    /// The same store, making each new incident and each ACK wait until
    /// `replicas` replicas have it (at most `timeout`); 0 does not wait.
    pub fn with_durability(mut self, replicas: u32, timeout: Duration) -> Self {
        self.durability = (replicas > 0).then_some((replicas, timeout));
        self
    }

    /// Whether writes wait for replicas (they then need a connection of
    /// their own, see [`RedisLink::durable`]).
    pub fn waits(&self) -> bool {
        self.durability.is_some()
    }

    /// `WAIT`s on `con`, after a write on it to `key`, for the replicas
    /// asked for.
    async fn replicated(&self, con: &mut Con, key: &str) -> Result<(), StoreError> {
        let Some((replicas, timeout)) = self.durability else {
            return Ok(());
        };
        let reached = con.wait_for_replicas(key, replicas, timeout).await?;
        if reached < replicas {
            return Err(StoreError::NotReplicated { reached, replicas });
        }
        Ok(())
    }

    /// The connection, there or not yet.
    pub fn link(&self) -> &RedisLink {
        &self.link
    }

    /// The same store, keeping finished incidents as `retention` says.
    pub fn with_retention(mut self, retention: super::Retention) -> Self {
        self.retention = retention;
        self
    }

    /// The ledger of notification copies, on this store's connection and
    /// key prefix, so every replica shares it.
    pub fn ledger(&self) -> crate::incident::ledger::Ledger {
        crate::incident::ledger::Ledger::redis(self.link.clone(), &self.prefix)
    }

    /// The outbound queues, in Redis beside the incidents, written with
    /// the same durability.
    pub fn outbox(&self) -> crate::outbox::Outbox {
        crate::outbox::Outbox::redis(self.link.clone(), &self.prefix, self.durability)
    }

    fn inc(&self, id: &str) -> String {
        Keys::inc(&self.keys.base_of_id(id), id)
    }

    fn due_of(&self, id: &str) -> String {
        Keys::due(&self.keys.base_of_id(id))
    }

    /// Round trip to Redis, for readiness; a change of answer is logged.
    pub async fn ping(&self) -> Result<(), StoreError> {
        let mut con = self.link.get()?;
        let result = redis::cmd("PING")
            .query_async::<String>(&mut con)
            .await
            .map(drop);
        match &result {
            Ok(()) => self.link.observe(Ok(())),
            Err(e) => self.link.observe(Err(&e.to_string())),
        }
        Ok(result?)
    }

    /// See [`super::Store::due_count`]: one `ZCARD` per shard.
    pub async fn due_count(&self) -> Result<u64, StoreError> {
        let mut con = self.link.get()?;
        let mut total = 0;
        for base in self.keys.bases() {
            let n: u64 = con.zcard(Keys::due(base)).await?;
            total += n;
        }
        Ok(total)
    }

    /// Gets the shared ACK secret through `con`, creating it (first writer
    /// wins) if absent.
    pub async fn ack_secret(&self, mut con: Con, fresh: &str) -> Result<String, StoreError> {
        let key = self.keys.plain("ack_secret");
        let _: bool = con.set_nx(&key, fresh).await?;
        Ok(con.get(&key).await?)
    }

    /// See [`super::Store::create`].
    pub async fn create(&self, new: &NewIncident) -> Result<Created, StoreError> {
        let mut con = self.link.durable()?;
        let dedup_key = new.dedup_key.as_deref();
        if !self.keys.fits(&new.id, dedup_key) {
            return Err(StoreError::Data(format!(
                "incident id {} is not in its dedup key's shard (see oncall::shard::fit)",
                new.id
            )));
        }
        let record = serde_json::to_string(new).map_err(|e| StoreError::Data(e.to_string()))?;
        let base = self.keys.base_of_id(&new.id);
        let mut keys = vec![Keys::inc(&base, &new.id), Keys::due(&base)];
        keys.extend(dedup_key.map(|k| Keys::dedup(&base, k)));
        let mut call = self.create.prepare_invoke();
        for key in &keys {
            call.key(key);
        }
        let reply: Vec<String> = call
            .arg(&new.id)
            .arg(record)
            .arg(new.deadline_ms)
            .arg(new.created_ms)
            .arg(&base)
            .arg(new.ack_exp)
            .arg(new.ack_expiry_ms)
            .arg(self.retention.finished_ms)
            .invoke_async(&mut con)
            .await?;
        match reply.as_slice() {
            [tag] if tag == "new" => {
                if let Err(e) = self.replicated(&mut con, &keys[0]).await {
                    // Not answered 201 and nothing sent: it must not page.
                    let mut undo = self.uncreate.prepare_invoke();
                    for key in &keys {
                        undo.key(key);
                    }
                    let _: i64 = undo.arg(&new.id).invoke_async(&mut con).await?;
                    return Err(e);
                }
                Ok(Created::New)
            }
            [tag, id, state, exp] if tag == "joined" => Ok(Created::Joined {
                id: id.clone(),
                state: parse_state(state)?,
                ack_exp: exp.parse().unwrap_or(0),
            }),
            other => Err(StoreError::Data(format!(
                "unexpected reply to create: {other:?}"
            ))),
        }
    }

    /// See [`super::Store::claim_due`].
    pub async fn claim_due(
        &self,
        now_ms: i64,
        lease_until_ms: i64,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        // Claims wait for replicas like creates, so a failover right after
        // one does not hand the incident, pending again, to another
        // replica while this one pages.
        let con = self.link.durable()?;
        let bases = self.keys.bases();
        // All shards at once, each up to its share of `limit`: a shard
        // whose node is away (a cluster failing over) must not hold up the
        // others' pages. What a full shard leaves is claimed next round,
        // which the scheduler starts at once while anything is due.
        let share = limit.div_ceil(bases.len()).max(1);
        let rounds = bases.iter().map(|base| {
            let mut con = con.clone();
            async move {
                let due = Keys::due(base);
                let ids: Vec<String> = self
                    .claim
                    .key(&due)
                    .arg(now_ms)
                    .arg(lease_until_ms)
                    .arg(share)
                    .arg(base)
                    .invoke_async(&mut con)
                    .await?;
                // Short of replicas or not, the claim stands here: page
                // now rather than late (the providers drop a repeat of the
                // same idempotency key).
                if !ids.is_empty()
                    && let Err(e) = self.replicated(&mut con, &due).await
                {
                    tracing::warn!(error = %e, "claimed incidents may not survive a failover; paging anyway");
                }
                Ok::<_, StoreError>(ids)
            }
        });
        let mut claimed = Vec::new();
        let mut failed = None;
        for result in futures::future::join_all(rounds).await {
            match result {
                Ok(ids) => claimed.extend(ids),
                Err(e) => failed = Some(e),
            }
        }
        match failed {
            Some(e) if claimed.is_empty() => Err(e),
            _ => Ok(claimed),
        }
    }

    /// See [`super::Store::next_due_ms`]: the earliest over the shards that
    /// answer, asked all at once.
    pub async fn next_due_ms(&self) -> Result<Option<i64>, StoreError> {
        let con = self.link.get()?;
        let firsts = self.keys.bases().iter().map(|base| {
            let mut con = con.clone();
            async move {
                con.zrange_withscores::<_, Vec<(String, f64)>>(Keys::due(base), 0, 0)
                    .await
            }
        });
        let mut next: Option<i64> = None;
        let mut failed = None;
        for first in futures::future::join_all(firsts).await {
            match first {
                Ok(first) => {
                    if let Some((_, score)) = first.first() {
                        let at = *score as i64;
                        next = Some(next.map_or(at, |n| n.min(at)));
                    }
                }
                Err(e) => failed = Some(e),
            }
        }
        match failed {
            Some(e) if next.is_none() => Err(e.into()),
            _ => Ok(next),
        }
    }

    /// See [`super::Store::finish`].
    pub async fn finish(
        &self,
        id: &str,
        round: super::Round<'_>,
        now_ms: i64,
    ) -> Result<bool, StoreError> {
        let mut con = self.link.get()?;
        let outcome = round.outcome();
        let retry_at = match outcome {
            super::Outcome::Paging { at_ms, .. } => at_ms,
            _ => 0,
        };
        let data = |e: serde_json::Error| StoreError::Data(e.to_string());
        let mut call = self.finish.prepare_invoke();
        call.key(self.inc(id))
            .key(self.due_of(id))
            .arg(id)
            .arg(outcome.tag())
            .arg(now_ms)
            .arg(retry_at)
            .arg(round.last_error().unwrap_or(""))
            .arg(self.retention.finished_ms)
            .arg(serde_json::to_string(round.targets).map_err(data)?);
        for entry in round.calls {
            call.arg(serde_json::to_string(entry).map_err(data)?);
        }
        let written: i64 = call.invoke_async(&mut con).await?;
        Ok(written == 1)
    }

    /// See [`super::Store::resolve`].
    pub async fn resolve(
        &self,
        dedup_key: &str,
        now_ms: i64,
    ) -> Result<ResolvedOutcome, StoreError> {
        let mut con = self.link.get()?;
        let base = self.keys.base_of_key(dedup_key);
        let reply: Vec<String> = self
            .resolve
            .key(Keys::dedup(&base, dedup_key))
            .key(Keys::due(&base))
            .arg(&base)
            .arg(now_ms)
            .arg(self.retention.finished_ms)
            .invoke_async(&mut con)
            .await?;
        match reply.as_slice() {
            [tag] if tag == "none" => Ok(ResolvedOutcome::NoIncident),
            [tag, id] if tag == "cancelled" => Ok(ResolvedOutcome::Cancelled(id.clone())),
            [tag, id, state] if tag == "closed" => {
                Ok(ResolvedOutcome::Closed(id.clone(), parse_state(state)?))
            }
            other => Err(StoreError::Data(format!(
                "unexpected reply to resolve: {other:?}"
            ))),
        }
    }

    /// See [`super::Store::add_receipts`].
    pub async fn add_receipts(
        &self,
        id: &str,
        receipts: &[StoredReceipt],
    ) -> Result<Option<State>, StoreError> {
        if receipts.is_empty() {
            return Ok(None);
        }
        let mut con = self.link.get()?;
        let json = serde_json::to_string(receipts).map_err(|e| StoreError::Data(e.to_string()))?;
        let state: String = self
            .add_receipts
            .key(self.inc(id))
            .arg(json)
            .invoke_async(&mut con)
            .await?;
        Ok(State::parse(&state))
    }

    /// See [`super::Store::mark_shown`].
    pub async fn mark_shown(
        &self,
        id: &str,
        receipt: &StoredReceipt,
        rank: u8,
    ) -> Result<bool, StoreError> {
        let mut con = self.link.get()?;
        let won: i64 = self
            .show
            .key(self.inc(id))
            .arg(format!("shown:{}", receipt.key()))
            .arg(rank)
            .invoke_async(&mut con)
            .await?;
        Ok(won == 1)
    }
}

fn parse_state(s: &str) -> Result<State, StoreError> {
    State::parse(s).ok_or_else(|| StoreError::Data(format!("unknown incident state `{s}`")))
}
