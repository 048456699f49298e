//! Opsgenie (`oncall.opsgenie`, ours: upstream's docs name Opsgenie but
//! never implemented it): the Alert API v2. The plugin
//! (`plugins/opsgenie`) creates, acknowledges and closes alerts by alias;
//! this module reads its section.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{BuiltinEscalator, Route, check_url, names, require};
use crate::config::Node::{Named, Secret, Text};
use crate::config::{ConfigError, EnvReader, Node, SecretKind, lenient};

/// Opsgenie's API host (`https://api.eu.opsgenie.com` for the EU
/// instance); tests point `oncall.opsgenie.api_url` at a local emulator.
pub const DEFAULT_OPSGENIE_API_URL: &str = "https://api.opsgenie.com";

/// The `oncall.opsgenie` section.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct OpsgenieConfig {
    /// An API integration's key (sent as `GenieKey`).
    #[serde(deserialize_with = "lenient::string")]
    pub api_key: String,
    /// Other integrations' keys by name, chosen per alert with
    /// `?opsgenie_other_api_key=NAME`.
    #[serde(deserialize_with = "lenient::string_map")]
    pub other_api_keys: BTreeMap<String, String>,
    /// Base URL of the API.
    #[serde(deserialize_with = "lenient::string")]
    pub api_url: String,
}

impl Default for OpsgenieConfig {
    fn default() -> Self {
        Self {
            api_key: String::new(),
            other_api_keys: BTreeMap::new(),
            api_url: DEFAULT_OPSGENIE_API_URL.into(),
        }
    }
}

impl BuiltinEscalator for OpsgenieConfig {
    const KEYS: &'static [(&'static str, Node)] = &[
        ("api_key", Secret),
        ("other_api_keys", Named(&Secret)),
        ("api_url", Text),
    ];

    const ROUTE: Route = Route {
        query: "opsgenie_other_api_key",
        map: "other_api_keys",
    };

    fn read_env(&mut self, env: &EnvReader<'_>) -> Result<(), ConfigError> {
        env.text("OPSGENIE_API_KEY", &mut self.api_key);
        env.text("OPSGENIE_API_URL", &mut self.api_url);
        Ok(())
    }

    fn secrets<'a>(&'a self, out: &mut Vec<(&'a str, SecretKind)>) {
        out.push((&self.api_key, SecretKind::Text));
        for key in self.other_api_keys.values() {
            out.push((key, SecretKind::Text));
        }
    }

    fn validate(&self) -> Result<(), ConfigError> {
        require(
            "oncall.opsgenie.api_key",
            &self.api_key,
            "set OPSGENIE_API_KEY to the key of an Opsgenie API integration",
        )?;
        check_url(
            "oncall.opsgenie.api_url",
            &self.api_url,
            "https://api.opsgenie.com or https://api.eu.opsgenie.com (or set OPSGENIE_API_URL)",
        )
    }

    fn settings(&self) -> (serde_json::Value, Vec<&str>) {
        let settings = json!({
            "api_key": self.api_key.trim(),
            "other_api_keys": self.other_api_keys,
            "api_url": self.api_url.trim(),
        });
        (settings, vec![self.api_url.as_str()])
    }

    fn routes(&self) -> Vec<&str> {
        names(&self.other_api_keys)
    }
}
