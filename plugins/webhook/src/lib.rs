//! Built-in webhook channel: sends each rendered alert to a URL of your
//! choosing, for services that take a plain HTTP call (an internal bot, a
//! ticketing hook, a chat service without a channel of its own).
//!
//! Config (the `config:` of a `channels:` entry):
//! - `url` (required): where to send;
//! - `method`: `POST` (default), `PUT` or `PATCH`;
//! - `headers`: `name: value` lines added to the request (e.g. an
//!   `Authorization` header from `${HOOK_TOKEN}`);
//! - `format`: what the body is:
//!   - `json` (default): an envelope, `{"message", "incident_id",
//!     "resolved", "severity", "ack_url", "alert"}`, with the rendered text
//!     in `message` and the alert as it was received in `alert`;
//!   - `text`: the rendered message itself, as `text/plain; charset=utf-8`;
//!   - `template`: the rendered message is the JSON body (the template
//!     writes the JSON); it must parse, else the delivery fails as invalid
//!     input instead of sending something the receiver cannot read.
//!
//! A `Content-Type` in `headers` replaces the one the format implies.

use serde_json::{Value, json};
use versus_plugin_sdk::chat::{
    Channel, Error, EventInfo, Receipt, Request, Send, Settings, send_checked,
};

/// What the request body is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The JSON envelope.
    Json,
    /// The rendered text.
    Text,
    /// The rendered text, which is a JSON document.
    Template,
}

/// Validated webhook settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Target URL.
    pub url: String,
    /// HTTP method.
    pub method: String,
    /// Extra headers, in config order.
    pub headers: Vec<(String, String)>,
    /// Body format.
    pub format: Format,
}

impl Config {
    /// Parses the channel config; errors name the key.
    pub fn parse(config_json: &str) -> Result<Self, Error> {
        let s = Settings::parse("webhook", config_json)?;
        let url = s.url("url", None)?;
        let method = s
            .text("method")?
            .unwrap_or_else(|| "POST".into())
            .to_ascii_uppercase();
        if !matches!(method.as_str(), "POST" | "PUT" | "PATCH") {
            return Err(Error::Config(format!(
                "webhook.method must be POST, PUT or PATCH, got {method:?}"
            )));
        }
        let headers = s.text_map("headers")?;
        for (name, value) in &headers {
            let bad_name = name.is_empty()
                || !name
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b));
            if bad_name {
                return Err(Error::Config(format!(
                    "webhook.headers: {name:?} is not a valid header name"
                )));
            }
            if value.contains(['\r', '\n']) {
                return Err(Error::Config(format!(
                    "webhook.headers.{name}: a header value cannot contain a line break"
                )));
            }
        }
        let format = match s.text("format")?.as_deref() {
            None | Some("json") => Format::Json,
            Some("text") => Format::Text,
            Some("template") => Format::Template,
            Some(other) => {
                return Err(Error::Config(format!(
                    "webhook.format must be json, text or template, got {other:?}"
                )));
            }
        };
        Ok(Self {
            url,
            method,
            headers,
            format,
        })
    }
}

/// The request for `message` about `event`.
pub fn build(message: &str, event: &EventInfo, config: &Config) -> Result<Request, Error> {
    let (content_type, body) = match config.format {
        Format::Json => {
            let alert: Value = serde_json::from_str(&event.payload).unwrap_or(Value::Null);
            let body = json!({
                "message": message,
                "incident_id": event.id,
                "resolved": event.resolved,
                "severity": event.severity,
                "ack_url": event.ack_url,
                "alert": alert,
            });
            ("application/json", body.to_string().into_bytes())
        }
        Format::Text => {
            if message.trim().is_empty() {
                return Err(Error::InvalidInput(
                    "the rendered message is empty; check the template".into(),
                ));
            }
            ("text/plain; charset=utf-8", message.as_bytes().to_vec())
        }
        Format::Template => {
            if let Err(e) = serde_json::from_str::<Value>(message) {
                return Err(Error::InvalidInput(format!(
                    "webhook.format is template but the rendered message is not JSON ({e}); \
                     check the template"
                )));
            }
            ("application/json", message.as_bytes().to_vec())
        }
    };
    let mut headers = Vec::with_capacity(config.headers.len() + 1);
    if !config
        .headers
        .iter()
        .any(|(n, _)| n.eq_ignore_ascii_case("content-type"))
    {
        headers.push(("Content-Type".to_string(), content_type.to_string()));
    }
    headers.extend(config.headers.iter().cloned());
    Ok(Request {
        method: config.method.clone(),
        url: config.url.clone(),
        headers,
        body,
    })
}

/// The webhook channel.
pub struct Webhook;

impl Channel for Webhook {
    fn deliver(
        message: &str,
        event: &EventInfo,
        config_json: &str,
        send: &mut Send<'_>,
    ) -> Result<Receipt, Error> {
        let config = Config::parse(config_json)?;
        let request = build(message, event, &config)?;
        send_checked(send, "webhook", request)?;
        Ok(Receipt {
            destination: versus_plugin_sdk::chat::origin(&config.url),
            message_id: String::new(),
        })
    }

    fn validate_config(config_json: &str) -> Result<(), Error> {
        Config::parse(config_json).map(drop)
    }
}

versus_plugin_sdk::export_chat_channel!(Webhook);

#[cfg(test)]
mod tests;
