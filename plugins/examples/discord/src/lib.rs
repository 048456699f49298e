//! Example channel plugin on the SDK: posts each alert to a Discord
//! webhook, and edits that message when the incident is acknowledged,
//! escalated or resolved, or when paging failed.
//!
//! Config (the `config:` of a `channels:` entry): `webhook_url` (required)
//! and `username` (optional, the name the message is posted under).

use serde_json::{Value, json};
use versus_plugin_sdk::chat::{
    self, Change, Channel, Error, EventInfo, Receipt, Request, Send, Settings,
};
use versus_plugin_sdk::truncate;

/// Names Discord in messages and in the receipt.
const SERVICE: &str = "discord";

/// Discord refuses message content longer than this.
const MAX_CONTENT: usize = 2000;

/// The channel.
pub struct Discord;

impl Channel for Discord {
    fn deliver(
        message: &str,
        _event: &EventInfo,
        config: &str,
        send: &mut Send<'_>,
    ) -> Result<Receipt, Error> {
        chat::require_message(message)?;
        let settings = Settings::parse(SERVICE, config)?;
        let url = settings.url("webhook_url", None)?;
        let body = body(&settings, message)?;
        // With `wait=true` Discord answers with the message; `update` needs its id.
        let answer = chat::send_checked(send, SERVICE, Request::post(post_url(&url)).json(&body))?
            .json(SERVICE)?;
        let id = answer["id"]
            .as_str()
            .ok_or_else(|| Error::Permanent("Discord's answer has no message id".into()))?;
        // Not the URL: its path holds the webhook's secret token.
        Ok(Receipt {
            destination: SERVICE.into(),
            message_id: id.into(),
        })
    }

    fn update(
        receipt: &Receipt,
        change: Change,
        message: &str,
        _event: &EventInfo,
        config: &str,
        send: &mut Send<'_>,
    ) -> Result<(), Error> {
        let settings = Settings::parse(SERVICE, config)?;
        let url = settings.url("webhook_url", None)?;
        let body = body(&settings, &format!("**{}**\n{message}", label(change)))?;
        let edit = Request::patch(edit_url(&url, &receipt.message_id)).json(&body);
        chat::send_checked(send, SERVICE, edit).map(drop)
    }

    fn validate_config(config: &str) -> Result<(), Error> {
        let settings = Settings::parse(SERVICE, config)?;
        settings.url("webhook_url", None)?;
        settings.text("username").map(drop)
    }
}

/// The webhook call's JSON body.
pub fn body(settings: &Settings, text: &str) -> Result<Value, Error> {
    let mut body = json!({ "content": truncate(text, MAX_CONTENT) });
    if let Some(name) = settings.text("username")? {
        body["username"] = name.into();
    }
    Ok(body)
}

/// The line put above an edited message.
pub fn label(change: Change) -> &'static str {
    match change {
        Change::Acknowledged => "✅ Acknowledged",
        Change::Escalated => "🚨 Escalated to on-call",
        Change::Resolved => "✔️ Resolved",
        Change::PagingFailed => {
            "⛔ Paging failed: nobody was paged. Page the on-call team by hand."
        }
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

versus_plugin_sdk::export_chat_channel!(Discord);

#[cfg(test)]
mod tests {
    use versus_plugin_sdk::chat::{HttpError, Response};

    use super::*;

    const CONFIG: &str = r#"{"webhook_url": "https://discord.example/api/webhooks/1/tok"}"#;

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
        let settings = Settings::parse(SERVICE, r#"{"username": "versus"}"#).expect("config");
        let body = body(&settings, &"x".repeat(3000)).expect("body");
        assert_eq!(
            body["content"].as_str().map(|s| s.chars().count()),
            Some(MAX_CONTENT)
        );
        assert_eq!(body["username"], "versus");
        let plain = super::body(&Settings::parse(SERVICE, "{}").expect("config"), "hi");
        assert_eq!(plain.expect("body"), json!({ "content": "hi" }));
    }

    /// Delivery posts with `wait=true` and keeps the id Discord answers;
    /// an update edits that message. No host: a fake `Send` answers.
    #[test]
    fn delivers_then_edits_the_same_message() {
        let mut sent = Vec::new();
        let mut send = |r: Request| {
            sent.push(r);
            Ok(Response {
                status: 200,
                headers: vec![],
                body: br#"{"id": "77"}"#.to_vec(),
            })
        };
        let event = EventInfo::default();
        let receipt = Discord::deliver("disk full", &event, CONFIG, &mut send).expect("sent");
        assert_eq!(receipt.message_id, "77");
        Discord::update(
            &receipt,
            Change::Acknowledged,
            "disk full",
            &event,
            CONFIG,
            &mut send,
        )
        .expect("edited");
        assert_eq!(sent[0].method, "POST");
        assert!(sent[0].url.ends_with("/1/tok?wait=true"), "{}", sent[0].url);
        assert_eq!(sent[1].method, "PATCH");
        assert!(
            sent[1].url.ends_with("/1/tok/messages/77"),
            "{}",
            sent[1].url
        );
        let edited: Value = serde_json::from_slice(&sent[1].body).expect("json");
        assert_eq!(edited["content"], "**✅ Acknowledged**\ndisk full");
    }

    /// 429 is transient with Discord's wait kept; 404 (a deleted webhook)
    /// is permanent; a timeout is transient.
    #[test]
    fn failures_map_to_what_the_host_does() {
        let answer = |status: u16, headers: Vec<(String, String)>| {
            move |_: Request| {
                Ok(Response {
                    status,
                    headers: headers.clone(),
                    body: vec![],
                })
            }
        };
        let event = EventInfo::default();
        let busy = Discord::deliver(
            "m",
            &event,
            CONFIG,
            &mut answer(429, vec![("retry-after".into(), "2".into())]),
        );
        assert!(
            matches!(
                busy,
                Err(Error::Transient {
                    retry_after_ms: Some(2000),
                    ..
                })
            ),
            "{busy:?}"
        );
        let gone = Discord::deliver("m", &event, CONFIG, &mut answer(404, vec![]));
        assert!(matches!(gone, Err(Error::Permanent(_))), "{gone:?}");
        let mut hang = |_: Request| Err(HttpError::Timeout("30s".into()));
        let slow = Discord::deliver("m", &event, CONFIG, &mut hang);
        assert!(matches!(slow, Err(Error::Transient { .. })), "{slow:?}");
    }

    #[test]
    fn a_config_without_a_url_is_refused_naming_the_key() {
        let err = Discord::validate_config("{}").expect_err("refused");
        assert!(
            matches!(&err, Error::Config(m) if m.contains("webhook_url")),
            "{err}"
        );
        Discord::validate_config(CONFIG).expect("valid");
    }
}
