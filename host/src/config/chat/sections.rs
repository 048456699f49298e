//! The sections of the upstream chat channels beyond Slack, with their
//! defaults.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use crate::config::lenient;

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

/// The upstream `alert.msteams` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct MsTeamsConfig {
    /// Whether Teams delivery is wanted; on only with a URL.
    #[serde(deserialize_with = "lenient::bool")]
    pub enable: bool,
    /// Power Automate HTTP trigger URL, or an Office 365 connector URL.
    #[serde(deserialize_with = "lenient::string")]
    pub power_automate_url: String,
    /// Message template file.
    #[serde(deserialize_with = "lenient::path")]
    pub template_path: PathBuf,
    /// Other flows, picked per alert with `?msteams_other_power_url=<name>`.
    #[serde(deserialize_with = "lenient::string_map", alias = "other_power_url")]
    pub other_power_urls: BTreeMap<String, String>,
}

impl Default for MsTeamsConfig {
    fn default() -> Self {
        Self {
            enable: false,
            power_automate_url: String::new(),
            template_path: PathBuf::from("config/msteams_message.tmpl"),
            other_power_urls: BTreeMap::new(),
        }
    }
}

/// The upstream `alert.lark` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct LarkConfig {
    /// Whether Lark delivery is wanted; on only with a URL.
    #[serde(deserialize_with = "lenient::bool")]
    pub enable: bool,
    /// Custom bot webhook URL.
    #[serde(deserialize_with = "lenient::string")]
    pub webhook_url: String,
    /// Message template file.
    #[serde(deserialize_with = "lenient::path")]
    pub template_path: PathBuf,
    /// Other webhooks, picked per alert with `?lark_other_webhook_url=<name>`.
    #[serde(deserialize_with = "lenient::string_map")]
    pub other_webhook_urls: BTreeMap<String, String>,
    /// Upstream: send this channel's requests through `proxy:`.
    #[serde(deserialize_with = "lenient::bool")]
    pub use_proxy: bool,
}

impl Default for LarkConfig {
    fn default() -> Self {
        Self {
            enable: false,
            webhook_url: String::new(),
            template_path: PathBuf::from("config/lark_message.tmpl"),
            other_webhook_urls: BTreeMap::new(),
            use_proxy: false,
        }
    }
}

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

/// The upstream `alert.email` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct EmailConfig {
    /// Whether mail is wanted; see [`EmailConfig::is_effective`].
    #[serde(deserialize_with = "lenient::bool")]
    pub enable: bool,
    /// SMTP server host.
    #[serde(deserialize_with = "lenient::string")]
    pub smtp_host: String,
    /// SMTP server port; 0 (unset) means 465 for implicit TLS, else 587.
    #[serde(deserialize_with = "lenient::u16")]
    pub smtp_port: u16,
    /// Login (upstream also sends from this address).
    #[serde(deserialize_with = "lenient::string")]
    pub username: String,
    /// Password.
    #[serde(deserialize_with = "lenient::string")]
    pub password: String,
    /// Recipients, comma-separated.
    #[serde(deserialize_with = "lenient::string")]
    pub to: String,
    /// Subject line; empty takes the message's first line.
    #[serde(deserialize_with = "lenient::string")]
    pub subject: String,
    /// Message template file (HTML).
    #[serde(deserialize_with = "lenient::path")]
    pub template_path: PathBuf,
    /// The `From` address (ours); defaults to `username`, as upstream.
    #[serde(deserialize_with = "lenient::string")]
    pub from: String,
    /// `starttls`, `implicit` or `none` (ours); by default implicit TLS on
    /// port 465 and STARTTLS elsewhere.
    #[serde(deserialize_with = "lenient::string")]
    pub tls: String,
    /// Bound on connecting and on each SMTP reply (ours).
    #[serde(deserialize_with = "lenient::duration")]
    pub timeout: Duration,
}

/// Default [`EmailConfig::timeout`]: a healthy server answers in well under
/// a second; 10 s leaves room for a slow TLS handshake and stays inside the
/// default 30 s retry budget.
pub const DEFAULT_SMTP_TIMEOUT: Duration = Duration::from_secs(10);

impl Default for EmailConfig {
    fn default() -> Self {
        Self {
            enable: false,
            smtp_host: String::new(),
            smtp_port: 0,
            username: String::new(),
            password: String::new(),
            to: String::new(),
            subject: String::new(),
            template_path: PathBuf::from("config/email_message.tmpl"),
            from: String::new(),
            tls: String::new(),
            timeout: DEFAULT_SMTP_TIMEOUT,
        }
    }
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain connection upgraded with `STARTTLS`, which the server must offer.
    StartTls,
    /// TLS from the first byte ("SMTPS", usually port 465).
    Implicit,
    /// No TLS at all: only for a relay on the same host or network.
    None,
}

/// The server the email channel sends through, as the host uses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SmtpServer {
    /// Host name (also the name its certificate must carry).
    pub host: String,
    /// Port.
    pub port: u16,
    /// Login; empty for a server without authentication.
    pub username: String,
    /// Password.
    pub password: String,
    /// The `From` address.
    pub from: String,
    /// TLS mode.
    pub security: SmtpSecurity,
    /// Bound on connecting and on each SMTP reply.
    pub timeout: Duration,
}

impl EmailConfig {
    /// The sender address: `from`, else `username`.
    pub fn sender(&self) -> &str {
        let from = self.from.trim();
        if from.is_empty() {
            self.username.trim()
        } else {
            from
        }
    }

    /// Email is used only when enabled with a server, a recipient and a
    /// sender.
    pub fn is_effective(&self) -> bool {
        self.enable
            && !self.smtp_host.trim().is_empty()
            && !self.to.trim().is_empty()
            && !self.sender().is_empty()
    }

    /// The TLS mode, or `None` when `tls` is not a known mode.
    pub fn security(&self) -> Option<SmtpSecurity> {
        match self.tls.trim().to_ascii_lowercase().as_str() {
            "" if self.smtp_port == 465 => Some(SmtpSecurity::Implicit),
            "" | "starttls" => Some(SmtpSecurity::StartTls),
            "implicit" | "tls" | "ssl" => Some(SmtpSecurity::Implicit),
            "none" => Some(SmtpSecurity::None),
            _ => None,
        }
    }

    /// The server as the host uses it (`None` for an unknown `tls`).
    pub fn server(&self) -> Option<SmtpServer> {
        let security = self.security()?;
        let port = match (self.smtp_port, security) {
            (0, SmtpSecurity::Implicit) => 465,
            (0, _) => 587,
            (p, _) => p,
        };
        Some(SmtpServer {
            host: self.smtp_host.trim().to_string(),
            port,
            username: self.username.trim().to_string(),
            password: self.password.clone(),
            from: self.sender().to_string(),
            security,
            timeout: self.timeout,
        })
    }
}
