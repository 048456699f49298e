//! Telegram (`alert.telegram`): the Bot API's `sendMessage`, and
//! `editMessageText` for updates.

use std::path::PathBuf;

use serde::Deserialize;
use serde_json::json;

use super::{BuiltinChannel, OverrideValue, QueryOverride, check_url};
use crate::config::Kind::Bool;
use crate::config::Node::{Scalar, Secret, Text};
use crate::config::{ChannelSpec, Config, ConfigError, EnvReader, Node, SecretKind, lenient};

/// The Telegram Bot API; tests point `alert.telegram.api_url` at a local server.
pub const DEFAULT_TELEGRAM_API_URL: &str = "https://api.telegram.org/";

/// The upstream `alert.telegram` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct TelegramConfig {
    /// Whether Telegram delivery is wanted; see [`TelegramConfig::is_effective`].
    #[serde(deserialize_with = "lenient::bool")]
    pub enable: bool,
    /// Bot token from @BotFather.
    #[serde(deserialize_with = "lenient::string")]
    pub bot_token: String,
    /// Chat to post to (numeric id or `@channel`).
    #[serde(deserialize_with = "lenient::string")]
    pub chat_id: String,
    /// Message template file.
    #[serde(deserialize_with = "lenient::path")]
    pub template_path: PathBuf,
    /// Base URL of the Bot API (ours; tests point it at a local server).
    #[serde(deserialize_with = "lenient::string")]
    pub api_url: String,
    /// Upstream: send this channel's requests through `proxy:`.
    #[serde(deserialize_with = "lenient::bool")]
    pub use_proxy: bool,
}

impl Default for TelegramConfig {
    fn default() -> Self {
        Self {
            enable: false,
            bot_token: String::new(),
            chat_id: String::new(),
            template_path: PathBuf::from("config/telegram_message.tmpl"),
            api_url: DEFAULT_TELEGRAM_API_URL.into(),
            use_proxy: false,
        }
    }
}

impl TelegramConfig {
    /// Telegram is used only when enabled with a bot token and a chat id.
    pub fn is_effective(&self) -> bool {
        self.enable && !self.bot_token.trim().is_empty() && !self.chat_id.trim().is_empty()
    }
}

impl BuiltinChannel for TelegramConfig {
    const KEYS: &'static [(&'static str, Node)] = &[
        ("enable", Scalar(Bool)),
        ("bot_token", Secret),
        ("chat_id", Text),
        ("template_path", Text),
        ("api_url", Text),
        ("use_proxy", Scalar(Bool)),
    ];

    /// Post to this Telegram chat instead of the configured one.
    const OVERRIDES: &'static [QueryOverride] = &[QueryOverride {
        query: "telegram_chat_id",
        setting: "chat_id",
        value: OverrideValue::Given,
    }];

    fn read_env(&mut self, env: &EnvReader<'_>) -> Result<(), ConfigError> {
        env.flag("TELEGRAM_ENABLE", &mut self.enable)?;
        env.text("TELEGRAM_BOT_TOKEN", &mut self.bot_token);
        env.text("TELEGRAM_CHAT_ID", &mut self.chat_id);
        env.flag("TELEGRAM_USE_PROXY", &mut self.use_proxy)?;
        env.text("TELEGRAM_API_URL", &mut self.api_url);
        Ok(())
    }

    fn secrets<'a>(&'a self, out: &mut Vec<(&'a str, SecretKind)>) {
        out.push((&self.bot_token, SecretKind::Text));
    }

    fn warnings(&self, out: &mut Vec<String>) {
        if self.enable && !self.is_effective() {
            out.push(
                "alert.telegram.enable is true but alert.telegram.bot_token or chat_id is empty: \
                 Telegram is disabled; set TELEGRAM_BOT_TOKEN and TELEGRAM_CHAT_ID"
                    .into(),
            );
        }
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if !self.is_effective() {
            return Ok(());
        }
        check_url(
            "alert.telegram.api_url",
            &self.api_url,
            "https://api.telegram.org/ (or set TELEGRAM_API_URL)",
        )
    }

    fn spec(&self, config: &Config) -> Option<ChannelSpec> {
        if !self.is_effective() {
            return None;
        }
        let settings = json!({
            "bot_token": self.bot_token.trim(),
            "chat_id": self.chat_id.trim(),
            "api_url": self.api_url.trim(),
        });
        let mut spec =
            config.builtin_spec("telegram", &self.template_path, &settings, &[&self.api_url]);
        spec.proxy = config.proxy.for_channel(self.use_proxy);
        Some(spec)
    }
}
