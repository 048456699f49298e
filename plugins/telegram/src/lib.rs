//! Built-in Telegram channel: posts the rendered message with the Bot API's
//! `sendMessage`, in HTML parse mode, as upstream Versus does
//! (`{api_url}bot<token>/sendMessage` with `chat_id`, `text` and
//! `parse_mode: "HTML"`), with link previews off: to build a preview,
//! Telegram fetches the first link of the message, which is often the ACK
//! link. On ACK, escalation and resolve it edits that message with
//! `editMessageText`: the same text with a line saying what happened.
//!
//! Telegram answers 429 with `parameters.retry_after` (seconds) and 5xx when
//! it is in trouble: both are retried, as 408 is. Anything else that is not `ok`
//! (a bad token, an unknown chat, HTML that does not parse) is permanent.
//! The bot token is part of the URL, so it is masked in every error.

use serde_json::{Value, json};
use versus_plugin_sdk::chat::{
    Change, Channel, Error, EventInfo, Receipt, Request, Send, Settings, body_snippet,
    from_http_error, require_message, retry_after_ms, transient_status,
};

/// The Bot API base URL used when `api_url` is not set.
pub const DEFAULT_API_URL: &str = "https://api.telegram.org/";

/// Telegram's limit on a message's text, in characters (after entities are
/// parsed; we count the raw text, which is never shorter).
pub const TEXT_LIMIT: usize = 4096;

/// Shown instead of the bot token in error messages.
const TOKEN_MASK: &str = "<bot_token>";

/// Validated Telegram settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Bot token (`123456:ABC…`).
    pub bot_token: String,
    /// Chat to post to: a numeric id or `@channelname`.
    pub chat_id: String,
    /// Bot API base URL, ending in `/`.
    pub api_url: String,
}

impl Config {
    /// Parses the channel config (`bot_token`, `chat_id`, `api_url`).
    pub fn parse(config_json: &str) -> Result<Self, Error> {
        let s = Settings::parse("telegram", config_json)?;
        let bot_token = s.required("bot_token")?;
        if bot_token.contains(['/', '?', '#']) || bot_token.contains(char::is_whitespace) {
            return Err(Error::Config(
                "telegram.bot_token must look like 123456:ABC-DEF… (no '/', '?', '#' or spaces)"
                    .into(),
            ));
        }
        let chat_id = s.required("chat_id")?;
        let api_url = s.base_url("api_url", Some(DEFAULT_API_URL))?;
        Ok(Self {
            bot_token,
            chat_id,
            api_url,
        })
    }
}

/// The `sendMessage` request for `message`.
pub fn build_send(message: &str, config: &Config) -> Result<Request, Error> {
    require_message(message)?;
    let body = json!({
        "chat_id": config.chat_id,
        "text": message,
        "parse_mode": "HTML",
        // No preview: it would fetch the ACK link and crowd the alert.
        "link_preview_options": { "is_disabled": true },
    });
    Ok(Request::post_json(
        format!("{}bot{}/sendMessage", config.api_url, config.bot_token),
        &body,
    ))
}

/// The line an edit adds for `change` (HTML).
pub fn change_note(change: Change) -> &'static str {
    match change {
        Change::Acknowledged => "✅ <b>Acknowledged</b> — escalation cancelled",
        Change::Escalated => "🚨 <b>Escalated to on-call</b>",
        Change::Resolved => "✅ <b>Resolved</b>",
        Change::PagingFailed => {
            "⛔ <b>Paging failed</b> — nobody was paged. Page the on-call team by hand."
        }
    }
}

/// `text` with the three characters Telegram's HTML mode reserves escaped.
fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The `editMessageText` request that shows `change` on the message
/// `receipt` names: its text as first rendered, then a blank line and the
/// note. When both would pass [`TEXT_LIMIT`], whole lines are dropped from
/// the end of the message (never part of a line, so no HTML tag is cut).
pub fn build_edit(
    receipt: &Receipt,
    change: Change,
    message: &str,
    targets: Option<&str>,
    config: &Config,
) -> Result<Request, Error> {
    let message_id: i64 = receipt.message_id.parse().map_err(|_| {
        Error::InvalidInput(format!(
            "receipt has no Telegram message id to edit (`{}`)",
            receipt.message_id
        ))
    })?;
    let chat_id = if receipt.destination.is_empty() {
        &config.chat_id
    } else {
        &receipt.destination
    };
    let note = match targets {
        Some(targets) => format!("{}\nOn-call: {}", change_note(change), html_escape(targets)),
        None => change_note(change).to_string(),
    };
    let room = TEXT_LIMIT.saturating_sub(note.chars().count() + 2);
    let mut kept = String::new();
    for line in message.trim_end().split_inclusive('\n') {
        if kept.chars().count() + line.chars().count() > room {
            break;
        }
        kept.push_str(line);
    }
    let text = format!("{}\n\n{note}", kept.trim_end());
    let body = json!({
        "chat_id": chat_id,
        "message_id": message_id,
        "text": text.trim_start(),
        "parse_mode": "HTML",
        "link_preview_options": { "is_disabled": true },
    });
    Ok(Request::post_json(
        format!("{}bot{}/editMessageText", config.api_url, config.bot_token),
        &body,
    ))
}

/// Reads Telegram's answer to `sendMessage`: the message id on success.
pub fn interpret(status: u16, headers: &[(String, String)], body: &[u8]) -> Result<String, Error> {
    let doc: Option<Value> = serde_json::from_slice(body).ok();
    let ok = doc.as_ref().and_then(|d| d["ok"].as_bool());
    if (200..=299).contains(&status) && ok != Some(false) {
        let id = doc
            .as_ref()
            .map(|d| &d["result"]["message_id"])
            .and_then(|v| v.as_i64().map(|n| n.to_string()))
            .unwrap_or_default();
        return Ok(id);
    }
    let description = doc
        .as_ref()
        .and_then(|d| d["description"].as_str())
        .map(str::to_owned)
        .unwrap_or_else(|| body_snippet(body));
    let message = if description.is_empty() {
        format!("telegram http {status}")
    } else {
        format!("telegram http {status}: {description}")
    };
    let retry_after = retry_after_ms(headers).or_else(|| {
        doc.as_ref()
            .and_then(|d| d["parameters"]["retry_after"].as_u64())
            .map(|s| s.saturating_mul(1000))
    });
    if transient_status(status) {
        return Err(Error::Transient {
            message,
            retry_after_ms: retry_after,
        });
    }
    Err(Error::Permanent(message))
}

/// Replaces the bot token in an error's text.
fn mask(err: Error, token: &str) -> Error {
    let m = |s: String| s.replace(token, TOKEN_MASK);
    match err {
        Error::InvalidInput(s) => Error::InvalidInput(m(s)),
        Error::Config(s) => Error::Config(m(s)),
        Error::Transient {
            message,
            retry_after_ms,
        } => Error::Transient {
            message: m(message),
            retry_after_ms,
        },
        Error::Permanent(s) => Error::Permanent(m(s)),
    }
}

/// The Telegram channel.
pub struct Telegram;

impl Channel for Telegram {
    fn deliver(
        message: &str,
        _event: &EventInfo,
        config_json: &str,
        send: &mut Send<'_>,
    ) -> Result<Receipt, Error> {
        let config = Config::parse(config_json)?;
        let request = build_send(message, &config)?;
        let outcome = send(request)
            .map_err(|e| from_http_error("telegram", e))
            .and_then(|r| interpret(r.status, &r.headers, &r.body));
        let message_id = outcome.map_err(|e| mask(e, &config.bot_token))?;
        Ok(Receipt {
            destination: config.chat_id,
            message_id,
        })
    }

    fn update(
        receipt: &Receipt,
        change: Change,
        message: &str,
        event: &EventInfo,
        config_json: &str,
        send: &mut Send<'_>,
    ) -> Result<(), Error> {
        let config = Config::parse(config_json)?;
        let targets = event.oncall_targets();
        let request = build_edit(receipt, change, message, targets.as_deref(), &config)?;
        send(request)
            .map_err(|e| from_http_error("telegram", e))
            .and_then(|r| interpret(r.status, &r.headers, &r.body))
            .map(drop)
            .map_err(|e| mask(e, &config.bot_token))
    }

    fn validate_config(config_json: &str) -> Result<(), Error> {
        Config::parse(config_json).map(drop)
    }
}

versus_plugin_sdk::export_chat_channel!(Telegram);

#[cfg(test)]
mod tests;
