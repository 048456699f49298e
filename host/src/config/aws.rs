//! The `oncall.aws_incident_manager` section: the response plan, the AWS
//! client's overrides, how StartIncident is retried and how alert
//! severities map to AWS impact.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::lenient;

/// StartIncident calls before an incident is marked `escalation_failed`.
/// With the default backoff the last one comes about 30 s after the first:
/// long enough to ride out a throttling burst or a short AWS outage, short
/// enough that a failed page is reported while the alert is still fresh.
pub const DEFAULT_ESCALATION_MAX_ATTEMPTS: u32 = 5;

/// Wait before the first StartIncident retry; it doubles on each retry.
pub const DEFAULT_ESCALATION_INITIAL_BACKOFF: Duration = Duration::from_secs(2);

/// Cap on one wait between StartIncident attempts.
pub const DEFAULT_ESCALATION_MAX_BACKOFF: Duration = Duration::from_secs(60);

/// The default severity → AWS impact table (1 = critical … 5 = no impact),
/// covering the severity names that Alertmanager rules and other senders
/// commonly use.
pub fn default_impact() -> BTreeMap<String, u32> {
    [
        (1, &["critical", "urgent", "page", "p1"][..]),
        (2, &["high", "error", "major", "p2"]),
        (3, &["warning", "medium", "p3"]),
        (4, &["low", "minor", "p4"]),
        (5, &["info", "none", "p5"]),
    ]
    .into_iter()
    .flat_map(|(impact, names)| names.iter().map(move |n| (n.to_string(), impact)))
    .collect()
}

/// The upstream `oncall.aws_incident_manager` section.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct AwsIncidentManagerConfig {
    /// Response plan started on escalation.
    #[serde(deserialize_with = "lenient::string")]
    pub response_plan_arn: String,
    /// AWS region (ours); when unset, the SDK's usual lookup applies.
    #[serde(deserialize_with = "lenient::opt_string")]
    pub region: Option<String>,
    /// Endpoint override (ours), e.g. a local emulator in tests; the SDK also
    /// honours `AWS_ENDPOINT_URL_SSM_INCIDENTS`.
    #[serde(deserialize_with = "lenient::opt_string")]
    pub endpoint_url: Option<String>,
    /// Named alternative plans, chosen per alert with
    /// `?awsim_other_response_plan=<name>`.
    #[serde(deserialize_with = "lenient::string_map")]
    pub other_response_plan_arns: BTreeMap<String, String>,
    /// StartIncident calls before giving up (ours); at least 1.
    #[serde(deserialize_with = "lenient::u32")]
    pub max_attempts: u32,
    /// Wait before the first retry, doubled on each further retry (ours).
    #[serde(
        deserialize_with = "lenient::duration",
        serialize_with = "humantime_serde::serialize"
    )]
    pub initial_backoff: Duration,
    /// Cap on one wait between attempts (ours).
    #[serde(
        deserialize_with = "lenient::duration",
        serialize_with = "humantime_serde::serialize"
    )]
    pub max_backoff: Duration,
    /// Severity (any case) → AWS impact 1–5 (ours). Replaces the default
    /// table as a whole; a severity not in it sends no impact, so the
    /// response plan's own applies.
    #[serde(deserialize_with = "lenient::u32_map")]
    pub impact: BTreeMap<String, u32>,
    /// When the alert resolves after the page, set the incident record's
    /// status to RESOLVED too (ours); off, only a timeline event says so.
    #[serde(deserialize_with = "lenient::bool")]
    pub resolve_on_alert_resolved: bool,
}

impl Default for AwsIncidentManagerConfig {
    fn default() -> Self {
        Self {
            response_plan_arn: String::new(),
            region: None,
            endpoint_url: None,
            other_response_plan_arns: BTreeMap::new(),
            max_attempts: DEFAULT_ESCALATION_MAX_ATTEMPTS,
            initial_backoff: DEFAULT_ESCALATION_INITIAL_BACKOFF,
            max_backoff: DEFAULT_ESCALATION_MAX_BACKOFF,
            impact: default_impact(),
            resolve_on_alert_resolved: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::default_impact;
    use crate::config::Config;
    use crate::config::tests::from_yaml;

    /// Loads `yaml`, which must give no warnings (every key is known).
    fn load(yaml: &str) -> Config {
        let (config, warnings) = from_yaml(yaml);
        assert!(warnings.is_empty(), "{warnings:?}");
        config
    }

    #[test]
    fn retry_and_impact_defaults() {
        let aws = load("").oncall.aws_incident_manager;
        assert_eq!(aws.max_attempts, 5);
        assert_eq!(aws.initial_backoff, Duration::from_secs(2));
        assert_eq!(aws.max_backoff, Duration::from_secs(60));
        assert_eq!(aws.impact, default_impact());
        assert_eq!(aws.impact.get("critical"), Some(&1));
        assert_eq!(aws.impact.get("p5"), Some(&5));
    }

    #[test]
    fn retry_and_impact_from_the_file() {
        let aws = load(
            "oncall:\n  aws_incident_manager:\n    max_attempts: '3'\n    \
             initial_backoff: 250ms\n    max_backoff: 1m\n    \
             impact:\n      Sev1: 1\n      sev2: \"2\"\n      unset: ~\n",
        )
        .oncall
        .aws_incident_manager;
        assert_eq!(aws.max_attempts, 3);
        assert_eq!(aws.initial_backoff, Duration::from_millis(250));
        assert_eq!(aws.max_backoff, Duration::from_secs(60));
        // The table replaces the default one; empty entries are dropped.
        assert_eq!(
            aws.impact.into_iter().collect::<Vec<_>>(),
            [("Sev1".to_string(), 1), ("sev2".to_string(), 2)]
        );
    }
}
