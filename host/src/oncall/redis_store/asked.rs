//! What people ask of an incident: acknowledge it, page it now, and the
//! replay guard signed chat-app requests pass through.

use redis::AsyncCommands;

use super::{RedisStore, parse_state};
use crate::oncall::StoreError;
use crate::oncall::record::{Acked, Actor, Asked};
use crate::oncall::redis_con::Con;

impl RedisStore {
    /// See [`crate::oncall::Store::ack`].
    pub async fn ack(
        &self,
        id: &str,
        now_ms: i64,
        by: Option<&Actor>,
    ) -> Result<Acked, StoreError> {
        let mut con = self.link.durable()?;
        let inc = self.inc(id);
        let by = by.map(json).transpose()?.unwrap_or_default();
        let reply: String = self
            .ack
            .key(&inc)
            .key(self.due_of(id))
            .arg(id)
            .arg(now_ms)
            .arg(self.retention.acknowledged_ms())
            .arg(by)
            .invoke_async(&mut con)
            .await?;
        self.answered(&mut con, &inc, &reply).await
    }

    /// See [`crate::oncall::Store::escalate_now`].
    pub async fn escalate_now(&self, id: &str, asked: &Asked) -> Result<Acked, StoreError> {
        let mut con = self.link.durable()?;
        let inc = self.inc(id);
        let reply: String = self
            .escalate_now
            .key(&inc)
            .key(self.due_of(id))
            .arg(id)
            .arg(asked.at_ms)
            .arg(json(asked)?)
            .invoke_async(&mut con)
            .await?;
        self.answered(&mut con, &inc, &reply).await
    }

    /// What a request's script answered (`done`, `unknown` or the state
    /// the incident was in). A change made (`done`) waits for the replicas
    /// asked for: it stands on this node either way, and a 503 tells the
    /// person it may not survive a failover (a retry then answers that it
    /// was already made).
    async fn answered(&self, con: &mut Con, inc: &str, reply: &str) -> Result<Acked, StoreError> {
        Ok(match reply {
            "done" => {
                self.replicated(con, inc).await?;
                Acked::Done
            }
            "unknown" => Acked::Unknown,
            other => Acked::NotPending(parse_state(other)?),
        })
    }

    /// See [`crate::oncall::Store::first_sighting`]: one `SET NX PX`.
    pub async fn first_sighting(&self, name: &str, keep_ms: u64) -> Result<bool, StoreError> {
        let mut con = self.link.get()?;
        let key = self.keys.plain(&format!("seen:{name}"));
        let options = redis::SetOptions::default()
            .conditional_set(redis::ExistenceCheck::NX)
            .with_expiration(redis::SetExpiry::PX(keep_ms));
        let set: Option<String> = con.set_options(&key, 1, options).await?;
        Ok(set.is_some())
    }
}

/// `value` as JSON text for a hash field.
fn json(value: &impl serde::Serialize) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Data(e.to_string()))
}
