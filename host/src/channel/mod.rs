//! The built-in channels, one module each. A module is the one home of
//! everything the gateway knows about its channel:
//! - the upstream `alert.<name>` section, its defaults and the keys the
//!   config file accepts there;
//! - the environment variables that override those keys;
//! - the secrets to mask in the log;
//! - the warnings when it is enabled but cannot work, and its checks;
//! - the settings and allowed hosts its plugin gets;
//! - the query overrides of those settings;
//! - the plugin component it loads (built from `plugins/<name>`).
//!
//! The rest of the gateway iterates over the list in [`builtin_channels!`]:
//! adding a channel is a module here, its plugin crate under `plugins/`,
//! and one line in that list.

mod console;
mod email;
mod lark;
mod msteams;
pub mod slack;
mod telegram;
mod viber;

use std::collections::BTreeMap;

pub use console::ConsoleConfig;
pub use email::{DEFAULT_SMTP_TIMEOUT, EmailConfig, SmtpSecurity, SmtpServer};
pub use lark::LarkConfig;
pub use msteams::MsTeamsConfig;
pub use slack::{DEFAULT_SLACK_API_URL, SlackConfig, SlackMessageProperties};
pub use telegram::{DEFAULT_TELEGRAM_API_URL, TelegramConfig};
pub use viber::{DEFAULT_VIBER_API_URL, ViberConfig};

use crate::config::{ChannelSpec, Config, ConfigError, EnvReader, Node, SecretKind};

/// What one built-in channel module provides; implemented by its section
/// struct.
pub trait BuiltinChannel: serde::de::DeserializeOwned + Default + Clone + std::fmt::Debug {
    /// The keys of its section, as the config file may write them.
    const KEYS: &'static [(&'static str, Node)];
    /// Its query overrides (`?telegram_chat_id=…`).
    const OVERRIDES: &'static [QueryOverride] = &[];

    /// Applies its environment variables (`TELEGRAM_BOT_TOKEN`, …).
    fn read_env(&mut self, env: &EnvReader<'_>) -> Result<(), ConfigError>;

    /// Adds its secret values.
    fn secrets<'a>(&'a self, _out: &mut Vec<(&'a str, SecretKind)>) {}

    /// Warns when it is enabled but cannot work (it then stays off).
    fn warnings(&self, _out: &mut Vec<String>) {}

    /// Checks values that parse but cannot work, naming the key.
    fn validate(&self) -> Result<(), ConfigError> {
        Ok(())
    }

    /// The channel it becomes, when it is switched on and can work.
    fn spec(&self, config: &Config) -> Option<ChannelSpec>;
}

/// A query override of one setting of a built-in channel's plugin, for one
/// request (upstream's `?telegram_chat_id=…`).
#[derive(Debug)]
pub struct QueryOverride {
    /// Its key in the query string.
    pub query: &'static str,
    /// The key of the plugin settings it replaces.
    pub setting: &'static str,
    /// Where the new value comes from.
    pub value: OverrideValue,
}

/// Where an override's value comes from.
#[derive(Debug, Clone, Copy)]
pub enum OverrideValue {
    /// The query value itself.
    Given,
    /// The entry of this settings map named by the query value (an unknown
    /// name keeps the configured value, with a warning, as upstream).
    Named(&'static str),
}

/// Declares the registry from the one list of built-in channels: the
/// typed sections under `alert:`, the tables the schema, the query parser
/// and the plugin loader read, and the loops over every channel.
macro_rules! builtin_channels {
    ($($(#[$meta:meta])* $name:ident: $section:ty,)*) => {
        /// The built-in channel sections of `alert:`, by name.
        #[derive(Debug, Clone, Default, serde::Deserialize)]
        #[serde(default)]
        pub struct Sections {
            $($(#[$meta])* pub $name: $section,)*
        }

        /// The built-in channel names, in delivery order.
        pub const NAMES: &[&str] = &[$(stringify!($name)),*];

        /// The keys of every section, for `config::schema`.
        pub const SCHEMA: &[(&str, Node)] =
            &[$((stringify!($name), Node::Map(<$section as BuiltinChannel>::KEYS))),*];

        /// The query overrides of every channel, by channel name.
        pub const QUERY_OVERRIDES: &[(&str, &[QueryOverride])] =
            &[$((stringify!($name), <$section as BuiltinChannel>::OVERRIDES)),*];

        crate::pipeline::builtin::embedded!($($name),*);

        impl Sections {
            /// Applies every channel's environment variables.
            pub fn read_env(&mut self, env: &EnvReader<'_>) -> Result<(), ConfigError> {
                $(self.$name.read_env(env)?;)*
                Ok(())
            }

            /// Every channel's secret values.
            pub fn secrets(&self) -> Vec<(&str, SecretKind)> {
                let mut out = Vec::new();
                $(self.$name.secrets(&mut out);)*
                out
            }

            /// Every channel's warnings.
            pub fn warnings(&self, out: &mut Vec<String>) {
                $(self.$name.warnings(out);)*
            }

            /// Every channel's checks; the first problem is returned.
            pub fn validate(&self) -> Result<(), ConfigError> {
                $(self.$name.validate()?;)*
                Ok(())
            }

            /// The channels that are on, in [`NAMES`] order.
            pub fn specs(&self, config: &Config) -> Vec<ChannelSpec> {
                let mut out = Vec::new();
                $(out.extend(self.$name.spec(config));)*
                out
            }
        }
    };
}

builtin_channels! {
    /// Slack.
    slack: SlackConfig,
    /// Telegram.
    telegram: TelegramConfig,
    /// Email over SMTP.
    email: EmailConfig,
    /// Viber.
    viber: ViberConfig,
    /// Microsoft Teams.
    msteams: MsTeamsConfig,
    /// Lark.
    lark: LarkConfig,
    /// Our console channel: writes messages to the log.
    console: ConsoleConfig,
}

/// The query overrides of channel `name` (none for a custom channel).
pub fn query_overrides(name: &str) -> &'static [QueryOverride] {
    QUERY_OVERRIDES
        .iter()
        .find(|(n, _)| *n == name)
        .map_or(&[], |(_, o)| o)
}

/// Every query override key of every built-in channel.
pub fn override_keys() -> impl Iterator<Item = &'static str> {
    QUERY_OVERRIDES
        .iter()
        .flat_map(|(_, list)| list.iter().map(|o| o.query))
}

/// Checks that `url` is an http(s) URL.
fn check_url(key: &str, url: &str, example: &str) -> Result<(), ConfigError> {
    if crate::config::origin_of(url).is_some() {
        return Ok(());
    }
    Err(ConfigError::Invalid {
        key: key.into(),
        message: format!("`{url}` is not an http(s) URL: it must be like {example}"),
    })
}

/// The main URL and every named alternative.
fn with_others<'a>(main: &'a str, others: &'a BTreeMap<String, String>) -> Vec<&'a str> {
    std::iter::once(main)
        .chain(others.values().map(String::as_str))
        .collect()
}

/// Checks a channel's main URL (when set) and its named alternatives.
fn check_urls(
    section: &str,
    main_key: &str,
    others_key: &str,
    main: &str,
    others: &BTreeMap<String, String>,
) -> Result<(), ConfigError> {
    let example = "https://… (a full http or https URL)";
    if !main.trim().is_empty() {
        check_url(&format!("{section}.{main_key}"), main.trim(), example)?;
    }
    for (name, url) in others {
        check_url(
            &format!("{section}.{others_key}.{name}"),
            url.trim(),
            example,
        )?;
    }
    Ok(())
}
