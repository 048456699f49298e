//! The `plugins:` section (ours): where plugins come from and the sandbox
//! limits each one runs under.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;

use super::lenient;

/// The `plugins:` section (ours).
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct PluginsConfig {
    /// Directory whose `<name>.wasm` files override built-ins of the same
    /// name or add new plugins. Watched for changes.
    #[serde(deserialize_with = "lenient::opt_path")]
    pub dir: Option<PathBuf>,
    /// Where compiled components are cached. Defaults to the user's cache
    /// directory; `none` disables the cache.
    #[serde(deserialize_with = "lenient::opt_path")]
    pub cache_dir: Option<PathBuf>,
    /// Renderer plugin used for every channel's template.
    #[serde(deserialize_with = "lenient::string")]
    pub renderer: String,
    /// Transform plugins, run in order. None by default: the gateway reads
    /// what the built-in `alertmanager` transform would add (resolved,
    /// severity, dedup key) itself, when it accepts the alert.
    #[serde(deserialize_with = "lenient::strings")]
    pub transforms: Vec<String>,
    /// Watch plugin and template files and reload on change.
    #[serde(deserialize_with = "lenient::bool")]
    pub watch: bool,
    /// Limits for every plugin unless overridden.
    pub defaults: PluginLimits,
    /// Per-plugin overrides, by plugin name.
    pub overrides: BTreeMap<String, PluginOverride>,
}

impl Default for PluginsConfig {
    fn default() -> Self {
        Self {
            dir: None,
            cache_dir: None,
            renderer: "gotemplate".into(),
            transforms: Vec::new(),
            watch: true,
            defaults: PluginLimits::default(),
            overrides: BTreeMap::new(),
        }
    }
}

impl PluginsConfig {
    /// Warns about a plugin file that nothing runs any more: an
    /// `alertmanager.wasm` in `plugins.dir` was the default pipeline's
    /// transform until the gateway read those facts itself.
    pub(super) fn warnings(&self, out: &mut Vec<String>) {
        let Some(dir) = &self.dir else { return };
        let file = dir.join("alertmanager.wasm");
        if file.exists() && !self.transforms.iter().any(|t| t == "alertmanager") {
            out.push(format!(
                "plugins.dir: {} is not run: plugins.transforms does not list it (the \
                 default list is empty, since the gateway reads an Alertmanager \
                 notification's resolved flag, severity and dedup key itself); add \
                 `alertmanager` to plugins.transforms to run this file",
                file.display()
            ));
        }
    }
}

/// Sandbox limits for one plugin.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Deserialize)]
#[serde(default)]
pub struct PluginLimits {
    /// Largest linear memory a plugin instance may grow to, in MiB.
    #[serde(deserialize_with = "lenient::u32")]
    pub memory_mb: u32,
    /// Wall-clock budget for one call, including time spent waiting in host
    /// imports such as outbound HTTP.
    #[serde(deserialize_with = "lenient::duration")]
    pub timeout: Duration,
    /// Largest string a plugin may return, in bytes.
    #[serde(deserialize_with = "lenient::usize")]
    pub max_output_bytes: usize,
    /// Hosts the plugin may call: `scheme://host[:port]`, with `*` allowed
    /// for the scheme, the port, the whole host or a leading `*.` label.
    #[serde(deserialize_with = "lenient::strings")]
    pub allowed_hosts: Vec<String>,
    /// Timeout for one outbound HTTP request.
    #[serde(deserialize_with = "lenient::duration")]
    pub http_timeout: Duration,
    /// Largest outbound HTTP response body accepted, in bytes.
    #[serde(deserialize_with = "lenient::usize")]
    pub http_max_body_bytes: usize,
    /// Let outbound HTTP reach loopback, private and link-local addresses
    /// (after DNS resolution). Off: only an allowed host written as that
    /// exact IP address may be private.
    #[serde(deserialize_with = "lenient::bool")]
    pub allow_private_networks: bool,
    /// Calls one instance serves before it is replaced by a fresh one. An
    /// instance is dropped sooner if a call traps, times out or hits the
    /// memory cap. 1 gives every call a fresh instance.
    #[serde(deserialize_with = "lenient::u32")]
    pub calls_per_instance: u32,
}

impl Default for PluginLimits {
    fn default() -> Self {
        Self {
            // The gotemplate renderer needs ~2 MiB; 64 MiB leaves room for big
            // payloads while keeping a memory bomb cheap.
            memory_mb: 64,
            // Rendering takes well under a millisecond; a channel waits on the
            // network, which its HTTP timeout bounds separately.
            timeout: Duration::from_secs(10),
            max_output_bytes: 1024 * 1024,
            allowed_hosts: Vec::new(),
            http_timeout: Duration::from_secs(10),
            http_max_body_bytes: 1024 * 1024,
            allow_private_networks: false,
            // Reuse saves the instantiation and memory reset that cost more
            // than a typical call; replacing instances now and then bounds
            // what a slowly leaking plugin can pile up.
            calls_per_instance: 1000,
        }
    }
}

/// Per-plugin changes to [`PluginLimits`]; unset fields keep the default.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct PluginOverride {
    /// See [`PluginLimits::memory_mb`].
    #[serde(deserialize_with = "lenient::opt_u32")]
    pub memory_mb: Option<u32>,
    /// See [`PluginLimits::timeout`].
    #[serde(deserialize_with = "lenient::opt_duration")]
    pub timeout: Option<Duration>,
    /// See [`PluginLimits::max_output_bytes`].
    #[serde(deserialize_with = "lenient::opt_usize")]
    pub max_output_bytes: Option<usize>,
    /// See [`PluginLimits::allowed_hosts`]; replaces the default list.
    #[serde(deserialize_with = "lenient::opt_strings")]
    pub allowed_hosts: Option<Vec<String>>,
    /// See [`PluginLimits::http_timeout`].
    #[serde(deserialize_with = "lenient::opt_duration")]
    pub http_timeout: Option<Duration>,
    /// See [`PluginLimits::http_max_body_bytes`].
    #[serde(deserialize_with = "lenient::opt_usize")]
    pub http_max_body_bytes: Option<usize>,
    /// See [`PluginLimits::allow_private_networks`].
    #[serde(deserialize_with = "lenient::opt_bool")]
    pub allow_private_networks: Option<bool>,
    /// See [`PluginLimits::calls_per_instance`].
    #[serde(deserialize_with = "lenient::opt_u32")]
    pub calls_per_instance: Option<u32>,
}

impl PluginOverride {
    /// Applies the fields that are set to `limits`.
    pub fn apply(&self, limits: &mut PluginLimits) {
        limits.memory_mb = self.memory_mb.unwrap_or(limits.memory_mb);
        limits.timeout = self.timeout.unwrap_or(limits.timeout);
        limits.max_output_bytes = self.max_output_bytes.unwrap_or(limits.max_output_bytes);
        if let Some(hosts) = &self.allowed_hosts {
            limits.allowed_hosts = hosts.clone();
        }
        limits.http_timeout = self.http_timeout.unwrap_or(limits.http_timeout);
        limits.http_max_body_bytes = self
            .http_max_body_bytes
            .unwrap_or(limits.http_max_body_bytes);
        limits.allow_private_networks = self
            .allow_private_networks
            .unwrap_or(limits.allow_private_networks);
        limits.calls_per_instance = self.calls_per_instance.unwrap_or(limits.calls_per_instance);
    }
}

impl PluginsConfig {
    /// The effective limits of one plugin: defaults plus its override.
    pub fn limits_for(&self, name: &str) -> PluginLimits {
        let mut limits = self.defaults.clone();
        if let Some(o) = self.overrides.get(name) {
            o.apply(&mut limits);
        }
        limits
    }
}
