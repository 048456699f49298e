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

mod setup;

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use self::setup::{
    AWS_SECRET, AWS_SESSION, INGEST_TOKEN, LARK_RELOADED, MARKERS, REDIS_PASSWORD, Redis,
    SMTP_PASSWORD, config, echo_body, url_encode,
};
use crate::chat_emulator::{ChatEmulator, Mode as ChatMode};
use crate::common::eventually;
use crate::gateway::Process;
use crate::oncall_rig::{ack, ack_url_of, get, payload, post_as};
use crate::slack_emulator::{Mode, SlackEmulator};
use crate::ssm_emulator::{Failure, SsmEmulator};

/// POSTs an alert with the ingest token: the status and the JSON answer.
async fn post(gw: &Process, query: &str, body: Vec<u8>) -> (u16, Value) {
    post_as(gw, Some(INGEST_TOKEN), query, body).await
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

    // ACKs: the page, forged, valid, repeated.
    // The first hex digit changed, so the forgery never equals the original.
    let first = if sig.starts_with('0') { '1' } else { '0' };
    let forged = format!(
        "{}&sig={first}{}",
        link.split("&sig=").next().expect("base"),
        &sig[1..]
    );
    assert_eq!(get(&forged, "text/html").await.0, 401);
    assert_eq!(get(&link, "text/html").await.0, 200);
    assert_eq!(ack(&forged, "application/json").await.0, 401);
    assert_eq!(ack(&link, "application/json").await.0, 200);
    assert_eq!(ack(&link, "text/html").await.0, 409);

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
        "starting the page failed; will retry",
        "page started",
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
