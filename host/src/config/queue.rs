//! The `queue:` section (upstream's keys): AWS SNS notifications posted to
//! this gateway, and an SQS queue it polls. Pub/Sub and Azure Service Bus
//! are warned about as not implemented (see `schema`).

use serde::Deserialize;

use super::ConfigError;
use super::cloudwatch::{self, CloudWatchConfig};
use super::lenient;
use super::sqs::{self, SqsConfig};
use super::validate::invalid;

/// Upstream's default path for SNS deliveries.
pub const DEFAULT_SNS_PATH: &str = "/sns";

/// The `queue:` section.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct QueueConfig {
    /// Upstream's master switch for every queue.
    #[serde(deserialize_with = "lenient::bool")]
    pub enable: bool,
    /// Log each message body received (as `alert.debug_body` does for
    /// `POST /api/incidents`).
    #[serde(deserialize_with = "lenient::bool")]
    pub debug_body: bool,
    /// AWS SNS over HTTPS.
    pub sns: SnsConfig,
    /// An AWS SQS queue, long-polled.
    pub sqs: SqsConfig,
    /// How CloudWatch alarms are read (ours).
    pub cloudwatch: CloudWatchConfig,
}

/// `queue.sns`: the endpoint an SNS topic's HTTPS subscription posts to.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct SnsConfig {
    #[serde(deserialize_with = "lenient::bool")]
    pub enable: bool,
    /// Where SNS posts (`POST <path>`). Read at startup.
    #[serde(deserialize_with = "lenient::string")]
    pub https_endpoint_subscription_path: String,
    /// The only topic accepted; required when SNS is on, as upstream.
    #[serde(deserialize_with = "lenient::string")]
    pub topic_arn: String,
    /// Tests only: certificates and subscription URLs are fetched from
    /// under this prefix (e.g. `http://127.0.0.1:8080/`) instead of AWS's
    /// `https://sns.<region>.amazonaws.com/`. Startup warns when it is set.
    #[serde(deserialize_with = "lenient::string")]
    pub cert_url_prefix: String,
}

impl Default for SnsConfig {
    fn default() -> Self {
        Self {
            enable: false,
            https_endpoint_subscription_path: DEFAULT_SNS_PATH.to_string(),
            topic_arn: String::new(),
            cert_url_prefix: String::new(),
        }
    }
}

impl QueueConfig {
    /// The SNS settings, when SNS is on (`queue.enable` and
    /// `queue.sns.enable`, as upstream requires both).
    pub fn sns(&self) -> Option<&SnsConfig> {
        (self.enable && self.sns.enable).then_some(&self.sns)
    }

    /// The SQS settings, when SQS is on (`queue.enable` and
    /// `queue.sqs.enable`).
    pub fn sqs(&self) -> Option<&SqsConfig> {
        (self.enable && self.sqs.enable).then_some(&self.sqs)
    }
}

impl QueueConfig {
    /// Warns about settings that weaken the endpoint.
    pub(super) fn warnings(&self, out: &mut Vec<String>) {
        let prefix = self.sns.cert_url_prefix.trim();
        if self.sns().is_some() && !prefix.is_empty() {
            out.push(format!(
                "queue.sns.cert_url_prefix is set: SNS certificates and subscription URLs \
                 are fetched from under `{prefix}` instead of AWS, private addresses \
                 included. This is for tests only; remove it in production"
            ));
        }
    }
}

/// The routes the gateway serves itself, which the SNS path must not take.
const OWN_ROUTES: &[&str] = &["/healthz", "/readyz", "/metrics", "/api/"];

pub(super) fn validate(queue: &QueueConfig) -> Result<(), ConfigError> {
    cloudwatch::validate(&queue.cloudwatch)?;
    if let Some(sqs) = queue.sqs() {
        sqs::validate(sqs)?;
    }
    let Some(sns) = queue.sns() else {
        return Ok(());
    };
    if sns.topic_arn.trim().is_empty() {
        return Err(invalid(
            "queue.sns.topic_arn",
            "is required when SNS is on: only that topic's messages are accepted",
        ));
    }
    let path = &sns.https_endpoint_subscription_path;
    let plain = path
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"/-_.~".contains(&b));
    if !path.starts_with('/') || path.len() < 2 || path.contains("//") || !plain {
        return Err(invalid(
            "queue.sns.https_endpoint_subscription_path",
            "must be a plain path such as /sns (letters, digits, `/-_.~`)",
        ));
    }
    if OWN_ROUTES.iter().any(|own| path.starts_with(own)) {
        return Err(invalid(
            "queue.sns.https_endpoint_subscription_path",
            "is one of the gateway's own routes; pick another, such as /sns",
        ));
    }
    let prefix = sns.cert_url_prefix.trim();
    let is_url = prefix.starts_with("http://") || prefix.starts_with("https://");
    let usable = prefix.is_empty() || (is_url && prefix.ends_with('/'));
    if !usable {
        return Err(invalid(
            "queue.sns.cert_url_prefix",
            "must be an http:// or https:// URL ending in `/`, such as http://127.0.0.1:8080/ (tests only)",
        ));
    }
    Ok(())
}
