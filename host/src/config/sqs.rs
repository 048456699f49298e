//! `queue.sqs`: an AWS SQS queue the gateway long-polls (upstream lists
//! `enable` and `queue_url`; the rest is ours). Read at startup.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::ConfigError;
use super::lenient;
use super::validate::invalid;

/// How long a received message stays hidden from other consumers; renewed
/// while the message is being handled.
pub const DEFAULT_VISIBILITY_TIMEOUT: Duration = Duration::from_secs(60);

/// One long poll's wait: SQS's maximum, so an idle queue costs three
/// requests a minute.
pub const DEFAULT_WAIT_TIME: Duration = Duration::from_secs(20);

/// `queue.sqs`.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct SqsConfig {
    #[serde(deserialize_with = "lenient::bool")]
    pub enable: bool,
    /// The queue, as SQS names it:
    /// `https://sqs.<region>.amazonaws.com/<account>/<name>`.
    #[serde(deserialize_with = "lenient::string")]
    pub queue_url: String,
    /// AWS region (ours). Default: the one in `queue_url`, else the SDK's
    /// usual lookup.
    #[serde(deserialize_with = "lenient::opt_string")]
    pub region: Option<String>,
    /// Endpoint override (ours), e.g. a local SQS-compatible server; the SDK
    /// also honours `AWS_ENDPOINT_URL_SQS`.
    #[serde(deserialize_with = "lenient::opt_string")]
    pub endpoint_url: Option<String>,
    /// How long a received message stays hidden (ours; 1 s to 12 h). The
    /// gateway extends it while the alert is still being handled, so a
    /// slow delivery is not received a second time.
    #[serde(
        deserialize_with = "lenient::duration",
        serialize_with = "humantime_serde::serialize"
    )]
    pub visibility_timeout: Duration,
    /// How long one receive waits for messages (ours; 1 s to 20 s).
    #[serde(
        deserialize_with = "lenient::duration",
        serialize_with = "humantime_serde::serialize"
    )]
    pub wait_time: Duration,
    /// Messages asked for per receive (ours; 1 to 10), handled together.
    #[serde(deserialize_with = "lenient::u32")]
    pub max_messages: u32,
}

impl Default for SqsConfig {
    fn default() -> Self {
        Self {
            enable: false,
            queue_url: String::new(),
            region: None,
            endpoint_url: None,
            visibility_timeout: DEFAULT_VISIBILITY_TIMEOUT,
            wait_time: DEFAULT_WAIT_TIME,
            max_messages: 10,
        }
    }
}

impl SqsConfig {
    /// The region: the setting, else the one `queue_url` names.
    pub fn region(&self) -> Option<String> {
        if let Some(region) = self.region.as_deref().filter(|r| !r.trim().is_empty()) {
            return Some(region.trim().to_string());
        }
        let host = self.queue_url.strip_prefix("https://")?.split('/').next()?;
        let region = host.strip_prefix("sqs.")?.split('.').next()?;
        let aws = host.ends_with(".amazonaws.com") || host.ends_with(".amazonaws.com.cn");
        (aws && !region.is_empty()).then(|| region.to_string())
    }

    /// Whether the queue is FIFO: its messages are then handled one at a
    /// time, in the order received.
    pub fn is_fifo(&self) -> bool {
        self.queue_url.trim_end_matches('/').ends_with(".fifo")
    }
}

pub(super) fn validate(sqs: &SqsConfig) -> Result<(), ConfigError> {
    let url = sqs.queue_url.trim();
    if !(url.starts_with("https://") || url.starts_with("http://")) {
        return Err(invalid(
            "queue.sqs.queue_url",
            "is required when SQS is on: the queue's URL, such as \
             https://sqs.eu-west-1.amazonaws.com/123456789012/versus-alerts",
        ));
    }
    if let Some(endpoint) = sqs.endpoint_url.as_deref().filter(|e| !e.is_empty())
        && !(endpoint.starts_with("https://") || endpoint.starts_with("http://"))
    {
        return Err(invalid(
            "queue.sqs.endpoint_url",
            "must be an http:// or https:// URL, such as http://127.0.0.1:5000",
        ));
    }
    let seconds = sqs.visibility_timeout.as_secs();
    if sqs.visibility_timeout.subsec_nanos() != 0 || !(1..=12 * 3600).contains(&seconds) {
        return Err(invalid(
            "queue.sqs.visibility_timeout",
            "must be whole seconds, from 1s to 12h (SQS's range)",
        ));
    }
    let wait = sqs.wait_time.as_secs();
    if sqs.wait_time.subsec_nanos() != 0 || !(1..=20).contains(&wait) {
        return Err(invalid(
            "queue.sqs.wait_time",
            "must be whole seconds, from 1s to 20s (SQS's long-poll range)",
        ));
    }
    if !(1..=10).contains(&sqs.max_messages) {
        return Err(invalid(
            "queue.sqs.max_messages",
            "must be from 1 to 10 (SQS's limit per receive)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::Config;

    fn error_of(yaml: &str) -> String {
        Config::from_yaml(yaml, Path::new("t.yaml"), |_| None)
            .expect_err("refused")
            .to_string()
    }

    const ON: &str = "queue:\n  enable: true\n  sqs:\n    enable: true\n";

    #[test]
    fn region_from_the_url_unless_set() {
        let (config, warnings) = crate::config::tests::from_yaml(&format!(
            "{ON}    queue_url: https://sqs.eu-west-1.amazonaws.com/123456789012/alerts\n"
        ));
        assert!(warnings.is_empty(), "{warnings:?}");
        let sqs = config.queue.sqs().expect("on");
        assert_eq!(sqs.region().as_deref(), Some("eu-west-1"));
        assert!(!sqs.is_fifo());
        assert_eq!(sqs.max_messages, 10);
        let mut local = sqs.clone();
        local.queue_url = "http://127.0.0.1:5000/123456789012/alerts.fifo".into();
        assert_eq!(local.region(), None);
        assert!(local.is_fifo());
        local.region = Some("us-east-1".into());
        assert_eq!(local.region().as_deref(), Some("us-east-1"));
    }

    #[test]
    fn off_unless_both_switches() {
        let (config, _) = crate::config::tests::from_yaml(
            "queue:\n  sqs:\n    enable: true\n    queue_url: http://x/1/q\n",
        );
        assert!(config.queue.sqs().is_none());
    }

    #[test]
    fn checks() {
        assert!(error_of(ON).contains("queue.sqs.queue_url"));
        let url = "    queue_url: http://127.0.0.1:1/1/q\n";
        for (line, key) in [
            ("    visibility_timeout: 0s\n", "visibility_timeout"),
            ("    visibility_timeout: 1500ms\n", "visibility_timeout"),
            ("    wait_time: 21s\n", "wait_time"),
            ("    max_messages: 11\n", "max_messages"),
            ("    endpoint_url: localhost:5000\n", "endpoint_url"),
        ] {
            let err = error_of(&format!("{ON}{url}{line}"));
            assert!(err.contains(&format!("queue.sqs.{key}")), "{line}: {err}");
        }
    }
}
