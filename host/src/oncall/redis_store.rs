//! The Redis store: every replica shares it, every transition is one Lua
//! script, so replicas never race each other.

use std::collections::HashMap;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{AsyncCommands, Script};

use super::StoreError;
use super::record::{
    Acked, AttemptEntry, Created, IncidentView, NewIncident, ResolvedOutcome, State, StoredReceipt,
};
use super::redis_link::RedisLink;
use super::scripts;

/// A Redis-backed store. Cheap to clone.
#[derive(Clone)]
pub struct RedisStore {
    client: redis::Client,
    link: RedisLink,
    prefix: String,
    create: Script,
    ack: Script,
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
    /// A store at `url` (`redis://` or `rediss://`) whose keys get
    /// `prefix`, not connected yet ([`Self::dial`], then
    /// [`RedisLink::publish`]); `place` names it in the log. Fails only for
    /// a URL that cannot be used.
    pub fn open(url: &str, prefix: &str, place: &str) -> Result<Self, StoreError> {
        // A rediss:// URL builds its TLS config from the process default
        // provider, which rustls cannot choose when two are linked. Ignored
        // if one is already installed.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = redis::Client::open(url).map_err(|e| StoreError::Config(e.to_string()))?;
        Ok(Self {
            client,
            link: RedisLink::new(place),
            prefix: prefix.to_string(),
            create: Script::new(&format!("{}{}", scripts::RETIRE, scripts::CREATE)),
            ack: Script::new(&format!("{}{}", scripts::RETIRE, scripts::ACK)),
            claim: Script::new(scripts::CLAIM),
            finish: Script::new(&format!("{}{}", scripts::RETIRE, scripts::FINISH)),
            resolve: Script::new(scripts::RESOLVE),
            add_receipts: Script::new(scripts::ADD_RECEIPTS),
            show: Script::new(scripts::SHOW),
            uncreate: Script::new(scripts::UNCREATE),
            retention: super::Retention::default(),
            durability: None,
        })
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
    pub async fn dial(&self) -> Result<ConnectionManager, StoreError> {
        // Short timeouts: a request waiting on Redis is an alert not yet
        // sent, and the sender retries on our 503.
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_secs(2)))
            .set_response_timeout(Some(Duration::from_secs(2)))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(500));
        Ok(ConnectionManager::new_with_config(self.client.clone(), config).await?)
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

    /// `WAIT`s on `con`, after a write on it, for the replicas asked for.
    async fn replicated(&self, con: &mut ConnectionManager) -> Result<(), StoreError> {
        let Some((replicas, timeout)) = self.durability else {
            return Ok(());
        };
        let reached: u32 = redis::cmd("WAIT")
            .arg(replicas)
            .arg(timeout.as_millis() as u64)
            .query_async(con)
            .await?;
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

    fn inc(&self, id: &str) -> String {
        format!("{}inc:{id}", self.prefix)
    }

    fn due(&self) -> String {
        format!("{}due", self.prefix)
    }

    fn dedup(&self, key: &str) -> String {
        format!("{}dedup:{key}", self.prefix)
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

    /// See [`super::Store::due_count`].
    pub async fn due_count(&self) -> Result<u64, StoreError> {
        let mut con = self.link.get()?;
        Ok(con.zcard(self.due()).await?)
    }

    /// Gets the shared ACK secret through `con`, creating it (first writer
    /// wins) if absent.
    pub async fn ack_secret(
        &self,
        mut con: ConnectionManager,
        fresh: &str,
    ) -> Result<String, StoreError> {
        let key = format!("{}ack_secret", self.prefix);
        let _: bool = con.set_nx(&key, fresh).await?;
        Ok(con.get(&key).await?)
    }

    /// See [`super::Store::create`].
    pub async fn create(&self, new: &NewIncident) -> Result<Created, StoreError> {
        let mut con = self.link.durable()?;
        let record = serde_json::to_string(new).map_err(|e| StoreError::Data(e.to_string()))?;
        let dedup = new
            .dedup_key
            .as_deref()
            .map(|k| self.dedup(k))
            .unwrap_or_default();
        let reply: Vec<String> = self
            .create
            .key(self.inc(&new.id))
            .key(self.due())
            .key(&dedup)
            .arg(&new.id)
            .arg(record)
            .arg(new.deadline_ms)
            .arg(new.created_ms)
            .arg(&self.prefix)
            .arg(new.ack_exp)
            .arg(new.ack_expiry_ms)
            .arg(self.retention.finished_ms)
            .invoke_async(&mut con)
            .await?;
        match reply.as_slice() {
            [tag] if tag == "new" => {
                if let Err(e) = self.replicated(&mut con).await {
                    // Not answered 201 and nothing sent: it must not page.
                    let _: i64 = self
                        .uncreate
                        .key(self.inc(&new.id))
                        .key(self.due())
                        .key(&dedup)
                        .arg(&new.id)
                        .invoke_async(&mut con)
                        .await?;
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

    /// See [`super::Store::ack`].
    pub async fn ack(&self, id: &str, now_ms: i64) -> Result<Acked, StoreError> {
        let mut con = self.link.durable()?;
        let reply: String = self
            .ack
            .key(self.inc(id))
            .key(self.due())
            .arg(id)
            .arg(now_ms)
            .arg(self.retention.acknowledged_ms())
            .invoke_async(&mut con)
            .await?;
        Ok(match reply.as_str() {
            "done" => {
                // The ACK stands on this node either way; a 503 tells the
                // person it may not survive a failover (a retry answers
                // "already acknowledged").
                self.replicated(&mut con).await?;
                Acked::Done
            }
            "unknown" => Acked::Unknown,
            other => Acked::NotPending(parse_state(other)?),
        })
    }

    /// See [`super::Store::claim_due`].
    pub async fn claim_due(
        &self,
        now_ms: i64,
        lease_until_ms: i64,
        limit: usize,
    ) -> Result<Vec<String>, StoreError> {
        let mut con = self.link.get()?;
        Ok(self
            .claim
            .key(self.due())
            .arg(now_ms)
            .arg(lease_until_ms)
            .arg(limit)
            .arg(&self.prefix)
            .invoke_async(&mut con)
            .await?)
    }

    /// See [`super::Store::next_due_ms`].
    pub async fn next_due_ms(&self) -> Result<Option<i64>, StoreError> {
        let mut con = self.link.get()?;
        let first: Vec<(String, f64)> = con.zrange_withscores(self.due(), 0, 0).await?;
        Ok(first.first().map(|(_, score)| *score as i64))
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
            .key(self.due())
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
        let reply: Vec<String> = self
            .resolve
            .key(self.dedup(dedup_key))
            .arg(&self.prefix)
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

    /// See [`super::Store::get`].
    pub async fn get(&self, id: &str) -> Result<Option<IncidentView>, StoreError> {
        let mut con = self.link.get()?;
        let h: HashMap<String, String> = con.hgetall(self.inc(id)).await?;
        if h.is_empty() {
            return Ok(None);
        }
        let record = h
            .get("record")
            .ok_or_else(|| StoreError::Data(format!("incident {id} has no record")))?;
        let int = |k: &str| h.get(k).and_then(|v| v.parse::<i64>().ok());
        Ok(Some(IncidentView {
            record: serde_json::from_str(record).map_err(|e| StoreError::Data(e.to_string()))?,
            state: parse_state(h.get("state").map_or("", String::as_str))?,
            acked_ms: int("acked_ms"),
            escalated_ms: int("escalated_ms"),
            resolved_ms: int("resolved_ms"),
            failed_ms: int("failed_ms"),
            attempts: int("attempts").unwrap_or(0) as u32,
            attempt_log: attempt_log(&h),
            last_error: h.get("last_error").cloned(),
            repeats: int("repeats").unwrap_or(0) as u32,
            receipts: h
                .get("receipts")
                .and_then(|r| serde_json::from_str(r).ok())
                .unwrap_or_default(),
            targets: h
                .get("targets")
                .and_then(|t| serde_json::from_str(t).ok())
                .unwrap_or_default(),
        }))
    }
}

/// The `attempt:{n}` fields of an incident hash, in attempt order.
/// Unreadable entries are skipped: the log is for display only.
fn attempt_log(h: &HashMap<String, String>) -> Vec<AttemptEntry> {
    let mut numbered: Vec<(u32, AttemptEntry)> = h
        .iter()
        .filter_map(|(field, json)| {
            let n = field.strip_prefix("attempt:")?.parse().ok()?;
            Some((n, serde_json::from_str(json).ok()?))
        })
        .collect();
    numbered.sort_by_key(|(n, _)| *n);
    numbered.into_iter().map(|(_, entry)| entry).collect()
}

fn parse_state(s: &str) -> Result<State, StoreError> {
    State::parse(s).ok_or_else(|| StoreError::Data(format!("unknown incident state `{s}`")))
}
