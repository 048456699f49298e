//! A channel for the host's sandbox tests: it makes one request through the
//! host's HTTP import and reports what came back, so tests can check the
//! allow-list, timeouts and body caps from the guest's side.
//!
//! Config keys: `url` (required), `method` (`GET` by default; any other
//! method sends the message as the body) and `timeout_ms` (optional, passed
//! to the host as the request's own timeout).
//!
//! `deliver` returns a receipt whose destination is the response status and
//! whose message id is the start of the response body. A host HTTP error
//! becomes `permanent("http: <kind>: <message>")`, `kind` being the WIT case
//! name (`denied`, `invalid-request`, `timeout`, `too-large`, `transport`).
//! `update` makes the same request and only reports errors.
//!
//! Built from source by the host's tests; never committed as a binary.

use serde_json::Value;

/// The receipt's message id holds at most this many characters of the body.
pub const BODY_PREVIEW_CHARS: usize = 200;

/// The request to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// HTTP method.
    pub method: String,
    /// Target URL.
    pub url: String,
    /// Request body: empty for `GET`, the message otherwise.
    pub body: Vec<u8>,
    /// Optional per-request timeout.
    pub timeout_ms: Option<u32>,
}

/// Builds the request from the channel config; errors are config errors.
pub fn build_request(config_json: &str, message: &str) -> Result<Request, String> {
    let doc: Value =
        serde_json::from_str(config_json).map_err(|e| format!("config is not JSON: {e}"))?;
    let url = doc
        .get("url")
        .and_then(Value::as_str)
        .filter(|u| !u.is_empty())
        .ok_or("url is required")?;
    let method = match doc.get("method") {
        None | Some(Value::Null) => "GET",
        Some(Value::String(m)) => m.as_str(),
        Some(_) => return Err("method must be a string".into()),
    }
    .to_ascii_uppercase();
    let timeout_ms = match doc.get("timeout_ms") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or("timeout_ms must be a whole number of milliseconds")?,
        ),
    };
    let body = if method == "GET" {
        Vec::new()
    } else {
        message.as_bytes().to_vec()
    };
    Ok(Request {
        method,
        url: url.to_owned(),
        body,
        timeout_ms,
    })
}

/// The receipt `(destination, message-id)` for a response.
pub fn receipt(status: u16, body: &[u8]) -> (String, String) {
    let preview = String::from_utf8_lossy(body)
        .chars()
        .take(BODY_PREVIEW_CHARS)
        .collect();
    (status.to_string(), preview)
}

/// The error text for a host HTTP error.
pub fn http_error_text(kind: &str, message: &str) -> String {
    format!("http: {kind}: {message}")
}

#[cfg(target_arch = "wasm32")]
mod component {
    //! The component glue.

    // The code `generate!` emits passes every WIT parameter (lowered) as
    // its own argument.
    #![allow(clippy::too_many_arguments)]

    wit_bindgen::generate!({ world: "channel", path: "../../wit" });

    use versus::gateway::http;
    use versus::gateway::log::{Level, log};

    struct TestChannel;

    impl Guest for TestChannel {
        fn deliver(
            message: String,
            _event: Event,
            config_json: String,
        ) -> Result<Receipt, PluginError> {
            let (status, body) = call(&config_json, &message)?;
            let (destination, message_id) = crate::receipt(status, &body);
            Ok(Receipt {
                destination,
                message_id,
            })
        }

        fn update(
            _receipt: Receipt,
            _change: StatusChange,
            message: String,
            _event: Event,
            config_json: String,
        ) -> Result<(), PluginError> {
            call(&config_json, &message).map(drop)
        }
    }

    fn call(config_json: &str, message: &str) -> Result<(u16, Vec<u8>), PluginError> {
        let req = crate::build_request(config_json, message).map_err(PluginError::Config)?;
        let request = http::Request {
            method: req.method,
            url: req.url,
            headers: Vec::new(),
            body: req.body,
            timeout_ms: req.timeout_ms,
        };
        match http::send(&request) {
            Ok(resp) => Ok((resp.status, resp.body)),
            Err(err) => {
                let (kind, msg) = match err {
                    http::Error::Denied(m) => ("denied", m),
                    http::Error::InvalidRequest(m) => ("invalid-request", m),
                    http::Error::Timeout(m) => ("timeout", m),
                    http::Error::TooLarge(m) => ("too-large", m),
                    http::Error::Transport(m) => ("transport", m),
                };
                let text = crate::http_error_text(kind, &msg);
                log(Level::Warn, &text);
                Err(PluginError::Permanent(text))
            }
        }
    }

    export!(TestChannel);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn get_by_default() {
        let req = build_request(r#"{"url":"http://127.0.0.1:1/x"}"#, "hello").expect("request");
        assert_eq!(
            req,
            Request {
                method: "GET".into(),
                url: "http://127.0.0.1:1/x".into(),
                body: Vec::new(),
                timeout_ms: None,
            }
        );
    }

    #[test]
    fn post_sends_the_message() {
        let req = build_request(
            r#"{"url":"http://h/","method":"post","timeout_ms":250}"#,
            "hello",
        )
        .expect("request");
        assert_eq!(req.method, "POST");
        assert_eq!(req.body, b"hello");
        assert_eq!(req.timeout_ms, Some(250));
    }

    #[test]
    fn bad_configs() {
        for json in [
            "nope",
            "{}",
            r#"{"url":""}"#,
            r#"{"url":"http://h/","method":1}"#,
            r#"{"url":"http://h/","timeout_ms":-5}"#,
            r#"{"url":"http://h/","timeout_ms":5000000000}"#,
        ] {
            assert!(build_request(json, "m").is_err(), "{json}");
        }
    }

    #[test]
    fn receipt_reports_status_and_body_preview() {
        assert_eq!(receipt(200, b"ok"), ("200".into(), "ok".into()));
        let long = "é".repeat(300);
        let (status, preview) = receipt(503, long.as_bytes());
        assert_eq!(status, "503");
        assert_eq!(preview, "é".repeat(BODY_PREVIEW_CHARS));
        assert_eq!(receipt(204, &[0xff, b'a']).1, "\u{fffd}a");
    }

    #[test]
    fn error_text() {
        assert_eq!(
            http_error_text("denied", "host evil.example is not allowed"),
            "http: denied: host evil.example is not allowed"
        );
    }
}
