//! Request limits on `POST /api/incidents` beyond the body size: load
//! shedding (`ingest.max_concurrent_requests`), JSON nesting depth
//! (`ingest.max_json_depth`) and alerts per request (`ingest.max_alerts`).

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tracing::Instrument;

use super::AppState;
use super::error::ApiError;
pub use crate::in_flight::{Gate, Permit};

/// Seconds a shed sender is asked to wait: a burst drains in well under a
/// second when channels answer, and senders such as Alertmanager retry on
/// their own schedule anyway.
pub const RETRY_AFTER_SECS: u64 = 1;

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
}
