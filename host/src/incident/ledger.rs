//! Which channels already have each notification. A sender that got no
//! success answer sends the same notification again; that copy must go
//! only to the channels that have not delivered it, and must never start a
//! second escalation. Two requests are copies of one notification when
//! their query strings and bodies are the same bytes, the second comes
//! within `alert.dedup_window` of the first, and the first was not
//! answered with success: once it was, the sender has no reason to retry,
//! and the same body again is a new notification (Alertmanager re-sends an
//! unchanged group every `repeat_interval`).
//!
//! Strategy: the first copy claims every channel before anything else
//! happens; a channel is then "in flight" (with a lease as long as one
//! delivery can take), "delivered", or free again after a failure. A copy
//! that finds the notification still being registered does nothing and
//! says so; one that finds it registered reuses its incident and delivers
//! on the free channels only. With Redis (on-call's store) every replica
//! sees the same ledger; without, it is this process's memory. If Redis is
//! away the ledger steps aside: the notification is delivered in full, a
//! possible duplicate rather than a lost alert.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use crate::oncall::redis_link::RedisLink;
use redis::Script;
use sha2::{Digest, Sha256};

/// Claims a notification and its channels. KEYS: the notification's hash.
/// ARGV: now ms, lease end ms, window ms, then the channel names. Replies
/// `{"first"}`, `{"busy"}`, or `{"retry", incident, oncall, ack, state
/// of each channel…}`. The hash holds `reg` (the registration lease end, ms,
/// until the first copy is registered), `incident`, `oncall` (`1`/`0`),
/// `ack` and one `ch:<name>` per channel: `d` (delivered) or the end of an
/// in-flight lease, ms.
const BEGIN: &str = r"
local now = tonumber(ARGV[1])
local reg = redis.call('HGET', KEYS[1], 'reg')
local incident = redis.call('HGET', KEYS[1], 'incident')
if not incident and (not reg or tonumber(reg) <= now) then
  redis.call('DEL', KEYS[1])
  redis.call('HSET', KEYS[1], 'reg', ARGV[2])
  for i = 4, #ARGV do redis.call('HSET', KEYS[1], 'ch:' .. ARGV[i], ARGV[2]) end
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return {'first'}
end
if not incident then return {'busy'} end
local out = {'retry', incident, redis.call('HGET', KEYS[1], 'oncall') or '0',
  redis.call('HGET', KEYS[1], 'ack') or ''}
for i = 4, #ARGV do
  local field = 'ch:' .. ARGV[i]
  local v = redis.call('HGET', KEYS[1], field)
  if v == 'd' then
    table.insert(out, 'delivered')
  elseif v and tonumber(v) > now then
    table.insert(out, 'in_flight')
  else
    redis.call('HSET', KEYS[1], field, ARGV[2])
    table.insert(out, 'go')
  end
end
return out
";

/// Records the first copy's incident, or channel outcomes, on a hash that
/// still exists (an expired one is not brought back without its TTL).
/// KEYS: the hash. ARGV: field/value pairs; an empty value deletes the
/// field.
const SET: &str = r"
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
for i = 1, #ARGV, 2 do
  if ARGV[i + 1] == '' then
    redis.call('HDEL', KEYS[1], ARGV[i])
  else
    redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1])
  end
end
return 1
";

/// A notification's identity: its query string, its body, and the alert's
/// place in the body.
pub fn fingerprint(query: &str, body: &[u8], index: usize) -> String {
    let mut hash = Sha256::new();
    hash.update(query.as_bytes());
    hash.update([0]);
    hash.update(body);
    format!("{}:{index}", hex::encode(hash.finalize()))
}

/// What an earlier copy of this notification did on one channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prior {
    /// Nothing yet, or it failed: deliver.
    Go,
    /// Delivered: skip.
    Delivered,
    /// Still being delivered by the earlier copy: skip, and say so.
    InFlight,
}

/// What the ledger says about one copy of a notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Copy {
    /// The first copy: every channel is now claimed for it.
    First,
    /// The first copy is still being registered; do nothing yet.
    Busy,
    /// A copy of a notification registered earlier.
    Retry(Earlier),
}

/// The registration of the first copy, and what each channel did since.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Earlier {
    /// The incident the first copy became.
    pub incident_id: String,
    /// Whether on-call took it (so its messages are updated later).
    pub oncall: bool,
    /// Its ACK link, while one was pending.
    pub ack_url: Option<String>,
    /// Per channel: deliver or skip.
    pub channels: HashMap<String, Prior>,
}

/// The ledger: Redis when on-call keeps its state there, else memory.
pub struct Ledger {
    backend: Backend,
}

enum Backend {
    Memory(Mutex<Memory>),
    Redis {
        /// Not connected while Redis has not answered since startup: the
        /// ledger then remembers nothing (every copy is a first one).
        link: RedisLink,
        prefix: String,
        begin: Script,
        set: Script,
    },
}

impl Default for Ledger {
    fn default() -> Self {
        Self {
            backend: Backend::Memory(Mutex::default()),
        }
    }
}

impl Ledger {
    /// A ledger every replica shares, in Redis under `prefix`.
    pub fn redis(link: RedisLink, prefix: &str) -> Self {
        Self {
            backend: Backend::Redis {
                link,
                prefix: prefix.to_string(),
                begin: Script::new(BEGIN),
                set: Script::new(SET),
            },
        }
    }

    /// Claims notification `fp` on `channels` for `lease`, remembering it
    /// for `window`. A Redis failure answers [`Copy::First`]: deliver it all.
    pub async fn begin(
        &self,
        fp: &str,
        channels: &[&str],
        lease: Duration,
        window: Duration,
    ) -> Copy {
        let now = crate::oncall::Clock::System.now_ms();
        let lease_end = now + lease.as_millis() as i64;
        match &self.backend {
            Backend::Memory(m) => lock(m).begin(fp, channels, now, lease_end, window),
            Backend::Redis {
                link,
                prefix,
                begin,
                ..
            } => {
                let Ok(mut con) = link.get() else {
                    return Copy::First;
                };
                let mut invocation = begin.key(format!("{prefix}sent:{fp}"));
                invocation
                    .arg(now)
                    .arg(lease_end)
                    .arg(window.as_millis() as u64);
                for c in channels {
                    invocation.arg(*c);
                }
                let reply: Result<Vec<String>, _> = invocation.invoke_async(&mut con).await;
                match reply {
                    Ok(reply) => parse_reply(&reply, channels),
                    Err(e) => {
                        crate::metrics::get().redis_error("sent_begin");
                        tracing::warn!(error = %e, "cannot check whether this notification was delivered before; delivering it on every channel");
                        Copy::First
                    }
                }
            }
        }
    }

    /// The first copy of `fp` became `incident_id`.
    pub async fn registered(
        &self,
        fp: &str,
        incident_id: &str,
        oncall: bool,
        ack_url: Option<&str>,
    ) {
        let ack = ack_url.unwrap_or_default();
        let fields = [
            ("incident", incident_id),
            ("oncall", if oncall { "1" } else { "0" }),
            ("ack", ack),
            ("reg", ""),
        ];
        self.set(fp, &fields, |e| {
            e.registration = Some(Earlier {
                incident_id: incident_id.to_string(),
                oncall,
                ack_url: ack_url.map(str::to_string),
                channels: HashMap::new(),
            });
        })
        .await;
    }

    /// Records what each channel did: delivered, or free for the next
    /// copy. Channels still in flight are left out until they end.
    pub async fn settled(&self, fp: &str, outcomes: &[(&str, bool)]) {
        if outcomes.is_empty() {
            return;
        }
        let fields: Vec<(String, &str)> = outcomes
            .iter()
            .map(|(c, ok)| (format!("ch:{c}"), if *ok { "d" } else { "" }))
            .collect();
        let pairs: Vec<(&str, &str)> = fields.iter().map(|(f, v)| (f.as_str(), *v)).collect();
        self.set(fp, &pairs, |e| {
            for (c, ok) in outcomes {
                if *ok {
                    e.channels.insert((*c).to_string(), Slot::Delivered);
                } else {
                    e.channels.remove(*c);
                }
            }
        })
        .await;
    }

    /// Forgets `fp`: it was answered with success, or refused before
    /// anything was sent (on-call's store was away), so the next copy is a
    /// first copy again.
    pub async fn forget(&self, fp: &str) {
        match &self.backend {
            Backend::Memory(m) => lock(m).forget(fp),
            Backend::Redis { link, prefix, .. } => {
                let Ok(mut con) = link.get() else { return };
                let result: Result<(), _> = redis::cmd("DEL")
                    .arg(format!("{prefix}sent:{fp}"))
                    .query_async(&mut con)
                    .await;
                if let Err(e) = result {
                    crate::metrics::get().redis_error("sent_forget");
                    tracing::warn!(error = %e, "cannot forget a notification that was not delivered; its next copy waits for the claim to lapse");
                }
            }
        }
    }

    async fn set(&self, fp: &str, fields: &[(&str, &str)], memory: impl FnOnce(&mut Entry)) {
        match &self.backend {
            Backend::Memory(m) => {
                if let Some(e) = lock(m).entries.get_mut(fp) {
                    memory(e);
                }
            }
            Backend::Redis {
                link, prefix, set, ..
            } => {
                let Ok(mut con) = link.get() else { return };
                let mut invocation = set.key(format!("{prefix}sent:{fp}"));
                for (f, v) in fields {
                    invocation.arg(*f).arg(*v);
                }
                let result: Result<i64, _> = invocation.invoke_async(&mut con).await;
                if let Err(e) = result {
                    crate::metrics::get().redis_error("sent_record");
                    tracing::warn!(error = %e, "cannot record what this notification's channels did; a retry of it may post again");
                }
            }
        }
    }
}

fn parse_reply(reply: &[String], channels: &[&str]) -> Copy {
    match reply {
        [tag] if tag == "first" => Copy::First,
        [tag] if tag == "busy" => Copy::Busy,
        [tag, incident, oncall, ack, states @ ..] if tag == "retry" => Copy::Retry(Earlier {
            incident_id: incident.clone(),
            oncall: oncall == "1",
            ack_url: (!ack.is_empty()).then(|| ack.clone()),
            channels: channels
                .iter()
                .zip(states)
                .map(|(c, s)| {
                    let prior = match s.as_str() {
                        "delivered" => Prior::Delivered,
                        "in_flight" => Prior::InFlight,
                        _ => Prior::Go,
                    };
                    ((*c).to_string(), prior)
                })
                .collect(),
        }),
        other => {
            tracing::warn!(reply = ?other, "unexpected ledger reply; delivering on every channel");
            Copy::First
        }
    }
}

/// One channel of a notification, in memory.
#[derive(Debug, Clone, Copy)]
enum Slot {
    Delivered,
    /// In flight until this time, ms.
    InFlight(i64),
}

#[derive(Debug)]
struct Entry {
    expires_ms: i64,
    /// Until the first copy is registered: its lease end, ms.
    registering_until: i64,
    registration: Option<Earlier>,
    channels: HashMap<String, Slot>,
}

#[derive(Default)]
struct Memory {
    entries: HashMap<String, Entry>,
    /// (expiry ms, fingerprint), oldest first, to drop expired entries.
    /// It can also name notifications already forgotten, but never more
    /// than [`Memory::forget`] allows.
    order: VecDeque<(i64, String)>,
}

/// Forgotten notifications the expiry queue may still name, beyond one per
/// remembered one, before [`Memory::forget`] clears them out.
const ORDER_SLACK: usize = 1024;

impl Memory {
    fn begin(
        &mut self,
        fp: &str,
        channels: &[&str],
        now: i64,
        lease_end: i64,
        window: Duration,
    ) -> Copy {
        self.sweep(now);
        let live = self.entries.get(fp).filter(|e| e.expires_ms > now);
        let lapsed = live.is_none_or(|e| e.registration.is_none() && e.registering_until <= now);
        if lapsed {
            let expires_ms = now + window.as_millis() as i64;
            let entry = Entry {
                expires_ms,
                registering_until: lease_end,
                registration: None,
                channels: channels
                    .iter()
                    .map(|c| ((*c).to_string(), Slot::InFlight(lease_end)))
                    .collect(),
            };
            self.entries.insert(fp.to_string(), entry);
            self.order.push_back((expires_ms, fp.to_string()));
            return Copy::First;
        }
        let Some(entry) = self.entries.get_mut(fp) else {
            return Copy::First;
        };
        let Some(registration) = &entry.registration else {
            return Copy::Busy;
        };
        let mut earlier = registration.clone();
        for c in channels {
            let prior = match entry.channels.get(*c) {
                Some(Slot::Delivered) => Prior::Delivered,
                Some(Slot::InFlight(until)) if *until > now => Prior::InFlight,
                _ => {
                    entry
                        .channels
                        .insert((*c).to_string(), Slot::InFlight(lease_end));
                    Prior::Go
                }
            };
            earlier.channels.insert((*c).to_string(), prior);
        }
        Copy::Retry(earlier)
    }

    /// Forgets `fp`. Most notifications are forgotten as soon as they are
    /// answered with success, long before their window ends, so the queue
    /// of expiries would otherwise hold every notification of the last
    /// `dedup_window` (some 100 bytes each: 600 MB after ten minutes at
    /// 10,000 alerts/s). Strategy: once the queue holds over twice as many
    /// names as there are entries (plus some slack), keep only the live
    /// ones; each clear-out costs no more than the forgets since the last.
    fn forget(&mut self, fp: &str) {
        self.entries.remove(fp);
        if self.order.len() > 2 * self.entries.len() + ORDER_SLACK {
            let entries = &self.entries;
            self.order
                .retain(|(at, fp)| entries.get(fp).is_some_and(|e| e.expires_ms == *at));
        }
    }

    fn sweep(&mut self, now: i64) {
        while let Some((at, _)) = self.order.front() {
            if *at > now {
                break;
            }
            if let Some((_, fp)) = self.order.pop_front()
                && self.entries.get(&fp).is_some_and(|e| e.expires_ms <= now)
            {
                self.entries.remove(&fp);
            }
        }
    }
}

fn lock(m: &Mutex<Memory>) -> std::sync::MutexGuard<'_, Memory> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests;
