//! ServiceNow (`oncall.servicenow`): an incident record through the Table
//! API. The plugin (`plugins/servicenow`) creates it (once per dedup key,
//! found again by `correlation_id`), marks it in progress on a late ACK
//! and resolves it; this module reads its section.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{BuiltinEscalator, Route, check_url, names, require};
use crate::config::Node::{Named, Secret, Text};
use crate::config::{ConfigError, EnvReader, Node, SecretKind, lenient};

/// The table incidents are created in unless `table` says otherwise.
pub const DEFAULT_SERVICENOW_TABLE: &str = "incident";

/// The upstream `oncall.servicenow` section.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct ServiceNowConfig {
    /// The instance, e.g. `https://dev12345.service-now.com`.
    #[serde(deserialize_with = "lenient::string")]
    pub instance_url: String,
    /// Basic-auth user.
    #[serde(deserialize_with = "lenient::string")]
    pub username: String,
    /// Basic-auth password.
    #[serde(deserialize_with = "lenient::string")]
    pub password: String,
    /// The table records are created in.
    #[serde(deserialize_with = "lenient::string")]
    pub table: String,
    /// Other instances by name, chosen per alert with
    /// `?servicenow_other_instance=NAME`.
    #[serde(deserialize_with = "lenient::string_map")]
    pub other_instance_urls: BTreeMap<String, String>,
}

impl Default for ServiceNowConfig {
    fn default() -> Self {
        Self {
            instance_url: String::new(),
            username: String::new(),
            password: String::new(),
            table: DEFAULT_SERVICENOW_TABLE.into(),
            other_instance_urls: BTreeMap::new(),
        }
    }
}

impl BuiltinEscalator for ServiceNowConfig {
    const KEYS: &'static [(&'static str, Node)] = &[
        ("instance_url", Text),
        ("username", Text),
        ("password", Secret),
        ("table", Text),
        ("other_instance_urls", Named(&Text)),
    ];

    const ROUTE: Route = Route {
        query: "servicenow_other_instance",
        map: "other_instance_urls",
    };

    fn read_env(&mut self, env: &EnvReader<'_>) -> Result<(), ConfigError> {
        env.text("SERVICENOW_INSTANCE_URL", &mut self.instance_url);
        env.text("SERVICENOW_USERNAME", &mut self.username);
        env.text("SERVICENOW_PASSWORD", &mut self.password);
        Ok(())
    }

    fn secrets<'a>(&'a self, out: &mut Vec<(&'a str, SecretKind)>) {
        out.push((&self.password, SecretKind::Text));
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let how = "set SERVICENOW_INSTANCE_URL, SERVICENOW_USERNAME and SERVICENOW_PASSWORD";
        require("oncall.servicenow.instance_url", &self.instance_url, how)?;
        require("oncall.servicenow.username", &self.username, how)?;
        require("oncall.servicenow.password", &self.password, how)?;
        let example = "https://dev12345.service-now.com";
        check_url(
            "oncall.servicenow.instance_url",
            &self.instance_url,
            example,
        )?;
        for (name, url) in &self.other_instance_urls {
            if !url.trim().is_empty() {
                let key = format!("oncall.servicenow.other_instance_urls.{name}");
                check_url(&key, url, example)?;
            }
        }
        Ok(())
    }

    fn settings(&self) -> (serde_json::Value, Vec<&str>) {
        let table = match self.table.trim() {
            "" => DEFAULT_SERVICENOW_TABLE,
            table => table,
        };
        let settings = json!({
            "instance_url": self.instance_url.trim(),
            "username": self.username.trim(),
            "password": self.password,
            "table": table,
            "other_instance_urls": self.other_instance_urls,
        });
        let mut urls = vec![self.instance_url.as_str()];
        urls.extend(
            self.other_instance_urls
                .values()
                .map(String::as_str)
                .filter(|u| !u.trim().is_empty()),
        );
        (settings, urls)
    }

    fn routes(&self) -> Vec<&str> {
        names(&self.other_instance_urls)
    }
}
