//! Microsoft Teams (`alert.msteams`): a Power Automate HTTP trigger or an
//! Office 365 connector.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;
use serde_json::json;

use super::{BuiltinChannel, OverrideValue, QueryOverride, check_urls, with_others};
use crate::config::Kind::Bool;
use crate::config::Node::{Named, Scalar, Secret, Text};
use crate::config::{ChannelSpec, Config, ConfigError, EnvReader, Node, SecretKind, lenient};

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

impl MsTeamsConfig {
    /// Teams is used only when enabled with a URL.
    pub fn is_effective(&self) -> bool {
        self.enable && !self.power_automate_url.trim().is_empty()
    }
}

impl BuiltinChannel for MsTeamsConfig {
    const KEYS: &'static [(&'static str, Node)] = &[
        ("enable", Scalar(Bool)),
        ("power_automate_url", Secret),
        ("template_path", Text),
        ("other_power_urls", Named(&Secret)),
        // upstream v1.2.0 spelling
        ("other_power_url", Named(&Secret)),
    ];

    /// Name of an `alert.msteams.other_power_urls` entry to use instead of `power_automate_url`.
    const OVERRIDES: &'static [QueryOverride] = &[QueryOverride {
        query: "msteams_other_power_url",
        setting: "power_automate_url",
        value: OverrideValue::Named("other_power_urls"),
    }];

    fn read_env(&mut self, env: &EnvReader<'_>) -> Result<(), ConfigError> {
        env.flag("MSTEAMS_ENABLE", &mut self.enable)?;
        env.text("MSTEAMS_POWER_AUTOMATE_URL", &mut self.power_automate_url);
        Ok(())
    }

    fn secrets<'a>(&'a self, out: &mut Vec<(&'a str, SecretKind)>) {
        out.push((&self.power_automate_url, SecretKind::Url));
        for url in self.other_power_urls.values() {
            out.push((url, SecretKind::Url));
        }
    }

    fn warnings(&self, out: &mut Vec<String>) {
        if self.enable && self.power_automate_url.trim().is_empty() {
            out.push(
                "alert.msteams.enable is true but alert.msteams.power_automate_url is empty: \
                 Teams is disabled; set MSTEAMS_POWER_AUTOMATE_URL"
                    .into(),
            );
        }
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if !self.enable {
            return Ok(());
        }
        check_urls(
            "alert.msteams",
            "power_automate_url",
            "other_power_urls",
            &self.power_automate_url,
            &self.other_power_urls,
        )
    }

    fn spec(&self, config: &Config) -> Option<ChannelSpec> {
        if !self.is_effective() {
            return None;
        }
        let settings = json!({
            "power_automate_url": self.power_automate_url.trim(),
            "other_power_urls": self.other_power_urls,
        });
        let urls = with_others(&self.power_automate_url, &self.other_power_urls);
        Some(config.builtin_spec("msteams", &self.template_path, &settings, &urls))
    }
}
