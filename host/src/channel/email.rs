//! Email (`alert.email`): the host sends through SMTP for the plugin
//! (`versus:mail/email-channel`), so the plugin never holds the password.

use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use serde_json::json;

use super::{BuiltinChannel, OverrideValue, QueryOverride};
use crate::config::Kind::{Bool, Duration as Dur, U16};
use crate::config::Node::{Scalar, Secret, Text};
use crate::config::{ChannelSpec, Config, ConfigError, EnvReader, Node, SecretKind, lenient};

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

impl BuiltinChannel for EmailConfig {
    const KEYS: &'static [(&'static str, Node)] = &[
        ("enable", Scalar(Bool)),
        ("smtp_host", Text),
        ("smtp_port", Scalar(U16)),
        ("username", Text),
        ("password", Secret),
        ("to", Text),
        ("subject", Text),
        ("template_path", Text),
        ("from", Text),
        ("tls", Text),
        ("timeout", Scalar(Dur)),
    ];

    const OVERRIDES: &'static [QueryOverride] = &[
        // Send mail to these addresses (comma-separated) instead of `alert.email.to`.
        QueryOverride {
            query: "email_to",
            setting: "to",
            value: OverrideValue::Given,
        },
        // Use this mail subject instead of `alert.email.subject`.
        QueryOverride {
            query: "email_subject",
            setting: "subject",
            value: OverrideValue::Given,
        },
    ];

    fn read_env(&mut self, env: &EnvReader<'_>) -> Result<(), ConfigError> {
        env.flag("EMAIL_ENABLE", &mut self.enable)?;
        env.text("SMTP_HOST", &mut self.smtp_host);
        env.parsed("SMTP_PORT", &mut self.smtp_port, "a port number (1-65535)")?;
        env.text("SMTP_USERNAME", &mut self.username);
        env.text("SMTP_PASSWORD", &mut self.password);
        env.text("EMAIL_TO", &mut self.to);
        env.text("EMAIL_SUBJECT", &mut self.subject);
        env.text("EMAIL_FROM", &mut self.from);
        env.text("SMTP_TLS", &mut self.tls);
        Ok(())
    }

    fn secrets<'a>(&'a self, out: &mut Vec<(&'a str, SecretKind)>) {
        out.push((&self.password, SecretKind::Text));
    }

    fn warnings(&self, out: &mut Vec<String>) {
        if self.enable && !self.is_effective() {
            out.push(
                "alert.email.enable is true but alert.email.smtp_host, to or username is empty: \
                 email is disabled; set SMTP_HOST, EMAIL_TO and SMTP_USERNAME"
                    .into(),
            );
        }
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if !self.is_effective() {
            return Ok(());
        }
        if self.security().is_none() {
            return Err(ConfigError::Invalid {
                key: "alert.email.tls".into(),
                message: format!(
                    "`{}` is not a TLS mode: use starttls, implicit or none (or leave it \
                     empty: implicit on port 465, STARTTLS elsewhere)",
                    self.tls.trim()
                ),
            });
        }
        if !self.sender().contains('@') {
            return Err(ConfigError::Invalid {
                key: "alert.email.from".into(),
                message: format!(
                    "`{}` is not a mail address: set from (or a username that is one)",
                    self.sender()
                ),
            });
        }
        Ok(())
    }

    /// Mail goes through the host's SMTP client, so the plugin calls no
    /// HTTP host unless `plugins.overrides.email.allowed_hosts` says so.
    fn spec(&self, config: &Config) -> Option<ChannelSpec> {
        if !self.is_effective() {
            return None;
        }
        let server = self.server()?;
        let settings = json!({ "to": self.to.trim(), "subject": self.subject.trim() });
        let mut spec = config.builtin_spec("email", &self.template_path, &settings, &[]);
        spec.smtp = Some(server);
        Some(spec)
    }
}
