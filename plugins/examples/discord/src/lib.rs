//! Example channel plugin on the SDK: posts each alert to a Discord
//! webhook, and edits that message when the incident is acknowledged,
//! escalated or resolved.
//!
//! Config (the `config:` of a `channels:` entry): `webhook_url` (required)
//! and `username` (optional, the name the message is posted under).

use serde_json::{Value, json};
use versus_plugin_sdk::{Event, PluginError, Receipt, Request, Settings, StatusChange, truncate};

/// Discord refuses message content longer than this.
const MAX_CONTENT: usize = 2000;

/// The channel.
pub struct Discord;

impl versus_plugin_sdk::channel::Guest for Discord {
    fn deliver(message: String, _event: Event, config: String) -> Result<Receipt, PluginError> {
        if message.trim().is_empty() {
            return Err(PluginError::invalid_input("the rendered message is empty"));
        }
        let settings = Settings::parse(&config)?;
        let url = settings.url("webhook_url")?;
        let body = body(&settings, &message)?;
        // With `wait=true` Discord answers with the message; `update` needs its id.
        let answer = Request::post(&post_url(&url))
            .json(&body)
            .send_ok()?
            .json()?;
        let id = answer["id"]
            .as_str()
            .ok_or_else(|| PluginError::permanent("Discord's answer has no message id"))?;
        // Not the URL: its path holds the webhook's secret token.
        Ok(Receipt {
            destination: "discord".into(),
            message_id: id.into(),
        })
    }

    fn update(
        receipt: Receipt,
        change: StatusChange,
        message: String,
        _event: Event,
        config: String,
    ) -> Result<(), PluginError> {
        let settings = Settings::parse(&config)?;
        let url = settings.url("webhook_url")?;
        let body = body(&settings, &format!("**{}**\n{message}", label(change)))?;
        Request::patch(&edit_url(&url, &receipt.message_id))
            .json(&body)
            .send_ok()?;
        Ok(())
    }
}

/// The webhook call's JSON body.
pub fn body(settings: &Settings, text: &str) -> Result<Value, PluginError> {
    let mut body = json!({ "content": truncate(text, MAX_CONTENT) });
    if let Some(name) = settings.text("username")? {
        body["username"] = name.into();
    }
    Ok(body)
}

/// The line put above an edited message.
pub fn label(change: StatusChange) -> &'static str {
    match change {
        StatusChange::Acknowledged => "✅ Acknowledged",
        StatusChange::Escalated => "🚨 Escalated to on-call",
        StatusChange::Resolved => "✔️ Resolved",
    }
}

/// `url` with `wait=true` added to its query.
pub fn post_url(url: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}wait=true")
}

/// Where message `id` of webhook `url` is edited.
pub fn edit_url(url: &str, id: &str) -> String {
    let (base, query) = url.split_once('?').unwrap_or((url, ""));
    let base = base.trim_end_matches('/');
    match query {
        "" => format!("{base}/messages/{id}"),
        q => format!("{base}/messages/{id}?{q}"),
    }
}

versus_plugin_sdk::export_channel!(Discord);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let hook = "https://discord.com/api/webhooks/1/tok";
        assert_eq!(post_url(hook), format!("{hook}?wait=true"));
        assert_eq!(
            post_url("http://h/x?thread_id=9"),
            "http://h/x?thread_id=9&wait=true"
        );
        assert_eq!(edit_url(hook, "42"), format!("{hook}/messages/42"));
        assert_eq!(
            edit_url("http://h/x/?thread_id=9", "42"),
            "http://h/x/messages/42?thread_id=9"
        );
    }

    #[test]
    fn body_is_cut_to_discords_limit_and_named() {
        let settings = Settings::parse(r#"{"username": "versus"}"#).expect("config");
        let body = body(&settings, &"x".repeat(3000)).expect("body");
        assert_eq!(
            body["content"].as_str().map(|s| s.chars().count()),
            Some(MAX_CONTENT)
        );
        assert_eq!(body["username"], "versus");
        let plain = super::body(&Settings::default(), "hi").expect("body");
        assert_eq!(plain, json!({ "content": "hi" }));
    }
}
