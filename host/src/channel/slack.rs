//! Slack (`alert.slack`): the Web API's `chat.postMessage`, with the ACK
//! button and in-place updates.

use std::path::PathBuf;

use serde::Deserialize;
use serde_json::json;

use super::{BuiltinChannel, QueryOverride, check_url};
use crate::config::Kind::Bool;
use crate::config::Node::{Map, Scalar, Secret, Text};
use crate::config::{ChannelSpec, Config, ConfigError, EnvReader, Node, SecretKind, lenient};

/// The Slack Web API; tests point `alert.slack.api_url` at a local server.
pub const DEFAULT_SLACK_API_URL: &str = "https://slack.com/api/";

/// The template upstream ships for Slack, also used by the console channel.
pub(super) const DEFAULT_TEMPLATE: &str = "config/slack_message.tmpl";

/// The upstream `alert.slack` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct SlackConfig {
    /// Whether Slack delivery is wanted; see [`SlackConfig::is_effective`].
    #[serde(deserialize_with = "lenient::bool")]
    pub enable: bool,
    /// Bot token (`xoxb-…`).
    #[serde(deserialize_with = "lenient::string")]
    pub token: String,
    /// Channel to post to.
    #[serde(deserialize_with = "lenient::string")]
    pub channel_id: String,
    /// Message template file.
    #[serde(deserialize_with = "lenient::path")]
    pub template_path: PathBuf,
    /// Base URL of the Slack Web API (ours; tests point it at a local server).
    #[serde(deserialize_with = "lenient::string")]
    pub api_url: String,
    /// The ACK button (upstream `message_properties`).
    pub message_properties: SlackMessageProperties,
    /// The workspace's URL, `https://<workspace>.slack.com` (ours): pages
    /// then link to the Slack message ([`permalink`]).
    #[serde(deserialize_with = "lenient::string")]
    pub workspace_url: String,
    /// The Slack app's signing secret (ours): when set, the buttons are
    /// interactive and `POST /api/slack/interactions` answers them.
    #[serde(deserialize_with = "lenient::string")]
    pub signing_secret: String,
    /// Repeats, the resolve and state notes go in the incident's thread
    /// (ours; on-call incidents only).
    #[serde(deserialize_with = "lenient::bool")]
    pub threads: bool,
    /// With threads, the resolve's reply is shown in the channel too.
    #[serde(deserialize_with = "lenient::bool")]
    pub broadcast_resolved: bool,
    /// Notifications waiting behind Slack's rate limit for a channel are
    /// posted as one message per turn, instead of one each (ours).
    #[serde(deserialize_with = "lenient::bool")]
    pub storm_digest: bool,
}

/// The link to a posted message: `{workspace_url}/archives/{channel}/p{ts
/// without its dot}`, Slack's permalink form. `None` without a workspace
/// URL or a message.
pub fn permalink(workspace_url: &str, channel: &str, ts: &str) -> Option<String> {
    let base = workspace_url.trim().trim_end_matches('/');
    if base.is_empty() || channel.is_empty() || ts.is_empty() {
        return None;
    }
    Some(format!(
        "{base}/archives/{channel}/p{}",
        ts.replace('.', "")
    ))
}

impl Default for SlackConfig {
    fn default() -> Self {
        Self {
            enable: false,
            token: String::new(),
            channel_id: String::new(),
            template_path: PathBuf::from(DEFAULT_TEMPLATE),
            api_url: DEFAULT_SLACK_API_URL.into(),
            message_properties: SlackMessageProperties::default(),
            workspace_url: String::new(),
            signing_secret: String::new(),
            threads: false,
            broadcast_resolved: false,
            storm_digest: false,
        }
    }
}

impl SlackConfig {
    /// Slack is used only when it is enabled and has a token; enabled
    /// without a token gives a load warning instead of an error, as upstream
    /// configs ship with `enable: true` and `token: ${SLACK_TOKEN}`.
    pub fn is_effective(&self) -> bool {
        self.enable && !self.token.trim().is_empty()
    }

    /// Whether the Slack app's buttons come back to the gateway (a
    /// signing secret is set).
    pub fn interactive(&self) -> bool {
        !self.signing_secret.trim().is_empty()
    }
}

/// The upstream `alert.slack.message_properties` section.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct SlackMessageProperties {
    /// Text of the ACK button.
    #[serde(deserialize_with = "lenient::string")]
    pub button_text: String,
    /// `primary` (blue), `danger` (red), or empty for Slack's default grey.
    #[serde(deserialize_with = "lenient::string")]
    pub button_style: String,
    /// Leave the button out, for teams that acknowledge some other way.
    #[serde(deserialize_with = "lenient::bool")]
    pub disable_button: bool,
}

impl Default for SlackMessageProperties {
    fn default() -> Self {
        Self {
            button_text: "Acknowledge Alert".into(),
            button_style: "primary".into(),
            disable_button: false,
        }
    }
}

impl BuiltinChannel for SlackConfig {
    const KEYS: &'static [(&'static str, Node)] = &[
        ("enable", Scalar(Bool)),
        ("token", Secret),
        ("channel_id", Text),
        ("template_path", Text),
        ("api_url", Text),
        ("workspace_url", Text),
        ("signing_secret", Secret),
        ("threads", Scalar(Bool)),
        ("broadcast_resolved", Scalar(Bool)),
        ("storm_digest", Scalar(Bool)),
        (
            "message_properties",
            Map(&[
                ("button_text", Text),
                ("button_style", Text),
                ("disable_button", Scalar(Bool)),
            ]),
        ),
    ];

    /// Post to this Slack channel instead of the configured one.
    const OVERRIDES: &'static [QueryOverride] = &[QueryOverride {
        query: "slack_channel_id",
        setting: "channel_id",
        value: super::OverrideValue::Given,
    }];

    fn read_env(&mut self, env: &EnvReader<'_>) -> Result<(), ConfigError> {
        env.flag("SLACK_ENABLE", &mut self.enable)?;
        env.text("SLACK_TOKEN", &mut self.token);
        env.text("SLACK_CHANNEL_ID", &mut self.channel_id);
        env.text("SLACK_API_URL", &mut self.api_url);
        env.text("SLACK_WORKSPACE_URL", &mut self.workspace_url);
        env.text("SLACK_SIGNING_SECRET", &mut self.signing_secret);
        Ok(())
    }

    fn secrets<'a>(&'a self, out: &mut Vec<(&'a str, SecretKind)>) {
        out.push((&self.token, SecretKind::Text));
        out.push((&self.signing_secret, SecretKind::Text));
    }

    fn warnings(&self, out: &mut Vec<String>) {
        if self.broadcast_resolved && !self.threads {
            out.push(
                "alert.slack.broadcast_resolved has no effect without alert.slack.threads: \
                 the resolve is posted in the channel anyway"
                    .into(),
            );
        }
        if self.enable && !self.is_effective() {
            out.push(
                "alert.slack.enable is true but alert.slack.token is empty: Slack is disabled; \
                 set SLACK_TOKEN"
                    .into(),
            );
        }
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if !self.is_effective() {
            return Ok(());
        }
        if self.channel_id.trim().is_empty() {
            return Err(ConfigError::Invalid {
                key: "alert.slack.channel_id".into(),
                message: "is empty but Slack is enabled: set it or the SLACK_CHANNEL_ID variable"
                    .into(),
            });
        }
        check_url(
            "alert.slack.api_url",
            &self.api_url,
            "https://slack.com/api/ (or set SLACK_API_URL)",
        )?;
        if !self.workspace_url.trim().is_empty() {
            check_url(
                "alert.slack.workspace_url",
                &self.workspace_url,
                "https://<your workspace>.slack.com (or set SLACK_WORKSPACE_URL)",
            )?;
        }
        crate::config::template_given("alert.slack.template_path", &self.template_path)
    }

    fn spec(&self, config: &Config) -> Option<ChannelSpec> {
        if !self.is_effective() {
            return None;
        }
        let props = &self.message_properties;
        let settings = json!({
            "token": self.token,
            "channel_id": self.channel_id,
            "api_url": self.api_url,
            "message_properties": {
                "button_text": props.button_text,
                "button_style": props.button_style,
                "disable_button": props.disable_button,
            },
            "interactive": self.interactive(),
            "threads": self.threads,
            "broadcast_resolved": self.broadcast_resolved,
            "storm_digest": self.storm_digest,
        });
        Some(config.builtin_spec("slack", &self.template_path, &settings, &[&self.api_url]))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn permalinks_are_built_from_the_channel_and_the_ts() {
        assert_eq!(
            super::permalink("https://acme.slack.com/", "C0123", "1700000000.000100").as_deref(),
            Some("https://acme.slack.com/archives/C0123/p1700000000000100")
        );
        assert_eq!(super::permalink("", "C0123", "1.2"), None);
        assert_eq!(
            super::permalink("https://acme.slack.com", "C0123", ""),
            None
        );
    }
}
