//! Request limits on `POST /api/incidents` beyond the body size: load
//! shedding (`ingest.max_concurrent_requests`), JSON nesting depth
//! (`ingest.max_json_depth`) and alerts per request (`ingest.max_alerts`).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::Instrument;

use super::AppState;
use super::error::ApiError;

/// Seconds a shed sender is asked to wait: a burst drains in well under a
/// second when channels answer, and senders such as Alertmanager retry on
/// their own schedule anyway.
pub const RETRY_AFTER_SECS: u64 = 1;

/// Counts requests being processed.
#[derive(Debug, Default)]
pub struct Gate {
    in_flight: AtomicUsize,
    idle: tokio::sync::Notify,
}

/// One admitted request; leaving frees its place.
pub struct Permit(Arc<Gate>);

impl Drop for Permit {
    fn drop(&mut self) {
        if self.0.in_flight.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.0.idle.notify_waiters();
        }
    }
}

impl Gate {
    /// Admits a request unless `max` are already in flight.
    pub fn try_enter(self: &Arc<Self>, max: usize) -> Option<Permit> {
        self.in_flight
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            })
            .ok()
            .map(|_| Permit(self.clone()))
    }

    /// Requests being processed now.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Acquire)
    }

    /// Waits until no request is being processed.
    pub async fn wait_idle(&self) {
        loop {
            let notified = self.idle.notified();
            if self.in_flight() == 0 {
                return;
            }
            notified.await;
        }
    }
}

/// Middleware: sheds load beyond `ingest.max_concurrent_requests` with 503
/// and `Retry-After`, and runs each admitted request to completion in its
/// own task.
///
/// Strategy: once admitted, an alert is processed to the end even if the
/// sender hangs up half-way (a timeout on its side): otherwise dropping the
/// handler could leave an escalation registered with no message sent, or a
/// message sent with no receipt recorded. The sender's retry then joins the
/// open incident instead of racing a half-done one.
pub async fn shed(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let max = state.reloader.config().ingest.max_concurrent_requests;
    let Some(permit) = state.gate.try_enter(max) else {
        tracing::warn!(max, "alert refused: too many requests in flight");
        return ApiError::Overloaded {
            max,
            retry_after_secs: RETRY_AFTER_SECS,
        }
        .into_response();
    };
    let task = tokio::spawn(
        async move {
            let response = next.run(req).await;
            drop(permit);
            response
        }
        .instrument(tracing::Span::current()),
    );
    match task.await {
        Ok(response) => response,
        Err(e) => {
            tracing::error!(error = %e, "alert handler failed");
            ApiError::Internal.into_response()
        }
    }
}

/// Refuses a body nested deeper than `max` before any parser recurses into
/// it. Counts `[` and `{` outside strings; a malformed body is left for the
/// JSON parser to report.
pub fn check_depth(bytes: &[u8], max: usize) -> Result<(), ApiError> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in bytes {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > max {
                    return Err(ApiError::BadRequest(format!(
                        "JSON is nested more than {max} levels deep (ingest.max_json_depth)"
                    )));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// Refuses an array of more than `max` alerts.
pub fn check_count(count: usize, max: usize) -> Result<(), ApiError> {
    if count > max {
        return Err(ApiError::TooManyAlerts { count, max });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depth_ok(json: &str, max: usize) -> bool {
        check_depth(json.as_bytes(), max).is_ok()
    }

    #[test]
    fn depth_counts_containers_outside_strings() {
        assert!(depth_ok("{}", 1));
        assert!(!depth_ok("[{}]", 1));
        assert!(depth_ok(r#"{"a":[1,{"b":2}]}"#, 3));
        assert!(!depth_ok(r#"{"a":[1,{"b":2}]}"#, 2));
        assert!(depth_ok(r#"{"a":"[[[[{{{{"}"#, 1));
        assert!(depth_ok(r#"{"a":"\"[[[["}"#, 1));
        assert!(depth_ok(r#"{"a":"\\"}"#, 1));
        assert!(!depth_ok(r#"{"a":"\\","b":[[]]}"#, 2));
        assert!(depth_ok("[][][][]", 1));
        assert!(!depth_ok(&"[".repeat(1_000_000), 64));
    }

    #[test]
    fn gate_admits_up_to_max_and_frees_on_drop() {
        let gate = Arc::new(Gate::default());
        let a = gate.try_enter(2).expect("first");
        let _b = gate.try_enter(2).expect("second");
        assert!(gate.try_enter(2).is_none());
        drop(a);
        assert_eq!(gate.in_flight(), 1);
        assert!(gate.try_enter(2).is_some());
    }
}
