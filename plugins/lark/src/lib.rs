//! Built-in Lark (Feishu) channel: posts an interactive card to a custom
//! bot's webhook, as upstream Versus does: a plain-text header
//! `🔴 Firing Alert` or `🟢 Resolved Alert` and one Markdown element with the
//! rendered message, trimmed.
//!
//! Lark answers HTTP 200 even when it refuses, with a non-zero `code` (or
//! `StatusCode` from older deployments) in the body; that is an error here,
//! retried only for its rate limit (`11232`, "frequency limited").
//!
//! The host picks the URL: `webhook_url`, or the entry of
//! `other_webhook_urls` named by `?lark_other_webhook_url=`.

use serde_json::{Value, json};
use versus_plugin_sdk::chat::{
    Channel, Error, EventInfo, Receipt, Request, Send, Settings, body_snippet, origin,
    require_message, send_checked,
};

/// Lark's code for "frequency limited": too many messages, try later.
pub const RATE_LIMITED: i64 = 11232;

/// The card upstream sends for `message`.
pub fn card(message: &str, resolved: bool) -> Value {
    let title = if resolved {
        "🟢 Resolved Alert"
    } else {
        "🔴 Firing Alert"
    };
    json!({
        "msg_type": "interactive",
        "card": {
            "header": { "title": { "tag": "plain_text", "content": title } },
            "elements": [{ "tag": "markdown", "content": message.trim() }],
        },
    })
}

/// Reads the body of a 2xx answer: `code` 0 (or none) is success.
pub fn interpret(body: &[u8]) -> Result<(), Error> {
    let Ok(doc) = serde_json::from_slice::<Value>(body) else {
        return Ok(());
    };
    let code = doc
        .get("code")
        .or_else(|| doc.get("StatusCode"))
        .and_then(Value::as_i64)
        .unwrap_or(0);
    if code == 0 {
        return Ok(());
    }
    let msg = doc
        .get("msg")
        .or_else(|| doc.get("StatusMessage"))
        .and_then(Value::as_str)
        .map_or_else(|| body_snippet(body), str::to_owned);
    let message = format!("lark error {code}: {msg}");
    if code == RATE_LIMITED {
        return Err(Error::transient(message));
    }
    Err(Error::Permanent(message))
}

/// The Lark channel.
pub struct Lark;

impl Channel for Lark {
    fn deliver(
        message: &str,
        event: &EventInfo,
        config_json: &str,
        send: &mut Send<'_>,
    ) -> Result<Receipt, Error> {
        let s = Settings::parse("lark", config_json)?;
        let url = s.url("webhook_url", None)?;
        require_message(message)?;
        let request = Request::post_json(url.clone(), &card(message, event.resolved));
        let response = send_checked(send, "lark", request)?;
        interpret(&response.body)?;
        Ok(Receipt {
            destination: origin(&url),
            message_id: String::new(),
        })
    }

    fn validate_config(config_json: &str) -> Result<(), Error> {
        let s = Settings::parse("lark", config_json)?;
        s.url("webhook_url", None).map(drop)
    }
}

versus_plugin_sdk::export_chat_channel!(Lark);

#[cfg(test)]
mod tests {
    use versus_plugin_sdk::chat::{HttpError, Response};

    use super::*;

    #[test]
    fn the_card_has_the_state_in_its_title() {
        assert_eq!(
            card("\n**x**\n\n", false),
            json!({"msg_type": "interactive", "card": {
                "header": {"title": {"tag": "plain_text", "content": "🔴 Firing Alert"}},
                "elements": [{"tag": "markdown", "content": "**x**"}]}})
        );
        assert_eq!(
            card("y", true)["card"]["header"]["title"]["content"],
            "🟢 Resolved Alert"
        );
    }

    #[test]
    fn codes_in_the_body_are_errors() {
        assert_eq!(interpret(br#"{"code":0,"msg":"success"}"#), Ok(()));
        assert_eq!(interpret(br#"{"StatusCode":0}"#), Ok(()));
        assert_eq!(interpret(b"ok"), Ok(()));
        assert_eq!(
            interpret(br#"{"code":19021,"msg":"sign match fail or timestamp is not within one hour from current time"}"#),
            Err(Error::Permanent(
                "lark error 19021: sign match fail or timestamp is not within one hour from current time".into()
            ))
        );
        assert!(matches!(
            interpret(br#"{"code":11232,"msg":"frequency limited"}"#),
            Err(Error::Transient { .. })
        ));
    }

    #[test]
    fn delivery() {
        let mut send = |r: Request| -> Result<Response, HttpError> {
            assert_eq!(r.url, "https://open.larksuite.com/open-apis/bot/v2/hook/T");
            Ok(Response {
                status: 200,
                body: br#"{"code":0}"#.to_vec(),
                ..Response::default()
            })
        };
        let config = r#"{"webhook_url":"https://open.larksuite.com/open-apis/bot/v2/hook/T"}"#;
        let r = Lark::deliver("m", &EventInfo::default(), config, &mut send).expect("ok");
        assert_eq!(r.destination, "https://open.larksuite.com");
        assert!(matches!(
            Lark::deliver(" ", &EventInfo::default(), config, &mut send),
            Err(Error::InvalidInput(_))
        ));
    }
}
