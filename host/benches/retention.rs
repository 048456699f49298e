//! State under a long stream of on-call incidents: 10,000 Alertmanager
//! groups through the release binary with real Redis, each with its own
//! `groupKey`, a third acknowledged, a third resolved before the deadline
//! and a third escalated (StartIncident to a local endpoint). Retention is
//! shortened so the plateau shows within minutes. Every 5 s: the gateway's
//! keys in Redis, Redis's `used_memory` and the gateway's RSS; the run ends
//! with two retention periods of quiet, where both must fall back.
//!
//! Needs Redis at 127.0.0.1:6379. Run: `cargo bench -p versus --bench retention`.
//! `VERSUS_BENCH_INCIDENTS` (10000) and `VERSUS_BENCH_RATE` (per second,
//! 100) change the size.

#[path = "shared/mod.rs"]
mod shared;

#[allow(dead_code, reason = "shared with the integration tests")]
#[path = "../../tests/integration/gateway.rs"]
mod gateway;
#[allow(dead_code, reason = "shared with the integration tests")]
#[path = "../../tests/integration/slack_emulator.rs"]
mod slack_emulator;
#[allow(dead_code, reason = "shared with the integration tests")]
#[path = "../../tests/integration/ssm_emulator.rs"]
mod ssm_emulator;

use std::time::{Duration, Instant};

use serde_json::json;
use versus::oncall::AckSigner;

/// Kept this long once finished: short, so the plateau shows in minutes.
const RETENTION: &str = "20s";
/// An ACK holds its group this long.
const ACK_EXPIRY: &str = "10s";
/// Wait before paging (0.05 min = 3 s).
const WAIT_MINUTES: f64 = 0.05;
const SECRET: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
const SAMPLE_EVERY: Duration = Duration::from_secs(5);
/// Quiet time after the last alert: two retention periods and the ACK hold.
const TAIL: Duration = Duration::from_secs(55);

fn main() -> anyhow::Result<()> {
    shared::on_two_threads(run())
}

fn group(i: u64, status: &str) -> Vec<u8> {
    json!({
        "version": "4", "receiver": "versus", "status": status, "groupKey": format!("{{}}:{{alertname=\"Soak{i}\"}}"),
        "commonLabels": {"alertname": format!("Soak{i}"), "severity": "critical", "instance": "db-1"},
        "alerts": [{"status": status, "labels": {"alertname": format!("Soak{i}")}, "annotations": {}}],
    })
    .to_string()
    .into_bytes()
}

struct Sample {
    at: Duration,
    sent: u64,
    keys: usize,
    used_memory: u64,
    rss_kib: u64,
}

async fn run() -> anyhow::Result<()> {
    let incidents = shared::env_or("VERSUS_BENCH_INCIDENTS", 10_000);
    let rate = shared::env_or("VERSUS_BENCH_RATE", 100).max(1);
    let slack = slack_emulator::SlackEmulator::start(slack_emulator::Mode::Ok).await;
    let ssm = ssm_emulator::SsmEmulator::start().await;
    let dir = tempfile::tempdir()?;
    let gw_dir = dir.path().join("gw");
    std::fs::create_dir_all(&gw_dir)?;
    let prefix = format!("versus-soak-{}:", uuid::Uuid::new_v4());
    let yaml = format!(
        "host: 127.0.0.1\nport: {{port}}\npublic_host: http://127.0.0.1:{{port}}\n\
         alert:\n  slack:\n    enable: true\n    token: xoxb-test\n    channel_id: C123\n    \
         template_path: {}\n    api_url: {}\n\
         oncall:\n  enable: true\n  wait_minutes: {WAIT_MINUTES}\n  ack_expiry: {ACK_EXPIRY}\n  \
         retention: {RETENTION}\n  ack_secret: {SECRET}\n  \
         aws_incident_manager:\n    response_plan_arn: arn:aws:ssm-incidents::111122223333:response-plan/soak\n\
         redis:\n  host: 127.0.0.1\n  port: 6379\n  key_prefix: '{prefix}'\nplugins:\n  watch: false\n",
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../tests/fixtures/templates/slack_message.tmpl")
            .display(),
        slack.api_url()
    );
    let env = ssm.env();
    let gw = gateway::Process::start(&gw_dir, &yaml, &env).await;
    let redis = redis::Client::open("redis://127.0.0.1:6379/")?;
    let mut con = redis.get_multiplexed_async_connection().await?;
    let signer = AckSigner::new(SECRET.as_bytes().to_vec());
    let client = reqwest::Client::new();

    let start = Instant::now();
    let mut samples = Vec::new();
    let mut next_sample = start;
    let mut sent = 0;
    let (mut failed, mut acked) = (0u64, 0u64);
    let end_of_stream = loop {
        if Instant::now() >= next_sample {
            samples.push(sample(&mut con, &prefix, gw.pid(), start, sent).await?);
            next_sample += SAMPLE_EVERY;
        }
        if sent == incidents {
            break Instant::now();
        }
        let i = sent;
        sent += 1;
        let post = |body: Vec<u8>| {
            client
                .post(format!("{}/api/incidents", gw.base()))
                .header("content-type", "application/json")
                .body(body)
                .send()
        };
        let answer = post(group(i, "firing")).await?;
        if answer.status() != 201 {
            failed += 1;
        }
        let id = id_of(answer).await;
        match i % 3 {
            0 => {
                let exp = (std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)?
                    .as_secs()
                    + 3600) as i64;
                let link = signer.url(&gw.base(), &id, exp);
                let ack = client
                    .post(link)
                    .header("accept", "application/json")
                    .send()
                    .await?;
                acked += u64::from(ack.status() == 200);
            }
            1 => {
                let answer = post(group(i, "resolved")).await?;
                failed += u64::from(answer.status() != 201);
            }
            _ => {}
        }
        let due = start + Duration::from_secs_f64(sent as f64 / rate as f64);
        tokio::time::sleep_until(due.into()).await;
    };
    while end_of_stream.elapsed() < TAIL {
        tokio::time::sleep_until(next_sample.into()).await;
        samples.push(sample(&mut con, &prefix, gw.pid(), start, sent).await?);
        next_sample += SAMPLE_EVERY;
    }

    println!(
        "{incidents} incidents at {rate}/s: {acked} acknowledged, {} escalated, {failed} failed posts; \
         retention {RETENTION}, ack_expiry {ACK_EXPIRY}\n",
        ssm.calls().len()
    );
    println!(
        "| t (s) | incidents sent | keys in Redis | Redis used_memory (MiB) | gateway RSS (MiB) |"
    );
    println!("|---|---|---|---|---|");
    for s in &samples {
        println!(
            "| {} | {} | {} | {:.1} | {:.1} |",
            s.at.as_secs(),
            s.sent,
            s.keys,
            s.used_memory as f64 / 1048576.0,
            s.rss_kib as f64 / 1024.0
        );
    }
    let _: () = redis::cmd("EVAL")
        .arg("for _, k in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', k) end")
        .arg(0)
        .arg(format!("{prefix}*"))
        .query_async(&mut con)
        .await?;
    Ok(())
}

async fn sample(
    con: &mut redis::aio::MultiplexedConnection,
    prefix: &str,
    pid: u32,
    start: Instant,
    sent: u64,
) -> anyhow::Result<Sample> {
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(con)
        .await?;
    let info: String = redis::cmd("INFO").arg("memory").query_async(con).await?;
    let used_memory = info
        .lines()
        .find_map(|l| l.strip_prefix("used_memory:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let rss_kib = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0);
    Ok(Sample {
        at: start.elapsed(),
        sent,
        keys: keys.len(),
        used_memory,
        rss_kib,
    })
}

/// The incident id from a POST answer ("" when there is none).
async fn id_of(answer: reqwest::Response) -> String {
    let bytes = answer.bytes().await.unwrap_or_default();
    serde_json::from_slice::<serde_json::Value>(&bytes)
        .ok()
        .and_then(|v| v["id"].as_str().map(str::to_string))
        .unwrap_or_default()
}
