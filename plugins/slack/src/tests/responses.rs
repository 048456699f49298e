//! Classifying Slack's answers and the host's HTTP errors.

use super::minimal;
use crate::{Error, HttpError, Posted, Receipt, from_http_error, interpret_response};

fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect()
}

fn transient(message: &str, retry_after_ms: Option<u64>) -> Error {
    Error::Transient {
        message: message.to_owned(),
        retry_after_ms,
    }
}

#[test]
fn ok_true_gives_channel_and_ts() {
    let body = br#"{"ok":true,"channel":"C0999","ts":"1700000000.000100","message":{}}"#;
    let posted = interpret_response(200, &[], body).expect("ok");
    assert_eq!(
        posted.into_receipt(&minimal()),
        Receipt {
            destination: "C0999".into(),
            message_id: "1700000000.000100".into()
        }
    );
}

#[test]
fn ok_true_without_channel_uses_the_config() {
    let posted = interpret_response(200, &[], br#"{"ok":true,"ts":"1.2"}"#).expect("ok");
    assert_eq!(posted.clone().into_receipt(&minimal()).destination, "C0123");
    assert_eq!(
        posted,
        Posted {
            channel: None,
            ts: Some("1.2".into())
        }
    );
}

#[test]
fn permanent_slack_codes() {
    for code in [
        "invalid_auth",
        "not_authed",
        "account_inactive",
        "token_revoked",
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "msg_too_long",
        "no_text",
        "invalid_blocks",
        "missing_scope",
        "some_future_code",
    ] {
        let body = format!(r#"{{"ok":false,"error":"{code}"}}"#);
        assert_eq!(
            interpret_response(200, &[], body.as_bytes()),
            Err(Error::Permanent(format!("slack error: {code}"))),
        );
    }
    assert_eq!(
        interpret_response(200, &[], br#"{"ok":false}"#),
        Err(Error::Permanent("slack error: unknown".into())),
    );
}

#[test]
fn temporary_slack_codes() {
    for code in [
        "internal_error",
        "fatal_error",
        "service_unavailable",
        "request_timeout",
    ] {
        let body = format!(r#"{{"ok":false,"error":"{code}"}}"#);
        assert_eq!(
            interpret_response(200, &[], body.as_bytes()),
            Err(transient(&format!("slack error: {code}"), None)),
        );
    }
}

#[test]
fn ratelimited_code_uses_retry_after() {
    let body = br#"{"ok":false,"error":"ratelimited"}"#;
    assert_eq!(
        interpret_response(200, &h(&[("retry-after", "30")]), body),
        Err(transient("slack error: ratelimited", Some(30_000))),
    );
    assert_eq!(
        interpret_response(200, &[], body),
        Err(transient("slack error: ratelimited", None)),
    );
}

#[test]
fn http_429_is_transient_with_retry_after() {
    assert_eq!(
        interpret_response(429, &h(&[("Retry-After", " 2 ")]), b""),
        Err(transient("slack http 429 (rate limited)", Some(2_000))),
    );
    assert_eq!(
        interpret_response(
            429,
            &h(&[("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")]),
            br#"{"ok":false,"error":"ratelimited"}"#
        ),
        Err(transient(
            "slack http 429 (rate limited): ratelimited",
            None
        )),
    );
}

#[test]
fn http_5xx_is_transient() {
    assert_eq!(
        interpret_response(503, &[], b"<html>down</html>"),
        Err(transient("slack http 503", None)),
    );
    assert_eq!(
        interpret_response(
            500,
            &h(&[("retry-after", "5")]),
            br#"{"ok":false,"error":"fatal_error"}"#
        ),
        Err(transient("slack http 500: fatal_error", Some(5_000))),
    );
}

#[test]
fn other_statuses_are_permanent() {
    assert_eq!(
        interpret_response(404, &[], b"not found"),
        Err(Error::Permanent("slack http 404".into())),
    );
    assert_eq!(
        interpret_response(403, &[], br#"{"ok":false,"error":"invalid_auth"}"#),
        Err(Error::Permanent("slack http 403: invalid_auth".into())),
    );
    assert_eq!(
        interpret_response(301, &[], b""),
        Err(Error::Permanent("slack http 301".into())),
    );
}

#[test]
fn non_json_200_is_permanent() {
    assert_eq!(
        interpret_response(200, &[], b"ok"),
        Err(Error::Permanent(
            "slack http 200: response body is not JSON".into()
        )),
    );
}

#[test]
fn host_http_errors() {
    let m = || "boom".to_owned();
    assert!(matches!(
        from_http_error(HttpError::Timeout(m())),
        Error::Transient {
            retry_after_ms: None,
            ..
        }
    ));
    assert!(matches!(
        from_http_error(HttpError::Transport(m())),
        Error::Transient { .. }
    ));
    // Slack answered; the next answer will be as large (and the post may
    // have gone through): not retried, as in every plugin.
    assert!(matches!(
        from_http_error(HttpError::TooLarge(m())),
        Error::Permanent(_)
    ));
    assert!(matches!(
        from_http_error(HttpError::Denied(m())),
        Error::Config(_)
    ));
    assert!(matches!(
        from_http_error(HttpError::InvalidRequest(m())),
        Error::Config(_)
    ));
}

#[test]
fn errors_display_their_code() {
    let err = interpret_response(200, &[], br#"{"ok":false,"error":"channel_not_found"}"#)
        .expect_err("error");
    assert_eq!(err.to_string(), "permanent: slack error: channel_not_found");
    let err = interpret_response(429, &h(&[("retry-after", "1")]), b"").expect_err("error");
    assert_eq!(
        err.to_string(),
        "transient: slack http 429 (rate limited) (retry after 1000 ms)"
    );
}

#[test]
fn a_408_is_retried_like_a_5xx() {
    assert!(matches!(
        interpret_response(408, &[("retry-after".into(), "2".into())], b""),
        Err(Error::Transient {
            retry_after_ms: Some(2000),
            ..
        })
    ));
}

#[test]
fn only_the_answers_own_members_count_whatever_else_it_holds() {
    // A real answer carries the posted message too; it is skipped.
    let real = br#"{"ok":true,"channel":"C9","ts":"17.5","message":{"type":"message",
        "text":"x","attachments":[{"color":"C70039","blocks":[{"type":"section"}]}]},
        "response_metadata":{"warnings":["missing_charset"]}}"#;
    assert_eq!(
        interpret_response(200, &[], real),
        Ok(Posted {
            channel: Some("C9".into()),
            ts: Some("17.5".into()),
        })
    );
    // A member named twice: the last one counts, as for any JSON object here.
    assert_eq!(
        interpret_response(200, &[], br#"{"ok":false,"ts":"1","ok":true}"#),
        Ok(Posted {
            channel: None,
            ts: Some("1".into()),
        })
    );
    // JSON that is not an object has no members: not ok, code unknown.
    for body in [&br#"[true,"x","C1","1.0"]"#[..], b"null", br#""ok""#] {
        assert_eq!(
            interpret_response(200, &[], body),
            Err(Error::Permanent("slack error: unknown".into())),
            "{}",
            String::from_utf8_lossy(body)
        );
    }
    // Members of the wrong type count as absent.
    assert_eq!(
        interpret_response(200, &[], br#"{"ok":"true","error":7}"#),
        Err(Error::Permanent("slack error: unknown".into()))
    );
    assert_eq!(
        interpret_response(200, &[], br#"{"ok":true,"channel":5,"ts":null}"#),
        Ok(Posted::default())
    );
    assert_eq!(
        interpret_response(200, &[], br#"{"ok":true} trailing"#),
        Err(Error::Permanent(
            "slack http 200: response body is not JSON".into()
        ))
    );
}
