//! Builds the on-call service from the config at startup.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::sync::Notify;

use super::redis_server;
use super::{
    AckSigner, Clock, EscalationStats, Escalator, MemoryStore, OnCall, RedisStore, Retention,
    Settings, Store, StoreError,
};
use crate::config::Config;
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
        let redis = &config.redis;
        let (server, place) = redis_server::server(redis)?;
        let store = RedisStore::on(server, &redis.key_prefix, &place)
            .with_retention(Retention::from_config(oncall))
            .with_durability(redis.wait_replicas, redis.wait_timeout);
        // One attempt now, so a gateway whose Redis is up serves on-call
        // from its first request; otherwise it starts anyway and connects
        // when Redis answers.
        match connect(&store, &signer).await {
            Ok(()) => {}
            Err(e) if e.away() => {
                // A TLS-only server drops a plain connection, which looks
                // like one that is down: waiting would never help.
                if let Some(at) = redis_server::speaks_tls_instead(redis).await {
                    anyhow::bail!(
                        "Redis at {at} answers only TLS, and the connection is plain: set redis.tls: true (REDIS_TLS) or use a rediss:// URL"
                    );
                }
                store.link().observe(Err(&e.to_string()));
                tokio::spawn(keep_connecting(store.clone(), signer.clone()));
            }
            // TLS, authentication: a setting no wait will fix.
            Err(e) => {
                return Err(e).with_context(|| {
                    format!("cannot connect to Redis at {place} (check the redis: section)")
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
