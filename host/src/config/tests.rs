//! Config tests: upstream fixtures, the default config, environment
//! overrides and lenient values. Channels, plugins, warnings and Redis are
//! in `channel_tests.rs`, error messages in `error_tests.rs`.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use super::*;

const UPSTREAM_V1_2_0: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/fixtures/configs/upstream-v1.2.0.yaml"
);
pub(super) const UPSTREAM_V1_4_23: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/fixtures/configs/upstream-v1.4.23.yaml"
);
const SEED: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../tests/fixtures/configs/seed-config.yaml"
);
const DEFAULT_CONFIG: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../config/config.yaml");

pub(super) const SLACK_WITHOUT_TOKEN: &str = "alert.slack.enable is true but alert.slack.token is empty: \
                                   Slack is disabled; set SLACK_TOKEN";

/// An environment with no variables.
pub(super) fn no_env(_: &str) -> Option<String> {
    None
}

/// An environment holding `vars`.
pub(super) fn env_of(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: BTreeMap<String, String> = vars
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    move |name| map.get(name).cloned()
}

pub(super) fn load(path: &str, env: impl Fn(&str) -> Option<String>) -> (Config, Vec<String>) {
    Config::load_with_env(Path::new(path), env).expect("config loads")
}

pub(super) fn from_yaml(text: &str) -> (Config, Vec<String>) {
    Config::from_yaml(text, Path::new("t.yaml"), no_env).expect("config loads")
}

pub(super) fn sorted(mut warnings: Vec<String>) -> Vec<String> {
    warnings.sort();
    warnings
}

pub(super) fn strings(items: &[&str]) -> Vec<String> {
    sorted(items.iter().map(|s| s.to_string()).collect())
}

/// What v1.2.0 has that we do not implement.
const V1_2_0_UNIMPLEMENTED: &[&str] = &[
    "queue.azbus: Azure Service Bus is not implemented; ignored",
    "queue.pubsub: GCP Pub/Sub is not implemented; ignored",
    "queue.sns.https_endpoint_subscription: creating the SNS subscription is not implemented: subscribe the endpoint to the topic yourself (docs/aws-ingest.md); ignored",
];

/// What v1.4.23 has that we do not implement: one warning per part.
pub(super) const V1_4_23_UNIMPLEMENTED: &[&str] = &[
    "gateway_secret: the admin API it protects is not implemented yet; ignored",
    "queue.azbus: Azure Service Bus is not implemented; ignored",
    "queue.pubsub: GCP Pub/Sub is not implemented; ignored",
    "queue.sns.https_endpoint_subscription: creating the SNS subscription is not implemented: subscribe the endpoint to the topic yourself (docs/aws-ingest.md); ignored",
    "storage: the incident storage backend is not implemented yet; ignored",
    "agent: the AI agent is not implemented yet; ignored",
];

/// The variables a deployment of the seed config sets.
const DEPLOYMENT_ENV: &[(&str, &str)] = &[
    ("SLACK_TOKEN", "xoxb-test"),
    ("SLACK_CHANNEL_ID", "C123"),
    ("REDIS_HOST", "127.0.0.1"),
    ("REDIS_PORT", "6379"),
    (
        "AWS_INCIDENT_MANAGER_RESPONSE_PLAN_ARN",
        "arn:aws:ssm-incidents::1:response-plan/p",
    ),
];

#[test]
fn expands_variables_and_leaves_other_dollars() {
    let lookup = |name: &str| (name == "TOKEN").then(|| "tok".to_string());
    assert_eq!(expand_with("a: ${TOKEN} $x ${", lookup), "a: tok $x ${");
    assert_eq!(expand_with("${UNSET}|", lookup), "|");
}

#[test]
fn seed_config_loads_without_env() {
    let (cfg, warnings) = load(SEED, no_env);
    assert_eq!(sorted(warnings), strings(&[SLACK_WITHOUT_TOKEN]));
    assert!(cfg.alert.channels.slack.enable && !cfg.alert.channels.slack.is_effective());
    assert!(cfg.channels().is_empty());
    assert!(cfg.alert.debug_body);
    assert!(cfg.oncall.enable);
    assert_eq!(cfg.oncall.wait_minutes, 3.0);
    assert!(!cfg.redis.is_configured());
    assert_eq!(
        cfg.redis.port, DEFAULT_REDIS_PORT,
        "`port: ${{REDIS_PORT}}` is empty"
    );
    assert!(cfg.redis.insecure_skip_verify);
    assert_eq!(cfg.public_host, "https://your-ack-host.example");
    assert_eq!(cfg.source.as_deref(), Some(Path::new(SEED)));
}

#[test]
fn seed_config_with_env_turns_everything_on() {
    let (cfg, warnings) = load(SEED, env_of(DEPLOYMENT_ENV));
    assert_eq!(warnings, Vec::<String>::new());
    assert!(cfg.alert.channels.slack.is_effective());
    assert!(cfg.redis.is_configured());
    assert_eq!(
        (cfg.redis.host.as_str(), cfg.redis.port),
        ("127.0.0.1", 6379)
    );
    assert!(cfg.oncall.enable);
    assert_eq!(cfg.oncall.wait_minutes, 3.0);
    assert_eq!(cfg.oncall.wait(), Duration::from_secs(180));
    assert_eq!(
        cfg.oncall.aws_incident_manager.response_plan_arn,
        "arn:aws:ssm-incidents::1:response-plan/p"
    );

    let channels = cfg.channels();
    let names: Vec<_> = channels.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["slack"]);
    let slack = &channels[0];
    assert_eq!(slack.plugin, "slack");
    assert_eq!(slack.template_path, Path::new("config/slack_message.tmpl"));
    assert_eq!(slack.allowed_hosts, ["https://slack.com:443"]);
    let json: serde_json::Value = serde_json::from_str(&slack.config_json).expect("json");
    assert_eq!(
        json,
        serde_json::json!({
            "token": "xoxb-test",
            "channel_id": "C123",
            "api_url": "https://slack.com/api/",
            "message_properties": {
                "button_text": "Acknowledge Alert",
                "button_style": "primary",
                "disable_button": false,
            },
            "interactive": false,
            "threads": false,
            "broadcast_resolved": false,
            "storm_digest": false,
        })
    );
}

#[test]
fn upstream_v1_2_0_loads_without_env() {
    let (cfg, warnings) = load(UPSTREAM_V1_2_0, no_env);
    assert_eq!(sorted(warnings), strings(V1_2_0_UNIMPLEMENTED));
    assert!(!cfg.alert.channels.slack.enable && !cfg.oncall.enable);
    assert!(cfg.channels().is_empty());
}

#[test]
fn upstream_v1_4_23_loads_without_env() {
    let (cfg, warnings) = load(UPSTREAM_V1_4_23, no_env);
    assert_eq!(sorted(warnings), strings(V1_4_23_UNIMPLEMENTED));
    assert_eq!(cfg.public_host, "");
    assert_eq!(cfg.oncall.provider, AWS_INCIDENT_MANAGER);
    assert_eq!(
        cfg.alert.channels.slack.message_properties,
        SlackMessageProperties::default()
    );
    // Unset `${VAR}` entries are dropped, not kept as empty plans.
    assert!(
        cfg.oncall
            .aws_incident_manager
            .other_response_plan_arns
            .is_empty()
    );
}

#[test]
fn upstream_v1_4_23_with_env_and_switches_turns_everything_on() {
    // The file says `enable: false` for Slack and on-call, so credentials
    // alone keep them off; the upstream switches turn them on.
    let (cfg, _) = load(UPSTREAM_V1_4_23, env_of(DEPLOYMENT_ENV));
    assert!(!cfg.alert.channels.slack.is_effective() && !cfg.oncall.enable);
    assert!(cfg.redis.is_configured());

    let mut vars = DEPLOYMENT_ENV.to_vec();
    vars.extend([
        ("SLACK_ENABLE", "true"),
        ("ONCALL_ENABLE", "true"),
        (
            "AWS_INCIDENT_MANAGER_OTHER_RESPONSE_PLAN_ARN_INFRA",
            "arn:infra",
        ),
    ]);
    let (cfg, warnings) = load(UPSTREAM_V1_4_23, env_of(&vars));
    assert_eq!(sorted(warnings), strings(V1_4_23_UNIMPLEMENTED));
    assert!(cfg.alert.channels.slack.is_effective() && cfg.oncall.enable);
    assert_eq!(
        cfg.oncall.aws_incident_manager.other_response_plan_arns,
        BTreeMap::from([("infra".to_string(), "arn:infra".to_string())])
    );
    assert_eq!(cfg.channels()[0].name, "slack");
}

#[test]
fn default_config_loads_with_console_and_no_warnings() {
    let (cfg, warnings) = load(DEFAULT_CONFIG, no_env);
    assert_eq!(warnings, Vec::<String>::new());
    let names: Vec<_> = cfg.channels().into_iter().map(|c| c.name).collect();
    assert_eq!(names, ["console"]);
    assert_eq!(cfg.alert.max_body_bytes, DEFAULT_MAX_BODY_BYTES);
}

#[test]
fn default_config_lets_slack_call_exactly_its_api_url() {
    let slack_hosts = |env: &[(&str, &str)]| {
        let (cfg, _) = load(DEFAULT_CONFIG, env_of(env));
        let channels = cfg.channels();
        let slack = channels.iter().find(|c| c.name == "slack").expect("slack");
        slack.allowed_hosts.clone()
    };
    let on = [
        ("SLACK_ENABLE", "true"),
        ("SLACK_TOKEN", "xoxb-t"),
        ("SLACK_CHANNEL_ID", "C1"),
    ];
    assert_eq!(slack_hosts(&on), ["https://slack.com:443"]);
    let proxied = [
        on[0],
        on[1],
        on[2],
        ("SLACK_API_URL", "http://127.0.0.1:8089/api/"),
    ];
    assert_eq!(slack_hosts(&proxied), ["http://127.0.0.1:8089"]);
}

#[test]
fn env_overrides_win_when_set_and_not_empty() {
    let text = "host: 127.0.0.1\nport: 3000\nalert:\n  debug_body: true\n  slack:\n    token: file-token\n    channel_id: C-file\nredis:\n  host: file-redis\n";
    let env = env_of(&[
        ("PORT", "8080"),
        ("HOST", ""),
        ("PUBLIC_HOST", "https://versus.example.com"),
        ("DEBUG_BODY", "false"),
        ("SLACK_ENABLE", "yes"),
        ("SLACK_TOKEN", "env-token"),
        ("SLACK_CHANNEL_ID", "   "),
        ("SLACK_API_URL", "http://127.0.0.1:9999/api/"),
        ("ONCALL_ENABLE", "1"),
        ("ONCALL_WAIT_MINUTES", "0.25"),
        ("AWS_INCIDENT_MANAGER_RESPONSE_PLAN_ARN", "arn:plan"),
        ("VERSUS_ACK_SECRET", "s3cret-0123456789abcdef-0123456789"),
        ("REDIS_PORT", "6380"),
        ("REDIS_PASSWORD", "pw"),
        ("REDIS_DB", "2"),
    ]);
    let (cfg, warnings) = Config::from_yaml(text, Path::new("t.yaml"), env).expect("loads");
    assert_eq!(warnings, Vec::<String>::new());
    assert_eq!(cfg.host, "127.0.0.1", "an empty variable does not override");
    assert_eq!(cfg.port, 8080);
    assert_eq!(cfg.public_host, "https://versus.example.com");
    assert!(!cfg.alert.debug_body);
    let slack = &cfg.alert.channels.slack;
    assert!(slack.is_effective());
    assert_eq!(
        (slack.token.as_str(), slack.channel_id.as_str()),
        ("env-token", "C-file")
    );
    assert_eq!(slack.api_url, "http://127.0.0.1:9999/api/");
    assert!(cfg.oncall.enable);
    assert_eq!(cfg.oncall.wait(), Duration::from_secs(15));
    assert_eq!(cfg.oncall.ack_secret, "s3cret-0123456789abcdef-0123456789");
    assert_eq!(
        cfg.oncall.aws_incident_manager.response_plan_arn,
        "arn:plan"
    );
    let redis = &cfg.redis;
    assert_eq!(
        (redis.host.as_str(), redis.port, redis.db),
        ("file-redis", 6380, 2)
    );
    assert_eq!(redis.password, "pw");
    assert_eq!(cfg.channels()[0].allowed_hosts, ["http://127.0.0.1:9999"]);
}

#[test]
fn scalars_are_read_leniently() {
    let text = r#"
port: "8080"
public_host:
alert:
  debug_body: "yes"
  max_body_bytes: "2048"
  slack:
    enable: "1"
    token: 12345
    channel_id: 67890
    message_properties:
      button_style: ""
      disable_button: "on"
oncall:
  enable: "false"
  wait_minutes: "1.5"
redis:
  host: ""
  port: ""
  db: "3"
  insecure_skip_verify: "TRUE"
plugins:
  watch: "no"
  defaults:
    memory_mb: "32"
    timeout: 5
    max_output_bytes: ~
"#;
    let (cfg, _) = from_yaml(text);
    assert_eq!(cfg.port, 8080);
    assert_eq!(cfg.public_host, "");
    assert!(cfg.alert.debug_body);
    assert_eq!(cfg.alert.max_body_bytes, 2048);
    let slack = &cfg.alert.channels.slack;
    assert!(slack.is_effective());
    assert_eq!(
        (slack.token.as_str(), slack.channel_id.as_str()),
        ("12345", "67890")
    );
    assert_eq!(
        slack.message_properties.button_style, "",
        "blank text is kept"
    );
    assert_eq!(slack.message_properties.button_text, "Acknowledge Alert");
    assert!(slack.message_properties.disable_button);
    assert!(!cfg.oncall.enable);
    assert_eq!(cfg.oncall.wait_minutes, 1.5);
    assert_eq!(cfg.oncall.wait(), Duration::from_secs(90));
    assert_eq!(
        cfg.redis.port, DEFAULT_REDIS_PORT,
        "a blank number takes the default"
    );
    assert_eq!(cfg.redis.db, 3);
    assert!(cfg.redis.insecure_skip_verify);
    assert!(!cfg.redis.is_configured());
    assert!(!cfg.plugins.watch);
    assert_eq!(cfg.plugins.defaults.memory_mb, 32);
    assert_eq!(cfg.plugins.defaults.timeout, Duration::from_secs(5));
    assert_eq!(cfg.plugins.defaults.max_output_bytes, 1024 * 1024);
}

#[test]
fn wait_minutes_may_be_fractional_or_zero() {
    let (cfg, _) = from_yaml("oncall:\n  wait_minutes: 0.5\n");
    assert_eq!(cfg.oncall.wait(), Duration::from_secs(30));
    let (cfg, _) = from_yaml("oncall:\n  wait_minutes: 0\n");
    assert_eq!(cfg.oncall.wait(), Duration::ZERO);
    let (cfg, _) = from_yaml("oncall:\n  wait_minutes: ${UNSET}\n");
    assert_eq!(cfg.oncall.wait_minutes, DEFAULT_WAIT_MINUTES);
}

#[test]
fn sns_needs_its_topic_and_a_plain_path_of_its_own() {
    let load = |sns: &str| {
        let yaml = format!("queue:\n  enable: true\n  sns:\n    enable: true\n{sns}");
        Config::from_yaml(&yaml, Path::new("t.yaml"), |_| None)
    };
    let err = load("").expect_err("no topic").to_string();
    assert!(err.contains("queue.sns.topic_arn"), "{err}");
    let err = load("    topic_arn: arn:t\n    cert_url_prefix: http://127.0.0.1:1\n")
        .expect_err("a prefix must end in /")
        .to_string();
    assert!(err.contains("cert_url_prefix"), "{err}");
    for path in ["sns", "/api/sns", "/metrics", "/{x}", "/a b", "/"] {
        let sns =
            format!("    topic_arn: arn:t\n    https_endpoint_subscription_path: \"{path}\"\n");
        let err = load(&sns).expect_err(path).to_string();
        assert!(
            err.contains("https_endpoint_subscription_path"),
            "{path}: {err}"
        );
    }
    let (config, warnings) = load("    topic_arn: arn:t\n").expect("valid");
    assert_eq!(
        config
            .queue
            .sns()
            .map(|s| s.https_endpoint_subscription_path.as_str()),
        Some("/sns")
    );
    assert!(warnings.is_empty(), "{warnings:?}");
    let (_, warnings) =
        load("    topic_arn: arn:t\n    cert_url_prefix: http://127.0.0.1:1/\n").expect("valid");
    assert!(
        warnings.iter().any(|w| w.contains("for tests only")),
        "{warnings:?}"
    );
    // SNS off: nothing is required.
    let off = Config::from_yaml(
        "queue:\n  enable: true\n  sns:\n    enable: false\n",
        Path::new("t"),
        |_| None,
    );
    assert!(off.expect("valid").0.queue.sns().is_none());
}
