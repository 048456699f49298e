//! [`Request`]: builds an HTTP request, sends it through the host's `http`
//! import and turns every failure into the [`PluginError`] case the host
//! should act on.

use crate::PluginError;
use crate::http::{self, Response};

/// How much of an error answer's body goes into the error message.
const SNIPPET_CHARS: usize = 200;

/// An HTTP request for the host to send. The host checks the URL against
/// the channel's `allowed_hosts` and applies its timeout and body cap.
#[derive(Debug, Clone)]
pub struct Request {
    inner: http::Request,
}

impl Request {
    /// A request with `method` (e.g. `"DELETE"`) to `url`.
    pub fn new(method: &str, url: &str) -> Self {
        Self {
            inner: http::Request {
                method: method.to_string(),
                url: url.to_string(),
                headers: Vec::new(),
                body: Vec::new(),
                timeout_ms: None,
            },
        }
    }

    /// A `GET`.
    pub fn get(url: &str) -> Self {
        Self::new("GET", url)
    }

    /// A `POST`.
    pub fn post(url: &str) -> Self {
        Self::new("POST", url)
    }

    /// A `PUT`.
    pub fn put(url: &str) -> Self {
        Self::new("PUT", url)
    }

    /// A `PATCH`.
    pub fn patch(url: &str) -> Self {
        Self::new("PATCH", url)
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.inner
            .headers
            .push((name.to_string(), value.to_string()));
        self
    }

    /// Adds `Authorization: Bearer <token>`.
    pub fn bearer(self, token: &str) -> Self {
        self.header("Authorization", &format!("Bearer {token}"))
    }

    /// Sets a JSON body, with its `Content-Type`.
    pub fn json(mut self, body: &serde_json::Value) -> Self {
        self.inner.body = body.to_string().into_bytes();
        self.header("Content-Type", "application/json")
    }

    /// Sets a plain-text body, with its `Content-Type`.
    pub fn text(mut self, body: &str) -> Self {
        self.inner.body = body.as_bytes().to_vec();
        self.header("Content-Type", "text/plain; charset=utf-8")
    }

    /// Sets the body bytes as they are; add a `Content-Type` yourself.
    pub fn body(mut self, body: Vec<u8>) -> Self {
        self.inner.body = body;
        self
    }

    /// Asks for a total timeout shorter than the host's.
    pub fn timeout_ms(mut self, ms: u32) -> Self {
        self.inner.timeout_ms = Some(ms);
        self
    }

    /// The request as the host will receive it.
    pub fn as_wit(&self) -> &http::Request {
        &self.inner
    }

    /// Sends the request; any answer, whatever its status, is `Ok`.
    pub fn send(&self) -> Result<Response, PluginError> {
        http::send(&self.inner).map_err(from_http_error)
    }

    /// Sends the request and checks the status with [`Response::check`].
    pub fn send_ok(&self) -> Result<Response, PluginError> {
        self.send()?.check()
    }
}

/// The [`PluginError`] for a request the host could not complete.
pub fn from_http_error(e: http::Error) -> PluginError {
    match e {
        http::Error::Denied(m) => PluginError::config(format!(
            "the gateway refused the request: {m} (see the channel's allowed_hosts)"
        )),
        http::Error::InvalidRequest(m) => PluginError::config(format!("invalid request: {m}")),
        http::Error::Timeout(m) => PluginError::transient(format!("timed out: {m}")),
        http::Error::TooLarge(m) => PluginError::permanent(format!("answer too large: {m}")),
        http::Error::Transport(m) => PluginError::transient(format!("connection failed: {m}")),
    }
}

impl Response {
    /// The first value of header `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON; a [`PluginError::Permanent`] when it is not.
    pub fn json(&self) -> Result<serde_json::Value, PluginError> {
        serde_json::from_slice(&self.body).map_err(|e| {
            PluginError::permanent(format!(
                "HTTP {}: the answer is not JSON ({e}): {}",
                self.status,
                self.snippet()
            ))
        })
    }

    /// `Retry-After` in milliseconds, when given in seconds.
    pub fn retry_after_ms(&self) -> Option<u64> {
        versus_plugin_chatkit::retry_after_ms(&self.headers)
    }

    /// `Ok` for a 2xx status. Otherwise the error the host should act on:
    /// 408, 429 and 5xx are transient (honouring `Retry-After`), any other
    /// status is permanent. The message holds the start of the body.
    pub fn check(self) -> Result<Self, PluginError> {
        let status = self.status;
        if (200..300).contains(&status) {
            return Ok(self);
        }
        let message = format!("HTTP {status}: {}", self.snippet());
        if versus_plugin_chatkit::transient_status(status) {
            return Err(match self.retry_after_ms() {
                Some(ms) => PluginError::retry_after(message, ms),
                None => PluginError::transient(message),
            });
        }
        Err(PluginError::permanent(message))
    }

    fn snippet(&self) -> String {
        crate::truncate(self.text().trim(), SNIPPET_CHARS)
    }
}

#[cfg(test)]
mod tests {
    use super::{Request, Response, from_http_error};
    use crate::{PluginError, http};

    fn answer(status: u16, headers: &[(&str, &str)], body: &str) -> Response {
        Response {
            status,
            headers: headers
                .iter()
                .map(|(n, v)| (n.to_string(), v.to_string()))
                .collect(),
            body: body.as_bytes().to_vec(),
        }
    }

    #[test]
    fn builder_sets_method_headers_and_body() {
        let r = Request::post("https://h.example/x")
            .bearer("t0k")
            .json(&serde_json::json!({"a": 1}))
            .timeout_ms(500);
        let wit = r.as_wit();
        assert_eq!(wit.method, "POST");
        assert_eq!(wit.url, "https://h.example/x");
        assert_eq!(wit.body, br#"{"a":1}"#);
        assert_eq!(wit.timeout_ms, Some(500));
        assert_eq!(
            wit.headers,
            vec![
                ("Authorization".to_string(), "Bearer t0k".to_string()),
                ("Content-Type".to_string(), "application/json".to_string()),
            ]
        );
        let t = Request::patch("https://h.example/y").text("hi");
        assert_eq!(t.as_wit().method, "PATCH");
        assert_eq!(t.as_wit().body, b"hi");
    }

    #[test]
    fn statuses_map_to_what_the_host_should_do() {
        assert!(answer(204, &[], "").check().is_ok());
        match answer(429, &[("Retry-After", "7")], "slow down").check() {
            Err(PluginError::Transient(r)) => {
                assert_eq!(r.retry_after_ms, Some(7000));
                assert_eq!(r.message, "HTTP 429: slow down");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(answer(503, &[], "").check(), Err(e) if e.is_retried()));
        assert!(matches!(answer(408, &[], "").check(), Err(e) if e.is_retried()));
        match answer(404, &[], &"x".repeat(500)).check() {
            Err(PluginError::Permanent(m)) => assert!(m.len() < 300 && m.ends_with('…'), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn answers_are_read_as_text_json_and_headers() {
        let r = answer(
            200,
            &[("content-type", "application/json")],
            r#"{"id":"42"}"#,
        );
        assert_eq!(r.header("Content-Type"), Some("application/json"));
        assert_eq!(r.json().ok(), Some(serde_json::json!({"id": "42"})));
        assert!(matches!(
            answer(200, &[], "<html>").json(),
            Err(PluginError::Permanent(_))
        ));
    }

    #[test]
    fn host_errors_map_to_plugin_errors() {
        let cases = [
            (http::Error::Denied("x".into()), "config"),
            (http::Error::InvalidRequest("x".into()), "config"),
            (http::Error::Timeout("x".into()), "transient"),
            (http::Error::TooLarge("x".into()), "permanent"),
            (http::Error::Transport("x".into()), "transient"),
        ];
        for (e, want) in cases {
            let got = match from_http_error(e) {
                PluginError::Config(_) => "config",
                PluginError::Transient(_) => "transient",
                PluginError::Permanent(_) => "permanent",
                PluginError::InvalidInput(_) => "invalid-input",
            };
            assert_eq!(got, want);
        }
    }
}
