//! Reading the remote side's answer: which failures the host should retry.
//!
//! Strategy: when in doubt, do not retry. A retried post that had in fact
//! gone through shows the alert twice, so only failures that are temporary
//! by nature (429, 5xx, 408, network trouble) are transient.

use super::{Error, HttpError, Response};

/// Longest piece of a response body quoted in an error, in characters.
const SNIPPET_LIMIT: usize = 200;

/// Whether a status is worth another try: 408 (the server gave up
/// waiting), 429 (rate limited) and 5xx. Every plugin classifies statuses
/// with this one function, and takes the wait from [`retry_after_ms`].
pub fn transient_status(status: u16) -> bool {
    status == 408 || status == 429 || (500..=599).contains(&status)
}

/// Classifies a response by status alone.
///
/// | status | result |
/// |---|---|
/// | 2xx | `Ok` |
/// | 429 | transient, with `Retry-After` |
/// | 408, 5xx | transient, with `Retry-After` if sent |
/// | any other | permanent |
///
/// Errors quote the start of the body, which is where these APIs explain
/// themselves (`{"ok":false,"description":"Bad Request: chat not found"}`).
pub fn check_status(service: &str, response: &Response) -> Result<(), Error> {
    let status = response.status;
    if (200..=299).contains(&status) {
        return Ok(());
    }
    let detail = body_snippet(&response.body);
    let detail = if detail.is_empty() {
        String::new()
    } else {
        format!(": {detail}")
    };
    let retry_after_ms = retry_after_ms(&response.headers);
    if transient_status(status) {
        return Err(Error::Transient {
            message: format!("{service} http {status}{detail}"),
            retry_after_ms,
        });
    }
    Err(Error::Permanent(format!("{service} http {status}{detail}")))
}

/// The start of `body` as text, on one line, for an error message.
pub fn body_snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let line: String = text
        .trim()
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(SNIPPET_LIMIT + 1)
        .collect();
    if line.chars().count() > SNIPPET_LIMIT {
        let mut cut: String = line.chars().take(SNIPPET_LIMIT).collect();
        cut.push('…');
        return cut;
    }
    line
}

/// The `Retry-After` header in milliseconds, when it is a whole number of
/// seconds. The HTTP-date form is ignored.
pub fn retry_after_ms(headers: &[(String, String)]) -> Option<u64> {
    headers
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case("retry-after"))
        .and_then(|(_, value)| value.trim().parse::<u64>().ok())
        .map(|secs| secs.saturating_mul(1000))
}

/// Maps a host HTTP failure: network trouble is retried, a request the host
/// refuses to send is a configuration problem, and an answer too large to
/// read is permanent: the remote side did answer (a post may have gone
/// through), and the next answer will be as large.
pub fn from_http_error(service: &str, err: HttpError) -> Error {
    match err {
        HttpError::Timeout(m) => Error::transient(format!("{service} request timed out: {m}")),
        HttpError::Transport(m) => Error::transient(format!("{service} request failed: {m}")),
        HttpError::TooLarge(m) => Error::Permanent(format!("{service} response too large: {m}")),
        HttpError::Denied(m) => Error::Config(format!(
            "{service} URL is not allowed for this plugin ({m}); add its host to allowed_hosts"
        )),
        HttpError::InvalidRequest(m) => Error::Config(format!(
            "{service} request is invalid ({m}); check the configured URL"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn response(status: u16, headers: &[(&str, &str)], body: &str) -> Response {
        Response {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn one_table_of_transient_statuses() {
        for status in [408, 429, 500, 502, 503, 504, 599] {
            assert!(transient_status(status), "{status}");
        }
        for status in [200, 301, 400, 401, 403, 404, 409, 413, 422, 600] {
            assert!(!transient_status(status), "{status}");
        }
        assert!(matches!(
            from_http_error("x", HttpError::TooLarge("big".into())),
            Error::Permanent(_)
        ));
    }

    #[test]
    fn statuses_map_to_retry_decisions() {
        assert_eq!(check_status("x", &response(200, &[], "")), Ok(()));
        assert_eq!(check_status("x", &response(204, &[], "")), Ok(()));
        assert_eq!(
            check_status("x", &response(429, &[("retry-after", "3")], "slow down")),
            Err(Error::Transient {
                message: "x http 429: slow down".into(),
                retry_after_ms: Some(3000),
            })
        );
        assert!(matches!(
            check_status("x", &response(503, &[], "")),
            Err(Error::Transient {
                retry_after_ms: None,
                ..
            })
        ));
        assert!(matches!(
            check_status("x", &response(408, &[], "")),
            Err(Error::Transient { .. })
        ));
        assert_eq!(
            check_status(
                "x",
                &response(400, &[], "{\"description\":\"chat not found\"}")
            ),
            Err(Error::Permanent(
                "x http 400: {\"description\":\"chat not found\"}".into()
            ))
        );
        assert_eq!(
            check_status("x", &response(302, &[], "")),
            Err(Error::Permanent("x http 302".into()))
        );
    }

    #[test]
    fn snippets_are_one_short_line() {
        assert_eq!(body_snippet(b"  a\nb\r\n"), "a b");
        let long = "é".repeat(500);
        let s = body_snippet(long.as_bytes());
        assert_eq!(s.chars().count(), SNIPPET_LIMIT + 1);
        assert!(s.ends_with('…'));
        assert_eq!(body_snippet(&[0xff, b'a']), "\u{fffd}a");
    }

    #[test]
    fn retry_after_takes_whole_seconds_only() {
        let h = |v: &str| vec![("Retry-After".to_string(), v.to_string())];
        assert_eq!(retry_after_ms(&h("2")), Some(2000));
        assert_eq!(retry_after_ms(&h("Wed, 21 Oct 2015 07:28:00 GMT")), None);
        assert_eq!(retry_after_ms(&[]), None);
    }

    #[test]
    fn host_failures() {
        assert!(matches!(
            from_http_error("x", HttpError::Timeout("t".into())),
            Error::Transient { .. }
        ));
        assert!(matches!(
            from_http_error("x", HttpError::Denied("d".into())),
            Error::Config(_)
        ));
    }
}
