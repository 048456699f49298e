//! Golden tests for config error messages: every case's message is a line
//! of `testdata/errors.txt`.

use std::path::Path;

use super::Config;
use super::tests::env_of;

const GOLDEN_ERRORS: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/src/config/testdata/errors.txt"
);

/// Name, file text, environment.
type Case = (
    &'static str,
    &'static str,
    &'static [(&'static str, &'static str)],
);

fn error_of(text: &str) -> String {
    Config::from_yaml(text, Path::new("config.yaml"), |_| None)
        .expect_err("config must be rejected")
        .to_string()
}

#[test]
fn a_bad_env_value_names_the_variable() {
    let err = Config::from_yaml(
        "",
        Path::new("t.yaml"),
        env_of(&[("SLACK_ENABLE", "maybe")]),
    )
    .expect_err("rejected")
    .to_string();
    assert_eq!(
        err,
        "environment variable `SLACK_ENABLE`: `maybe` is not true or false: fix or unset the variable"
    );
}

#[test]
fn duplicate_channel_names_are_rejected() {
    let err = error_of(
        "channels:\n  - name: hook\n    template_path: a.tmpl\n  - name: hook\n    template_path: b.tmpl\n",
    );
    assert_eq!(
        err,
        "config key `channels[1].name`: `hook` is already used by channels[0]: channel names must \
         be unique, rename one of them"
    );
}

/// Each case is loaded with the given environment; its error must match the
/// line of the same name in `testdata/errors.txt`. Set `UPDATE_GOLDEN=1` to
/// rewrite the file after an intended change.
#[test]
fn error_messages_match_the_golden_file() {
    let cases: &[Case] = &[
        ("yaml-syntax", "alert: [\n", &[]),
        ("top-level-list", "- a\n", &[]),
        ("section-is-a-list", "alert: [1]\n", &[]),
        ("text-is-a-section", "public_host:\n  a: b\n", &[]),
        ("bad-bool", "alert:\n  debug_body: maybe\n", &[]),
        ("bad-port-type", "port: eighty\n", &[]),
        ("port-out-of-range", "redis:\n  port: 70000\n", &[]),
        (
            "bad-duration",
            "plugins:\n  defaults:\n    timeout: soon\n",
            &[],
        ),
        (
            "list-expected",
            "plugins:\n  transforms: alertmanager\n",
            &[],
        ),
        ("host-empty", "host: ''\n", &[]),
        ("port-zero", "port: 0\n", &[]),
        ("env-port", "", &[("PORT", "abc")]),
        ("env-wait-minutes", "", &[("ONCALL_WAIT_MINUTES", "soon")]),
        (
            "public-host-not-url",
            "public_host: versus.example.com\n",
            &[],
        ),
        ("log-format-unknown", "log:\n  format: xml\n", &[]),
        ("max-body-zero", "alert:\n  max_body_bytes: 0\n", &[]),
        (
            "retry-zero-budget",
            "alert:\n  retry:\n    max_elapsed: 0s\n",
            &[],
        ),
        (
            "slack-without-channel",
            "alert:\n  slack:\n    enable: true\n    token: xoxb-1\n",
            &[],
        ),
        (
            "slack-bad-api-url",
            "alert:\n  slack:\n    enable: true\n    token: t\n    channel_id: C\n    api_url: slack.com\n",
            &[],
        ),
        (
            "proxy-missing",
            "alert:\n  telegram:\n    enable: true\n    bot_token: x\n    chat_id: '5'\n    use_proxy: true\n",
            &[],
        ),
        (
            "proxy-socks",
            "alert:\n  telegram:\n    enable: true\n    bot_token: x\n    chat_id: '5'\n    use_proxy: true\nproxy:\n  url: socks5://127.0.0.1:1080\n",
            &[],
        ),
        (
            "proxy-password-alone",
            "alert:\n  telegram:\n    enable: true\n    bot_token: x\n    chat_id: '5'\n    use_proxy: true\nproxy:\n  url: http://127.0.0.1:3128\n  password: p\n",
            &[],
        ),
        (
            "console-no-template",
            "alert:\n  console:\n    enable: true\n    template_path: ''\n",
            &[],
        ),
        ("negative-wait", "oncall:\n  wait_minutes: -1\n", &[]),
        ("env-negative-wait", "", &[("ONCALL_WAIT_MINUTES", "-0.5")]),
        (
            "endpoint-url",
            "oncall:\n  aws_incident_manager:\n    endpoint_url: localhost:4566\n",
            &[],
        ),
        (
            "escalation-zero-attempts",
            "oncall:\n  aws_incident_manager:\n    max_attempts: 0\n",
            &[],
        ),
        (
            "escalation-zero-backoff",
            "oncall:\n  aws_incident_manager:\n    initial_backoff: 0s\n",
            &[],
        ),
        (
            "escalation-backoff-order",
            "oncall:\n  aws_incident_manager:\n    initial_backoff: 10s\n    max_backoff: 1s\n",
            &[],
        ),
        (
            "impact-out-of-range",
            "oncall:\n  aws_incident_manager:\n    impact:\n      critical: 0\n",
            &[],
        ),
        (
            "impact-not-a-number",
            "oncall:\n  aws_incident_manager:\n    impact:\n      critical: high\n",
            &[],
        ),
        (
            "provider-unknown",
            "oncall:\n  enable: true\n  provider: xmatters\n",
            &[],
        ),
        (
            "env-provider-unknown",
            "oncall:\n  initialized_only: true\n",
            &[("ONCALL_PROVIDER", "victorops")],
        ),
        (
            "ack-secret-short",
            "oncall:\n  ack_secret: s3cret-0123456789abcdef-0123\n",
            &[],
        ),
        (
            "ack-secret-placeholder",
            "",
            &[("VERSUS_ACK_SECRET", "Replace-With-A-Long-Random-String")],
        ),
        ("redis-port-zero", "redis:\n  host: r\n  port: 0\n", &[]),
        ("redis-url-scheme", "redis:\n  url: http://r:6379\n", &[]),
        ("bad-renderer-name", "plugins:\n  renderer: ../evil\n", &[]),
        ("renderer-empty", "plugins:\n  renderer: ''\n", &[]),
        (
            "defaults-zero-timeout",
            "plugins:\n  defaults:\n    timeout: 0s\n",
            &[],
        ),
        (
            "override-zero-memory",
            "plugins:\n  overrides:\n    slack:\n      memory_mb: 0\n",
            &[],
        ),
        (
            "override-zero-calls-per-instance",
            "plugins:\n  overrides:\n    slack:\n      calls_per_instance: 0\n",
            &[],
        ),
        ("channel-empty-entry", "channels:\n  - ~\n", &[]),
        (
            "channel-missing-name",
            "channels:\n  - template_path: t\n",
            &[],
        ),
        (
            "channel-bad-name",
            "channels:\n  - name: ops hook\n    template_path: t\n",
            &[],
        ),
        (
            "channel-reserved",
            "channels:\n  - name: slack\n    template_path: t\n",
            &[],
        ),
        (
            "channel-bad-plugin",
            "channels:\n  - name: a\n    plugin: ../x\n    template_path: t\n",
            &[],
        ),
        ("channel-no-template", "channels:\n  - name: a\n", &[]),
        (
            "channel-config-list",
            "channels:\n  - name: a\n    template_path: t\n    config: [1]\n",
            &[],
        ),
        (
            "channel-zero-memory",
            "channels:\n  - name: a\n    template_path: t\n    memory_mb: 0\n",
            &[],
        ),
        (
            "channel-bad-enable",
            "channels:\n  - name: a\n    enable: sometimes\n",
            &[],
        ),
    ];
    let mut actual = String::new();
    for (name, text, vars) in cases {
        let err = Config::from_yaml(text, Path::new("config.yaml"), env_of(vars))
            .map(|_| "(accepted)".to_string())
            .unwrap_or_else(|e| e.to_string());
        actual.push_str(&format!("{name}: {err}\n"));
    }
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(GOLDEN_ERRORS, &actual).expect("write golden file");
    }
    let expected = std::fs::read_to_string(GOLDEN_ERRORS).expect("read golden file");
    for (want, got) in expected.lines().zip(actual.lines()) {
        assert_eq!(got, want);
    }
    assert_eq!(actual, expected);
}
