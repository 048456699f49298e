//! What people ask of an incident from a chat app: page it now, and the
//! replay guard their signed requests pass through.

use redis::AsyncCommands;

use super::{RedisStore, parse_state};
use crate::oncall::StoreError;
use crate::oncall::record::{Acked, Asked};

impl RedisStore {
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
        Ok(match reply.as_str() {
            "done" => {
                self.replicated(&mut con, &inc).await?;
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
pub(super) fn json(value: &impl serde::Serialize) -> Result<String, StoreError> {
    serde_json::to_string(value).map_err(|e| StoreError::Data(e.to_string()))
}
