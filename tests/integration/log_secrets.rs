//! No secret reaches the log. The real binary runs with a distinct marker
//! in every secret-bearing key of the config (the keys the config schema
//! marks secret: the Slack, Telegram and Viber tokens, the SMTP password,
//! the Teams and Lark webhook URLs and their named alternatives, the ACK
//! secret, the Redis password and URL, ingest tokens and HMAC secrets),
//! secrets in a custom channel's settings and headers, and the AWS secret
//! key and session token. It is driven through startup, delivery with
//! retries and failures (every chat API answers 500 with a body that
//! echoes every marker back; SMTP is unreachable), ACKs (valid, repeated,
//! forged), escalation with a failed attempt, a resolve, and a reload that
//! adds a secret; `versus check` runs on the same config. Then no marker
//! may appear in stdout or stderr, in either log format, at `info` and at
//! `debug`.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::chat_emulator::{ChatEmulator, Mode as ChatMode};
use crate::common::{eventually, fixture};
use crate::gateway::{Process, free_port};
use crate::oncall_rig::{PLAN, ack_url_of, get, payload};
use crate::slack_emulator::{Mode, SlackEmulator};
use crate::ssm_emulator::{Failure, SsmEmulator};

const SLACK_TOKEN: &str = "slack-secret-token-4b1d9e";
const TELEGRAM_TOKEN: &str = "tg-bot-token-marker-7c21";
const VIBER_TOKEN: &str = "viber-token-marker-9d3e";
/// With a quote and a backslash: both log formats escape them.
const SMTP_PASSWORD: &str = r#"smtp-pa"ss\word-marker-2f6a"#;
const TEAMS_PATH: &str = "teams-url-marker-5e1f";
const TEAMS_SIG: &str = "teams-sig-marker-77aa";
const TEAMS_OTHER: &str = "teams-other-marker-31c0";
const LARK_HOOK: &str = "lark-hook-marker-0b9d";
const LARK_OTHER: &str = "lark-other-marker-6a4e";
/// Only in the config the reload brings.
const LARK_RELOADED: &str = "lark-reload-marker-c3d2";
const ACK_SECRET: &str = "ack-secret-c0ffee-5150-0123456789ab";
const REDIS_PASSWORD: &str = "redis-pass/7e3a+9f";
/// `redis.password`, unused (`redis.url` wins) but still a secret.
const REDIS_FIELD_PASSWORD: &str = "redis-field-pw-marker-1d8c";
const INGEST_TOKEN: &str = "ingest-token-marker-0d15ea5e";
const INGEST_HMAC: &str = "ingest-hmac-marker-5eed1e55";
const HOOK_BEARER: &str = "hook-bearer-marker-a1b2";
const HOOK_HEADER: &str = "hdr-marker-91ab";
const AWS_SECRET: &str = "aws-secret-key-9b8c7d6e5f";
const AWS_SESSION: &str = "aws-session-token-1a2b3c4d";

/// Every marker, by what it stands for.
const MARKERS: &[(&str, &str)] = &[
    ("Slack token", SLACK_TOKEN),
    ("Telegram bot token", TELEGRAM_TOKEN),
    ("Viber bot token", VIBER_TOKEN),
    ("SMTP password", SMTP_PASSWORD),
    ("Teams URL", TEAMS_PATH),
    ("Teams URL signature", TEAMS_SIG),
    ("Teams other URL", TEAMS_OTHER),
    ("Lark webhook URL", LARK_HOOK),
    ("Lark other webhook URL", LARK_OTHER),
    ("Lark webhook URL added by the reload", LARK_RELOADED),
    ("ACK secret", ACK_SECRET),
    ("Redis password in the URL", REDIS_PASSWORD),
    ("redis.password", REDIS_FIELD_PASSWORD),
    ("ingest token", INGEST_TOKEN),
    ("ingest HMAC secret", INGEST_HMAC),
    ("custom channel Authorization header", HOOK_BEARER),
    ("custom channel header", HOOK_HEADER),
    ("AWS secret key", AWS_SECRET),
    ("AWS session token", AWS_SESSION),
];

/// A `redis-server` that requires `REDIS_PASSWORD`, killed on drop.
struct Redis(std::process::Child, u16);

impl Redis {
    fn start() -> Self {
        let port = free_port();
        let child = std::process::Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .args(["--requirepass", REDIS_PASSWORD])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server must be installed (scripts/test installs it)");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Self(child, port)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// An error body naming every marker, as a chat API that echoes the
/// credentials it was sent might; each plugin reports its own field. The
/// marker the reload brings is left out unless `reloaded`: before the
/// reload the gateway cannot know it.
fn echo_body(reloaded: bool) -> &'static str {
    let all: Vec<&str> = MARKERS
        .iter()
        .map(|(_, m)| *m)
        .filter(|m| reloaded || *m != LARK_RELOADED)
        .collect();
    let text = all.join(" ");
    let body = serde_json::json!({
        "ok": false, "description": text, "code": 1, "msg": text,
        "status": 1, "status_message": text, "error": text,
    });
    Box::leak(body.to_string().into_boxed_str())
}

/// The config with every secret-bearing key set. `reloaded` adds a Lark
/// webhook on that emulator, as the reload does.
fn config(
    json: bool,
    debug_body: bool,
    slack: &SlackEmulator,
    chat: &ChatEmulator,
    redis_port: u16,
    reloaded: Option<&ChatEmulator>,
) -> String {
    let tmpl = fixture("templates/slack_message.tmpl");
    let tmpl = tmpl.display();
    let emu = chat.base();
    let log_section = if json { "log:\n  format: json\n" } else { "" };
    let reload_hook = reloaded.map_or_else(String::new, |later| {
        format!("\n      reload: {}/hook/{LARK_RELOADED}", later.base())
    });
    format!(
        "host: 127.0.0.1
port: {{port}}
public_host: http://127.0.0.1:{{port}}
alert:
  debug_body: {debug_body}
  retry:
    initial_backoff: 50ms
    max_elapsed: 1s
  slack:
    enable: true
    token: {SLACK_TOKEN}
    channel_id: C123
    template_path: {tmpl}
    api_url: {slack_api}
  console:
    enable: true
    template_path: {tmpl}
  telegram:
    enable: true
    bot_token: {TELEGRAM_TOKEN}
    chat_id: '-100'
    template_path: {tmpl}
    api_url: {emu}/
  viber:
    enable: true
    bot_token: {VIBER_TOKEN}
    user_id: u1
    template_path: {tmpl}
    api_url: {emu}/pa/
  email:
    enable: true
    smtp_host: 127.0.0.1
    smtp_port: {smtp_port}
    username: versus@example.com
    password: '{SMTP_PASSWORD}'
    to: ops@example.com
    tls: none
    template_path: {tmpl}
  msteams:
    enable: true
    power_automate_url: {emu}/workflows/{TEAMS_PATH}/invoke?api-version=1&sig={TEAMS_SIG}
    template_path: {tmpl}
    other_power_urls:
      qc: {emu}/qc/{TEAMS_OTHER}
  lark:
    enable: true
    webhook_url: {emu}/open-apis/bot/v2/hook/{LARK_HOOK}
    template_path: {tmpl}
    other_webhook_urls:
      dev: {emu}/hook/{LARK_OTHER}{reload_hook}
channels:
  - name: hook
    plugin: webhook
    template_path: {tmpl}
    allowed_hosts: [{emu}]
    config:
      url: {emu}/hook
      headers:
        Authorization: Bearer {HOOK_BEARER}
        X-Team-Route: {HOOK_HEADER}
oncall:
  enable: true
  wait_minutes: 3
  ack_secret: {ACK_SECRET}
  aws_incident_manager:
    response_plan_arn: {PLAN}
    initial_backoff: 100ms
redis:
  url: redis://:{pw}@127.0.0.1:{redis_port}/0
  password: {REDIS_FIELD_PASSWORD}
ingest:
  sources:
    - name: alertmanager
      token: {INGEST_TOKEN}
      allowed_overrides: [oncall_wait_minutes, lark_other_webhook_url]
    - name: relay
      hmac_secret: {INGEST_HMAC}
plugins:
  watch: false
{log_section}",
        slack_api = slack.api_url(),
        smtp_port = free_port(),
        pw = url_encode(REDIS_PASSWORD),
    )
}

/// POSTs an alert with the ingest token: the status and the JSON answer.
async fn post(gw: &Process, query: &str, body: Vec<u8>) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .post(format!("{}/api/incidents?{query}", gw.base()))
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {INGEST_TOKEN}"))
        .body(body)
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST failed: {e}\n{}", gw.log()));
    let status = resp.status().as_u16();
    let bytes = resp.bytes().await.unwrap_or_default();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// Slack delivered; every other chat channel failed against the echoing
/// emulator (502).
fn assert_slack_only(status: u16, body: &Value) {
    assert_eq!(status, 502, "{body}");
    let channels = body["channels"].as_array().expect("channels");
    let slack = channels.iter().find(|c| c["channel"] == "slack");
    assert_eq!(
        slack.map(|c| &c["status"]),
        Some(&"delivered".into()),
        "{body}"
    );
}

/// `versus check` on `config` with `env`: everything it printed.
fn check(config: &Path, env: &[(&str, String)], cache: &Path) -> String {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_versus"))
        .args(["check", "--config"])
        .arg(config)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("VERSUS_CACHE_DIR", cache)
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .output()
        .expect("run versus check");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("is valid"), "{stdout}");
    format!("{stdout}{stderr}")
}

/// What one run printed.
struct Run {
    /// Everything the gateway printed.
    log: String,
    /// Everything `versus check` printed.
    check: String,
    /// The ACK link's signature.
    sig: String,
}

/// Runs the whole scenario once.
async fn scenario(json: bool, debug_body: bool, rust_log: &str) -> Run {
    let redis = Redis::start();
    let slack = SlackEmulator::start(Mode::ServerErrorOnce).await;
    let chat = ChatEmulator::start(ChatMode::Always(500, echo_body(false))).await;
    let later = ChatEmulator::start(ChatMode::Always(500, echo_body(true))).await;
    let ssm = SsmEmulator::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let gw_dir = dir.path().join("gw");
    std::fs::create_dir_all(&gw_dir).expect("mkdir");
    let mut env = ssm.env();
    env.retain(|(k, _)| *k != "AWS_SECRET_ACCESS_KEY");
    env.push(("AWS_SECRET_ACCESS_KEY", AWS_SECRET.into()));
    env.push(("AWS_SESSION_TOKEN", AWS_SESSION.into()));
    env.push((
        "REDIS_KEY_PREFIX",
        format!("versus-test-{}:", uuid::Uuid::new_v4()),
    ));
    env.push(("RUST_LOG", rust_log.into()));
    let yaml = config(json, debug_body, &slack, &chat, redis.1, None);
    let gw = Process::start_with_args(&gw_dir, &yaml, &env, &["serve"]).await;

    // Delivery: Slack answers 500 once, so the first post is retried; the
    // other chat channels fail with the echoing body, email cannot connect.
    let (status, body) = post(&gw, "", payload("critical", "secrets-a")).await;
    assert_slack_only(status, &body);
    let link = ack_url_of(&slack, 0).expect("ACK button");
    let sig = link.split("sig=").nth(1).expect("sig").to_string();

    // ACKs: forged, valid, repeated.
    // The first hex digit changed, so the forgery never equals the original.
    let first = if sig.starts_with('0') { '1' } else { '0' };
    let forged = format!(
        "{}&sig={first}{}",
        link.split("&sig=").next().expect("base"),
        &sig[1..]
    );
    assert_eq!(get(&forged, "application/json").await.0, 401);
    assert_eq!(get(&link, "application/json").await.0, 200);
    assert_eq!(get(&link, "text/html").await.0, 409);

    // Escalation: the first StartIncident call fails, the retry pages.
    ssm.fail_next(1, Failure::ServerError);
    let (status, body) = post(
        &gw,
        "oncall_wait_minutes=0",
        payload("critical", "secrets-b"),
    )
    .await;
    assert_slack_only(status, &body);
    let id = body["id"].as_str().expect("id").to_string();
    let escalated = eventually(Duration::from_secs(30), async || {
        !ssm.calls_for(&id).is_empty()
    })
    .await;
    assert!(escalated, "not escalated:\n{}", gw.log());
    // The resolve closes the first incident and updates its messages.
    let (status, body) = post(&gw, "", payload("resolved", "secrets-a")).await;
    assert_slack_only(status, &body);
    // Let the asynchronous chat.update calls and their logs happen.
    let updated = eventually(Duration::from_secs(10), async || {
        slack
            .requests()
            .iter()
            .filter(|r| r.path.ends_with("chat.update"))
            .count()
            >= 3
    })
    .await;
    assert!(updated, "chat.update calls missing:\n{}", gw.log());

    // Reload with one more secret, then use it.
    let reloaded = config(json, debug_body, &slack, &chat, redis.1, Some(&later));
    let config_path = gw_dir.join("config.yaml");
    std::fs::write(
        &config_path,
        reloaded.replace("{port}", &gw.port.to_string()),
    )
    .expect("rewrite config");
    gw.hangup();
    let done = eventually(Duration::from_secs(30), async || {
        gw.log().contains("reloaded:")
    })
    .await;
    assert!(done, "no reload:\n{}", gw.log());
    let (status, body) = post(
        &gw,
        "lark_other_webhook_url=reload",
        payload("critical", "secrets-c"),
    )
    .await;
    assert_slack_only(status, &body);
    let reached = later
        .requests()
        .iter()
        .any(|r| r.path.contains(LARK_RELOADED));
    assert!(reached, "the reloaded webhook was not called");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let log = gw.log();
    drop(gw);

    // `versus check` on the same config and environment.
    let check = check(&config_path, &env, &dir.path().join("cache"));
    Run { log, check, sig }
}

fn assert_clean(run: &Run, what: &str) {
    let log = &run.log;
    // The scenario really ran: these are logged at info.
    for expected in [
        "delivery failed; retrying",
        "StartIncident failed",
        "response plan started",
        "reloaded:",
        "telegram http 500",
        "lark http 500",
        "[redacted]",
    ] {
        assert!(
            log.contains(expected),
            "{what}: `{expected}` missing:\n{log}"
        );
    }
    let escaped = format!("{SMTP_PASSWORD:?}");
    let dynamic = [
        (
            "Redis password (URL-encoded)".to_string(),
            url_encode(REDIS_PASSWORD),
        ),
        (
            "SMTP password (escaped)".into(),
            escaped[1..escaped.len() - 1].to_string(),
        ),
        ("ACK signature".into(), run.sig.clone()),
    ];
    let all = MARKERS
        .iter()
        .map(|(n, m)| ((*n).to_string(), (*m).to_string()))
        .chain(dynamic);
    for (name, secret) in all {
        assert!(
            !log.contains(&secret),
            "{what}: the {name} is in the log:\n{log}"
        );
        assert!(
            !run.check.contains(&secret),
            "{what}: the {name} is in `versus check`'s output:\n{}",
            run.check
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_in_text_logs_at_info() {
    let run = scenario(false, false, "info").await;
    assert_clean(&run, "text/info");
    let log = &run.log;
    // Text: human-readable lines, not JSON, with the span fields inline.
    assert!(!log.lines().any(|l| l.starts_with('{')), "{log}");
    assert!(
        log.lines()
            .any(|l| l.contains("incident{incident_id=") && l.contains("channel{channel=slack}")),
        "{log}"
    );
    // The console channel prints the ACK link, signature masked.
    assert!(log.contains("sig=[redacted]"), "{log}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_in_json_logs_at_debug_with_debug_body() {
    let run = scenario(true, true, "debug").await;
    assert_clean(&run, "json/debug");
    let log = &run.log;
    let mut delivered = 0;
    for line in log.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not a JSON line ({e}): {line}"));
        if v["fields"]["message"] == "delivered" && v["span"]["channel"] == "slack" {
            let spans = v["spans"].as_array().expect("spans");
            assert!(spans.iter().any(|s| s["incident_id"].is_string()), "{line}");
            delivered += 1;
        }
        if v["fields"]["message"] == "plugin call failed" {
            assert!(v["fields"]["plugin"].is_string(), "{line}");
        }
    }
    assert!(delivered >= 2, "no delivered line with its spans:\n{log}");
    // debug_body logged the raw body (the user asked for it).
    assert!(log.contains("incoming alert body"), "{log}");
}
