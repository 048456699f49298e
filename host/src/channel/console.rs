//! The console channel (`alert.console`, ours): writes each message to the
//! log, for trying the gateway out and for tests.

use std::path::PathBuf;

use serde::Deserialize;
use serde_json::json;

use super::BuiltinChannel;
use super::slack::DEFAULT_TEMPLATE;
use crate::config::Kind::Bool;
use crate::config::Node::{Scalar, Text};
use crate::config::{ChannelSpec, Config, ConfigError, EnvReader, Node, lenient};

/// The `alert.console` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct ConsoleConfig {
    /// Whether the console channel is on.
    #[serde(deserialize_with = "lenient::bool")]
    pub enable: bool,
    /// Message template file.
    #[serde(deserialize_with = "lenient::path")]
    pub template_path: PathBuf,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        Self {
            enable: false,
            template_path: PathBuf::from(DEFAULT_TEMPLATE),
        }
    }
}

impl BuiltinChannel for ConsoleConfig {
    const KEYS: &'static [(&'static str, Node)] =
        &[("enable", Scalar(Bool)), ("template_path", Text)];

    fn read_env(&mut self, _env: &EnvReader<'_>) -> Result<(), ConfigError> {
        Ok(())
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if self.enable {
            crate::config::template_given("alert.console.template_path", &self.template_path)?;
        }
        Ok(())
    }

    /// The console makes no HTTP calls, so its hosts are whatever
    /// `plugins.defaults` and `plugins.overrides.console` say.
    fn spec(&self, config: &Config) -> Option<ChannelSpec> {
        self.enable.then(|| {
            let limits = config.plugins.limits_for("console");
            crate::config::spec(
                "console",
                "console",
                &self.template_path,
                &json!({}),
                limits,
            )
        })
    }
}
