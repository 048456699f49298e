//! Gateway configuration: the upstream Versus `config.yaml` shape plus our
//! `plugins:` and `channels:` sections. Owns loading, `${VAR}` expansion,
//! environment overrides, defaults, warnings for keys we do not implement,
//! and validation with messages that name the key and the fix.
//!
//! Loading runs in this order:
//! 1. `${VAR}` is expanded in the raw text (unset gives empty, as upstream);
//! 2. the YAML is walked against the known keys (`schema`): unknown and
//!    unimplemented keys give one warning each, and empty values are
//!    removed so their defaults apply;
//! 3. the typed structs are read with lenient scalars (`lenient`);
//! 4. environment overrides apply ([`apply_env_overrides`]);
//! 5. settings that cannot take effect give warnings (Slack without a
//!    token, an on-call provider we lack while on-call is off);
//! 6. [`Config::validate`] runs.

mod aws;
mod channels;
mod cloudwatch;
mod env;
mod ingest;
pub mod lenient;
mod oncall;
mod plugins;
mod proxy;
mod queue;
mod redis;
mod restart;
mod schema;
mod secrets;
mod sections;
mod sqs;
mod validate;

#[cfg(test)]
mod channel_tests;
#[cfg(test)]
mod chat_tests;
#[cfg(test)]
mod doc_tests;
#[cfg(test)]
mod error_tests;
#[cfg(test)]
mod fuzz;
#[cfg(test)]
mod schema_tests;
#[cfg(test)]
mod tests;

use std::path::{Path, PathBuf};

use serde::Deserialize;

pub use crate::channel::{
    ConsoleConfig, DEFAULT_SLACK_API_URL, DEFAULT_SMTP_TIMEOUT, DEFAULT_TELEGRAM_API_URL,
    DEFAULT_VIBER_API_URL, EmailConfig, LarkConfig, MsTeamsConfig, SlackConfig,
    SlackMessageProperties, SmtpSecurity, SmtpServer, TelegramConfig, ViberConfig,
};
pub use aws::{
    AwsIncidentManagerConfig, DEFAULT_ESCALATION_INITIAL_BACKOFF, DEFAULT_ESCALATION_MAX_ATTEMPTS,
    DEFAULT_ESCALATION_MAX_BACKOFF, default_impact,
};
pub use channels::ChannelSpec;
pub(crate) use channels::{origin_of, spec};
pub use cloudwatch::{CloudWatchConfig, DEFAULT_ALARM_SEVERITY, InsufficientData};
pub use env::{EnvReader, apply_env_overrides, expand_env, expand_with, process_env};
pub use ingest::{
    DEFAULT_MAX_ALERTS, DEFAULT_MAX_CONCURRENT_REQUESTS, DEFAULT_MAX_JSON_DEPTH, IngestConfig,
    IngestSource, Secret,
};
pub use oncall::{ACK_SECRET_PLACEHOLDERS, MIN_ACK_SECRET_LEN, PROVIDERS, providers, targets};
pub use plugins::{PluginLimits, PluginOverride, PluginsConfig};
pub use proxy::ProxyConfig;
pub use queue::{DEFAULT_SNS_PATH, QueueConfig, SnsConfig};
pub use redis::{
    DEFAULT_REDIS_KEY_PREFIX, DEFAULT_REDIS_PORT, RedisConfig, SentinelConfig, split_node,
};
pub use restart::{keep_startup_settings, restart_needed};
pub use schema::{Kind, Node};
pub use secrets::{SECRET_ENV_VARS, SecretKind, SecretValue};
pub use sections::{
    AWS_INCIDENT_MANAGER, AlertConfig, CustomChannelConfig, DEFAULT_MAX_BODY_BYTES,
    DEFAULT_WAIT_MINUTES, LogConfig, OnCallConfig, RetryConfig,
};
pub use sqs::SqsConfig;
pub(crate) use validate::template_given;

/// A configuration problem, worded for the person who has to fix it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The YAML is malformed.
    #[error("config file {path} is not valid: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message, which names the line.
        message: String,
    },
    /// A value has the wrong type or spelling.
    #[error("config file {path}: key `{key}`: {message}")]
    Value {
        /// The file.
        path: PathBuf,
        /// Dotted path of the key, e.g. `channels[0].enable`.
        key: String,
        /// What was expected and what was found.
        message: String,
    },
    /// A value is present but unusable.
    #[error("config key `{key}`: {message}")]
    Invalid {
        /// Dotted path of the key.
        key: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// An environment override does not parse.
    #[error("environment variable `{var}`: {message}")]
    Env {
        /// The variable.
        var: String,
        /// What is wrong and how to fix it.
        message: String,
    },
}

/// The whole configuration file.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Config {
    /// Service name (upstream key; informational).
    #[serde(deserialize_with = "lenient::string")]
    pub name: String,
    /// Address to listen on.
    #[serde(deserialize_with = "lenient::string")]
    pub host: String,
    /// Port to listen on.
    #[serde(deserialize_with = "lenient::u16")]
    pub port: u16,
    /// Public base URL of this gateway, used in ACK links.
    #[serde(deserialize_with = "lenient::string")]
    pub public_host: String,
    /// Alert channels (upstream `alert:` section).
    pub alert: AlertConfig,
    /// Escalation of unacknowledged alerts (upstream `oncall:` section).
    pub oncall: OnCallConfig,
    /// Where on-call state is kept (upstream `redis:` section).
    pub redis: RedisConfig,
    /// Wasm plugins: directory, cache, limits.
    pub plugins: PluginsConfig,
    /// Log output (our `log:` section).
    pub log: LogConfig,
    /// Who may post alerts, and request limits (our `ingest:` section).
    pub ingest: IngestConfig,
    /// The outbound proxy of the channels with `use_proxy` (upstream).
    pub proxy: ProxyConfig,
    /// AWS SNS deliveries and SQS polling (upstream `queue:` section).
    pub queue: QueueConfig,
    /// Channels delivered by custom channel plugins (our `channels:` list).
    #[serde(rename = "channels")]
    pub custom_channels: Vec<CustomChannelConfig>,
    /// The file this config was loaded from (`None` when parsed from text).
    /// Relative paths in it resolve against the working directory, as
    /// upstream does.
    #[serde(skip)]
    pub source: Option<PathBuf>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            name: "versus".into(),
            host: "0.0.0.0".into(),
            port: 3000,
            public_host: String::new(),
            alert: AlertConfig::default(),
            oncall: OnCallConfig::default(),
            redis: RedisConfig::default(),
            plugins: PluginsConfig::default(),
            log: LogConfig::default(),
            ingest: IngestConfig::default(),
            proxy: ProxyConfig::default(),
            queue: QueueConfig::default(),
            custom_channels: Vec::new(),
            source: None,
        }
    }
}

impl Config {
    /// Reads, expands and validates a config file, using the process
    /// environment. The warnings come back, one line per problem, each
    /// starting with the dotted key, e.g.
    /// `alert.telegram: the telegram channel is not implemented yet; ignored`.
    pub fn load_with_warnings(path: &Path) -> Result<(Self, Vec<String>), ConfigError> {
        Self::load_with_env(path, process_env)
    }

    /// [`Config::load_with_warnings`] with the variable lookup passed in,
    /// for `${VAR}` and the environment overrides alike.
    pub fn load_with_env(
        path: &Path,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<(Self, Vec<String>), ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let (mut config, warnings) = Self::from_yaml(&text, path, env)?;
        config.source = Some(path.to_path_buf());
        Ok((config, warnings))
    }

    /// Everything [`Config::load_with_env`] does except reading the file;
    /// `path` is used in messages only.
    pub fn from_yaml(
        text: &str,
        path: &Path,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<(Self, Vec<String>), ConfigError> {
        let expanded = expand_with(text, &env);
        let (mut config, mut warnings) = Self::parse_expanded(&expanded, path)?;
        apply_env_overrides(&mut config, &env)?;
        config.settle(&mut warnings);
        config.validate()?;
        Ok((config, warnings))
    }

    /// Parses YAML text, expanding `${VAR}` from the environment first. No
    /// environment overrides, warnings or validation: see [`Config::from_yaml`].
    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        Self::parse_expanded(&expand_env(text), path).map(|(config, _)| config)
    }

    /// Steps 2 and 3 of loading (see the module docs).
    fn parse_expanded(text: &str, path: &Path) -> Result<(Self, Vec<String>), ConfigError> {
        let parse_error = |message: String| ConfigError::Parse {
            path: path.to_path_buf(),
            message,
        };
        let mut value: serde_yaml_ng::Value =
            serde_yaml_ng::from_str(text).map_err(|e| parse_error(e.to_string()))?;
        let mut warnings = Vec::new();
        schema::walk(&mut value, &schema::ROOT, "", &mut warnings).map_err(|bad| {
            if bad.key.is_empty() {
                parse_error(format!("the whole file: {}", bad.message))
            } else {
                ConfigError::Value {
                    path: path.to_path_buf(),
                    key: bad.key,
                    message: bad.message,
                }
            }
        })?;
        let config = serde_yaml_ng::from_value(value).map_err(|e| parse_error(e.to_string()))?;
        Ok((config, warnings))
    }

    /// Warns about settings that cannot take effect.
    fn settle(&self, warnings: &mut Vec<String>) {
        self.alert.channels.warnings(warnings);
        self.queue.warnings(warnings);
        self.plugins.warnings(warnings);
        // With on-call on, an unknown provider is an error (`oncall::validate`).
        let oncall = &self.oncall;
        let user = oncall::is_user_provider(&oncall.provider, self.plugins.dir.as_deref());
        if !oncall::is_on(oncall) && !oncall::has_provider(&oncall.provider) && !user {
            warnings.push(format!(
                "oncall.provider: `{}` is not implemented yet (this build has: {}); ignored \
                 while on-call is off",
                oncall.provider.trim(),
                oncall::providers().join(", ")
            ));
        }
    }
}

/// Plugin names become file names, so keep them to a safe alphabet.
pub fn valid_plugin_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}
