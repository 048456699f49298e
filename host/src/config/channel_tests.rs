//! Config tests: channels (built-in and custom), plugin limits, unknown
//! keys and the redis: section.

use std::path::Path;
use std::time::Duration;

use super::tests::{SLACK_WITHOUT_TOKEN, env_of, from_yaml, no_env, sorted, strings};
use super::*;

#[test]
fn slack_enabled_without_token_is_a_warning_not_a_channel() {
    let (cfg, warnings) = from_yaml(
        "alert:\n  slack:\n    enable: true\n    token: ${SLACK_TOKEN}\n  console:\n    enable: true\n",
    );
    assert_eq!(warnings, [SLACK_WITHOUT_TOKEN]);
    let names: Vec<_> = cfg.channels().into_iter().map(|c| c.name).collect();
    assert_eq!(names, ["console"]);
}

#[test]
fn slack_allowed_hosts_come_from_the_override_when_set() {
    let text = "alert:\n  slack:\n    enable: true\n    token: t\n    channel_id: C\nplugins:\n  overrides:\n    slack:\n      allowed_hosts: ['https://slack.com']\n      timeout: 30s\n";
    let (cfg, _) = from_yaml(text);
    let slack = &cfg.channels()[0];
    assert_eq!(slack.allowed_hosts, ["https://slack.com"]);
    assert_eq!(slack.limits.allowed_hosts, slack.allowed_hosts);
    assert_eq!(slack.limits.timeout, Duration::from_secs(30));
}

#[test]
fn custom_channels_follow_the_built_in_ones() {
    let text = r#"
alert:
  console:
    enable: true
channels:
  - name: ops-webhook
    plugin: webhook
    template_path: config/webhook.tmpl
    allowed_hosts: ["https://hooks.example.com"]
    timeout: 20s
    http_max_body_bytes: 4096
    config:
      url: https://hooks.example.com/ops
      headers: { X-Team: ops }
  - name: off
    enable: false
    template_path: t.tmpl
  - name: pager
    template_path: config/pager.tmpl
    enable: ${PAGER_ENABLE}
    config: ~
"#;
    let (cfg, warnings) = from_yaml(text);
    assert_eq!(warnings, Vec::<String>::new());
    let channels = cfg.channels();
    let names: Vec<_> = channels.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["console", "ops-webhook", "pager"]);

    let hook = &channels[1];
    assert_eq!(hook.plugin, "webhook");
    assert_eq!(hook.template_path, Path::new("config/webhook.tmpl"));
    assert_eq!(hook.allowed_hosts, ["https://hooks.example.com"]);
    assert_eq!(hook.limits.timeout, Duration::from_secs(20));
    assert_eq!(hook.limits.http_max_body_bytes, 4096);
    assert_eq!(hook.limits.memory_mb, PluginLimits::default().memory_mb);
    let json: serde_json::Value = serde_json::from_str(&hook.config_json).expect("json");
    assert_eq!(
        json,
        serde_json::json!({"url": "https://hooks.example.com/ops", "headers": {"X-Team": "ops"}})
    );

    let pager = &channels[2];
    assert_eq!(
        pager.plugin, "pager",
        "the plugin defaults to the channel name"
    );
    assert_eq!(pager.config_json, "{}");
    assert!(pager.allowed_hosts.is_empty());
}

#[test]
fn unknown_keys_are_warned_about_once_each() {
    let text = r#"
colour: blue
alert:
  slack:
    colour: red
  telegram:
    enable: true
    bot_token: x
plugins:
  overrides:
    slack:
      memory: 3
channels:
  - name: a
    template_path: t
    extra: 1
oncall:
  provider: victorops
  enable: false
"#;
    let (cfg, warnings) = from_yaml(text);
    assert_eq!(
        sorted(warnings),
        strings(&[
            "colour: unknown key; ignored (check the spelling)",
            "alert.slack.colour: unknown key; ignored (check the spelling)",
            "alert.telegram.enable is true but alert.telegram.bot_token or chat_id is empty: \
             Telegram is disabled; set TELEGRAM_BOT_TOKEN and TELEGRAM_CHAT_ID",
            "plugins.overrides.slack.memory: unknown key; ignored (check the spelling)",
            "channels[0].extra: unknown key; ignored (check the spelling)",
            "oncall.provider: `victorops` is not implemented yet (this build has: \
             aws_incident_manager, pagerduty, incident_io, opsgenie, servicenow); ignored while \
             on-call is off",
        ])
    );
    assert!(!cfg.oncall.enable);
}

#[test]
fn an_alertmanager_file_that_no_pipeline_runs_is_warned_about() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("alertmanager.wasm"), b"\0asm").expect("write");
    let base = format!("plugins:\n  dir: {}\n", dir.path().display());
    let (cfg, warnings) = from_yaml(&base);
    assert!(cfg.plugins.transforms.is_empty());
    let file = dir.path().join("alertmanager.wasm");
    assert_eq!(
        warnings,
        [format!(
            "plugins.dir: {} is not run: plugins.transforms does not list it (the default \
             list is empty, since the gateway reads an Alertmanager notification's resolved \
             flag, severity and dedup key itself); add `alertmanager` to plugins.transforms \
             to run this file",
            file.display()
        )]
    );
    let (_, listed) = from_yaml(&format!("{base}  transforms: [alertmanager]\n"));
    assert!(listed.is_empty(), "{listed:?}");
    std::fs::remove_file(&file).expect("remove");
    assert!(from_yaml(&base).1.is_empty());
}

#[test]
fn limits_merge_overrides() {
    let cfg = Config::parse(
        "plugins:\n  overrides:\n    slack:\n      timeout: 30s\n      allowed_hosts: ['https://slack.com']\n      calls_per_instance: 1\n",
        Path::new("t.yaml"),
    )
    .expect("parses");
    let l = cfg.plugins.limits_for("slack");
    assert_eq!(l.timeout, Duration::from_secs(30));
    assert_eq!(l.allowed_hosts, vec!["https://slack.com".to_string()]);
    assert_eq!(l.calls_per_instance, 1);
    let other = cfg.plugins.limits_for("other");
    assert_eq!(other.timeout, Duration::from_secs(10));
    assert_eq!(other.calls_per_instance, 1000);
}

#[test]
fn redis_is_configured_by_host_or_url() {
    let (cfg, _) = from_yaml("redis:\n  url: redis://127.0.0.1:6379/1\n");
    assert!(cfg.redis.is_configured());
    assert!(!Config::default().redis.is_configured());
}

#[test]
fn redis_tls_url_and_key_prefix_come_from_config_or_env() {
    let (cfg, warnings) = from_yaml(
        "redis:\n  host: r\n  tls: true\n  key_prefix: \"team-a:\"\n  url: rediss://r:6380/0\n",
    );
    assert_eq!(warnings, Vec::<String>::new());
    assert!(cfg.redis.tls);
    assert_eq!(cfg.redis.key_prefix, "team-a:");
    assert_eq!(cfg.redis.url.as_deref(), Some("rediss://r:6380/0"));
    assert_eq!(Config::default().redis.key_prefix, "versus:");

    let env = env_of(&[
        ("REDIS_TLS", "on"),
        ("REDIS_URL", "rediss://env:6379/1"),
        ("REDIS_KEY_PREFIX", "team-b:"),
        ("REDIS_CLUSTER", "true"),
    ]);
    let (cfg, _) = Config::from_yaml(
        "redis:\n  host: r\n  nodes: [\"r2:6379\"]\n",
        Path::new("t.yaml"),
        env,
    )
    .expect("loads");
    assert!(cfg.redis.cluster);
    assert_eq!(cfg.redis.nodes, ["r2:6379"]);
    assert!(cfg.redis.tls);
    assert_eq!(cfg.redis.url.as_deref(), Some("rediss://env:6379/1"));
    assert_eq!(cfg.redis.key_prefix, "team-b:");
    let (cfg, _) = Config::from_yaml(
        "redis:\n  key_prefix: \"kept:\"\n",
        Path::new("t.yaml"),
        no_env,
    )
    .expect("loads");
    assert_eq!(cfg.redis.key_prefix, "kept:");
}
