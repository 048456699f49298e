//! Request limits on `POST /api/incidents` beyond the body size: load
//! shedding (`ingest.max_concurrent_requests`), JSON nesting depth
//! (`ingest.max_json_depth`) and alerts per request (`ingest.max_alerts`).

use std::sync::Arc;

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
pub async fn shed(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
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
    let mut depth = 0usize;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        i += 1;
        match b {
            b'"' => i = past_string(bytes, i),
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

/// Where the string whose contents start at `i` ends (just past its
/// closing quote), or the end of `bytes` if it never does. A backslash
/// escapes the byte after it. Most of a body is strings, so this jumps from
/// one quote or backslash to the next.
fn past_string(bytes: &[u8], mut i: usize) -> usize {
    while let Some(rest) = bytes.get(i..) {
        let Some(at) = memchr::memchr2(b'"', b'\\', rest) else {
            break;
        };
        if rest[at] == b'"' {
            return i + at + 1;
        }
        i += at + 2;
    }
    bytes.len()
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
        assert!(depth_ok(r#"{"a":"\"#, 1), "an escape that ends the body");
        assert!(depth_ok(r#"{"a":"[[[["#, 1), "a string that never ends");
    }

    /// The depth a byte-at-a-time reading finds: inside a string, a
    /// backslash escapes the next byte and a quote ends it.
    fn depth_by_bytes(bytes: &[u8], max: usize) -> bool {
        let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
        for &b in bytes {
            match (in_string, b) {
                (true, _) if escaped => escaped = false,
                (true, b'\\') => escaped = true,
                (true, b'"') | (false, b'"') => in_string = !in_string,
                (false, b'[' | b'{') => {
                    depth += 1;
                    if depth > max {
                        return false;
                    }
                }
                (false, b']' | b'}') => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        true
    }

    proptest::proptest! {
        #[test]
        fn jumping_between_quotes_finds_what_reading_every_byte_does(
            body in proptest::collection::vec(
                proptest::sample::select(&b"[]{}\"\\a:,"[..]), 0..64),
            max in 0usize..6,
        ) {
            proptest::prop_assert_eq!(check_depth(&body, max).is_ok(), depth_by_bytes(&body, max));
        }
    }
}
