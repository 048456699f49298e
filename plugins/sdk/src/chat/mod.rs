//! Channels in plain Rust, tested natively: the way the built-in channels
//! (Slack, Telegram, Teams, Lark, Viber, webhook, console) and the Discord
//! example are written.
//!
//! A channel implements [`Channel`] against a [`Send`] function instead of
//! calling the host, so every request it builds and every answer it reads
//! is tested with `cargo test` and a fake `Send`.
//! [`export_chat_channel!`](crate::export_chat_channel) wires it to the
//! `channel` world of `versus:gateway@0.2.0`, with HTTP going through the
//! host import ([`send_through_host`]). Also here: [`Settings`] (the
//! channel config read key by key, errors naming the key),
//! [`parsed_once`] (a config text parsed once per instance) and the one
//! classification of answers every plugin uses ([`check_status`],
//! [`transient_status`], [`retry_after_ms`]).

mod acknowledged;
mod glue;
mod memo;
mod response;
mod settings;
mod targets;

use std::fmt;

pub use acknowledged::Acknowledgement;
pub use memo::parsed_once;
pub use response::{body_snippet, check_status, from_http_error, retry_after_ms, transient_status};
pub use settings::Settings;

#[cfg(test)]
mod tests {
    #[test]
    fn origins_drop_path_query_and_credentials() {
        assert_eq!(
            super::origin("https://a.example:8443/hook/SECRET?sig=x"),
            "https://a.example:8443"
        );
        assert_eq!(super::origin("http://u:p@h/x"), "http://h");
        assert_eq!(super::origin("http://h"), "http://h");
    }

    /// A channel that only posts: it keeps the default `update`.
    struct Poster;

    impl super::Channel for Poster {
        fn deliver(
            message: &str,
            _event: &super::EventInfo,
            _config_json: &str,
            send: &mut super::Send<'_>,
        ) -> Result<super::Receipt, super::Error> {
            send(super::Request::post_json(
                "http://h/",
                &serde_json::Value::from(message),
            ))
            .map_err(|e| super::from_http_error("poster", e))?;
            Ok(super::Receipt::default())
        }

        fn validate_config(_config_json: &str) -> Result<(), super::Error> {
            Ok(())
        }
    }

    #[test]
    fn by_default_only_paging_failed_is_posted_as_a_message_of_its_own() {
        use super::{Change, Channel, EventInfo, Receipt, Response};
        let event = EventInfo {
            id: "inc-7".into(),
            resolved: false,
            severity: None,
            ack_url: None,
            payload: "{}".into(),
        };
        let mut bodies = Vec::new();
        let mut send = |r: super::Request| {
            bodies.push(String::from_utf8_lossy(&r.body).into_owned());
            Ok(Response {
                status: 200,
                headers: vec![],
                body: vec![],
            })
        };
        let receipt = Receipt::default();
        for change in [Change::Acknowledged, Change::Escalated, Change::Resolved] {
            Poster::update(&receipt, change, "disk full", &event, "{}", &mut send).expect("ok");
        }
        Poster::update(
            &receipt,
            Change::PagingFailed,
            "disk full",
            &event,
            "{}",
            &mut send,
        )
        .expect("posted");
        assert_eq!(bodies.len(), 1, "{bodies:?}");
        let expected = super::paging_failed_notice("inc-7", "disk full");
        assert_eq!(bodies[0], serde_json::Value::from(expected).to_string());
        assert!(bodies[0].starts_with("\"PAGING FAILED: "), "{}", bodies[0]);
    }
}

/// Why a call failed; mirrors the WIT `plugin-error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The message cannot be sent; retrying will not help.
    InvalidInput(String),
    /// The channel configuration is wrong.
    Config(String),
    /// Temporary failure: the host retries, no sooner than `retry_after_ms`.
    Transient {
        /// What went wrong.
        message: String,
        /// How long the remote side asked us to wait, if it said.
        retry_after_ms: Option<u64>,
    },
    /// The remote side refused for good.
    Permanent(String),
}

/// Refuses a message that rendered to nothing but white space: sending it
/// would post an empty message, and a template bug should be seen.
pub fn require_message(message: &str) -> Result<(), Error> {
    if message.trim().is_empty() {
        return Err(Error::InvalidInput(
            "the rendered message is empty; check the template".into(),
        ));
    }
    Ok(())
}

impl Error {
    /// A transient error without a requested wait.
    pub fn transient(message: impl Into<String>) -> Self {
        Self::Transient {
            message: message.into(),
            retry_after_ms: None,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidInput(m) => write!(f, "invalid input: {m}"),
            Self::Config(m) => write!(f, "config: {m}"),
            Self::Transient {
                message,
                retry_after_ms: Some(ms),
            } => write!(f, "transient: {message} (retry after {ms} ms)"),
            Self::Transient { message, .. } => write!(f, "transient: {message}"),
            Self::Permanent(m) => write!(f, "permanent: {m}"),
        }
    }
}

/// The parts of the WIT `event` a channel uses.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct EventInfo {
    /// Incident id.
    pub id: String,
    /// Whether the alert is resolved.
    pub resolved: bool,
    /// Severity, if known.
    pub severity: Option<String>,
    /// The signed ACK link while an escalation is pending.
    pub ack_url: Option<String>,
    /// The alert body as JSON text.
    pub payload: String,
}

/// Where a delivered message lives; mirrors the WIT `receipt`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Receipt {
    /// The destination as the remote side names it (a chat id, a URL host).
    pub destination: String,
    /// The remote side's id for the message; empty when it gives none.
    pub message_id: String,
}

/// An HTTP request for the host to send; mirrors the WIT `http.request`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Method, e.g. `POST`.
    pub method: String,
    /// Absolute URL.
    pub url: String,
    /// Header name/value pairs.
    pub headers: Vec<(String, String)>,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl Request {
    /// A request with no headers and no body.
    pub fn new(method: &str, url: impl Into<String>) -> Self {
        Self {
            method: method.into(),
            url: url.into(),
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// A `GET`.
    pub fn get(url: impl Into<String>) -> Self {
        Self::new("GET", url)
    }

    /// A `POST`; add the body with [`Request::json`] or [`Request::text`].
    pub fn post(url: impl Into<String>) -> Self {
        Self::new("POST", url)
    }

    /// A `PATCH`.
    pub fn patch(url: impl Into<String>) -> Self {
        Self::new("PATCH", url)
    }

    /// A `POST` of a JSON document.
    pub fn post_json(url: impl Into<String>, body: &serde_json::Value) -> Self {
        Self::post(url).json(body)
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// Adds `Authorization: Bearer <token>`.
    pub fn bearer(self, token: &str) -> Self {
        self.header("Authorization", &format!("Bearer {token}"))
    }

    /// Sets a JSON body and its `Content-Type`.
    pub fn json(mut self, body: &serde_json::Value) -> Self {
        self.body = body.to_string().into_bytes();
        self.header("Content-Type", "application/json")
    }

    /// Sets a plain-text body and its `Content-Type`.
    pub fn text(mut self, body: &str) -> Self {
        self.body = body.as_bytes().to_vec();
        self.header("Content-Type", "text/plain; charset=utf-8")
    }
}

/// The host's answer; mirrors the WIT `http.response`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Header name/value pairs, names in lower case.
    pub headers: Vec<(String, String)>,
    /// Body bytes (at most the host's cap).
    pub body: Vec<u8>,
}

impl Response {
    /// The first header of that name (any case).
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

    /// The body as JSON; `service` names the remote side in the error.
    pub fn json(&self, service: &str) -> Result<serde_json::Value, Error> {
        serde_json::from_slice(&self.body).map_err(|e| {
            Error::Permanent(format!(
                "{service} answered HTTP {} with a body that is not JSON ({e}): {}",
                self.status,
                body_snippet(&self.body)
            ))
        })
    }
}

/// Why the host sent no response; mirrors the WIT `http.error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpError {
    /// The URL is not on the plugin's allow-list.
    Denied(String),
    /// The URL, method or a header is malformed.
    InvalidRequest(String),
    /// No complete response in time.
    Timeout(String),
    /// The response body passed the host's cap.
    TooLarge(String),
    /// Connection or protocol failure.
    Transport(String),
}

/// Sends one request: the host import in the component, a fake in tests.
pub type Send<'a> = dyn FnMut(Request) -> Result<Response, HttpError> + 'a;

/// A change in an incident's state that a channel may show on its message;
/// mirrors the WIT `status-change` of `versus:gateway@0.2.0`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Acknowledged; escalation cancelled.
    Acknowledged,
    /// Escalated to the on-call response plan.
    Escalated,
    /// The alert resolved.
    Resolved,
    /// Starting the response plan failed for good: nobody was paged.
    PagingFailed,
}

/// What a channel that cannot change its message posts when paging
/// failed: the news first, then the incident's message as first rendered,
/// so it says which alert. (The gateway sends the same to channels built
/// on `versus:gateway@0.1.0`, which cannot be told.)
pub fn paging_failed_notice(id: &str, message: &str) -> String {
    format!(
        "PAGING FAILED: nobody acknowledged in time and the on-call response plan could not be \
         started, so nobody was paged. Page the on-call team by hand. (incident {id})\n\n{message}"
    )
}

/// One chat channel, in plain Rust.
pub trait Channel {
    /// Delivers `message` (the rendered text) for `event`, with the channel
    /// config `config_json` (a JSON object).
    fn deliver(
        message: &str,
        event: &EventInfo,
        config_json: &str,
        send: &mut Send<'_>,
    ) -> Result<Receipt, Error>;

    /// Shows `change` on the message `receipt` names; `message` is its text
    /// as first rendered. Most of these services cannot edit a message
    /// posted through a webhook, so by default a change is not shown,
    /// except that paging failed: that is posted as a message of its own
    /// ([`paging_failed_notice`]), since someone must act on it.
    fn update(
        _receipt: &Receipt,
        change: Change,
        message: &str,
        event: &EventInfo,
        config_json: &str,
        send: &mut Send<'_>,
    ) -> Result<(), Error>
    where
        Self: Sized,
    {
        if change != Change::PagingFailed {
            return Ok(());
        }
        let notice = paging_failed_notice(&event.id, message);
        Self::deliver(&notice, event, config_json, send).map(drop)
    }

    /// Checks `config_json` when the gateway loads the channel, sending
    /// nothing: a mistake is a [`Error::Config`] naming the key.
    fn validate_config(config_json: &str) -> Result<(), Error>;
}

/// `scheme://host[:port]` of `url`, for receipts: webhook URLs carry their
/// secret in the path or query, and receipts are stored and shown.
pub fn origin(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    // Credentials in the authority (`user:pass@host`) are dropped too.
    let host = authority.rsplit('@').next().unwrap_or(authority);
    format!("{scheme}://{host}")
}

/// Sends `request` and checks the status with [`check_status`]; `service`
/// names the remote side in messages.
pub fn send_checked(
    send: &mut Send<'_>,
    service: &str,
    request: Request,
) -> Result<Response, Error> {
    let response = send(request).map_err(|e| from_http_error(service, e))?;
    check_status(service, &response)?;
    Ok(response)
}

impl From<crate::Event> for EventInfo {
    fn from(event: crate::Event) -> Self {
        Self {
            id: event.id,
            resolved: event.resolved,
            severity: event.severity,
            ack_url: event.ack_url,
            payload: event.payload,
        }
    }
}

impl From<Error> for crate::PluginError {
    fn from(err: Error) -> Self {
        match err {
            Error::InvalidInput(m) => Self::InvalidInput(m),
            Error::Config(m) => Self::Config(m),
            Error::Transient {
                message,
                retry_after_ms,
            } => Self::Transient(crate::Retryable {
                message,
                retry_after_ms,
            }),
            Error::Permanent(m) => Self::Permanent(m),
        }
    }
}

/// Sends `request` through the host's `http` import: what
/// [`export_chat_channel!`](crate::export_chat_channel) passes as a
/// channel's [`Send`]. Outside a component (in `cargo test`) the import
/// does not exist, so tests pass a fake instead.
pub fn send_through_host(request: Request) -> Result<Response, HttpError> {
    use crate::http;
    let request = http::Request {
        method: request.method,
        url: request.url,
        headers: request.headers,
        body: request.body,
        timeout_ms: None,
    };
    match http::send(&request) {
        Ok(r) => Ok(Response {
            status: r.status,
            headers: r.headers,
            body: r.body,
        }),
        Err(http::Error::Denied(m)) => Err(HttpError::Denied(m)),
        Err(http::Error::InvalidRequest(m)) => Err(HttpError::InvalidRequest(m)),
        Err(http::Error::Timeout(m)) => Err(HttpError::Timeout(m)),
        Err(http::Error::TooLarge(m)) => Err(HttpError::TooLarge(m)),
        Err(http::Error::Transport(m)) => Err(HttpError::Transport(m)),
    }
}
