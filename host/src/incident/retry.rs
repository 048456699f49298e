//! Retry policy for channel calls: exponential backoff with jitter,
//! honouring the remote side's `Retry-After`, within a bounded total time.
//! Deliveries and message updates are retried the same way.

use std::future::Future;
use std::time::{Duration, Instant};

use crate::pipeline::PluginError;

/// How hard to try one delivery: the `alert.retry` settings themselves.
pub use crate::config::RetryConfig as RetryPolicy;

impl RetryPolicy {
    /// The wait before retry number `attempt` (1-based), with ±20% jitter,
    /// or the remote side's `retry_after` when it gave one.
    pub fn backoff(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(wait) = retry_after {
            return wait;
        }
        let exp = self
            .initial_backoff
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16))
            .min(self.max_backoff);
        // Jitter spreads retries from many replicas hitting one rate limit.
        exp.mul_f64(rand::random_range(0.8..=1.2))
    }

    /// Runs `call` until it succeeds, fails for good, or the next wait
    /// would end past `max_elapsed`; returns its last result. The wait
    /// after a retryable failure is [`Self::backoff`].
    pub async fn run<T, F, Fut>(&self, mut call: F) -> Result<T, PluginError>
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Result<T, PluginError>>,
    {
        let started = Instant::now();
        let mut attempt = 0;
        loop {
            attempt += 1;
            let err = match call().await {
                Ok(value) => return Ok(value),
                Err(e) if retryable(&e) => e,
                Err(e) => return Err(e),
            };
            let wait = self.backoff(attempt, retry_after(&err));
            if started.elapsed() + wait >= self.max_elapsed {
                return Err(err);
            }
            tracing::warn!(attempt, error = %err, wait_ms = wait.as_millis() as u64, "channel call failed; retrying");
            tokio::time::sleep(wait).await;
        }
    }
}

/// Transient errors, timeouts and a full instance pool are worth another
/// try; everything else (bad config, permanent refusals, plugin bugs) fails
/// the same way again.
pub fn retryable(e: &PluginError) -> bool {
    matches!(
        e,
        PluginError::Transient { .. } | PluginError::Timeout(_) | PluginError::Busy(_)
    )
}

/// The wait the remote side asked for, if it did.
pub fn retry_after(e: &PluginError) -> Option<Duration> {
    match e {
        PluginError::Transient { retry_after, .. } => *retry_after,
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_is_capped_and_honours_retry_after() {
        let p = RetryPolicy::default();
        let first = p.backoff(1, None);
        assert!(
            first >= Duration::from_millis(400) && first <= Duration::from_millis(600),
            "{first:?}"
        );
        let third = p.backoff(3, None);
        assert!(
            third >= Duration::from_millis(1600) && third <= Duration::from_millis(2400),
            "{third:?}"
        );
        let late = p.backoff(30, None);
        assert!(late <= Duration::from_millis(9600), "{late:?}");
        assert_eq!(
            p.backoff(2, Some(Duration::from_secs(3))),
            Duration::from_secs(3)
        );
    }

    /// The jitter spans ±20%: 200 draws all stay inside it, and reach
    /// beyond ±15% on both sides (each side misses with odds 0.875^200).
    #[test]
    fn jitter_spreads_waits_over_plus_or_minus_a_fifth() {
        let p = RetryPolicy::default();
        let base = p.initial_backoff.as_secs_f64();
        let ratios: Vec<f64> = (0..200)
            .map(|_| p.backoff(1, None).as_secs_f64() / base)
            .collect();
        let low = ratios.iter().copied().fold(f64::INFINITY, f64::min);
        let high = ratios.iter().copied().fold(0.0, f64::max);
        assert!(low >= 0.8 - 1e-9 && high <= 1.2 + 1e-9, "{low}..{high}");
        assert!(low < 0.85 && high > 1.15, "{low}..{high}");
    }
}
