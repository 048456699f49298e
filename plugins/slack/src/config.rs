//! The Slack channel's configuration, parsed from the `config-json` object.

use serde_json::{Map, Value};

use crate::Error;

/// Slack Web API base URL used when `api_url` is not set.
pub const DEFAULT_API_URL: &str = "https://slack.com/api/";
/// Upstream Versus's default button label.
pub const DEFAULT_BUTTON_TEXT: &str = "Acknowledge Alert";
/// Upstream Versus's default button style (Slack's blue).
pub const DEFAULT_BUTTON_STYLE: &str = "primary";
/// Slack rejects button labels longer than this (`plain_text` in a button).
const BUTTON_TEXT_LIMIT: usize = 75;

/// Validated Slack channel settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Bot token, sent as `Authorization: Bearer`.
    pub token: String,
    /// Channel the message is posted to.
    pub channel_id: String,
    /// Web API base URL, always ending in `/`.
    pub api_url: String,
    /// Label of the ACK button.
    pub button_text: String,
    /// `primary`, `danger`, or empty for Slack's default (grey) button.
    pub button_style: String,
    /// Never show the ACK button (acknowledgement handled elsewhere).
    pub disable_button: bool,
    /// The Slack app has interactivity pointed at the gateway (the host
    /// sets this when `alert.slack.signing_secret` is set): buttons are
    /// answered by the gateway, not opened as links.
    pub interactive: bool,
    /// Repeats, resolves and state notes go in the incident's thread.
    pub threads: bool,
    /// With threads, a resolve's reply is shown in the channel too.
    pub broadcast_resolved: bool,
    /// For this delivery: the incident's first message, to reply under
    /// (the gateway sets it when `threads` is on).
    pub reply_to: Option<ReplyTo>,
}

/// The message a reply goes under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyTo {
    /// Its channel.
    pub channel: String,
    /// Its `ts`.
    pub ts: String,
}

impl Config {
    /// Parses and validates the channel config; every error is [`Error::Config`]
    /// and names the key to fix.
    ///
    /// A key set to `null` counts as absent, since that is what an empty YAML
    /// value or an unset `${VAR}` becomes.
    pub fn parse(config_json: &str) -> Result<Self, Error> {
        let doc: Value = serde_json::from_str(config_json)
            .map_err(|e| Error::Config(format!("slack config is not valid JSON: {e}")))?;
        let Some(obj) = doc.as_object() else {
            return Err(Error::Config("slack config must be a JSON object".into()));
        };

        let token = required(obj, "token")?;
        let channel_id = required(obj, "channel_id")?;

        let mut api_url = optional_str(obj, "api_url")?
            .filter(|s| !s.is_empty())
            .unwrap_or(DEFAULT_API_URL)
            .to_owned();
        if !(api_url.starts_with("https://") || api_url.starts_with("http://")) {
            return Err(Error::Config(format!(
                "api_url must be an http or https URL such as {DEFAULT_API_URL}, got {api_url:?}"
            )));
        }
        if !api_url.ends_with('/') {
            api_url.push('/');
        }

        let props = match obj.get("message_properties") {
            None | Some(Value::Null) => &Map::new(),
            Some(Value::Object(props)) => props,
            Some(_) => {
                return Err(Error::Config("message_properties must be an object".into()));
            }
        };
        let button_text = optional_str(props, "button_text")
            .map_err(in_props)?
            .filter(|s| !s.trim().is_empty())
            .unwrap_or(DEFAULT_BUTTON_TEXT)
            .to_owned();
        if button_text.chars().count() > BUTTON_TEXT_LIMIT {
            return Err(Error::Config(format!(
                "message_properties.button_text must be at most {BUTTON_TEXT_LIMIT} characters"
            )));
        }
        let button_style = optional_str(props, "button_style")
            .map_err(in_props)?
            .unwrap_or(DEFAULT_BUTTON_STYLE)
            .to_owned();
        if !matches!(button_style.as_str(), "primary" | "danger" | "") {
            return Err(Error::Config(format!(
                "message_properties.button_style must be \"primary\", \"danger\" or \"\", got {button_style:?}"
            )));
        }
        let disable_button = flag(props, "disable_button").map_err(in_props)?;
        let interactive = flag(obj, "interactive")?;
        let threads = flag(obj, "threads")?;
        let broadcast_resolved = flag(obj, "broadcast_resolved")?;
        let reply_to = match obj.get("reply_to") {
            None | Some(Value::Null) => None,
            Some(Value::Object(r)) => Some(ReplyTo {
                channel: optional_str(r, "destination")?
                    .unwrap_or_default()
                    .to_owned(),
                ts: required(r, "message_id")?,
            }),
            Some(_) => return Err(Error::Config("reply_to must be an object".into())),
        };
        Ok(Self {
            token,
            channel_id,
            api_url,
            button_text,
            button_style,
            disable_button,
            interactive,
            threads,
            broadcast_resolved,
            reply_to,
        })
    }
}

/// A boolean key: absent or null is false; `${VAR}` expansion leaves
/// booleans as strings.
fn flag(obj: &Map<String, Value>, key: &str) -> Result<bool, Error> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(true),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") || s.is_empty() => Ok(false),
        Some(_) => Err(Error::Config(format!("{key} must be true or false"))),
    }
}

/// A string key that must be present and non-blank.
fn required(obj: &Map<String, Value>, key: &str) -> Result<String, Error> {
    match optional_str(obj, key)? {
        Some(s) if !s.trim().is_empty() => Ok(s.trim().to_owned()),
        _ => Err(Error::Config(format!(
            "{key} is required (set it in the slack config or its environment variable)"
        ))),
    }
}

/// A key that, when present and not null, must be a string.
fn optional_str<'a>(obj: &'a Map<String, Value>, key: &str) -> Result<Option<&'a str>, Error> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(Error::Config(format!("{key} must be a string"))),
    }
}

/// Names a `message_properties` key in full in a type error.
fn in_props(err: Error) -> Error {
    match err {
        Error::Config(m) => Error::Config(format!("message_properties.{m}")),
        other => other,
    }
}
