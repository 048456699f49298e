//! The settings read once, at startup: the listen address, `public_host`,
//! `oncall`, `redis`, the compiled-component cache, the file watcher, the
//! log format, the header read timeout, whether and where the SNS
//! endpoint is served, and the SQS queue polled. The listener, the store
//! connection, the scheduler and the ACK signer are built from them once,
//! so a reload cannot apply them. It names each one that changed and keeps
//! serving with the running value until the next restart.

use humantime_serde::re::humantime::format_duration;
use serde_json::{Value, json};

use super::Config;

/// The startup-only settings of `c`, as a tree keyed like the file.
fn startup_settings(c: &Config) -> Value {
    json!({
        "host": c.host,
        "port": c.port,
        "public_host": c.public_host,
        "oncall": c.oncall,
        "redis": c.redis,
        "plugins": {
            "cache_dir": c.plugins.cache_dir,
            "watch": c.plugins.watch,
        },
        "ingest": {
            "header_read_timeout": format_duration(c.ingest.header_read_timeout).to_string(),
        },
        "log": c.log,
        "queue": {
            "enable": c.queue.enable,
            "sns": {
                "enable": c.queue.sns.enable,
                "https_endpoint_subscription_path": c.queue.sns.https_endpoint_subscription_path,
            },
            "sqs": c.queue.sqs,
        },
    })
}

/// The dotted keys of the startup-only settings whose value in `new`
/// differs from the `running` one, in file order of the sections.
pub fn restart_needed(running: &Config, new: &Config) -> Vec<String> {
    let mut keys = Vec::new();
    diff(
        "",
        &startup_settings(running),
        &startup_settings(new),
        &mut keys,
    );
    keys
}

/// `new` with every startup-only setting taken from `running`: the config
/// that actually serves after a reload.
pub fn keep_startup_settings(running: &Config, mut new: Config) -> Config {
    new.host.clone_from(&running.host);
    new.port = running.port;
    new.public_host.clone_from(&running.public_host);
    new.oncall = running.oncall.clone();
    new.redis = running.redis.clone();
    new.plugins.cache_dir.clone_from(&running.plugins.cache_dir);
    new.plugins.watch = running.plugins.watch;
    new.ingest.header_read_timeout = running.ingest.header_read_timeout;
    new.log = running.log.clone();
    new.queue.enable = running.queue.enable;
    new.queue.sns.enable = running.queue.sns.enable;
    new.queue
        .sns
        .https_endpoint_subscription_path
        .clone_from(&running.queue.sns.https_endpoint_subscription_path);
    new.queue.sqs = running.queue.sqs.clone();
    new
}

fn diff(key: &str, a: &Value, b: &Value, out: &mut Vec<String>) {
    match (a, b) {
        (Value::Object(a), Value::Object(b)) => {
            for name in a.keys().chain(b.keys().filter(|k| !a.contains_key(*k))) {
                let child = if key.is_empty() {
                    name.clone()
                } else {
                    format!("{key}.{name}")
                };
                let missing = Value::Null;
                let (x, y) = (a.get(name), b.get(name));
                diff(&child, x.unwrap_or(&missing), y.unwrap_or(&missing), out);
            }
        }
        _ if a != b => out.push(key.to_string()),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::tests::from_yaml;

    fn load(yaml: &str) -> Config {
        from_yaml(yaml).0
    }

    #[test]
    fn names_each_changed_startup_key() {
        let running = load("oncall:\n  wait_minutes: 3\nport: 3000\n");
        let new = load(
            "oncall:\n  wait_minutes: 5\n  aws_incident_manager:\n    impact:\n      sev1: 1\n\
             port: 3001\nredis:\n  host: r1\nalert:\n  debug_body: true\n",
        );
        let keys = restart_needed(&running, &new);
        assert!(keys.contains(&"port".to_string()), "{keys:?}");
        assert!(
            keys.contains(&"oncall.wait_minutes".to_string()),
            "{keys:?}"
        );
        assert!(keys.contains(&"redis.host".to_string()), "{keys:?}");
        assert!(
            keys.iter()
                .any(|k| k.starts_with("oncall.aws_incident_manager.impact.")),
            "{keys:?}"
        );
        // alert.debug_body follows reloads, so it is not named.
        assert!(!keys.iter().any(|k| k.starts_with("alert")), "{keys:?}");
    }

    #[test]
    fn same_values_need_no_restart() {
        let a = load("oncall:\n  wait_minutes: 3\n");
        let b = load("oncall:\n  wait_minutes: 3.0\nalert:\n  debug_body: true\n");
        assert_eq!(restart_needed(&a, &b), Vec::<String>::new());
    }

    /// Every key `restart_needed` can name is one `keep_startup_settings`
    /// restores: a config changed in all of them needs no restart once the
    /// running values are kept.
    #[test]
    fn kept_settings_cover_every_named_key() {
        let running = load("");
        let new = load(
            "host: 127.0.0.9\nport: 4000\npublic_host: https://x\n\
             oncall:\n  enable: true\n  wait_minutes: 9\n  provider: aws_incident_manager\n  ack_secret: s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t-s3cr3t\n  \
             aws_incident_manager:\n    response_plan_arn: arn:x\n    region: eu-west-1\n    max_attempts: 2\n    initial_backoff: 1s\n\
             redis:\n  host: r\n  port: 7000\n  key_prefix: 'y:'\n\
             plugins:\n  cache_dir: /tmp/c\n  watch: false\n\
             ingest:\n  header_read_timeout: 5s\nlog:\n  format: json\n",
        );
        let named = restart_needed(&running, &new);
        assert!(named.len() >= 15, "{named:?}");
        let kept = keep_startup_settings(&running, new);
        assert_eq!(restart_needed(&running, &kept), Vec::<String>::new());
    }
}
