//! Where the outbound queues live: this process's memory, or Redis lists
//! every replica shares. Each queue is a list of serialized
//! [`super::Item`]s, oldest first; a set names the destinations that have
//! one; a lease per destination names the replica that drains it.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use redis::Script;

use super::{MAX_QUEUED, lock};
use crate::in_flight::Permit;
use crate::oncall::redis_link::RedisLink;

/// Appends an item unless the queue is full. KEYS: the list, the set of
/// destinations. ARGV: the item, the destination, the most items. Replies
/// the queue's new length, or -1 when it is full.
const PUSH: &str = r"
if redis.call('LLEN', KEYS[1]) >= tonumber(ARGV[3]) then return -1 end
local n = redis.call('RPUSH', KEYS[1], ARGV[1])
redis.call('SADD', KEYS[2], ARGV[2])
return n
";

/// Removes the head if it is the item given, and the destination from the
/// set once its queue is empty. KEYS: the list, the set. ARGV: the item,
/// the destination. Replies how many items are left.
const POP: &str = r"
if redis.call('LINDEX', KEYS[1], 0) == ARGV[1] then redis.call('LPOP', KEYS[1]) end
local n = redis.call('LLEN', KEYS[1])
if n == 0 then redis.call('SREM', KEYS[2], ARGV[2]) end
return n
";

/// Extends a lease its owner still holds. KEYS: the lease. ARGV: the
/// owner, the lease in ms. Replies 1 when held.
const RENEW: &str = r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
";

/// Ends a lease its owner still holds. KEYS: the lease. ARGV: the owner.
const RELEASE: &str = r"
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
return 1
";

/// One destination's queue in memory: each item with the shutdown gate it
/// holds until it is posted.
type MemoryQueue = VecDeque<(String, Option<Permit>)>;

/// The queues' home.
pub enum Store {
    /// In this process: lost if it stops, so each item holds the shutdown
    /// gate until it is posted.
    Memory(Mutex<HashMap<String, MemoryQueue>>),
    /// Redis lists.
    Redis(Box<RedisQueues>),
}

/// The queues in Redis. Every key has the same hash tag, so a script may
/// touch a queue and the set of destinations on a Redis Cluster too.
pub struct RedisQueues {
    link: RedisLink,
    base: String,
    durability: Option<(u32, Duration)>,
    push: Script,
    pop: Script,
    renew: Script,
    release: Script,
}

impl Store {
    pub fn memory() -> Self {
        Self::Memory(Mutex::default())
    }

    pub fn redis(link: RedisLink, prefix: &str, durability: Option<(u32, Duration)>) -> Self {
        Self::Redis(Box::new(RedisQueues {
            link,
            base: format!("{prefix}{{outbox}}:"),
            durability,
            push: Script::new(PUSH),
            pop: Script::new(POP),
            renew: Script::new(RENEW),
            release: Script::new(RELEASE),
        }))
    }

    /// Whether other replicas may share the queues (and a lease decides
    /// who drains each).
    pub fn shared(&self) -> bool {
        matches!(self, Self::Redis(_))
    }

    /// Appends `item` to `destination`'s queue; answers its new length.
    pub async fn push(
        &self,
        destination: &str,
        item: &str,
        permit: Option<Permit>,
    ) -> Result<usize, String> {
        let full = || format!("the queue for {destination} is full ({MAX_QUEUED} notifications)");
        match self {
            Self::Memory(m) => {
                let mut queues = lock(m);
                let queue = queues.entry(destination.to_string()).or_default();
                if queue.len() >= MAX_QUEUED {
                    return Err(full());
                }
                queue.push_back((item.to_string(), permit));
                Ok(queue.len())
            }
            Self::Redis(r) => {
                let list = r.list(destination);
                let mut con = r.link.durable().map_err(|e| e.to_string())?;
                let n: i64 = r
                    .push
                    .key(&list)
                    .key(r.destinations())
                    .arg(item)
                    .arg(destination)
                    .arg(MAX_QUEUED)
                    .invoke_async(&mut con)
                    .await
                    .map_err(|e| redis_failed("outbox_push", &e))?;
                if n < 0 {
                    return Err(full());
                }
                if let Some((replicas, timeout)) = r.durability {
                    let reached = con
                        .wait_for_replicas(&list, replicas, timeout)
                        .await
                        .map_err(|e| redis_failed("outbox_push", &e))?;
                    // The item is queued, and will be posted; only its
                    // durability is short, so this is not a refusal.
                    if reached < replicas {
                        tracing::warn!(
                            reached,
                            replicas,
                            "a queued notification reached fewer Redis replicas than redis.wait_replicas asks"
                        );
                    }
                }
                Ok(n as usize)
            }
        }
    }

    /// The oldest item of `destination`'s queue.
    pub async fn head(&self, destination: &str) -> Result<Option<String>, String> {
        Ok(self.peek(destination, 1).await?.into_iter().next())
    }

    /// The oldest `n` items of `destination`'s queue, oldest first.
    pub async fn peek(&self, destination: &str, n: usize) -> Result<Vec<String>, String> {
        match self {
            Self::Memory(m) => Ok(lock(m)
                .get(destination)
                .map(|q| q.iter().take(n).map(|(item, _)| item.clone()).collect())
                .unwrap_or_default()),
            Self::Redis(r) => {
                let mut con = r.link.get().map_err(|e| e.to_string())?;
                redis::cmd("LRANGE")
                    .arg(r.list(destination))
                    .arg(0)
                    .arg(n.saturating_sub(1))
                    .query_async(&mut con)
                    .await
                    .map_err(|e| redis_failed("outbox_head", &e))
            }
        }
    }

    /// Removes `item` from the head of `destination`'s queue; answers how
    /// many are left.
    pub async fn pop(&self, destination: &str, item: &str) -> Result<usize, String> {
        match self {
            Self::Memory(m) => {
                let mut queues = lock(m);
                let Some(queue) = queues.get_mut(destination) else {
                    return Ok(0);
                };
                if queue.front().is_some_and(|(head, _)| head == item) {
                    queue.pop_front();
                }
                let left = queue.len();
                if left == 0 {
                    queues.remove(destination);
                }
                Ok(left)
            }
            Self::Redis(r) => {
                let mut con = r.link.get().map_err(|e| e.to_string())?;
                let left: i64 = r
                    .pop
                    .key(r.list(destination))
                    .key(r.destinations())
                    .arg(item)
                    .arg(destination)
                    .invoke_async(&mut con)
                    .await
                    .map_err(|e| redis_failed("outbox_pop", &e))?;
                Ok(left.max(0) as usize)
            }
        }
    }

    /// Every destination that has a queue.
    pub async fn destinations(&self) -> Result<HashSet<String>, String> {
        match self {
            Self::Memory(m) => Ok(lock(m).keys().cloned().collect()),
            Self::Redis(r) => {
                let mut con = r.link.get().map_err(|e| e.to_string())?;
                redis::cmd("SMEMBERS")
                    .arg(r.destinations())
                    .query_async(&mut con)
                    .await
                    .map_err(|e| redis_failed("outbox_scan", &e))
            }
        }
    }

    /// Takes (or, when `renew`, extends) the lease on draining
    /// `destination` for `owner`. In memory there is one owner: always.
    pub async fn lease(
        &self,
        destination: &str,
        owner: &str,
        lease: Duration,
        renew: bool,
    ) -> bool {
        let Self::Redis(r) = self else {
            return true;
        };
        let Ok(mut con) = r.link.get() else {
            return false;
        };
        let key = r.lease(destination);
        let ms = lease.as_millis() as u64;
        let held: Result<bool, _> = if renew {
            r.renew
                .key(&key)
                .arg(owner)
                .arg(ms)
                .invoke_async::<i64>(&mut con)
                .await
                .map(|n| n == 1)
        } else {
            redis::cmd("SET")
                .arg(&key)
                .arg(owner)
                .arg("NX")
                .arg("PX")
                .arg(ms)
                .query_async::<Option<String>>(&mut con)
                .await
                .map(|reply| reply.is_some())
        };
        held.unwrap_or_else(|e| {
            redis_failed("outbox_lease", &e);
            false
        })
    }

    /// Gives up the lease on `destination`, if `owner` holds it.
    pub async fn release(&self, destination: &str, owner: &str) {
        let Self::Redis(r) = self else { return };
        let Ok(mut con) = r.link.get() else { return };
        let result: Result<i64, _> = r
            .release
            .key(r.lease(destination))
            .arg(owner)
            .invoke_async(&mut con)
            .await;
        if let Err(e) = result {
            redis_failed("outbox_lease", &e);
        }
    }
}

impl RedisQueues {
    fn list(&self, destination: &str) -> String {
        format!("{}q:{destination}", self.base)
    }

    fn destinations(&self) -> String {
        format!("{}destinations", self.base)
    }

    fn lease(&self, destination: &str) -> String {
        format!("{}lease:{destination}", self.base)
    }
}

fn redis_failed(op: &'static str, e: &redis::RedisError) -> String {
    crate::metrics::get().redis_error(op);
    format!("Redis: {e}")
}
