//! The channels a config switches on: built-in Slack and console, then our
//! `channels:` list, each with the JSON settings and HTTP allow-list its
//! plugin gets.

use std::path::PathBuf;

use serde_json::json;

use super::{Config, PluginLimits};

/// One enabled channel: which plugin delivers, which template renders, and
/// what the plugin is given.
#[derive(Debug, Clone)]
pub struct ChannelSpec {
    /// Channel name as used in logs and responses.
    pub name: String,
    /// Channel plugin name.
    pub plugin: String,
    /// Template file.
    pub template_path: PathBuf,
    /// The JSON object passed to the plugin's `deliver` and `update`.
    pub config_json: String,
    /// Hosts the plugin may call for this channel (the same list as
    /// `limits.allowed_hosts`).
    pub allowed_hosts: Vec<String>,
    /// The plugin's limits for this channel: `plugins.defaults`, then
    /// `plugins.overrides.<plugin>`, then the channel entry's own fields.
    pub limits: PluginLimits,
    /// The SMTP server the plugin may send through (the email channel only;
    /// its plugin then implements `versus:mail/email-channel`).
    pub smtp: Option<super::SmtpServer>,
    /// The proxy its HTTP goes through (`use_proxy: true`).
    pub proxy: Option<super::ProxyConfig>,
}

impl Config {
    /// The channels that are switched on, in a stable order: Slack (when
    /// [effective](super::SlackConfig::is_effective)), the other upstream
    /// chat channels (Telegram, …), console, then each enabled entry of
    /// `channels:` in file order.
    pub fn channels(&self) -> Vec<ChannelSpec> {
        let mut out = Vec::new();
        let slack = &self.alert.slack;
        if slack.is_effective() {
            let mut limits = self.plugins.limits_for("slack");
            let overridden = self
                .plugins
                .overrides
                .get("slack")
                .is_some_and(|o| o.allowed_hosts.is_some());
            if !overridden {
                limits.allowed_hosts = origin_of(&slack.api_url).into_iter().collect();
            }
            let props = &slack.message_properties;
            let config = json!({
                "token": slack.token,
                "channel_id": slack.channel_id,
                "api_url": slack.api_url,
                "message_properties": {
                    "button_text": props.button_text,
                    "button_style": props.button_style,
                    "disable_button": props.disable_button,
                },
            });
            out.push(spec(
                "slack",
                "slack",
                &slack.template_path,
                &config,
                limits,
            ));
        }
        out.extend(self.chat_channels());
        let console = &self.alert.console;
        if console.enable {
            let limits = self.plugins.limits_for("console");
            out.push(spec(
                "console",
                "console",
                &console.template_path,
                &json!({}),
                limits,
            ));
        }
        for entry in self.custom_channels.iter().filter(|c| c.enable) {
            let plugin = entry.plugin_name();
            // One merge for every layer: defaults, the plugin's override,
            // then the entry's own fields.
            let mut limits = self.plugins.limits_for(plugin);
            entry.limits_override().apply(&mut limits);
            out.push(spec(
                &entry.name,
                plugin,
                &entry.template_path,
                &entry.config,
                limits,
            ));
        }
        out
    }
}

pub(super) fn spec(
    name: &str,
    plugin: &str,
    template_path: &std::path::Path,
    config: &serde_json::Value,
    limits: PluginLimits,
) -> ChannelSpec {
    ChannelSpec {
        name: name.to_string(),
        plugin: plugin.to_string(),
        template_path: template_path.to_path_buf(),
        config_json: config.to_string(),
        allowed_hosts: limits.allowed_hosts.clone(),
        limits,
        smtp: None,
        proxy: None,
    }
}

/// `scheme://host:port` of an `http(s)` URL, the port spelled out even when
/// it is the scheme's default; `None` for anything else.
pub(super) fn origin_of(url: &str) -> Option<String> {
    let url = reqwest::Url::parse(url.trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let host = url.host_str()?;
    let port = url.port_or_known_default()?;
    Some(format!("{}://{host}:{port}", url.scheme()))
}
