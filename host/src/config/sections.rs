//! The typed sections of `config.yaml` other than `plugins:`: `alert`,
//! `oncall`, `redis` and our `channels` list, with their defaults.

use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::aws::AwsIncidentManagerConfig;
use super::lenient;

/// Largest request body accepted by default. Alertmanager groups are rarely
/// more than a few tens of KiB; 1 MiB admits large groups while bounding the
/// memory one request can take.
pub const DEFAULT_MAX_BODY_BYTES: usize = 1024 * 1024;

/// Upstream's default: long enough for someone to click ACK, short enough
/// that a missed page is escalated quickly.
pub const DEFAULT_WAIT_MINUTES: f64 = 3.0;

/// How long an ACK holds off repeats of the same alert group: a working
/// day and a night, so a problem someone owns does not page the next
/// shift unless it resolves and fires again.
pub const DEFAULT_ACK_EXPIRY: Duration = Duration::from_secs(24 * 3600);

/// How long finished incidents are kept: a week covers a postmortem of
/// last weekend's pages, and bounds what Redis holds.
pub const DEFAULT_RETENTION: Duration = Duration::from_secs(7 * 24 * 3600);

/// The only on-call provider we implement.
pub const AWS_INCIDENT_MANAGER: &str = "aws_incident_manager";

/// The `log:` section (ours).
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(default)]
pub struct LogConfig {
    /// `text` (the default) or `json`. `--log-format` and
    /// `VERSUS_LOG_FORMAT` win over it.
    #[serde(deserialize_with = "lenient::string")]
    pub format: String,
}

/// The upstream `alert:` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct AlertConfig {
    /// Log raw request bodies (may contain secrets; off by default).
    #[serde(deserialize_with = "lenient::bool")]
    pub debug_body: bool,
    /// Largest request body accepted on the alert endpoints, in bytes (ours).
    #[serde(deserialize_with = "lenient::usize")]
    pub max_body_bytes: usize,
    /// How channel deliveries are retried (ours).
    pub retry: RetryConfig,
    /// How long a sender's retry of a notification (the same query and
    /// body) goes only to the channels that have not delivered it (ours);
    /// zero turns that off.
    #[serde(deserialize_with = "lenient::duration")]
    pub dedup_window: Duration,
    /// The built-in channels' sections (`alert.slack`, …): see `channel`.
    #[serde(flatten)]
    pub channels: crate::channel::Sections,
}

impl Default for AlertConfig {
    fn default() -> Self {
        Self {
            debug_body: false,
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            retry: RetryConfig::default(),
            dedup_window: Duration::from_secs(600),
            channels: crate::channel::Sections::default(),
        }
    }
}

/// `alert.retry` (ours): retries of one channel delivery.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct RetryConfig {
    /// Total time for all attempts and waits of one delivery.
    #[serde(deserialize_with = "lenient::duration")]
    pub max_elapsed: Duration,
    /// Wait before the first retry; doubles each time.
    #[serde(deserialize_with = "lenient::duration")]
    pub initial_backoff: Duration,
    /// Cap on one wait.
    #[serde(deserialize_with = "lenient::duration")]
    pub max_backoff: Duration,
}

impl Default for RetryConfig {
    fn default() -> Self {
        // Alertmanager's webhook timeout defaults to 10 s and it retries by
        // itself; Slack's rate-limit waits are usually well under 30 s.
        Self {
            max_elapsed: Duration::from_secs(30),
            initial_backoff: Duration::from_millis(500),
            max_backoff: Duration::from_secs(8),
        }
    }
}

/// The upstream `oncall:` section.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct OnCallConfig {
    /// Escalate every alert that is not acknowledged in time.
    #[serde(deserialize_with = "lenient::bool")]
    pub enable: bool,
    /// Set up on-call but escalate only alerts sent with `oncall_enable=true`.
    #[serde(deserialize_with = "lenient::bool")]
    pub initialized_only: bool,
    /// Minutes to wait for an ACK before escalating; fractions allowed, `0`
    /// escalates at once (and no ACK link is sent).
    #[serde(deserialize_with = "lenient::f64")]
    pub wait_minutes: f64,
    /// On-call provider: `aws_incident_manager` (in the host) or a built-in
    /// escalator plugin (`pagerduty`, see `escalator`).
    #[serde(deserialize_with = "lenient::string")]
    pub provider: String,
    /// Several providers, each paged (ours); replaces `provider` when set.
    #[serde(deserialize_with = "lenient::strings")]
    pub providers: Vec<String>,
    /// AWS Incident Manager settings.
    pub aws_incident_manager: AwsIncidentManagerConfig,
    /// The other built-in providers' sections (`oncall.pagerduty`, …).
    #[serde(flatten)]
    pub sections: crate::escalator::Sections,
    /// Settings passed as a JSON object to a user's escalator plugin
    /// (`provider` naming `plugins.dir/<provider>.wasm`) (ours).
    pub plugin_settings: serde_json::Value,
    /// Key that signs ACK links (ours; env `VERSUS_ACK_SECRET`). When empty,
    /// one is generated and shared through Redis.
    #[serde(deserialize_with = "lenient::string")]
    pub ack_secret: String,
    /// How long an acknowledged incident stays the open incident of its
    /// dedup key (ours): repeats within it join it without paging. `0s`:
    /// a repeat after an ACK opens a new incident.
    #[serde(
        deserialize_with = "lenient::duration",
        serialize_with = "humantime_serde::serialize"
    )]
    pub ack_expiry: Duration,
    /// How long incidents that need no more action (resolved, escalated,
    /// failed; acknowledged ones after `ack_expiry`) are kept for
    /// `GET /api/incidents/{id}` before the store forgets them (ours).
    #[serde(
        deserialize_with = "lenient::duration",
        serialize_with = "humantime_serde::serialize"
    )]
    pub retention: Duration,
}

impl Default for OnCallConfig {
    fn default() -> Self {
        Self {
            enable: false,
            initialized_only: false,
            wait_minutes: DEFAULT_WAIT_MINUTES,
            provider: AWS_INCIDENT_MANAGER.into(),
            aws_incident_manager: AwsIncidentManagerConfig::default(),
            providers: Vec::new(),
            sections: crate::escalator::Sections::default(),
            plugin_settings: serde_json::Value::Null,
            ack_secret: String::new(),
            ack_expiry: DEFAULT_ACK_EXPIRY,
            retention: DEFAULT_RETENTION,
        }
    }
}

impl OnCallConfig {
    /// [`OnCallConfig::wait_minutes`] as a duration (saturating, never
    /// negative).
    pub fn wait(&self) -> Duration {
        Duration::try_from_secs_f64(self.wait_minutes.max(0.0) * 60.0).unwrap_or(Duration::MAX)
    }
}

/// One entry of our `channels:` list: a channel delivered by a custom
/// channel plugin.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct CustomChannelConfig {
    /// Channel name, unique among all channels (logs, responses).
    #[serde(deserialize_with = "lenient::string")]
    pub name: String,
    /// Channel plugin; defaults to the channel name.
    #[serde(deserialize_with = "lenient::string")]
    pub plugin: String,
    /// Message template file.
    #[serde(deserialize_with = "lenient::path")]
    pub template_path: PathBuf,
    /// Whether the channel is on.
    #[serde(deserialize_with = "lenient::bool")]
    pub enable: bool,
    /// Hosts the plugin may call, as in [`super::PluginLimits::allowed_hosts`].
    #[serde(deserialize_with = "lenient::strings")]
    pub allowed_hosts: Vec<String>,
    /// Free-form settings passed to the plugin as a JSON object.
    pub config: serde_json::Value,
    /// See [`super::PluginLimits::memory_mb`].
    #[serde(deserialize_with = "lenient::opt_u32")]
    pub memory_mb: Option<u32>,
    /// See [`super::PluginLimits::timeout`].
    #[serde(deserialize_with = "lenient::opt_duration")]
    pub timeout: Option<Duration>,
    /// See [`super::PluginLimits::max_output_bytes`].
    #[serde(deserialize_with = "lenient::opt_usize")]
    pub max_output_bytes: Option<usize>,
    /// See [`super::PluginLimits::http_timeout`].
    #[serde(deserialize_with = "lenient::opt_duration")]
    pub http_timeout: Option<Duration>,
    /// See [`super::PluginLimits::http_max_body_bytes`].
    #[serde(deserialize_with = "lenient::opt_usize")]
    pub http_max_body_bytes: Option<usize>,
    /// See [`super::PluginLimits::allow_private_networks`].
    #[serde(deserialize_with = "lenient::opt_bool")]
    pub allow_private_networks: Option<bool>,
}

impl Default for CustomChannelConfig {
    fn default() -> Self {
        Self {
            name: String::new(),
            plugin: String::new(),
            template_path: PathBuf::new(),
            enable: true,
            allowed_hosts: Vec::new(),
            config: serde_json::Value::Object(serde_json::Map::new()),
            memory_mb: None,
            timeout: None,
            max_output_bytes: None,
            http_timeout: None,
            http_max_body_bytes: None,
            allow_private_networks: None,
        }
    }
}

impl CustomChannelConfig {
    /// The plugin that delivers: `plugin`, or the channel name.
    pub fn plugin_name(&self) -> &str {
        if self.plugin.trim().is_empty() {
            &self.name
        } else {
            &self.plugin
        }
    }

    /// The entry's limits as an override of its plugin's: each field that
    /// is set wins, and `allowed_hosts` always replaces the plugin's list
    /// (an entry with none may call nothing).
    pub fn limits_override(&self) -> super::PluginOverride {
        super::PluginOverride {
            memory_mb: self.memory_mb,
            timeout: self.timeout,
            max_output_bytes: self.max_output_bytes,
            allowed_hosts: Some(self.allowed_hosts.clone()),
            http_timeout: self.http_timeout,
            http_max_body_bytes: self.http_max_body_bytes,
            allow_private_networks: self.allow_private_networks,
            calls_per_instance: None,
        }
    }
}
