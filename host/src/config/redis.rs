//! The `redis:` section: where on-call keeps its state.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::validate::invalid;
use super::{ConfigError, lenient};

/// The standard Redis port.
pub const DEFAULT_REDIS_PORT: u16 = 6379;

/// The upstream `redis:` section, which on-call needs to survive restarts.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(default)]
pub struct RedisConfig {
    /// Server host; empty means no Redis (see [`RedisConfig::is_configured`]).
    #[serde(deserialize_with = "lenient::string")]
    pub host: String,
    /// Server port.
    #[serde(deserialize_with = "lenient::u16")]
    pub port: u16,
    /// Password (`AUTH`); empty for none.
    #[serde(deserialize_with = "lenient::string")]
    pub password: String,
    /// Database number.
    #[serde(deserialize_with = "lenient::i64")]
    pub db: i64,
    /// Skip TLS certificate checks (upstream key; development only).
    #[serde(deserialize_with = "lenient::bool")]
    pub insecure_skip_verify: bool,
    /// Connect with TLS (ours).
    #[serde(deserialize_with = "lenient::bool")]
    pub tls: bool,
    /// A full `redis://` or `rediss://` URL (ours); wins over the fields above.
    #[serde(deserialize_with = "lenient::opt_string")]
    pub url: Option<String>,
    /// Prefix of every key the gateway writes (ours), so several gateways or
    /// other applications can share one database.
    #[serde(deserialize_with = "lenient::string")]
    pub key_prefix: String,
    /// Replicas a new incident and an ACK must reach (Redis `WAIT`) before
    /// the gateway answers (ours); 0 does not wait.
    #[serde(deserialize_with = "lenient::u32")]
    pub wait_replicas: u32,
    /// How long to wait for them (ours); short of them by then, the request
    /// gets 503.
    #[serde(
        deserialize_with = "lenient::duration",
        serialize_with = "humantime_serde::serialize"
    )]
    pub wait_timeout: Duration,
    /// Redis Cluster (upstream key): `host`/`port` (or `url`) is a seed
    /// node, and the keys are sharded so each transition stays in one slot.
    #[serde(deserialize_with = "lenient::bool")]
    pub cluster: bool,
    /// More seed nodes of the cluster (ours), as `"host:port"`.
    #[serde(deserialize_with = "lenient::strings")]
    pub nodes: Vec<String>,
    /// The CA that signs the servers' certificates (upstream env
    /// `REDIS_CA_CERT`): PEM text or the path of a PEM file, trusted
    /// instead of the system's roots.
    #[serde(deserialize_with = "lenient::string")]
    pub ca_cert: String,
    /// Redis Sentinel (ours): the sentinels name the master, and the
    /// gateway follows a failover. `host`/`port` are then not needed.
    pub sentinel: SentinelConfig,
}

/// `redis.sentinel`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(default)]
pub struct SentinelConfig {
    /// The name the sentinels monitor the master under.
    #[serde(deserialize_with = "lenient::string")]
    pub master_name: String,
    /// The sentinels, as `"host:port"`.
    #[serde(deserialize_with = "lenient::strings")]
    pub nodes: Vec<String>,
    /// The sentinels' password (`requirepass` in sentinel.conf); the
    /// master's is `redis.password`.
    #[serde(deserialize_with = "lenient::string")]
    pub password: String,
}

impl SentinelConfig {
    /// Whether any of it is given.
    pub fn is_set(&self) -> bool {
        !self.master_name.trim().is_empty() || !self.nodes.is_empty()
    }
}

/// Default [`RedisConfig::key_prefix`].
pub const DEFAULT_REDIS_KEY_PREFIX: &str = "versus:";

impl Default for RedisConfig {
    fn default() -> Self {
        Self {
            host: String::new(),
            port: DEFAULT_REDIS_PORT,
            password: String::new(),
            db: 0,
            insecure_skip_verify: false,
            tls: false,
            url: None,
            key_prefix: DEFAULT_REDIS_KEY_PREFIX.into(),
            wait_replicas: 0,
            wait_timeout: Duration::from_millis(500),
            cluster: false,
            nodes: Vec::new(),
            ca_cert: String::new(),
            sentinel: SentinelConfig::default(),
        }
    }
}

impl RedisConfig {
    /// Whether a Redis server is given (a host, a URL or sentinels).
    pub fn is_configured(&self) -> bool {
        !self.host.trim().is_empty()
            || self.url.as_deref().is_some_and(|u| !u.trim().is_empty())
            || self.sentinel.is_set()
    }

    /// Checks what can be checked without connecting.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.is_configured() && self.port == 0 {
            return Err(invalid(
                "redis.port",
                "must be between 1 and 65535 (or set REDIS_PORT)",
            ));
        }
        if let Some(url) = &self.url
            && !(url.starts_with("redis://") || url.starts_with("rediss://"))
        {
            // The URL may hold a password, so it is not repeated here.
            return Err(invalid(
                "redis.url",
                "must start with redis:// or rediss://, e.g. redis://127.0.0.1:6379/0",
            ));
        }
        let tls = self.tls
            || self
                .url
                .as_deref()
                .is_some_and(|u| u.starts_with("rediss://"));
        if !self.ca_cert.trim().is_empty() && !tls {
            return Err(invalid(
                "redis.ca_cert",
                "is set but the connection is not TLS: set redis.tls: true (REDIS_TLS) or use a rediss:// URL",
            ));
        }
        if self.sentinel.is_set() {
            return self.validate_sentinel();
        }
        if !self.cluster {
            if !self.nodes.is_empty() {
                return Err(invalid(
                    "redis.nodes",
                    "lists cluster seed nodes: set redis.cluster: true, or remove it",
                ));
            }
            return Ok(());
        }
        if self.db != 0 {
            return Err(invalid(
                "redis.db",
                "must be 0 with redis.cluster: Redis Cluster has one database",
            ));
        }
        if self.key_prefix.contains(['{', '}']) {
            return Err(invalid(
                "redis.key_prefix",
                "must not contain { or } with redis.cluster: the gateway puts its own hash tags after it",
            ));
        }
        for node in &self.nodes {
            if split_node(node).is_none() {
                return Err(invalid(
                    "redis.nodes",
                    &format!("`{node}` is not host:port, e.g. redis-1.internal:6379"),
                ));
            }
        }
        Ok(())
    }
}

impl RedisConfig {
    fn validate_sentinel(&self) -> Result<(), ConfigError> {
        let sentinel = &self.sentinel;
        if self.cluster {
            return Err(invalid(
                "redis.sentinel",
                "cannot be combined with redis.cluster: a cluster fails over by itself",
            ));
        }
        if self.url.is_some() {
            return Err(invalid(
                "redis.url",
                "cannot be combined with redis.sentinel: the sentinels name the master (set redis.password, redis.db, redis.tls instead)",
            ));
        }
        if sentinel.master_name.trim().is_empty() {
            return Err(invalid(
                "redis.sentinel.master_name",
                "is required with redis.sentinel: the name in `sentinel monitor <name> …`",
            ));
        }
        if sentinel.nodes.is_empty() {
            return Err(invalid(
                "redis.sentinel.nodes",
                "is required with redis.sentinel: the sentinels as \"host:port\"",
            ));
        }
        for node in &sentinel.nodes {
            if split_node(node).is_none() {
                return Err(invalid(
                    "redis.sentinel.nodes",
                    &format!("`{node}` is not host:port, e.g. sentinel-1.internal:26379"),
                ));
            }
        }
        Ok(())
    }
}

/// `"host:port"` split in two (an IPv6 host in brackets, `[::1]:6379`).
pub fn split_node(node: &str) -> Option<(&str, u16)> {
    let (host, port) = node.trim().rsplit_once(':')?;
    let port = port.parse().ok().filter(|p| *p > 0)?;
    (!host.is_empty()).then_some((host, port))
}

#[cfg(test)]
mod tests {
    use super::RedisConfig;

    fn check(f: impl FnOnce(&mut RedisConfig)) -> Result<(), String> {
        let mut r = RedisConfig {
            host: "seed.internal".into(),
            ..RedisConfig::default()
        };
        f(&mut r);
        r.validate().map_err(|e| e.to_string())
    }

    #[test]
    fn a_cluster_needs_db_0_no_braces_and_host_port_nodes() {
        assert_eq!(check(|r| r.cluster = true), Ok(()));
        let ok = check(|r| {
            r.cluster = true;
            r.nodes = vec!["b.internal:7001".into(), "[::1]:7002".into()];
        });
        assert_eq!(ok, Ok(()));
        let err = check(|r| {
            r.cluster = true;
            r.db = 2;
        })
        .unwrap_err();
        assert!(
            err.contains("redis.db") && err.contains("one database"),
            "{err}"
        );
        let err = check(|r| {
            r.cluster = true;
            r.key_prefix = "team-{a}:".into();
        })
        .unwrap_err();
        assert!(err.contains("redis.key_prefix"), "{err}");
        let err = check(|r| {
            r.cluster = true;
            r.nodes = vec!["b.internal".into()];
        })
        .unwrap_err();
        assert!(err.contains("`b.internal` is not host:port"), "{err}");
    }

    #[test]
    fn sentinel_needs_a_name_and_nodes_and_no_url_or_cluster() {
        let sentinel = |r: &mut RedisConfig| {
            r.host.clear();
            r.sentinel.master_name = "mymaster".into();
            r.sentinel.nodes = vec!["s1:26379".into(), "s2:26379".into()];
        };
        assert_eq!(check(sentinel), Ok(()));
        let mut r = RedisConfig::default();
        sentinel(&mut r);
        assert!(r.is_configured());
        let err = check(|r| {
            sentinel(r);
            r.sentinel.master_name.clear();
        })
        .unwrap_err();
        assert!(err.contains("redis.sentinel.master_name"), "{err}");
        let err = check(|r| {
            sentinel(r);
            r.sentinel.nodes = vec!["s1".into()];
        })
        .unwrap_err();
        assert!(err.contains("`s1` is not host:port"), "{err}");
        let err = check(|r| {
            sentinel(r);
            r.cluster = true;
        })
        .unwrap_err();
        assert!(err.contains("redis.cluster"), "{err}");
        let err = check(|r| {
            sentinel(r);
            r.url = Some("redis://x:6379".into());
        })
        .unwrap_err();
        assert!(err.contains("redis.url"), "{err}");
    }

    #[test]
    fn nodes_without_cluster_is_an_error() {
        let err = check(|r| r.nodes = vec!["b.internal:7001".into()]).unwrap_err();
        assert!(err.contains("set redis.cluster: true"), "{err}");
    }
}
