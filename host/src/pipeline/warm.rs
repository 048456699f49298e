//! Warm instances: a plugin's instances kept between its calls.
//!
//! Creating an instance, and resetting its memory when it is dropped, costs
//! more than most calls' own work. So when a call ends normally (a value or
//! a plugin error: no trap, no timeout, no cancelled call) its instance is
//! parked for the plugin's next call, until it has served the plugin's
//! `calls_per_instance`. An instance that trapped, timed out, hit its
//! memory cap or grew past [`RETIRE_MEMORY`] is dropped, so the next call
//! gets a fresh one. `calls_per_instance: 1` gives every call a fresh
//! instance.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use wasmtime::Store;

use super::ctx::PluginCtx;
use super::engine::IdleToken;

/// Parked instances per plugin: enough for every sender of a busy burst to
/// find one, few enough that a burst does not pin much memory afterwards.
pub const IDLE_PER_PLUGIN: usize = 64;

/// A parked instance not used for this long is dropped at the plugin's next
/// call, giving its memory back.
const IDLE_FOR: Duration = Duration::from_secs(60);

/// An instance whose linear memory has grown past this is not parked: a
/// one-off huge payload should not keep its memory for the next call.
pub const RETIRE_MEMORY: usize = 16 << 20;

/// An instance and its store. `bound` holds the world's exports once
/// instantiated; it is `None` in a store that has not been instantiated
/// yet, or whose call was cut short.
pub struct Instance<I> {
    /// The instance's store.
    pub store: Store<PluginCtx>,
    /// The instantiated world.
    pub bound: Option<I>,
    /// Calls this instance has finished.
    pub calls: u32,
}

impl<I> Instance<I> {
    /// A store not instantiated yet.
    pub fn new(store: Store<PluginCtx>) -> Self {
        Self {
            store,
            bound: None,
            calls: 0,
        }
    }

    /// Whether this instance may serve another call, after one that ended
    /// normally (`ended`).
    pub fn reusable(&self, ended: bool, calls_per_instance: u32) -> bool {
        let cap = &self.store.data().limiter;
        ended
            && self.bound.is_some()
            && self.calls < calls_per_instance
            && !cap.hit
            && cap.size <= RETIRE_MEMORY
    }
}

struct Parked<I> {
    instance: Instance<I>,
    since: Instant,
    _token: IdleToken,
}

/// One plugin's parked instances, most recently used last.
pub struct Warm<I> {
    idle: Mutex<Vec<Parked<I>>>,
}

impl<I> Default for Warm<I> {
    fn default() -> Self {
        Self {
            idle: Mutex::new(Vec::new()),
        }
    }
}

impl<I> Warm<I> {
    /// The most recently parked instance, if any; instances idle for longer
    /// than [`IDLE_FOR`] are dropped on the way.
    pub fn take(&self) -> Option<Instance<I>> {
        let (found, stale) = {
            let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
            // Parked in time order, so the stale ones are a prefix: one
            // clock read and, usually, one comparison.
            let now = Instant::now();
            let stale_count = idle
                .iter()
                .take_while(|p| now.duration_since(p.since) >= IDLE_FOR)
                .count();
            let stale: Vec<_> = idle.drain(..stale_count).collect();
            (idle.pop(), stale)
        };
        // Dropping a store resets its memory: do it outside the lock.
        drop(stale);
        found.map(|p| p.instance)
    }

    /// Parks `instance` if this plugin and the engine have room for it;
    /// otherwise it is dropped.
    pub fn park(&self, instance: Instance<I>, token: Option<IdleToken>) {
        let Some(token) = token else {
            return;
        };
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        if idle.len() < IDLE_PER_PLUGIN {
            idle.push(Parked {
                instance,
                since: Instant::now(),
                _token: token,
            });
            return;
        }
        drop(idle);
        drop(instance);
    }

    /// How many instances are parked.
    pub fn parked(&self) -> usize {
        self.idle.lock().map(|v| v.len()).unwrap_or(0)
    }
}
