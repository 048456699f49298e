//! Reading an incident back from its hash, for `GET /api/incidents/{id}`
//! and the scheduler.

use std::collections::HashMap;

use redis::AsyncCommands;

use super::{RedisStore, parse_state};
use crate::oncall::StoreError;
use crate::oncall::record::{AttemptEntry, IncidentView};

impl RedisStore {
    /// See [`crate::oncall::Store::get`].
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
            acked_by: h.get("acked_by").and_then(|j| serde_json::from_str(j).ok()),
            escalate_now: h
                .get("escalate_now")
                .and_then(|j| serde_json::from_str(j).ok()),
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
