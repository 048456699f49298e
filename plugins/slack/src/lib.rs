//! Built-in Slack channel: posts the rendered message with `chat.postMessage`
//! (a red or green attachment, plus an ACK button while on-call is pending)
//! and rewrites it with `chat.update` when the incident changes state.
//!
//! Everything Slack-specific is plain Rust and tested natively: [`Config`]
//! parsing, building the [`Request`]s and reading Slack's answers. The
//! component glue at the bottom only converts WIT types and calls the host's
//! `http.send`.

mod config;
mod message;
mod response;

use std::fmt;

pub use config::Config;
pub use message::{
    ACKNOWLEDGED_COLOR, ESCALATED_COLOR, FIRING_COLOR, MAX_SECTIONS, PAGING_FAILED_COLOR,
    PAGING_FAILED_NOTE, RESOLVED_COLOR, SECTION_LIMIT, TRUNCATION_MARKER, build_post, build_update,
    fallback_text, post_body, split_sections, update_body,
};
pub use response::{Posted, from_http_error, interpret_response, retry_after_ms};

/// Why a call failed; mirrors the WIT `plugin-error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Error {
    /// The message or receipt cannot be sent; retrying will not help.
    InvalidInput(String),
    /// The channel configuration is wrong.
    Config(String),
    /// Temporary failure: the host retries, no sooner than `retry_after_ms`.
    Transient {
        /// What went wrong.
        message: String,
        /// How long Slack asked us to wait, if it said.
        retry_after_ms: Option<u64>,
    },
    /// Slack refused for good.
    Permanent(String),
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

/// Where a posted message lives; mirrors the WIT `receipt`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// Slack channel id.
    pub destination: String,
    /// Slack message `ts`.
    pub message_id: String,
}

/// A state change to show on a posted message; mirrors the WIT `status-change`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Acknowledged; escalation cancelled.
    Acknowledged,
    /// Escalated to the on-call response plan.
    Escalated,
    /// The alert resolved.
    Resolved,
    /// Starting the response plan failed: nobody was paged.
    PagingFailed,
}

/// An HTTP request for the host to send; mirrors the WIT `http.request`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// Always `POST` for the Slack Web API.
    pub method: String,
    /// Absolute URL of the API method.
    pub url: String,
    /// Header name/value pairs.
    pub headers: Vec<(String, String)>,
    /// JSON body.
    pub body: Vec<u8>,
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

#[cfg(target_arch = "wasm32")]
mod component {
    //! The component glue: WIT types in and out, HTTP through the host.

    // The code `generate!` emits passes every WIT parameter (lowered) as
    // its own argument.
    #![allow(clippy::too_many_arguments)]

    wit_bindgen::generate!({
        world: "versus:gateway/channel@0.2.0",
        path: ["../../wit", "../../wit-0.2"],
        generate_all,
    });

    // The allocator (a bump arena, then the system's) is the SDK's.

    use versus::gateway0_1_0::http;
    use versus::gateway0_1_0::log::{Level, log};

    struct Slack;

    impl Guest for Slack {
        fn deliver(
            message: String,
            event: Event,
            config_json: String,
        ) -> Result<Receipt, PluginError> {
            let config = crate::Config::parse(&config_json).map_err(to_wit)?;
            let request =
                crate::build_post(&message, event.resolved, event.ack_url.as_deref(), &config)
                    .map_err(to_wit)?;
            let posted = call("chat.postMessage", request)?;
            let receipt = posted.into_receipt(&config);
            Ok(Receipt {
                destination: receipt.destination,
                message_id: receipt.message_id,
            })
        }

        fn update(
            receipt: Receipt,
            change: StatusChange,
            message: String,
            _event: Event,
            config_json: String,
        ) -> Result<(), PluginError> {
            let config = crate::Config::parse(&config_json).map_err(to_wit)?;
            let receipt = crate::Receipt {
                destination: receipt.destination,
                message_id: receipt.message_id,
            };
            let change = match change {
                StatusChange::Acknowledged => crate::Change::Acknowledged,
                StatusChange::Escalated => crate::Change::Escalated,
                StatusChange::Resolved => crate::Change::Resolved,
                StatusChange::PagingFailed => crate::Change::PagingFailed,
            };
            let request =
                crate::build_update(&receipt, change, &message, &config).map_err(to_wit)?;
            call("chat.update", request).map(drop)
        }

        fn validate_config(config_json: String) -> Result<(), PluginError> {
            crate::Config::parse(&config_json).map(drop).map_err(to_wit)
        }
    }

    /// Sends `request` through the host and reads Slack's answer, logging
    /// the reason (with Slack's error code) when it failed.
    fn call(method: &str, request: crate::Request) -> Result<crate::Posted, PluginError> {
        let request = http::Request {
            method: request.method,
            url: request.url,
            headers: request.headers,
            body: request.body,
            timeout_ms: None,
        };
        let outcome = match http::send(&request) {
            Ok(resp) => crate::interpret_response(resp.status, &resp.headers, &resp.body),
            Err(err) => Err(crate::from_http_error(match err {
                http::Error::Denied(m) => crate::HttpError::Denied(m),
                http::Error::InvalidRequest(m) => crate::HttpError::InvalidRequest(m),
                http::Error::Timeout(m) => crate::HttpError::Timeout(m),
                http::Error::TooLarge(m) => crate::HttpError::TooLarge(m),
                http::Error::Transport(m) => crate::HttpError::Transport(m),
            })),
        };
        if let Err(err) = &outcome {
            log(Level::Warn, &format!("slack {method} failed: {err}"));
        }
        outcome.map_err(to_wit)
    }

    fn to_wit(err: crate::Error) -> PluginError {
        match err {
            crate::Error::InvalidInput(m) => PluginError::InvalidInput(m),
            crate::Error::Config(m) => PluginError::Config(m),
            crate::Error::Transient {
                message,
                retry_after_ms,
            } => PluginError::Transient(versus::gateway0_1_0::types::Retryable {
                message,
                retry_after_ms,
            }),
            crate::Error::Permanent(m) => PluginError::Permanent(m),
        }
    }

    export!(Slack);
}

#[cfg(test)]
mod tests;
