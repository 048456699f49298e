//! Checks for values that parse but cannot work. Each error names the
//! dotted key and says how to fix it; `testdata/errors.txt` holds them all.

use std::collections::HashMap;

use super::channels::origin_of;
use super::{Config, ConfigError, PluginLimits, valid_plugin_name};

/// Plugin and channel names: what they may contain.
const NAME_RULE: &str = "use letters, digits, `-` and `_`";

impl Config {
    /// Checks values that parse but cannot work; the first problem found is
    /// returned.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.validate_server()?;
        self.validate_alert()?;
        self.validate_oncall()?;
        self.validate_plugins()?;
        super::ingest::validate(&self.ingest)?;
        super::queue::validate(&self.queue)?;
        self.validate_custom_channels()
    }

    fn validate_server(&self) -> Result<(), ConfigError> {
        if self.host.trim().is_empty() {
            return Err(invalid(
                "host",
                "is empty: give an address to listen on, e.g. 0.0.0.0 (or set HOST)",
            ));
        }
        if self.port == 0 {
            return Err(invalid("port", "must be between 1 and 65535 (or set PORT)"));
        }
        let format = self.log.format.trim().to_ascii_lowercase();
        if !format.is_empty() && format != "text" && format != "json" {
            return Err(invalid(
                "log.format",
                &format!(
                    "`{}` is not a log format: use text or json (or set VERSUS_LOG_FORMAT)",
                    self.log.format.trim()
                ),
            ));
        }
        let public = self.public_host.trim();
        if !public.is_empty() && origin_of(public).is_none() {
            return Err(invalid(
                "public_host",
                &format!(
                    "`{public}` is not a URL: it must be like https://versus.example.com, or empty"
                ),
            ));
        }
        Ok(())
    }

    fn validate_alert(&self) -> Result<(), ConfigError> {
        let alert = &self.alert;
        if alert.max_body_bytes == 0 {
            return Err(invalid(
                "alert.max_body_bytes",
                "must be greater than 0 (bytes; the default is 1048576)",
            ));
        }
        if alert.retry.max_elapsed.is_zero() {
            return Err(invalid(
                "alert.retry.max_elapsed",
                "must be greater than 0: it bounds every attempt of a delivery (the default is 30s)",
            ));
        }
        alert.channels.validate()?;
        for spec in self.channels() {
            if spec.proxy.is_some() {
                self.proxy.validate_for(&spec.name)?;
            }
        }
        Ok(())
    }

    fn validate_oncall(&self) -> Result<(), ConfigError> {
        let oncall = &self.oncall;
        if !(oncall.wait_minutes.is_finite() && oncall.wait_minutes >= 0.0) {
            return Err(invalid(
                "oncall.wait_minutes",
                "must be ≥ 0 (minutes, fractions allowed)",
            ));
        }
        if oncall.retention.is_zero() {
            return Err(invalid(
                "oncall.retention",
                "must be more than 0s: finished incidents are kept this long (e.g. 7d)",
            ));
        }
        if let Some(url) = &oncall.aws_incident_manager.endpoint_url
            && origin_of(url).is_none()
        {
            return Err(invalid(
                "oncall.aws_incident_manager.endpoint_url",
                &format!(
                    "`{url}` is not an http(s) URL: it must be like http://127.0.0.1:4566, or unset"
                ),
            ));
        }
        super::oncall::validate(oncall, self.plugins.dir.as_deref())?;
        self.validate_escalation()?;
        self.redis.validate()
    }

    fn validate_escalation(&self) -> Result<(), ConfigError> {
        let aws = &self.oncall.aws_incident_manager;
        if aws.max_attempts == 0 {
            return Err(invalid(
                "oncall.aws_incident_manager.max_attempts",
                "must be at least 1 (StartIncident calls before giving up; the default is 5)",
            ));
        }
        if aws.initial_backoff.is_zero() {
            return Err(invalid(
                "oncall.aws_incident_manager.initial_backoff",
                "must be greater than zero, e.g. 2s (the default)",
            ));
        }
        if aws.max_backoff < aws.initial_backoff {
            return Err(invalid(
                "oncall.aws_incident_manager.max_backoff",
                "must be at least initial_backoff (the default is 60s)",
            ));
        }
        for (severity, impact) in &aws.impact {
            if !(1..=5).contains(impact) {
                return Err(invalid(
                    &format!("oncall.aws_incident_manager.impact.{severity}"),
                    &format!(
                        "{impact} is not an AWS impact: use 1 (critical) to 5 (no impact), \
                         or remove the entry to send none"
                    ),
                ));
            }
        }
        Ok(())
    }

    fn validate_plugins(&self) -> Result<(), ConfigError> {
        let plugins = &self.plugins;
        if plugins.renderer.trim().is_empty() {
            return Err(invalid(
                "plugins.renderer",
                "must name a renderer plugin, e.g. `gotemplate`",
            ));
        }
        let named = std::iter::once(("plugins.renderer".to_string(), &plugins.renderer))
            .chain(
                plugins
                    .transforms
                    .iter()
                    .enumerate()
                    .map(|(i, n)| (format!("plugins.transforms[{i}]"), n)),
            )
            .chain(
                plugins
                    .overrides
                    .keys()
                    .map(|n| (format!("plugins.overrides.{n}"), n)),
            );
        for (key, name) in named {
            if !valid_plugin_name(name) {
                return Err(invalid(
                    &key,
                    &format!("`{name}` is not a valid plugin name: {NAME_RULE}"),
                ));
            }
        }
        limits_positive("plugins.defaults", &plugins.defaults)?;
        for name in plugins.overrides.keys() {
            limits_positive(
                &format!("plugins.overrides.{name}"),
                &plugins.limits_for(name),
            )?;
        }
        if let Some(dir) = &plugins.dir
            && !dir.is_dir()
        {
            return Err(invalid(
                "plugins.dir",
                &format!(
                    "{} is not a directory: create it or remove the key",
                    dir.display()
                ),
            ));
        }
        Ok(())
    }

    fn validate_custom_channels(&self) -> Result<(), ConfigError> {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        for (i, entry) in self.custom_channels.iter().enumerate() {
            let key = |field: &str| format!("channels[{i}].{field}");
            let name = entry.name.as_str();
            if name.trim().is_empty() {
                return Err(invalid(
                    &key("name"),
                    &format!("is missing: give the channel a name ({NAME_RULE})"),
                ));
            }
            if !valid_plugin_name(name) {
                return Err(invalid(
                    &key("name"),
                    &format!("`{name}` is not a valid channel name: {NAME_RULE}"),
                ));
            }
            if crate::channel::NAMES.contains(&name) {
                return Err(invalid(
                    &key("name"),
                    &format!("`{name}` is the built-in alert.{name} channel: pick another name"),
                ));
            }
            if let Some(first) = seen.insert(name, i) {
                return Err(invalid(
                    &key("name"),
                    &format!(
                        "`{name}` is already used by channels[{first}]: channel names must be \
                         unique, rename one of them"
                    ),
                ));
            }
            let plugin = entry.plugin_name();
            if !valid_plugin_name(plugin) {
                return Err(invalid(
                    &key("plugin"),
                    &format!("`{plugin}` is not a valid plugin name: {NAME_RULE}"),
                ));
            }
            template_given(&key("template_path"), &entry.template_path)?;
            if !entry.config.is_object() {
                return Err(invalid(
                    &key("config"),
                    "must be a section of `key: value` settings for the plugin",
                ));
            }
            if entry.memory_mb == Some(0) || entry.timeout.is_some_and(|t| t.is_zero()) {
                return Err(invalid(
                    &format!("channels[{i}]"),
                    "memory_mb and timeout must be greater than zero",
                ));
            }
        }
        Ok(())
    }
}

pub(crate) fn template_given(key: &str, path: &std::path::Path) -> Result<(), ConfigError> {
    if path.as_os_str().is_empty() {
        return Err(invalid(
            key,
            "is empty: point it at a message template, e.g. config/slack_message.tmpl",
        ));
    }
    Ok(())
}

fn limits_positive(key: &str, limits: &PluginLimits) -> Result<(), ConfigError> {
    if limits.memory_mb == 0 || limits.timeout.is_zero() {
        return Err(invalid(
            key,
            "memory_mb and timeout must be greater than zero",
        ));
    }
    if limits.calls_per_instance == 0 {
        return Err(invalid(
            &format!("{key}.calls_per_instance"),
            "must be at least 1; 1 gives every call a fresh instance",
        ));
    }
    Ok(())
}

pub(super) fn invalid(key: &str, message: &str) -> ConfigError {
    ConfigError::Invalid {
        key: key.into(),
        message: message.into(),
    }
}
