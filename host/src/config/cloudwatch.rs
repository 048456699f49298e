//! `queue.cloudwatch` (ours): how CloudWatch alarms are read, wherever they
//! arrive (SNS, SQS, or posted to `/api/incidents`). See
//! `incident::cloudwatch` for where it applies.

use serde::{Deserialize, Serialize};

use super::ConfigError;
use super::lenient;
use super::validate::invalid;

/// The severity of an alarm whose name matches no pattern.
pub const DEFAULT_ALARM_SEVERITY: &str = "critical";

/// The `queue.cloudwatch` section.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct CloudWatchConfig {
    /// What an `INSUFFICIENT_DATA` state change does: `fire`, `notify` or
    /// `ignore` (see [`InsufficientData`]); checked when the file loads.
    #[serde(deserialize_with = "lenient::string")]
    pub insufficient_data: String,
    /// Alarm name pattern (`*` any run of characters, `?` one) → severity,
    /// in the order written: the first match wins; no match is
    /// [`DEFAULT_ALARM_SEVERITY`].
    #[serde(deserialize_with = "lenient::ordered_string_map")]
    pub severity: Vec<(String, String)>,
}

/// What an `INSUFFICIENT_DATA` state change does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum InsufficientData {
    /// As `ALARM`: a message, and a page when on-call is on (upstream's
    /// behaviour: it is not `OK`).
    #[default]
    Fire,
    /// A message, never a page.
    Notify,
    /// Nothing: the alert is dropped, and the answer says so.
    Ignore,
}

impl InsufficientData {
    /// The spellings, for messages.
    pub const NAMES: &str = "fire, notify or ignore";

    fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "fire" => Some(Self::Fire),
            "notify" => Some(Self::Notify),
            "ignore" => Some(Self::Ignore),
            _ => None,
        }
    }
}

impl Default for CloudWatchConfig {
    fn default() -> Self {
        Self {
            insufficient_data: "fire".into(),
            severity: Vec::new(),
        }
    }
}

impl CloudWatchConfig {
    /// What an `INSUFFICIENT_DATA` state change does.
    pub fn insufficient_data(&self) -> InsufficientData {
        InsufficientData::parse(&self.insufficient_data).unwrap_or_default()
    }

    /// The severity for an alarm called `name`.
    pub fn severity_of(&self, name: &str) -> &str {
        self.severity
            .iter()
            .find(|(pattern, _)| matches(pattern, name))
            .map_or(DEFAULT_ALARM_SEVERITY, |(_, severity)| severity)
    }
}

pub(super) fn validate(cloudwatch: &CloudWatchConfig) -> Result<(), ConfigError> {
    let given = &cloudwatch.insufficient_data;
    if InsufficientData::parse(given).is_none() {
        return Err(invalid(
            "queue.cloudwatch.insufficient_data",
            &format!("`{given}` is not one of {}", InsufficientData::NAMES),
        ));
    }
    if let Some((pattern, _)) = cloudwatch.severity.iter().find(|(p, _)| p.is_empty()) {
        return Err(invalid(
            "queue.cloudwatch.severity",
            &format!("`{pattern}`: a pattern must not be empty"),
        ));
    }
    Ok(())
}

/// Whether `name` matches `pattern`, where `*` stands for any run of
/// characters (none included) and `?` for exactly one; case matters, as in
/// CloudWatch's alarm names.
pub fn matches(pattern: &str, name: &str) -> bool {
    let (p, n): (Vec<char>, Vec<char>) = (pattern.chars().collect(), name.chars().collect());
    let (mut pi, mut ni) = (0, 0);
    // Where the last `*` was, and where in `name` it stopped matching.
    let mut star: Option<(usize, usize)> = None;
    while ni < n.len() {
        match p.get(pi) {
            Some('*') => {
                star = Some((pi, ni));
                pi += 1;
            }
            Some(&c) if c == '?' || c == n[ni] => {
                pi += 1;
                ni += 1;
            }
            _ => match star {
                // Let the last `*` take one more character, and retry.
                Some((sp, sn)) => {
                    star = Some((sp, sn + 1));
                    pi = sp + 1;
                    ni = sn + 1;
                }
                None => return false,
            },
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::from_yaml;

    #[test]
    fn patterns() {
        assert!(matches("prod-*", "prod-db-cpu"));
        assert!(matches("prod-*", "prod-"));
        assert!(!matches("prod-*", "staging-db"));
        assert!(matches("*-latency", "api-latency"));
        assert!(matches("*db*", "prod-db-cpu"));
        assert!(matches("api-?xx", "api-5xx"));
        assert!(!matches("api-?xx", "api-50xx"));
        assert!(matches("*", ""));
        assert!(matches("a*b*c", "aXbYbZc"));
        assert!(!matches("a*b*c", "aXbYbZ"));
        assert!(!matches("Prod-*", "prod-db"));
        assert!(matches("exact", "exact"));
        assert!(!matches("exact", "exactly"));
    }

    #[test]
    fn first_match_in_file_order_else_critical() {
        let (config, warnings) = from_yaml(
            "queue:\n  cloudwatch:\n    insufficient_data: Notify\n    severity:\n      \
             \"prod-db-*\": critical\n      \"prod-*\": warning\n      \"*-info\": info\n",
        );
        assert!(warnings.is_empty(), "{warnings:?}");
        let cw = config.queue.cloudwatch;
        assert_eq!(cw.insufficient_data(), InsufficientData::Notify);
        assert_eq!(cw.severity_of("prod-db-cpu"), "critical");
        assert_eq!(cw.severity_of("prod-api-5xx"), "warning");
        assert_eq!(cw.severity_of("prod-x-info"), "warning");
        assert_eq!(cw.severity_of("batch-info"), "info");
        assert_eq!(cw.severity_of("other"), "critical");
    }

    #[test]
    fn defaults_fire_and_critical() {
        let (config, _) = from_yaml("");
        let cw = config.queue.cloudwatch;
        assert_eq!(cw.insufficient_data(), InsufficientData::Fire);
        assert_eq!(cw.severity_of("anything"), "critical");
    }

    #[test]
    fn an_unknown_insufficient_data_is_an_error() {
        let yaml = "queue:\n  cloudwatch:\n    insufficient_data: page\n";
        let err = crate::config::Config::from_yaml(yaml, std::path::Path::new("t.yaml"), |_| None)
            .expect_err("refused")
            .to_string();
        assert!(
            err.contains("queue.cloudwatch.insufficient_data") && err.contains("fire, notify"),
            "{err}"
        );
    }
}
