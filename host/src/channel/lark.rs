//! Lark (`alert.lark`): a custom bot's webhook.

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;
use serde_json::json;

use super::{BuiltinChannel, OverrideValue, QueryOverride, check_urls, with_others};
use crate::config::Kind::Bool;
use crate::config::Node::{Named, Scalar, Secret, Text};
use crate::config::{ChannelSpec, Config, ConfigError, EnvReader, Node, SecretKind, lenient};

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

impl LarkConfig {
    /// Lark is used only when enabled with a URL.
    pub fn is_effective(&self) -> bool {
        self.enable && !self.webhook_url.trim().is_empty()
    }
}

impl BuiltinChannel for LarkConfig {
    const KEYS: &'static [(&'static str, Node)] = &[
        ("enable", Scalar(Bool)),
        ("webhook_url", Secret),
        ("template_path", Text),
        ("other_webhook_urls", Named(&Secret)),
        ("use_proxy", Scalar(Bool)),
    ];

    /// Name of an `alert.lark.other_webhook_urls` entry to use instead of `webhook_url`.
    const OVERRIDES: &'static [QueryOverride] = &[QueryOverride {
        query: "lark_other_webhook_url",
        setting: "webhook_url",
        value: OverrideValue::Named("other_webhook_urls"),
    }];

    fn read_env(&mut self, env: &EnvReader<'_>) -> Result<(), ConfigError> {
        env.flag("LARK_ENABLE", &mut self.enable)?;
        env.text("LARK_WEBHOOK_URL", &mut self.webhook_url);
        env.flag("LARK_USE_PROXY", &mut self.use_proxy)?;
        Ok(())
    }

    fn secrets<'a>(&'a self, out: &mut Vec<(&'a str, SecretKind)>) {
        out.push((&self.webhook_url, SecretKind::Url));
        for url in self.other_webhook_urls.values() {
            out.push((url, SecretKind::Url));
        }
    }

    fn warnings(&self, out: &mut Vec<String>) {
        if self.enable && self.webhook_url.trim().is_empty() {
            out.push(
                "alert.lark.enable is true but alert.lark.webhook_url is empty: Lark is \
                 disabled; set LARK_WEBHOOK_URL"
                    .into(),
            );
        }
    }

    fn validate(&self) -> Result<(), ConfigError> {
        if !self.enable {
            return Ok(());
        }
        check_urls(
            "alert.lark",
            "webhook_url",
            "other_webhook_urls",
            &self.webhook_url,
            &self.other_webhook_urls,
        )
    }

    fn spec(&self, config: &Config) -> Option<ChannelSpec> {
        if !self.is_effective() {
            return None;
        }
        let settings = json!({
            "webhook_url": self.webhook_url.trim(),
            "other_webhook_urls": self.other_webhook_urls,
        });
        let urls = with_others(&self.webhook_url, &self.other_webhook_urls);
        let mut spec = config.builtin_spec("lark", &self.template_path, &settings, &urls);
        spec.proxy = config.proxy.for_channel(self.use_proxy);
        Some(spec)
    }
}
