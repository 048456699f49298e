//! The built-in on-call providers other than AWS Incident Manager, one
//! module each, the way `channel` holds the built-in channels. A module is
//! the one home of everything the gateway knows about its provider:
//! - the upstream `oncall.<name>` section, its defaults and keys;
//! - the environment variables that override those keys;
//! - the secrets to mask in the log, and its checks;
//! - the settings and allowed hosts its plugin gets;
//! - the query override that picks one of its `other_*` targets;
//! - the escalator component it loads (built from `plugins/<name>`).
//!
//! The provider itself is a Wasm component of the `escalator` world of
//! `versus:oncall@0.1.0`; AWS Incident Manager stays in the host (see
//! `oncall::aws`). Adding a provider is a module here, its plugin crate
//! under `plugins/`, and one line in [`builtin_escalators!`].

mod incident_io;
mod opsgenie;
mod pagerduty;
mod servicenow;

use std::collections::BTreeMap;

pub use incident_io::{DEFAULT_INCIDENT_IO_API_URL, IncidentIoConfig};
pub use opsgenie::{DEFAULT_OPSGENIE_API_URL, OpsgenieConfig};
pub use pagerduty::{DEFAULT_PAGERDUTY_API_URL, PagerDutyConfig};
pub use servicenow::{DEFAULT_SERVICENOW_TABLE, ServiceNowConfig};

use crate::config::{Config, ConfigError, EnvReader, Node, PluginLimits, SecretKind};

/// What one built-in provider module provides; implemented by its section
/// struct.
pub trait BuiltinEscalator:
    serde::de::DeserializeOwned + serde::Serialize + Default + Clone + std::fmt::Debug
{
    /// The keys of its section, as the config file may write them.
    const KEYS: &'static [(&'static str, Node)];
    /// Its query override that names one of its `other_*` targets.
    const ROUTE: Route;

    /// Applies its environment variables.
    fn read_env(&mut self, env: &EnvReader<'_>) -> Result<(), ConfigError>;

    /// Adds its secret values.
    fn secrets<'a>(&'a self, out: &mut Vec<(&'a str, SecretKind)>);

    /// Checks values that parse but cannot work, naming the key. Called
    /// only when it is the provider in use.
    fn validate(&self) -> Result<(), ConfigError>;

    /// Its plugin settings (a JSON object) and the URLs whose origins its
    /// plugin may call.
    fn settings(&self) -> (serde_json::Value, Vec<&str>);

    /// The names its route override may take (the keys of its `other_*` map).
    fn routes(&self) -> Vec<&str>;
}

/// A provider's query override: `?<query>=NAME` pages through the entry
/// `NAME` of its settings map `map` instead of the default target.
#[derive(Debug, Clone, Copy)]
pub struct Route {
    /// Its key in the query string.
    pub query: &'static str,
    /// The section key of the map it picks from.
    pub map: &'static str,
}

/// What the gateway loads for the provider in use.
#[derive(Debug, Clone, PartialEq)]
pub struct EscalatorSpec {
    /// The provider's name (`oncall.provider`), which is also its plugin's.
    pub name: String,
    /// The JSON object each call of the plugin gets.
    pub config_json: String,
    /// The plugin's limits, its allowed hosts included.
    pub limits: PluginLimits,
}

/// Declares the registry from the one list of built-in providers.
macro_rules! builtin_escalators {
    ($($(#[$meta:meta])* $name:ident: $section:ty,)*) => {
        /// The built-in provider sections of `oncall:`, by name.
        #[derive(Debug, Clone, Default, serde::Deserialize, serde::Serialize)]
        #[serde(default)]
        pub struct Sections {
            $($(#[$meta])* pub $name: $section,)*
        }

        /// The built-in provider names.
        pub const NAMES: &[&str] = &[$(stringify!($name)),*];

        /// The keys of every section, for `config::schema`.
        pub const SCHEMA: &[(&str, Node)] =
            &[$((stringify!($name), Node::Map(<$section as BuiltinEscalator>::KEYS))),*];

        /// Every provider's route override, by provider name.
        pub const ROUTES: &[(&str, Route)] =
            &[$((stringify!($name), <$section as BuiltinEscalator>::ROUTE)),*];

        crate::pipeline::builtin::embedded!($($name),*);

        impl Sections {
            /// Applies every provider's environment variables.
            pub fn read_env(&mut self, env: &EnvReader<'_>) -> Result<(), ConfigError> {
                $(self.$name.read_env(env)?;)*
                Ok(())
            }

            /// Every provider's secret values.
            pub fn secrets(&self) -> Vec<(&str, SecretKind)> {
                let mut out = Vec::new();
                $(self.$name.secrets(&mut out);)*
                out
            }

            /// Checks the section of provider `name`.
            pub fn validate(&self, name: &str) -> Result<(), ConfigError> {
                match name {
                    $(stringify!($name) => self.$name.validate(),)*
                    _ => Ok(()),
                }
            }

            /// Settings, allowed URLs and route names of provider `name`.
            fn parts(&self, name: &str) -> Option<(serde_json::Value, Vec<&str>, Vec<&str>)> {
                match name {
                    $(stringify!($name) => {
                        let (settings, urls) = self.$name.settings();
                        Some((settings, urls, self.$name.routes()))
                    })*
                    _ => None,
                }
            }
        }
    };
}

builtin_escalators! {
    /// PagerDuty, through the Events API v2.
    pagerduty: PagerDutyConfig,
    /// incident.io, through an HTTP alert source.
    incident_io: IncidentIoConfig,
    /// Opsgenie, through the Alert API v2 (ours: upstream never had it).
    opsgenie: OpsgenieConfig,
    /// ServiceNow, an incident record through the Table API.
    servicenow: ServiceNowConfig,
}

impl Sections {
    /// The spec of built-in provider `name`: its settings, and the origins
    /// of its URLs as allowed hosts unless
    /// `plugins.overrides.<name>.allowed_hosts` says otherwise.
    pub fn spec(&self, name: &str, config: &Config) -> Option<EscalatorSpec> {
        let (settings, urls, _) = self.parts(name)?;
        let mut limits = config.plugins.limits_for(name);
        let overridden = config
            .plugins
            .overrides
            .get(name)
            .is_some_and(|o| o.allowed_hosts.is_some());
        if !overridden {
            let mut hosts: Vec<String> = urls
                .iter()
                .filter_map(|u| crate::config::origin_of(u))
                .collect();
            hosts.sort();
            hosts.dedup();
            limits.allowed_hosts = hosts;
        }
        Some(EscalatorSpec {
            name: name.to_string(),
            config_json: settings.to_string(),
            limits,
        })
    }

    /// Checks a request's route override for the provider in use: an
    /// unknown name is refused before anything is sent (a 400), never
    /// served by the default target. Returns the name to keep with the
    /// incident.
    pub fn route(&self, provider: &str, given: Option<&str>) -> Result<Option<String>, String> {
        let Some(name) = given.map(str::trim).filter(|n| !n.is_empty()) else {
            return Ok(None);
        };
        let (Some(route), Some((_, _, known))) = (route_of(provider), self.parts(provider)) else {
            return Ok(None);
        };
        if known.contains(&name) {
            return Ok(Some(name.to_string()));
        }
        Err(format!(
            "{} `{name}` is not in oncall.{provider}.{} (known: {})",
            route.query,
            route.map,
            if known.is_empty() {
                "none".to_string()
            } else {
                known.join(", ")
            }
        ))
    }
}

/// The route override of provider `name`.
pub fn route_of(name: &str) -> Option<Route> {
    ROUTES.iter().find(|(n, _)| *n == name).map(|(_, r)| *r)
}

/// Every route override key, for the query parser and the allow-list.
pub fn route_keys() -> impl Iterator<Item = &'static str> {
    ROUTES.iter().map(|(_, r)| r.query)
}

/// Checks that `url` is an http(s) URL.
fn check_url(key: &str, url: &str, example: &str) -> Result<(), ConfigError> {
    if crate::config::origin_of(url).is_some() {
        return Ok(());
    }
    Err(ConfigError::Invalid {
        key: key.into(),
        message: format!("`{url}` is not an http(s) URL: it must be like {example}"),
    })
}

/// Requires a non-blank value at `key`.
fn require(key: &str, value: &str, how: &str) -> Result<(), ConfigError> {
    if !value.trim().is_empty() {
        return Ok(());
    }
    Err(ConfigError::Invalid {
        key: key.into(),
        message: format!("is empty, and this provider cannot page without it: {how}"),
    })
}

/// The names of a provider's `other_*` map that have a value (upstream's
/// sample config names entries whose `${VAR}` may be unset).
fn names(map: &BTreeMap<String, String>) -> Vec<&str> {
    map.iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, _)| k.as_str())
        .collect()
}
