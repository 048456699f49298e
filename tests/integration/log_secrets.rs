//! No secret reaches the log. The real binary runs with every kind of
//! secret configured (Slack token, Redis password in the URL, ACK secret,
//! AWS secret key and session token) and is driven through delivery with a
//! retry, ACKs (valid, repeated, forged), escalation with a failed attempt,
//! and a resolve; then neither stdout nor stderr may hold any secret, in
//! either log format, at `info` and at `debug`.

use std::time::Duration;

use serde_json::Value;

use crate::common::{eventually, fixture};
use crate::gateway::{Process, free_port};
use crate::oncall_rig::{PLAN, ack_url_of, get, payload, post};
use crate::slack_emulator::{Mode, SlackEmulator};
use crate::ssm_emulator::{Failure, SsmEmulator};

const SLACK_TOKEN: &str = "slack-secret-token-4b1d9e";
const REDIS_PASSWORD: &str = "redis-pass/7e3a+9f";
const ACK_SECRET: &str = "ack-secret-c0ffee-5150-0123456789ab";
const AWS_SECRET: &str = "aws-secret-key-9b8c7d6e5f";
const AWS_SESSION: &str = "aws-session-token-1a2b3c4d";
const BEARER: &str = "ingest-bearer-0d15ea5e";

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

/// Runs the whole scenario once; returns everything the process printed
/// and the ACK link's signature.
async fn scenario(json: bool, debug_body: bool, rust_log: &str) -> (String, String) {
    let redis = Redis::start();
    let slack = SlackEmulator::start(Mode::ServerErrorOnce).await;
    let ssm = SsmEmulator::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let gw_dir = dir.path().join("gw");
    std::fs::create_dir_all(&gw_dir).expect("mkdir");
    let log_section = if json { "log:\n  format: json\n" } else { "" };
    let yaml = format!(
        "host: 127.0.0.1\nport: {{port}}\npublic_host: http://127.0.0.1:{{port}}\n\
         alert:\n  debug_body: {debug_body}\n  retry:\n    initial_backoff: 50ms\n  \
         slack:\n    enable: true\n    token: {SLACK_TOKEN}\n    channel_id: C123\n    \
         template_path: {tmpl}\n    api_url: {api}\n  \
         console:\n    enable: true\n    template_path: {tmpl}\n\
         oncall:\n  enable: true\n  wait_minutes: 3\n  ack_secret: {ACK_SECRET}\n  \
         aws_incident_manager:\n    response_plan_arn: {PLAN}\n    initial_backoff: 100ms\n\
         redis:\n  url: redis://:{pw}@127.0.0.1:{port}/0\n\
         plugins:\n  watch: false\n{log_section}",
        tmpl = fixture("templates/slack_message.tmpl").display(),
        api = slack.api_url(),
        pw = url_encode(REDIS_PASSWORD),
        port = redis.1,
    );
    let mut env = ssm.env();
    env.retain(|(k, _)| *k != "AWS_SECRET_ACCESS_KEY");
    env.push(("AWS_SECRET_ACCESS_KEY", AWS_SECRET.into()));
    env.push(("AWS_SESSION_TOKEN", AWS_SESSION.into()));
    env.push((
        "REDIS_KEY_PREFIX",
        format!("versus-test-{}:", uuid::Uuid::new_v4()),
    ));
    env.push(("RUST_LOG", rust_log.into()));
    let gw = Process::start_with_args(&gw_dir, &yaml, &env, &["serve"]).await;

    // Delivery: Slack answers 500 once, so the first post is retried.
    let client = reqwest::Client::new();
    let resp = client
        .post(format!("{}/api/incidents", gw.base()))
        .header("content-type", "application/json")
        .header("authorization", format!("Bearer {BEARER}"))
        .body(payload("critical", "secrets-a"))
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .expect("POST");
    assert_eq!(resp.status(), 201, "{}", gw.log());
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
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().expect("id").to_string();
    let escalated = eventually(Duration::from_secs(30), async || {
        !ssm.calls_for(&id).is_empty()
    })
    .await;
    assert!(escalated, "not escalated:\n{}", gw.log());
    // The resolve closes the first incident and updates its messages.
    let (status, body) = post(&gw, "", payload("resolved", "secrets-a")).await;
    assert_eq!(status, 201, "{body}");
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
    tokio::time::sleep(Duration::from_millis(300)).await;
    let log = gw.log();
    drop(gw);
    (log, sig)
}

fn assert_clean(log: &str, sig: &str, what: &str) {
    // The scenario really ran: these are logged at info.
    for expected in [
        "delivery failed; retrying",
        "StartIncident failed",
        "response plan started",
    ] {
        assert!(
            log.contains(expected),
            "{what}: `{expected}` missing:\n{log}"
        );
    }
    let secrets = [
        ("Slack token", SLACK_TOKEN.to_string()),
        ("Redis password", REDIS_PASSWORD.to_string()),
        ("Redis password (URL-encoded)", url_encode(REDIS_PASSWORD)),
        ("ACK secret", ACK_SECRET.to_string()),
        ("AWS secret key", AWS_SECRET.to_string()),
        ("AWS session token", AWS_SESSION.to_string()),
        ("bearer token", BEARER.to_string()),
        ("ACK signature", sig.to_string()),
    ];
    for (name, secret) in secrets {
        assert!(
            !log.contains(&secret),
            "{what}: the {name} is in the log:\n{log}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_in_text_logs_at_info() {
    let (log, sig) = scenario(false, false, "info").await;
    assert_clean(&log, &sig, "text/info");
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
    let (log, sig) = scenario(true, true, "debug").await;
    assert_clean(&log, &sig, "json/debug");
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
