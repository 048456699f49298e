//! Built-in Slack channel: posts the rendered message with `chat.postMessage`
//! (a red or green attachment, plus an ACK button while on-call is pending)
//! and rewrites it with `chat.update` when the incident changes state. With
//! `threads`, repeats and the resolve are posted in the incident's thread
//! (the gateway names the message in `reply_to`), and each state change
//! adds a note there too.
//!
//! It is a [`Channel`] of the SDK, so everything is plain Rust and tested
//! natively: [`Config`] parsing, building the [`Request`]s and reading
//! Slack's answers; `export_chat_channel!` is the component glue.

mod config;
mod message;
mod response;
mod thread;

pub use config::{Config, ReplyTo};
pub use message::{
    ACK_ACTION_ID, ACKNOWLEDGED_COLOR, ACTIONS_BLOCK_ID, ESCALATE_ACTION_ID, ESCALATED_COLOR,
    FIRING_COLOR, MAX_SECTIONS, PAGING_FAILED_COLOR, PAGING_FAILED_NOTE, RESOLVED_COLOR,
    SECTION_LIMIT, TRUNCATION_MARKER, build_post, build_update, fallback_text, post_body,
    split_sections, update_body,
};
pub use response::{Posted, from_http_error, interpret_response, retry_after_ms};
pub use thread::build_thread_note;
pub use versus_plugin_sdk::chat::{Change, Error, EventInfo, HttpError, Receipt, Request};
use versus_plugin_sdk::chat::{Channel, Send, parsed_once};

/// The channel.
pub struct Slack;

impl Channel for Slack {
    fn deliver(
        message: &str,
        event: &EventInfo,
        config_json: &str,
        send: &mut Send<'_>,
    ) -> Result<Receipt, Error> {
        let config = parsed_once(config_json, Config::parse)?;
        let request = build_post(message, event, &config)?;
        Ok(call(send, request)?.into_receipt(&config))
    }

    fn update(
        receipt: &Receipt,
        change: Change,
        message: &str,
        event: &EventInfo,
        config_json: &str,
        send: &mut Send<'_>,
    ) -> Result<(), Error> {
        let config = parsed_once(config_json, Config::parse)?;
        let request = build_update(receipt, change, message, event, &config)?;
        call(send, request)?;
        match build_thread_note(receipt, change, event, &config) {
            Some(note) => call(send, note).map(drop),
            None => Ok(()),
        }
    }

    fn validate_config(config_json: &str) -> Result<(), Error> {
        Config::parse(config_json).map(drop)
    }
}

/// Sends `request` and reads Slack's answer (`ok: false` with its error
/// code included; see [`interpret_response`]).
pub fn call(send: &mut Send<'_>, request: Request) -> Result<Posted, Error> {
    match send(request) {
        Ok(resp) => interpret_response(resp.status, &resp.headers, &resp.body),
        Err(err) => Err(from_http_error(err)),
    }
}

versus_plugin_sdk::export_chat_channel!(Slack);

#[cfg(test)]
mod tests;
