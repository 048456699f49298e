//! Reading Slack's answer: which failures the host should retry.
//!
//! Strategy: when in doubt, do not retry. A retried `chat.postMessage` that
//! had in fact gone through posts the alert twice, so only failures that are
//! temporary by nature (rate limits, 5xx, Slack's own "try again" codes,
//! network trouble) are `transient`.

use serde::Deserialize;
use serde_json::Value;
pub use versus_plugin_sdk::chat::retry_after_ms;
use versus_plugin_sdk::chat::transient_status;

use crate::{Config, Error, HttpError, Receipt};

/// What Slack said about a successful call.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Posted {
    /// The channel id Slack reports, if any.
    pub channel: Option<String>,
    /// The message `ts`, if any.
    pub ts: Option<String>,
}

impl Posted {
    /// The receipt for a posted message; the channel falls back to the
    /// configured one if Slack did not name it.
    pub fn into_receipt(self, config: &Config) -> Receipt {
        Receipt {
            destination: self.channel.unwrap_or_else(|| config.channel_id.clone()),
            message_id: self.ts.unwrap_or_default(),
        }
    }
}

/// Classifies an HTTP response from the Slack Web API.
///
/// | response | result |
/// |---|---|
/// | 2xx, JSON `ok: true` | `Ok` |
/// | 2xx, `ok: false`, `ratelimited` | transient, with `Retry-After` |
/// | 2xx, `ok: false`, `internal_error`, `fatal_error`, `service_unavailable`, `request_timeout` | transient |
/// | 2xx, `ok: false`, any other code (`invalid_auth`, `channel_not_found`, ...) | permanent `slack error: <code>` |
/// | 2xx, body not JSON | permanent |
/// | 429 | transient, with `Retry-After` |
/// | 408, 5xx | transient, with `Retry-After` if sent |
/// | any other status | permanent |
///
/// The statuses are classified as in every plugin
/// ([`versus_plugin_sdk::chat::transient_status`]).
pub fn interpret_response(
    status: u16,
    headers: &[(String, String)],
    body: &[u8],
) -> Result<Posted, Error> {
    let retry_after = retry_after_ms(headers);
    let doc = Answer::read(body);
    let code = doc.as_ref().and_then(|d| text(&d.error));
    let detail = code.map(|c| format!(": {c}")).unwrap_or_default();

    if status == 429 {
        return Err(Error::Transient {
            message: format!("slack http 429 (rate limited){detail}"),
            retry_after_ms: retry_after,
        });
    }
    if transient_status(status) {
        return Err(Error::Transient {
            message: format!("slack http {status}{detail}"),
            retry_after_ms: retry_after,
        });
    }
    if !(200..=299).contains(&status) {
        return Err(Error::Permanent(format!("slack http {status}{detail}")));
    }
    let Some(doc) = &doc else {
        return Err(Error::Permanent(format!(
            "slack http {status}: response body is not JSON"
        )));
    };
    if doc.ok.as_ref().and_then(Value::as_bool) == Some(true) {
        let owned = |v: &Option<Value>| text(v).map(str::to_owned);
        return Ok(Posted {
            channel: owned(&doc.channel).filter(|c| !c.is_empty()),
            ts: owned(&doc.ts),
        });
    }
    Err(classify_code(code.unwrap_or("unknown"), retry_after))
}

/// The members of Slack's answer that matter here. A real answer also
/// carries the whole posted message, which is skipped, not built.
#[derive(Deserialize)]
struct Answer {
    ok: Option<Value>,
    error: Option<Value>,
    channel: Option<Value>,
    ts: Option<Value>,
}

impl Answer {
    /// The answer, or `None` when the body is not JSON. JSON that is not
    /// an object, or names a member twice, is read as a whole document
    /// (the last of a repeated member counts), as before this shortcut.
    fn read(body: &[u8]) -> Option<Self> {
        // Only an object: serde would also read an array into the fields.
        let object = body.trim_ascii_start().starts_with(b"{");
        if object && let Ok(answer) = serde_json::from_slice(body) {
            return Some(answer);
        }
        let doc: Value = serde_json::from_slice(body).ok()?;
        let member = |key: &str| doc.get(key).cloned();
        Some(Self {
            ok: member("ok"),
            error: member("error"),
            channel: member("channel"),
            ts: member("ts"),
        })
    }
}

/// A member's text, when it is a string.
fn text(member: &Option<Value>) -> Option<&str> {
    member.as_ref().and_then(Value::as_str)
}

/// Maps a Slack `ok: false` error code to a retry decision.
fn classify_code(code: &str, retry_after_ms: Option<u64>) -> Error {
    let message = format!("slack error: {code}");
    match code {
        "ratelimited" | "rate_limited" => Error::Transient {
            message,
            retry_after_ms,
        },
        // Slack's documented "something went wrong on our side, try again".
        "internal_error" | "fatal_error" | "service_unavailable" | "request_timeout" => {
            Error::Transient {
                message,
                retry_after_ms,
            }
        }
        // Everything else, including the codes below that we know mean a
        // bad token, channel or message, will fail the same way next time:
        // invalid_auth, not_authed, account_inactive, token_revoked,
        // channel_not_found, not_in_channel, is_archived, msg_too_long,
        // no_text, invalid_blocks, missing_scope.
        _ => Error::Permanent(message),
    }
}

/// Maps a host HTTP failure: network trouble is retried, a request the host
/// refuses to send is a configuration problem.
pub fn from_http_error(err: HttpError) -> Error {
    let transient = |message: String| Error::Transient {
        message,
        retry_after_ms: None,
    };
    match err {
        HttpError::Timeout(m) => transient(format!("slack request timed out: {m}")),
        HttpError::Transport(m) => transient(format!("slack request failed: {m}")),
        // The answer came (a post may have gone through) and will be as
        // large next time: as in every plugin, not retried.
        HttpError::TooLarge(m) => Error::Permanent(format!("slack response too large: {m}")),
        HttpError::Denied(m) => Error::Config(format!(
            "slack api_url is not allowed for this plugin ({m}); allow its host"
        )),
        HttpError::InvalidRequest(m) => {
            Error::Config(format!("slack request is invalid ({m}); check api_url"))
        }
    }
}
