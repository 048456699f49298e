//! Builds the on-call service from the config at startup.

use std::sync::Arc;

use anyhow::Context;
use tokio::sync::Notify;

use super::{AckSigner, Clock, Escalator, MemoryStore, OnCall, RedisStore, Settings, Store};
use crate::config::{Config, RedisConfig};
use crate::pipeline::Reloader;

/// The on-call service, or `None` when the config leaves on-call off.
pub async fn build(
    config: &Config,
    reloader: Arc<Reloader>,
) -> anyhow::Result<Option<Arc<OnCall>>> {
    let oncall = &config.oncall;
    if !(oncall.enable || oncall.initialized_only) {
        return Ok(None);
    }
    let store = if config.redis.is_configured() {
        let url = redis_url(&config.redis)?;
        let prefix = std::env::var("VERSUS_REDIS_PREFIX").unwrap_or_else(|_| "versus:".into());
        let store = RedisStore::connect(&url, &prefix).await.with_context(|| {
            format!(
                "cannot connect to Redis at {} (check the redis: section)",
                redact(&url)
            )
        })?;
        Store::Redis(Box::new(store))
    } else {
        tracing::warn!(
            "on-call is enabled without Redis: escalations are kept in memory and do NOT survive a restart; configure redis: for production"
        );
        Store::Memory(MemoryStore::default())
    };
    let secret = if !oncall.ack_secret.is_empty() {
        oncall.ack_secret.clone()
    } else {
        let fresh = hex::encode(rand::random::<[u8; 32]>());
        match &store {
            Store::Redis(r) => r
                .ack_secret(&fresh)
                .await
                .context("cannot read or create the shared ACK secret in Redis")?,
            Store::Memory(_) => fresh,
        }
    };
    let settings = Settings::from_config(config);
    if settings.public_host.is_empty() {
        tracing::warn!(
            "public_host is empty: ACK links will be relative and will not work from chat; set public_host"
        );
    }
    if settings.response_plan_arn.is_empty() {
        tracing::warn!(
            "oncall.aws_incident_manager.response_plan_arn is empty: only alerts with awsim_response_plan_arn escalate"
        );
    }
    Ok(Some(Arc::new(OnCall {
        store,
        signer: AckSigner::new(secret.into_bytes()),
        escalator: Escalator::new(&oncall.aws_incident_manager).await,
        clock: Clock::System,
        settings,
        reloader,
        wake: Arc::new(Notify::new()),
    })))
}

/// `redis.url`, or one built from host/port/password/db.
pub fn redis_url(r: &RedisConfig) -> anyhow::Result<String> {
    if let Some(url) = r.url.as_deref().filter(|u| !u.is_empty()) {
        return Ok(url.to_string());
    }
    if r.tls {
        anyhow::bail!(
            "redis.tls is not supported by this build yet: use a TLS proxy, or leave redis.tls off"
        );
    }
    let auth = if r.password.is_empty() {
        String::new()
    } else {
        format!(":{}@", urlencode(&r.password))
    };
    Ok(format!("redis://{auth}{}:{}/{}", r.host, r.port, r.db))
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
