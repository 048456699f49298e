//! The channels a config switches on: built-in Slack and console, then our
//! `channels:` list, each with the JSON settings and HTTP allow-list its
//! plugin gets.

use std::path::PathBuf;

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
    /// The channels that are switched on, in a stable order: the built-in
    /// ones that can work, in `channel::NAMES` order, then each enabled
    /// entry of `channels:` in file order.
    pub fn channels(&self) -> Vec<ChannelSpec> {
        let mut out = self.alert.channels.specs(self);
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

impl Config {
    /// A built-in channel whose plugin may call exactly the origins of
    /// `urls`, unless `plugins.overrides.<name>.allowed_hosts` says
    /// otherwise.
    pub(crate) fn builtin_spec(
        &self,
        name: &str,
        template_path: &std::path::Path,
        settings: &serde_json::Value,
        urls: &[&str],
    ) -> ChannelSpec {
        let mut limits = self.plugins.limits_for(name);
        let overridden = self
            .plugins
            .overrides
            .get(name)
            .is_some_and(|o| o.allowed_hosts.is_some());
        if !overridden {
            let mut hosts: Vec<String> = urls.iter().filter_map(|u| origin_of(u)).collect();
            hosts.sort();
            hosts.dedup();
            limits.allowed_hosts = hosts;
        }
        spec(name, name, template_path, settings, limits)
    }
}

pub(crate) fn spec(
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
pub(crate) fn origin_of(url: &str) -> Option<String> {
    let url = reqwest::Url::parse(url.trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let host = url.host_str()?;
    let port = url.port_or_known_default()?;
    Some(format!("{}://{host}:{port}", url.scheme()))
}
