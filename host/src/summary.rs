//! One-line summaries of what a config switches on, for the startup log
//! line and `versus check`: channels, on-call mode and store, plugins.

use std::collections::BTreeSet;

use humantime_serde::re::humantime::format_duration;

use crate::config::Config;
use crate::pipeline::Pipeline;
use crate::pipeline::plugin::PluginSource;

/// The startup line: `versus listening on ADDR; channels: …; on-call: …;
/// plugins: …`. It starts with `versus listening`, which scripts and tests
/// wait for.
pub fn startup(addr: &str, config: &Config, pipeline: &Pipeline) -> String {
    format!(
        "versus listening on {addr}; channels: {}; on-call: {}; plugins: {}",
        channels(pipeline),
        oncall(config),
        plugins(pipeline)
    )
}

/// The enabled channels, e.g. `slack, console`, or `none`.
pub fn channels(pipeline: &Pipeline) -> String {
    let names: Vec<&str> = pipeline.channels.iter().map(|c| c.name.as_str()).collect();
    if names.is_empty() {
        "none (alerts are accepted but sent nowhere)".into()
    } else {
        names.join(", ")
    }
}

/// The on-call mode, its default wait, where pages go and where its state
/// lives, e.g. `every alert, wait 3m, paging aws_incident_manager, Redis
/// 127.0.0.1:6379/0`.
pub fn oncall(config: &Config) -> String {
    let oncall = &config.oncall;
    let mode = if oncall.initialized_only {
        "only alerts sent with oncall_enable=true"
    } else if oncall.enable {
        "every alert"
    } else {
        return "off".into();
    };
    format!(
        "{mode}, wait {}, paging {}, {}",
        format_duration(oncall.wait()),
        crate::config::targets(oncall).join(" + "),
        store(config)
    )
}

/// Where on-call state is kept. The password never appears.
fn store(config: &Config) -> String {
    let redis = &config.redis;
    if !redis.is_configured() {
        return "in memory (escalations do not survive a restart)".into();
    }
    let tls = if redis.tls { ", TLS" } else { "" };
    if redis.sentinel.is_set() {
        return format!(
            "Redis Sentinel master {} ({} sentinels){tls}",
            redis.sentinel.master_name.trim(),
            redis.sentinel.nodes.len()
        );
    }
    let cluster = if redis.cluster { " Cluster" } else { "" };
    if redis.url.as_deref().is_some_and(|u| !u.trim().is_empty()) {
        return format!("Redis{cluster} (redis.url)");
    }
    if redis.cluster {
        return format!(
            "Redis Cluster {}:{} (+{} seeds){tls}",
            redis.host.trim(),
            redis.port,
            redis.nodes.len()
        );
    }
    format!(
        "Redis {}:{}/{}{tls}",
        redis.host.trim(),
        redis.port,
        redis.db
    )
}

/// Every plugin in use once, with where it came from, e.g.
/// `gotemplate, console (built-in)`.
pub fn plugins(pipeline: &Pipeline) -> String {
    let mut seen = BTreeSet::new();
    let mut builtin = Vec::new();
    let mut files = Vec::new();
    let all = std::iter::once(&pipeline.renderer.base)
        .chain(pipeline.transforms.iter().map(|t| &t.base))
        .chain(pipeline.channels.iter().map(|c| &c.plugin.base));
    for base in all {
        if !seen.insert(base.name.clone()) {
            continue;
        }
        match &base.source {
            PluginSource::Builtin => builtin.push(base.name.to_string()),
            source => files.push(format!("{} ({source})", base.name)),
        }
    }
    let mut parts = files;
    if !builtin.is_empty() {
        parts.push(format!("{} (built-in)", builtin.join(", ")));
    }
    parts.join(", ")
}

#[cfg(test)]
mod tests {
    use super::oncall;
    use crate::config::Config;

    fn from_yaml(text: &str) -> (Config, Vec<String>) {
        Config::from_yaml(text, std::path::Path::new("t.yaml"), |_| None).expect("config loads")
    }

    #[test]
    fn oncall_mode_wait_and_store() {
        assert_eq!(oncall(&from_yaml("").0), "off");
        let (c, _) = from_yaml("oncall:\n  enable: true\n  wait_minutes: 0.5\n");
        assert_eq!(
            oncall(&c),
            "every alert, wait 30s, paging aws_incident_manager, in memory (escalations do not survive a restart)"
        );
        let (c, _) = from_yaml(
            "oncall:\n  initialized_only: true\nredis:\n  host: cache\n  password: hunter2\n  db: 2\n",
        );
        assert_eq!(
            oncall(&c),
            "only alerts sent with oncall_enable=true, wait 3m, paging aws_incident_manager, Redis cache:6379/2"
        );
        let (c, _) = from_yaml("oncall:\n  enable: true\nredis:\n  url: redis://:pw@h:1/0\n");
        assert!(!oncall(&c).contains("pw"), "{}", oncall(&c));
        let (c, _) = from_yaml(
            "oncall:\n  enable: true\nredis:\n  sentinel:\n    master_name: m\n    nodes: [\"s1:26379\", \"s2:26379\"]\n",
        );
        assert!(
            oncall(&c).ends_with("Redis Sentinel master m (2 sentinels)"),
            "{}",
            oncall(&c)
        );
        let (c, _) = from_yaml(
            "oncall:\n  enable: true\nredis:\n  host: seed\n  cluster: true\n  nodes: [\"b:7001\"]\n",
        );
        assert!(
            oncall(&c).ends_with("Redis Cluster seed:6379 (+1 seeds)"),
            "{}",
            oncall(&c)
        );
    }
}
