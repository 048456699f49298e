//! Built-in Viber channel, as upstream Versus sends it, with the bot's auth
//! token in `X-Viber-Auth-Token`:
//! - `api_type: bot` (the default, as in upstream's code): `send_message`
//!   to `user_id`, sender name `Versus Incident`;
//! - `api_type: channel`: `post_to_channel/<channel_id>`.
//!
//! Viber answers HTTP 200 with a `status` in the body; non-zero is an error,
//! retried only for its rate limit (`12`, "too many requests").

use serde_json::{Value, json};
use versus_plugin_sdk::chat::{
    Channel, Error, EventInfo, Receipt, Request, Send, Settings, body_snippet, require_message,
    send_checked,
};

/// The Viber REST API base used when `api_url` is not set.
pub const DEFAULT_API_URL: &str = "https://chatapi.viber.com/pa/";

/// Viber's status for "too many requests".
pub const RATE_LIMITED: i64 = 12;

/// Which Viber API to use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Bot API: a message to one user.
    Bot {
        /// The receiving user's id.
        user_id: String,
    },
    /// Channels Post API.
    Channel {
        /// The channel id.
        channel_id: String,
    },
}

/// Validated Viber settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// `X-Viber-Auth-Token`.
    pub bot_token: String,
    /// Where messages go.
    pub target: Target,
    /// API base URL, ending in `/`.
    pub api_url: String,
}

impl Config {
    /// Parses the channel config.
    pub fn parse(config_json: &str) -> Result<Self, Error> {
        let s = Settings::parse("viber", config_json)?;
        let bot_token = s.required("bot_token")?;
        if bot_token.contains(['\r', '\n']) {
            return Err(Error::Config(
                "viber.bot_token cannot contain a line break".into(),
            ));
        }
        let target = match s.text("api_type")?.as_deref() {
            None | Some("bot") => Target::Bot {
                user_id: s.required("user_id")?,
            },
            Some("channel") => Target::Channel {
                channel_id: s.required("channel_id")?,
            },
            Some(other) => {
                return Err(Error::Config(format!(
                    "viber.api_type must be bot or channel, got {other:?}"
                )));
            }
        };
        let api_url = s.base_url("api_url", Some(DEFAULT_API_URL))?;
        Ok(Self {
            bot_token,
            target,
            api_url,
        })
    }
}

/// The request for `message`.
pub fn build(message: &str, config: &Config) -> Result<Request, Error> {
    require_message(message)?;
    let (url, body) = match &config.target {
        Target::Bot { user_id } => (
            format!("{}send_message", config.api_url),
            json!({
                "receiver": user_id,
                "type": "text",
                "text": message,
                "sender": { "name": "Versus Incident", "avatar": "" },
            }),
        ),
        Target::Channel { channel_id } => (
            format!(
                "{}post_to_channel/{}",
                config.api_url,
                percent_encode(channel_id)
            ),
            json!({ "type": "text", "text": message }),
        ),
    };
    let mut request = Request::post_json(url, &body);
    request
        .headers
        .push(("X-Viber-Auth-Token".into(), config.bot_token.clone()));
    Ok(request)
}

/// Escapes everything but unreserved characters, so an id cannot change the path.
fn percent_encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Reads the body of a 2xx answer: the message token on success.
pub fn interpret(body: &[u8]) -> Result<String, Error> {
    let Ok(doc) = serde_json::from_slice::<Value>(body) else {
        return Ok(String::new());
    };
    let status = doc.get("status").and_then(Value::as_i64).unwrap_or(0);
    if status == 0 {
        let token = &doc["message_token"];
        return Ok(token
            .as_i64()
            .map(|n| n.to_string())
            .or_else(|| token.as_str().map(str::to_owned))
            .unwrap_or_default());
    }
    let msg = doc
        .get("status_message")
        .and_then(Value::as_str)
        .map_or_else(|| body_snippet(body), str::to_owned);
    let message = format!("viber status {status}: {msg}");
    if status == RATE_LIMITED {
        return Err(Error::transient(message));
    }
    Err(Error::Permanent(message))
}

/// The Viber channel.
pub struct Viber;

impl Channel for Viber {
    fn deliver(
        message: &str,
        _event: &EventInfo,
        config_json: &str,
        send: &mut Send<'_>,
    ) -> Result<Receipt, Error> {
        let config = Config::parse(config_json)?;
        let request = build(message, &config)?;
        let response = send_checked(send, "viber", request)?;
        let message_id = interpret(&response.body)?;
        let destination = match config.target {
            Target::Bot { user_id } => user_id,
            Target::Channel { channel_id } => channel_id,
        };
        Ok(Receipt {
            destination,
            message_id,
        })
    }

    fn validate_config(config_json: &str) -> Result<(), Error> {
        Config::parse(config_json).map(drop)
    }
}

versus_plugin_sdk::export_chat_channel!(Viber);

#[cfg(test)]
mod tests {
    use versus_plugin_sdk::chat::{HttpError, Response};

    use super::*;

    #[test]
    fn bot_and_channel_requests() {
        let c = Config::parse(r#"{"bot_token":"tok","user_id":"u1=="}"#).expect("c");
        let r = build("hi", &c).expect("r");
        assert_eq!(r.url, "https://chatapi.viber.com/pa/send_message");
        assert!(
            r.headers
                .contains(&("X-Viber-Auth-Token".into(), "tok".into()))
        );
        let body: Value = serde_json::from_slice(&r.body).expect("json");
        assert_eq!(
            body,
            json!({"receiver": "u1==", "type": "text", "text": "hi",
                   "sender": {"name": "Versus Incident", "avatar": ""}})
        );

        let c = Config::parse(
            r#"{"bot_token":"tok","api_type":"channel","channel_id":"pa:1/..","api_url":"http://127.0.0.1:1/v"}"#,
        )
        .expect("c");
        let r = build("hi", &c).expect("r");
        assert_eq!(r.url, "http://127.0.0.1:1/v/post_to_channel/pa%3A1%2F..");
        let body: Value = serde_json::from_slice(&r.body).expect("json");
        assert_eq!(body, json!({"type": "text", "text": "hi"}));
    }

    #[test]
    fn config_errors() {
        for bad in [
            r#"{"user_id":"u"}"#,
            r#"{"bot_token":"t"}"#,
            r#"{"bot_token":"t","api_type":"channel","user_id":"u"}"#,
            r#"{"bot_token":"t","api_type":"group","user_id":"u"}"#,
        ] {
            assert!(matches!(Config::parse(bad), Err(Error::Config(_))), "{bad}");
        }
    }

    #[test]
    fn statuses() {
        assert_eq!(
            interpret(br#"{"status":0,"status_message":"ok","message_token":5491}"#),
            Ok("5491".into())
        );
        assert_eq!(
            interpret(br#"{"status":2,"status_message":"invalidAuthToken"}"#),
            Err(Error::Permanent("viber status 2: invalidAuthToken".into()))
        );
        assert!(matches!(
            interpret(br#"{"status":12}"#),
            Err(Error::Transient { .. })
        ));
    }

    #[test]
    fn delivery() {
        let mut send = |_r: Request| -> Result<Response, HttpError> {
            Ok(Response {
                status: 200,
                body: br#"{"status":0,"message_token":7}"#.to_vec(),
                ..Response::default()
            })
        };
        let r = Viber::deliver(
            "m",
            &EventInfo::default(),
            r#"{"bot_token":"t","user_id":"u"}"#,
            &mut send,
        )
        .expect("ok");
        assert_eq!((r.destination.as_str(), r.message_id.as_str()), ("u", "7"));
    }
}
