//! Builds the on-call service from the config at startup.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::sync::Notify;

use super::{
    AckSigner, Clock, EscalationStats, Escalator, MemoryStore, OnCall, RedisStore, Retention,
    Settings, Store, StoreError,
};
use crate::config::{Config, RedisConfig};
use crate::pipeline::Reloader;

/// The on-call service, or `None` when the config leaves on-call off.
pub async fn build(
    config: &Config,
    reloader: Arc<Reloader>,
) -> anyhow::Result<Option<Arc<OnCall>>> {
    let oncall = &config.oncall;
    if !is_on(config) {
        return Ok(None);
    }
    // Blank counts as unset, as `config::oncall::validate` sees it.
    let signer = if oncall.ack_secret.trim().is_empty() {
        AckSigner::pending()
    } else {
        AckSigner::new(oncall.ack_secret.clone().into_bytes())
    };
    let store = if config.redis.is_configured() {
        let url = redis_url(&config.redis)?;
        let redis = &config.redis;
        let opened = if redis.cluster {
            let nodes = redis_nodes(redis, &url);
            let place = format!("cluster {}", redact(&url));
            RedisStore::open_cluster(&nodes, &redis.key_prefix, &place)
        } else {
            RedisStore::open(&url, &redis.key_prefix, &redact(&url))
        };
        let store = opened
            .map(|s| {
                s.with_retention(Retention::from_config(oncall))
                    .with_durability(redis.wait_replicas, redis.wait_timeout)
            })
            .with_context(|| {
                format!(
                    "cannot use Redis at {} (check the redis: section)",
                    redact(&url)
                )
            })?;
        // One attempt now, so a gateway whose Redis is up serves on-call
        // from its first request; otherwise it starts anyway and connects
        // when Redis answers.
        match connect(&store, &signer).await {
            Ok(()) => {}
            Err(e) if e.away() => {
                store.link().observe(Err(&e.to_string()));
                tokio::spawn(keep_connecting(store.clone(), signer.clone()));
            }
            // TLS, authentication: a setting no wait will fix.
            Err(e) => {
                return Err(e).with_context(|| {
                    format!(
                        "cannot connect to Redis at {} (check the redis: section)",
                        redact(&url)
                    )
                });
            }
        }
        Store::Redis(Box::new(store))
    } else {
        if !signer.ready() {
            let fresh = hex::encode(rand::random::<[u8; 32]>());
            crate::logging::redact::remember(&fresh);
            signer.set_key(fresh.into_bytes());
        }
        Store::Memory(MemoryStore::new(Retention::from_config(oncall)))
    };
    if !oncall.ack_secret.trim().is_empty() {
        crate::logging::redact::remember(&oncall.ack_secret);
    }
    for warning in warnings(config) {
        tracing::warn!("{warning}");
    }
    let settings = Settings::from_config(config);
    Ok(Some(Arc::new(OnCall {
        store,
        signer,
        escalator: Escalator::new(&oncall.aws_incident_manager).await,
        clock: Clock::System,
        settings,
        reloader,
        wake: Arc::new(Notify::new()),
        stats: EscalationStats::default(),
    })))
}

/// Connects `store` and, when the ACK key is shared through Redis (none
/// configured), reads it, creating it if this is the first replica; only
/// then is the connection published, so a request that reaches Redis can
/// also sign its link.
async fn connect(store: &RedisStore, signer: &AckSigner) -> Result<(), StoreError> {
    let con = store.dial().await?;
    if !signer.ready() {
        let fresh = hex::encode(rand::random::<[u8; 32]>());
        let secret = store.ack_secret(con.clone(), &fresh).await?;
        crate::logging::redact::remember(&secret);
        signer.set_key(secret.into_bytes());
    }
    let durable = if store.waits() {
        Some(store.dial().await?)
    } else {
        None
    };
    store.link().publish(con, durable);
    Ok(())
}

/// First wait before trying Redis again; doubles up to [`RECONNECT_MAX`].
const RECONNECT_FIRST: Duration = Duration::from_millis(500);
/// Longest wait between attempts.
const RECONNECT_MAX: Duration = Duration::from_secs(10);

/// Tries [`connect`] until it succeeds, waiting longer each time; each
/// change between failing and answering is logged once.
async fn keep_connecting(store: RedisStore, signer: AckSigner) {
    let mut wait = RECONNECT_FIRST;
    loop {
        tokio::time::sleep(wait).await;
        match connect(&store, &signer).await {
            Ok(()) => return,
            Err(e) => store.link().observe(Err(&e.to_string())),
        }
        wait = (wait * 2).min(RECONNECT_MAX);
    }
}

/// Whether the config sets on-call up (for every alert, or only for those
/// sent with `oncall_enable=true`).
fn is_on(config: &Config) -> bool {
    config.oncall.enable || config.oncall.initialized_only
}

/// What serving this config warns about at startup, one line each: the
/// same lines `versus check` prints.
pub fn warnings(config: &Config) -> Vec<String> {
    let mut out = Vec::new();
    if !is_on(config) {
        return out;
    }
    if !config.redis.is_configured() {
        out.push(
            "on-call is enabled without Redis: escalations are kept in memory and do NOT survive a restart; configure redis: for production".into(),
        );
    }
    if config.public_host.is_empty() {
        out.push(
            "public_host is empty: ACK links will be relative and will not work from chat; set public_host".into(),
        );
    }
    let aws = crate::config::targets(&config.oncall)
        .iter()
        .any(|t| t == crate::config::AWS_INCIDENT_MANAGER);
    if aws
        && config
            .oncall
            .aws_incident_manager
            .response_plan_arn
            .is_empty()
    {
        out.push(
            "oncall.aws_incident_manager.response_plan_arn is empty: only alerts with awsim_response_plan_arn escalate".into(),
        );
    }
    out
}

/// `redis.url`, or one built from host/port/password/db. With `redis.tls`
/// (or a `rediss://` URL) the connection uses TLS, verified against the
/// system's trusted roots (`SSL_CERT_FILE`/`SSL_CERT_DIR` add a private CA);
/// `redis.insecure_skip_verify` turns verification off.
pub fn redis_url(r: &RedisConfig) -> anyhow::Result<String> {
    let url = match r.url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
        Some(url) => url.to_string(),
        None => {
            let scheme = if r.tls { "rediss" } else { "redis" };
            let auth = if r.password.is_empty() {
                String::new()
            } else {
                format!(":{}@", urlencode(&r.password))
            };
            format!("{scheme}://{auth}{}:{}/{}", r.host.trim(), r.port, r.db)
        }
    };
    let tls = url.starts_with("rediss://");
    if !tls && !url.starts_with("redis://") {
        anyhow::bail!(
            "redis.url must start with redis:// or rediss:// (got {})",
            redact(&url)
        );
    }
    if r.tls && !tls {
        anyhow::bail!("redis.tls is on but redis.url starts with redis://: use rediss://");
    }
    // The Redis client reads "#insecure" on a rediss:// URL as "do not
    // verify the certificate". On a plain connection the upstream key has
    // nothing to skip.
    if tls && r.insecure_skip_verify && !url.ends_with("#insecure") {
        return Ok(format!("{url}#insecure"));
    }
    Ok(url)
}

/// The seed nodes of a cluster: the one at `url` (from [`redis_url`]),
/// then each of `redis.nodes`, with the same scheme and credentials.
pub fn redis_nodes(r: &RedisConfig, url: &str) -> Vec<String> {
    let (scheme, rest) = url.split_once("://").unwrap_or(("redis", url));
    let auth = rest.rfind('@').map_or("", |at| &rest[..=at]);
    let mut nodes = vec![url.to_string()];
    nodes.extend(
        r.nodes
            .iter()
            .map(|n| format!("{scheme}://{auth}{}", n.trim())),
    );
    nodes
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Hides the password in a Redis URL for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://***@{}", &url[..s], &url[at + 1..]),
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::redis_url;
    use crate::config::RedisConfig;

    fn redis(f: impl FnOnce(&mut RedisConfig)) -> RedisConfig {
        let mut r = RedisConfig {
            host: "cache.internal".into(),
            ..RedisConfig::default()
        };
        f(&mut r);
        r
    }

    #[test]
    fn plain_url_from_the_upstream_fields() {
        let r = redis(|r| {
            r.password = "p@ss word".into();
            r.db = 2;
            // Upstream configs carry this with a plain Redis: nothing to skip.
            r.insecure_skip_verify = true;
        });
        assert_eq!(
            redis_url(&r).unwrap(),
            "redis://:p%40ss%20word@cache.internal:6379/2"
        );
    }

    #[test]
    fn tls_uses_rediss_and_verifies_unless_told_not_to() {
        let r = redis(|r| r.tls = true);
        assert_eq!(redis_url(&r).unwrap(), "rediss://cache.internal:6379/0");
        let r = redis(|r| {
            r.tls = true;
            r.insecure_skip_verify = true;
        });
        assert_eq!(
            redis_url(&r).unwrap(),
            "rediss://cache.internal:6379/0#insecure"
        );
    }

    #[test]
    fn cluster_nodes_share_the_seeds_scheme_and_password() {
        let r = redis(|r| {
            r.tls = true;
            r.password = "pw".into();
            r.nodes = vec!["b.internal:7001".into(), " c.internal:7002 ".into()];
        });
        let url = redis_url(&r).unwrap();
        assert_eq!(
            super::redis_nodes(&r, &url),
            [
                "rediss://:pw@cache.internal:6379/0",
                "rediss://:pw@b.internal:7001",
                "rediss://:pw@c.internal:7002",
            ]
        );
    }

    #[test]
    fn url_wins_and_is_checked() {
        let r = redis(|r| r.url = Some("rediss://u:p@other:6380/1".into()));
        assert_eq!(redis_url(&r).unwrap(), "rediss://u:p@other:6380/1");
        let r = redis(|r| {
            r.url = Some("redis://other:6380".into());
            r.tls = true;
        });
        let err = redis_url(&r).unwrap_err().to_string();
        assert!(err.contains("use rediss://"), "{err}");
        let r = redis(|r| r.url = Some("http://u:secret@other".into()));
        let err = redis_url(&r).unwrap_err().to_string();
        assert!(err.contains("redis:// or rediss://"), "{err}");
        assert!(!err.contains("secret"), "{err}");
    }
}
