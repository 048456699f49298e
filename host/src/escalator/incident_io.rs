//! incident.io (`oncall.incident_io`): alert events through an HTTP alert
//! source. The plugin (`plugins/incident-io`) sends `firing` and
//! `resolved`; this module reads its section.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{BuiltinEscalator, Route, check_url, names, require};
use crate::config::Node::{Named, Secret, Text};
use crate::config::{ConfigError, EnvReader, Node, SecretKind, lenient};

/// incident.io's API host; tests point `oncall.incident_io.api_url` at a
/// local emulator. The plugin posts to
/// `{api_url}/v2/alert_events/http/{alert_source_config_id}`.
pub const DEFAULT_INCIDENT_IO_API_URL: &str = "https://api.incident.io";

/// The upstream `oncall.incident_io` section.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct IncidentIoConfig {
    /// The HTTP alert source's API key (sent as a Bearer token).
    #[serde(deserialize_with = "lenient::string")]
    pub api_key: String,
    /// The HTTP alert source's config id.
    #[serde(deserialize_with = "lenient::string")]
    pub alert_source_config_id: String,
    /// Other alert sources by name, chosen per alert with
    /// `?incidentio_other_alert_source=NAME`.
    #[serde(deserialize_with = "lenient::string_map")]
    pub other_alert_source_config_ids: BTreeMap<String, String>,
    /// Base URL of the API (ours).
    #[serde(deserialize_with = "lenient::string")]
    pub api_url: String,
}

impl Default for IncidentIoConfig {
    fn default() -> Self {
        Self {
            api_key: String::new(),
            alert_source_config_id: String::new(),
            other_alert_source_config_ids: BTreeMap::new(),
            api_url: DEFAULT_INCIDENT_IO_API_URL.into(),
        }
    }
}

impl BuiltinEscalator for IncidentIoConfig {
    const KEYS: &'static [(&'static str, Node)] = &[
        ("api_key", Secret),
        ("alert_source_config_id", Text),
        ("other_alert_source_config_ids", Named(&Text)),
        ("api_url", Text),
    ];

    const ROUTE: Route = Route {
        query: "incidentio_other_alert_source",
        map: "other_alert_source_config_ids",
    };

    fn read_env(&mut self, env: &EnvReader<'_>) -> Result<(), ConfigError> {
        env.text("INCIDENTIO_API_KEY", &mut self.api_key);
        env.text(
            "INCIDENTIO_ALERT_SOURCE_CONFIG_ID",
            &mut self.alert_source_config_id,
        );
        env.text("INCIDENTIO_API_URL", &mut self.api_url);
        Ok(())
    }

    fn secrets<'a>(&'a self, out: &mut Vec<(&'a str, SecretKind)>) {
        out.push((&self.api_key, SecretKind::Text));
    }

    fn validate(&self) -> Result<(), ConfigError> {
        require(
            "oncall.incident_io.api_key",
            &self.api_key,
            "set INCIDENTIO_API_KEY to the API key of the HTTP alert source",
        )?;
        require(
            "oncall.incident_io.alert_source_config_id",
            &self.alert_source_config_id,
            "set INCIDENTIO_ALERT_SOURCE_CONFIG_ID to the HTTP alert source's config id",
        )?;
        check_url(
            "oncall.incident_io.api_url",
            &self.api_url,
            "https://api.incident.io (or set INCIDENTIO_API_URL)",
        )
    }

    fn settings(&self) -> (serde_json::Value, Vec<&str>) {
        let settings = json!({
            "api_key": self.api_key.trim(),
            "alert_source_config_id": self.alert_source_config_id.trim(),
            "other_alert_source_config_ids": self.other_alert_source_config_ids,
            "api_url": self.api_url.trim(),
        });
        (settings, vec![self.api_url.as_str()])
    }

    fn routes(&self) -> Vec<&str> {
        names(&self.other_alert_source_config_ids)
    }
}
