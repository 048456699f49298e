//! The `ingest:` section (ours): who may post alerts to `POST /api/incidents`
//! and how much one request may carry. Authentication is off until a source
//! is listed, so upstream configs keep working unchanged.

use std::time::Duration;

use serde::Deserialize;

use super::ConfigError;
use super::lenient;
use super::validate::invalid;

/// Deepest JSON nesting accepted. Alertmanager's payload is 4 levels deep;
/// 64 leaves room for any real sender while bounding the recursion of every
/// parser that later walks the body (the host's and each plugin's).
pub const DEFAULT_MAX_JSON_DEPTH: usize = 64;

/// Most alerts in one array body. Alertmanager sends one object per group;
/// an array of more than 100 alerts is a bulk import, not a page.
pub const DEFAULT_MAX_ALERTS: usize = 100;

/// Requests on `POST /api/incidents` processed at once; more are shed with
/// 503. Each holds a body (up to `alert.max_body_bytes`) and one plugin
/// instance per channel while it delivers, so 128 keeps a burst well inside
/// the plugin instance pool (1000) and memory.
pub const DEFAULT_MAX_CONCURRENT_REQUESTS: usize = 128;

/// How long a connection may take to send a complete request head, and
/// stay idle between requests (hyper's own default once a timer is set).
pub const DEFAULT_HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// How long the alert endpoint waits for a whole request body once its
/// head has arrived: a 1 MiB body takes well under a second on any link an
/// alert sender uses, so only a stalled or deliberately slow client hits it.
pub const DEFAULT_BODY_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Shortest accepted token or HMAC secret: a shorter one can be guessed.
pub const MIN_SECRET_LEN: usize = 16;

/// The `ingest:` section.
#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct IngestConfig {
    /// Senders allowed to post alerts. Empty: anyone may (as upstream).
    pub sources: Vec<IngestSource>,
    /// Deepest JSON nesting accepted in a body.
    #[serde(deserialize_with = "lenient::usize")]
    pub max_json_depth: usize,
    /// Most alerts in one array body.
    #[serde(deserialize_with = "lenient::usize")]
    pub max_alerts: usize,
    /// Requests processed at once before new ones get 503 + `Retry-After`.
    #[serde(deserialize_with = "lenient::usize")]
    pub max_concurrent_requests: usize,
    /// A connection that has not sent a complete request head this long
    /// after opening (or after its last response) is closed. Read at start.
    #[serde(deserialize_with = "lenient::duration")]
    pub header_read_timeout: Duration,
    /// `POST /api/incidents` answers 408 when the body has not fully
    /// arrived this long after the request head. Follows reloads.
    #[serde(deserialize_with = "lenient::duration")]
    pub body_read_timeout: Duration,
}

impl Default for IngestConfig {
    fn default() -> Self {
        Self {
            sources: Vec::new(),
            max_json_depth: DEFAULT_MAX_JSON_DEPTH,
            max_alerts: DEFAULT_MAX_ALERTS,
            max_concurrent_requests: DEFAULT_MAX_CONCURRENT_REQUESTS,
            header_read_timeout: DEFAULT_HEADER_READ_TIMEOUT,
            body_read_timeout: DEFAULT_BODY_READ_TIMEOUT,
        }
    }
}

impl IngestConfig {
    /// Whether requests must authenticate.
    pub fn auth_required(&self) -> bool {
        !self.sources.is_empty()
    }
}

/// One sender: a name for logs, exactly one credential, and the query
/// overrides it may use.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct IngestSource {
    /// Name, logged with each request it sends.
    #[serde(deserialize_with = "lenient::string")]
    pub name: String,
    /// Expected in `Authorization: Bearer <token>`.
    pub token: Secret,
    /// Key of the HMAC-SHA256 signature in `X-Versus-Signature`.
    pub hmac_secret: Secret,
    /// Query overrides this source may use (any of
    /// [`Overrides::keys`](crate::incident::Overrides::keys)).
    #[serde(deserialize_with = "lenient::strings")]
    pub allowed_overrides: Vec<String>,
}

/// A credential: compared, never printed (`Debug` shows only whether it is
/// set).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// The secret text, for comparison and signing only.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Whether it is set.
    pub fn is_set(&self) -> bool {
        !self.0.is_empty()
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Self(s.to_string())
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.is_set() {
            "<redacted>"
        } else {
            "<unset>"
        })
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        lenient::string(d).map(|s| Self(s.trim().to_string()))
    }
}

/// Checks the section; errors name the key and never repeat a secret.
pub(super) fn validate(ingest: &IngestConfig) -> Result<(), ConfigError> {
    for (key, value) in [
        ("ingest.max_json_depth", ingest.max_json_depth),
        ("ingest.max_alerts", ingest.max_alerts),
        (
            "ingest.max_concurrent_requests",
            ingest.max_concurrent_requests,
        ),
    ] {
        if value == 0 {
            return Err(invalid(key, "must be greater than 0"));
        }
    }
    for (key, value) in [
        ("ingest.header_read_timeout", ingest.header_read_timeout),
        ("ingest.body_read_timeout", ingest.body_read_timeout),
    ] {
        if value.is_zero() {
            return Err(invalid(key, "must be greater than 0 (e.g. 30s)"));
        }
    }
    let mut names = std::collections::HashSet::new();
    for (i, source) in ingest.sources.iter().enumerate() {
        let key = |field: &str| format!("ingest.sources[{i}].{field}");
        if source.name.trim().is_empty() {
            return Err(invalid(&key("name"), "is missing: name the sender"));
        }
        if !names.insert(source.name.as_str()) {
            return Err(invalid(
                &key("name"),
                &format!("`{}` is used twice: names must be unique", source.name),
            ));
        }
        let secret = match (source.token.is_set(), source.hmac_secret.is_set()) {
            (true, false) => ("token", &source.token),
            (false, true) => ("hmac_secret", &source.hmac_secret),
            (true, true) => {
                return Err(invalid(
                    &format!("ingest.sources[{i}]"),
                    "has both token and hmac_secret: give exactly one",
                ));
            }
            (false, false) => {
                return Err(invalid(
                    &format!("ingest.sources[{i}]"),
                    "has neither token nor hmac_secret (is its ${VAR} set?): give exactly one",
                ));
            }
        };
        if secret.1.expose().len() < MIN_SECRET_LEN {
            return Err(invalid(
                &key(secret.0),
                &format!(
                    "is shorter than {MIN_SECRET_LEN} characters: use a long random value, \
                     e.g. `openssl rand -hex 32`"
                ),
            ));
        }
        let keys = crate::incident::Overrides::keys();
        for (j, name) in source.allowed_overrides.iter().enumerate() {
            if !keys.contains(&name.as_str()) {
                return Err(invalid(
                    &format!("{}[{j}]", key("allowed_overrides")),
                    &format!("`{name}` is not a query override: use {}", keys.join(", ")),
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::Config;

    const TOKEN: &str = "0123456789abcdef-token";

    fn load(ingest: &str) -> Result<Config, String> {
        let env = |name: &str| (name == "AM_TOKEN").then(|| TOKEN.to_string());
        Config::from_yaml(&format!("ingest:\n{ingest}"), Path::new("c.yaml"), env)
            .map(|(c, _)| c)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn sources_load_with_secrets_from_the_environment() {
        let c = load(
            "  max_alerts: 7\n  header_read_timeout: 5s\n  body_read_timeout: 2s\n  sources:\n    - name: am\n      token: ${AM_TOKEN}\n      \
             allowed_overrides: [oncall_enable]\n    - name: cw\n      \
             hmac_secret: abcdefghijklmnopqrstuvwxyz\n",
        )
        .expect("valid");
        assert!(c.ingest.auth_required());
        assert_eq!(c.ingest.max_alerts, 7);
        assert_eq!(
            c.ingest.body_read_timeout,
            std::time::Duration::from_secs(2)
        );
        assert_eq!(
            c.ingest.header_read_timeout,
            std::time::Duration::from_secs(5)
        );
        assert_eq!(c.ingest.sources[0].token.expose(), TOKEN);
        assert_eq!(c.ingest.sources[0].allowed_overrides, ["oncall_enable"]);
        // Debug output (config dumps, panics) never shows a secret.
        let shown = format!("{:?}", c.ingest);
        assert!(
            !shown.contains(TOKEN) && !shown.contains("abcdefghij"),
            "{shown}"
        );
        assert!(shown.contains("<redacted>"), "{shown}");
        let defaults = load("  {}\n").expect("defaults");
        assert!(!defaults.ingest.auth_required());
        assert_eq!(defaults.ingest.max_json_depth, 64);
    }

    #[test]
    fn mistakes_name_the_key_and_never_the_secret() {
        let cases = [
            (
                "  sources:\n    - name: am\n",
                "ingest.sources[0]",
                "neither token nor hmac_secret",
            ),
            (
                "  sources:\n    - name: am\n      token: ${UNSET}\n",
                "ingest.sources[0]",
                "${VAR}",
            ),
            (
                "  sources:\n    - name: am\n      token: ${AM_TOKEN}\n      hmac_secret: ${AM_TOKEN}\n",
                "ingest.sources[0]",
                "exactly one",
            ),
            (
                "  sources:\n    - name: am\n      token: short\n",
                "ingest.sources[0].token",
                "shorter than 16",
            ),
            (
                "  sources:\n    - token: ${AM_TOKEN}\n",
                "ingest.sources[0].name",
                "is missing",
            ),
            (
                "  sources:\n    - name: a\n      token: ${AM_TOKEN}\n    - name: a\n      token: ${AM_TOKEN}\n",
                "ingest.sources[1].name",
                "used twice",
            ),
            (
                "  sources:\n    - name: a\n      token: ${AM_TOKEN}\n      allowed_overrides: [debug]\n",
                "ingest.sources[0].allowed_overrides[0]",
                "not a query override",
            ),
            (
                "  max_json_depth: 0\n",
                "ingest.max_json_depth",
                "greater than 0",
            ),
            ("  max_alerts: 0\n", "ingest.max_alerts", "greater than 0"),
            (
                "  max_concurrent_requests: 0\n",
                "ingest.max_concurrent_requests",
                "greater than 0",
            ),
            ("  max_alerts: many\n", "ingest.max_alerts", "whole number"),
            (
                "  header_read_timeout: 0s\n",
                "ingest.header_read_timeout",
                "greater than 0",
            ),
            (
                "  body_read_timeout: 0s\n",
                "ingest.body_read_timeout",
                "greater than 0",
            ),
            (
                "  body_read_timeout: soon\n",
                "ingest.body_read_timeout",
                "",
            ),
        ];
        for (yaml, key, says) in cases {
            let err = load(yaml).expect_err(yaml);
            assert!(err.contains(key) && err.contains(says), "{yaml}: {err}");
            assert!(!err.contains(TOKEN), "{err}");
        }
    }
}
