//! The connection to Redis, which may come after the gateway started: the
//! gateway serves what needs no on-call state while Redis is away (chat
//! delivery, health, metrics) and connects in the background, with
//! backoff (see `setup::keep_connecting`). Until then every store call
//! fails at once with [`StoreError::NotConnected`], which a request answers
//! with 503 and `Retry-After`. Changes between reachable and unreachable
//! are logged once each, not once per call.

use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use super::redis_con::Con;

use super::StoreError;

/// Not known yet, answering, not answering.
const UNKNOWN: u8 = 0;
const UP: u8 = 1;
const DOWN: u8 = 2;

/// A connection that is there or not yet. Cheap to clone.
#[derive(Clone)]
pub struct RedisLink {
    inner: Arc<Inner>,
}

struct Inner {
    /// Where, for the log (no password).
    place: String,
    con: OnceLock<Con>,
    /// A second connection for the writes that `WAIT` for replicas: `WAIT`
    /// holds its connection until the replicas answer, and must not hold
    /// up everything else.
    durable: OnceLock<Con>,
    /// The last error while not connected yet.
    waiting: Mutex<String>,
    /// [`UNKNOWN`], [`UP`] or [`DOWN`]: what was last logged.
    state: AtomicU8,
}

impl RedisLink {
    /// A link to `place` (a URL without its password), not connected yet.
    pub fn new(place: &str) -> Self {
        Self {
            inner: Arc::new(Inner {
                place: place.to_string(),
                con: OnceLock::new(),
                durable: OnceLock::new(),
                waiting: Mutex::new("not connected yet".into()),
                state: AtomicU8::new(UNKNOWN),
            }),
        }
    }

    /// The connection, or why there is none yet.
    pub fn get(&self) -> Result<Con, StoreError> {
        match self.inner.con.get() {
            Some(con) => Ok(con.clone()),
            None => Err(StoreError::NotConnected(self.waiting())),
        }
    }

    /// The connection for writes that wait for replicas (the main one
    /// when there is no second one).
    pub fn durable(&self) -> Result<Con, StoreError> {
        match self.inner.durable.get() {
            Some(con) => Ok(con.clone()),
            None => self.get(),
        }
    }

    /// Makes `con` the connection, and `durable` the one for writes that
    /// wait for replicas (the first ones stay); from here on they
    /// reconnect by themselves.
    pub fn publish(&self, con: Con, durable: Option<Con>) {
        if let Some(durable) = durable {
            let _ = self.inner.durable.set(durable);
        }
        let _ = self.inner.con.set(con);
        self.observe(Ok(()));
    }

    /// Whether a connection was ever made.
    pub fn connected(&self) -> bool {
        self.inner.con.get().is_some()
    }

    fn waiting(&self) -> String {
        self.inner
            .waiting
            .lock()
            .map(|w| w.clone())
            .unwrap_or_default()
    }

    /// Notes whether Redis answered; logs only a change.
    pub fn observe(&self, result: Result<(), &str>) {
        let place = &self.inner.place;
        match result {
            Ok(()) => {
                if self.inner.state.swap(UP, Ordering::Relaxed) != UP {
                    tracing::info!(redis = %place, "Redis answers; on-call is available");
                }
            }
            Err(e) => {
                if !self.connected()
                    && let Ok(mut w) = self.inner.waiting.lock()
                {
                    *w = e.to_string();
                }
                if self.inner.state.swap(DOWN, Ordering::Relaxed) != DOWN {
                    tracing::warn!(redis = %place, error = %e, "Redis does not answer: alerts that need on-call get 503 with Retry-After until it does; chat-only alerts are delivered; retrying");
                }
            }
        }
    }
}
