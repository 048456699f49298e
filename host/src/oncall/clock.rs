//! Wall-clock milliseconds. Deadlines are shared between replicas, so they
//! are Unix times; tests swap in a clock driven by tokio's (pausable) time.

use std::time::{SystemTime, UNIX_EPOCH};

/// A source of "now" in Unix milliseconds.
#[derive(Debug, Clone, Copy)]
pub enum Clock {
    /// The system clock.
    System,
    /// Unix ms at `base`, advanced by tokio time since then (tests).
    Tokio {
        /// Unix ms at `base`.
        base_ms: i64,
        /// The tokio instant that corresponds to `base_ms`.
        base: tokio::time::Instant,
    },
}

impl Clock {
    /// A tokio-driven clock starting at `base_ms`.
    pub fn tokio(base_ms: i64) -> Self {
        Self::Tokio {
            base_ms,
            base: tokio::time::Instant::now(),
        }
    }

    /// Now, in Unix milliseconds.
    pub fn now_ms(&self) -> i64 {
        match self {
            Self::System => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as i64),
            Self::Tokio { base_ms, base } => base_ms + base.elapsed().as_millis() as i64,
        }
    }
}
