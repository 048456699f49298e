//! Built-in Microsoft Teams channel, with upstream Versus's payloads:
//! - an Office 365 connector URL (`…webhook.office.com…`) gets
//!   `{"text": message}`;
//! - a Power Automate URL gets an Adaptive Card when the message has
//!   Markdown in it (see [`card`]), else `{"messageText": message}` plus
//!   every top-level field of the alert, for flows that pick fields out.
//!
//! The host picks the URL: `power_automate_url`, or the entry of
//! `other_power_urls` named by `?msteams_other_power_url=`.

pub mod card;

use serde_json::{Map, Value, json};
use versus_plugin_sdk::chat::{
    Channel, Error, EventInfo, Receipt, Request, Send, Settings, origin, require_message,
    send_checked,
};

/// What marks an Office 365 connector (legacy incoming webhook) URL.
const CONNECTOR_MARK: &str = "webhook.office.com";

/// The JSON body upstream Versus sends for `message` to `url`.
pub fn payload(url: &str, message: &str, event: &EventInfo) -> Value {
    if url.contains(CONNECTOR_MARK) {
        return json!({ "text": message });
    }
    if card::has_markdown(message) {
        return card::adaptive_card(message);
    }
    let mut body = match serde_json::from_str::<Value>(&event.payload) {
        Ok(Value::Object(fields)) => fields,
        _ => Map::new(),
    };
    body.insert("messageText".into(), Value::String(message.to_owned()));
    Value::Object(body)
}

/// The Teams channel.
pub struct MsTeams;

impl Channel for MsTeams {
    fn deliver(
        message: &str,
        event: &EventInfo,
        config_json: &str,
        send: &mut Send<'_>,
    ) -> Result<Receipt, Error> {
        let s = Settings::parse("msteams", config_json)?;
        let url = s.url("power_automate_url", None)?;
        require_message(message)?;
        let request = Request::post_json(url.clone(), &payload(&url, message, event));
        send_checked(send, "msteams", request)?;
        Ok(Receipt {
            destination: origin(&url),
            message_id: String::new(),
        })
    }

    fn validate_config(config_json: &str) -> Result<(), Error> {
        let s = Settings::parse("msteams", config_json)?;
        s.url("power_automate_url", None).map(drop)
    }
}

versus_plugin_sdk::export_chat_channel!(MsTeams);

#[cfg(test)]
mod tests;
