//! Viber (`alert.viber`): the bot API (`send_message` to a user) or the
//! channel API (`post` to a channel).

use std::path::PathBuf;

use serde::Deserialize;
use serde_json::json;

use super::{BuiltinChannel, OverrideValue, QueryOverride, check_url};
use crate::config::Kind::Bool;
use crate::config::Node::{Scalar, Secret, Text};
use crate::config::{ChannelSpec, Config, ConfigError, EnvReader, Node, SecretKind, lenient};

/// The Viber REST API; tests point `alert.viber.api_url` at a local server.
pub const DEFAULT_VIBER_API_URL: &str = "https://chatapi.viber.com/pa/";

/// The upstream `alert.viber` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct ViberConfig {
    /// Whether Viber delivery is wanted; see [`ViberConfig::is_effective`].
    #[serde(deserialize_with = "lenient::bool")]
    pub enable: bool,
    /// `bot` (send to `user_id`; the default, as upstream's code) or
    /// `channel` (post to `channel_id`).
    #[serde(deserialize_with = "lenient::string")]
    pub api_type: String,
    /// Auth token, sent as `X-Viber-Auth-Token`.
    #[serde(deserialize_with = "lenient::string")]
    pub bot_token: String,
    /// Receiver for the bot API.
    #[serde(deserialize_with = "lenient::string")]
    pub user_id: String,
    /// Channel for the channel API.
    #[serde(deserialize_with = "lenient::string")]
    pub channel_id: String,
    /// Message template file.
    #[serde(deserialize_with = "lenient::path")]
    pub template_path: PathBuf,
    /// Base URL of the API (ours; tests point it at a local server).
    #[serde(deserialize_with = "lenient::string")]
    pub api_url: String,
    /// Upstream: send this channel's requests through `proxy:`.
    #[serde(deserialize_with = "lenient::bool")]
    pub use_proxy: bool,
}

impl Default for ViberConfig {
    fn default() -> Self {
        Self {
            enable: false,
            api_type: String::new(),
            bot_token: String::new(),
            user_id: String::new(),
            channel_id: String::new(),
            template_path: PathBuf::from("config/viber_message.tmpl"),
            api_url: DEFAULT_VIBER_API_URL.into(),
            use_proxy: false,
        }
    }
}

impl ViberConfig {
    /// Whether the API type is `channel` (else the bot API).
    pub fn is_channel(&self) -> bool {
        self.api_type.trim().eq_ignore_ascii_case("channel")
    }

    /// Viber is used only when enabled with a token and the receiver its
    /// API type needs.
    pub fn is_effective(&self) -> bool {
        let receiver = if self.is_channel() {
            &self.channel_id
        } else {
            &self.user_id
        };
        self.enable && !self.bot_token.trim().is_empty() && !receiver.trim().is_empty()
    }
}

impl BuiltinChannel for ViberConfig {
    const KEYS: &'static [(&'static str, Node)] = &[
        ("enable", Scalar(Bool)),
        ("api_type", Text),
        ("bot_token", Secret),
        ("user_id", Text),
        ("channel_id", Text),
        ("template_path", Text),
        ("api_url", Text),
        ("use_proxy", Scalar(Bool)),
    ];

    const OVERRIDES: &'static [QueryOverride] = &[
        // Send to this Viber user (bot API) instead of the configured one.
        QueryOverride {
            query: "viber_user_id",
            setting: "user_id",
            value: OverrideValue::Given,
        },
        // Post to this Viber channel (channel API) instead of the configured one.
        QueryOverride {
            query: "viber_channel_id",
            setting: "channel_id",
            value: OverrideValue::Given,
        },
    ];

    fn read_env(&mut self, env: &EnvReader<'_>) -> Result<(), ConfigError> {
        env.flag("VIBER_ENABLE", &mut self.enable)?;
        env.text("VIBER_API_TYPE", &mut self.api_type);
        env.text("VIBER_BOT_TOKEN", &mut self.bot_token);
        env.text("VIBER_USER_ID", &mut self.user_id);
        env.text("VIBER_CHANNEL_ID", &mut self.channel_id);
        env.flag("VIBER_USE_PROXY", &mut self.use_proxy)?;
        env.text("VIBER_API_URL", &mut self.api_url);
        Ok(())
    }

    fn secrets<'a>(&'a self, out: &mut Vec<(&'a str, SecretKind)>) {
        out.push((&self.bot_token, SecretKind::Text));
    }

    fn warnings(&self, out: &mut Vec<String>) {
        if self.enable && !self.is_effective() {
            let (key, var) = if self.is_channel() {
                ("channel_id", "VIBER_CHANNEL_ID")
            } else {
                ("user_id", "VIBER_USER_ID")
            };
            out.push(format!(
                "alert.viber.enable is true but alert.viber.bot_token or {key} is empty: Viber is \
                 disabled; set VIBER_BOT_TOKEN and {var}"
            ));
        }
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if !self.is_effective() {
            return Ok(());
        }
        let api_type = self.api_type.trim();
        if !(api_type.is_empty() || api_type.eq_ignore_ascii_case("bot") || self.is_channel()) {
            return Err(ConfigError::Invalid {
                key: "alert.viber.api_type".into(),
                message: format!(
                    "`{api_type}` is not an API type: use bot or channel (or set VIBER_API_TYPE)"
                ),
            });
        }
        check_url(
            "alert.viber.api_url",
            &self.api_url,
            "https://chatapi.viber.com/pa/ (or set VIBER_API_URL)",
        )
    }

    fn spec(&self, config: &Config) -> Option<ChannelSpec> {
        if !self.is_effective() {
            return None;
        }
        let settings = json!({
            "api_type": if self.is_channel() { "channel" } else { "bot" },
            "bot_token": self.bot_token.trim(),
            "user_id": self.user_id.trim(),
            "channel_id": self.channel_id.trim(),
            "api_url": self.api_url.trim(),
        });
        let mut spec =
            config.builtin_spec("viber", &self.template_path, &settings, &[&self.api_url]);
        spec.proxy = config.proxy.for_channel(self.use_proxy);
        Some(spec)
    }
}
