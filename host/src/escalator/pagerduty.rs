//! PagerDuty (`oncall.pagerduty`): the Events API v2. The plugin
//! (`plugins/pagerduty`) triggers, acknowledges and resolves; this module
//! reads its section.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{BuiltinEscalator, Route, check_url, names, require};
use crate::config::Node::{Named, Secret, Text};
use crate::config::{ConfigError, EnvReader, Node, SecretKind, lenient};

/// The Events API's host; tests point `oncall.pagerduty.api_url` at a
/// local emulator. The plugin posts to `{api_url}/v2/enqueue`.
pub const DEFAULT_PAGERDUTY_API_URL: &str = "https://events.pagerduty.com";

/// The upstream `oncall.pagerduty` section.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct PagerDutyConfig {
    /// The integration (routing) key of an Events API v2 integration.
    #[serde(deserialize_with = "lenient::string")]
    pub routing_key: String,
    /// Other routing keys by name, chosen per alert with
    /// `?pagerduty_other_routing_key=NAME`.
    #[serde(deserialize_with = "lenient::string_map")]
    pub other_routing_keys: BTreeMap<String, String>,
    /// Base URL of the Events API (ours).
    #[serde(deserialize_with = "lenient::string")]
    pub api_url: String,
}

impl Default for PagerDutyConfig {
    fn default() -> Self {
        Self {
            routing_key: String::new(),
            other_routing_keys: BTreeMap::new(),
            api_url: DEFAULT_PAGERDUTY_API_URL.into(),
        }
    }
}

impl BuiltinEscalator for PagerDutyConfig {
    const KEYS: &'static [(&'static str, Node)] = &[
        ("routing_key", Secret),
        ("other_routing_keys", Named(&Secret)),
        ("api_url", Text),
    ];

    const ROUTE: Route = Route {
        query: "pagerduty_other_routing_key",
        map: "other_routing_keys",
    };

    fn read_env(&mut self, env: &EnvReader<'_>) -> Result<(), ConfigError> {
        env.text("PAGERDUTY_ROUTING_KEY", &mut self.routing_key);
        env.text("PAGERDUTY_API_URL", &mut self.api_url);
        Ok(())
    }

    fn secrets<'a>(&'a self, out: &mut Vec<(&'a str, SecretKind)>) {
        out.push((&self.routing_key, SecretKind::Text));
        for key in self.other_routing_keys.values() {
            out.push((key, SecretKind::Text));
        }
    }

    fn validate(&self) -> Result<(), ConfigError> {
        require(
            "oncall.pagerduty.routing_key",
            &self.routing_key,
            "set PAGERDUTY_ROUTING_KEY to the integration key of an Events API v2 integration",
        )?;
        check_url(
            "oncall.pagerduty.api_url",
            &self.api_url,
            "https://events.pagerduty.com (or set PAGERDUTY_API_URL)",
        )
    }

    fn settings(&self) -> (serde_json::Value, Vec<&str>) {
        let settings = json!({
            "routing_key": self.routing_key.trim(),
            "other_routing_keys": self.other_routing_keys,
            "api_url": self.api_url.trim(),
        });
        (settings, vec![self.api_url.as_str()])
    }

    fn routes(&self) -> Vec<&str> {
        names(&self.other_routing_keys)
    }
}
