//! Scale-out: ingest throughput and escalations per second with 1, 2 and 4
//! gateway replicas (release binaries, on-call on), against one
//! `redis-server` and against a 3-master Redis Cluster, both started fresh
//! for each run on 127.0.0.1. Slack and AWS SSM Incidents are the local
//! emulators of the integration tests.
//!
//! - **Ingest:** `VERSUS_BENCH_CONNECTIONS` (32) closed-loop clients, spread
//!   over the replicas, post Alertmanager groups, each its own `groupKey`,
//!   so every request creates a pending incident (one Redis script, one
//!   Slack message). A 2 s warm-up, then `VERSUS_BENCH_SECONDS` (8) measured.
//! - **Escalation:** `VERSUS_BENCH_INCIDENTS` (2000) incidents are raised
//!   with `oncall_wait_minutes` chosen so that all fall due at one instant;
//!   the figure is how fast the replicas together start their response
//!   plans (StartIncident calls reaching the emulator) from that instant.
//!   Every incident must page exactly once.
//!
//! The load generator and the emulators run in this process, on the same
//! machine as the gateways and Redis. Run:
//! `cargo bench -p versus --bench scale` (needs `redis-server` and
//! `redis-cli`, which `scripts/test` installs).

#[path = "shared/mod.rs"]
mod shared;

#[allow(dead_code, reason = "shared with the integration tests")]
#[path = "../../tests/integration/common.rs"]
mod common;
#[allow(dead_code, reason = "shared with the integration tests")]
#[path = "../../tests/integration/gateway.rs"]
mod gateway;
#[allow(dead_code, reason = "shared with the integration tests")]
#[path = "../../tests/integration/redis_servers.rs"]
mod redis_servers;
#[allow(dead_code, reason = "shared with the integration tests")]
#[path = "../../tests/integration/slack_emulator.rs"]
mod slack_emulator;
#[allow(dead_code, reason = "shared with the integration tests")]
#[path = "../../tests/integration/ssm_emulator.rs"]
mod ssm_emulator;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use serde_json::json;

use gateway::Process;
use redis_servers::{Cluster, Server, start_redis};

const WARMUP: Duration = Duration::from_secs(2);
/// The escalation run's incidents fall due this long after it starts.
const DUE_AFTER: Duration = Duration::from_secs(15);

fn main() -> anyhow::Result<()> {
    shared::on_two_threads(run())
}

/// Where the replicas keep their state.
enum Backend {
    /// A `redis-server` on the port (killed when dropped).
    Single(
        #[allow(dead_code, reason = "held for its Drop")] Server,
        u16,
    ),
    Cluster(Cluster),
}

impl Backend {
    async fn start(cluster: bool) -> Self {
        if cluster {
            Self::Cluster(Cluster::start(3, 0).await)
        } else {
            let port = gateway::free_port();
            Self::Single(Server(start_redis(port)), port)
        }
    }

    fn name(&self) -> &'static str {
        match self {
            Self::Single(..) => "one Redis",
            Self::Cluster(_) => "Cluster, 3 masters",
        }
    }

    /// The `redis:` section's indented lines.
    fn yaml(&self) -> String {
        match self {
            Self::Single(_, port) => format!("  host: 127.0.0.1\n  port: {port}\n"),
            Self::Cluster(c) => {
                let m = c.master_ports();
                format!(
                    "  host: 127.0.0.1\n  port: {}\n  cluster: true\n  nodes: [\"127.0.0.1:{}\", \"127.0.0.1:{}\"]\n",
                    m[0], m[1], m[2]
                )
            }
        }
    }
}

struct Figures {
    backend: &'static str,
    replicas: usize,
    ingest_per_s: f64,
    ingest_p50: Duration,
    ingest_p99: Duration,
    ingest_errors: u64,
    escalated: usize,
    duplicates: usize,
    drain: Duration,
    late_p50: Duration,
    late_p99: Duration,
}

async fn run() -> anyhow::Result<()> {
    let connections = shared::env_or("VERSUS_BENCH_CONNECTIONS", 32) as usize;
    let seconds = shared::env_or("VERSUS_BENCH_SECONDS", 8);
    let incidents = shared::env_or("VERSUS_BENCH_INCIDENTS", 2000) as usize;
    let mut all = Vec::new();
    for cluster in [false, true] {
        for replicas in [1, 2, 4] {
            let f = one_run(cluster, replicas, connections, seconds, incidents).await?;
            eprintln!(
                "{} × {}: {:.0} alerts/s, {} of {incidents} escalated in {:?}",
                f.backend, f.replicas, f.ingest_per_s, f.escalated, f.drain
            );
            all.push(f);
        }
    }
    println!(
        "\n{connections} connections, {seconds} s measured; {incidents} incidents due at one instant\n"
    );
    println!(
        "| Redis | replicas | ingest alerts/s | ingest p50 | ingest p99 | failed posts | escalated | paged twice | drained in | escalations/s | lateness p50 | lateness p99 |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for f in &all {
        println!(
            "| {} | {} | {:.0} | {:.1} ms | {:.1} ms | {} | {} | {} | {:.2} s | {:.0} | {} ms | {} ms |",
            f.backend,
            f.replicas,
            f.ingest_per_s,
            ms(f.ingest_p50),
            ms(f.ingest_p99),
            f.ingest_errors,
            f.escalated,
            f.duplicates,
            f.drain.as_secs_f64(),
            f.escalated as f64 / f.drain.as_secs_f64().max(1e-3),
            f.late_p50.as_millis(),
            f.late_p99.as_millis(),
        );
    }
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

async fn one_run(
    cluster: bool,
    replicas: usize,
    connections: usize,
    seconds: u64,
    incidents: usize,
) -> anyhow::Result<Figures> {
    let backend = Backend::start(cluster).await;
    let slack = slack_emulator::SlackEmulator::start(slack_emulator::Mode::Ok).await;
    let ssm = ssm_emulator::SsmEmulator::start().await;
    let dir = tempfile::tempdir()?;
    let yaml = format!(
        "host: 127.0.0.1\nport: {{port}}\npublic_host: http://127.0.0.1:{{port}}\n\
         alert:\n  slack:\n    enable: true\n    token: xoxb-test\n    channel_id: C123\n    \
         template_path: {}\n    api_url: {}\n\
         oncall:\n  enable: true\n  wait_minutes: 60\n  \
         ack_secret: 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\n  \
         aws_incident_manager:\n    response_plan_arn: arn:aws:ssm-incidents::111122223333:response-plan/scale\n\
         redis:\n{}plugins:\n  watch: false\n",
        common::fixture("templates/slack_message.tmpl").display(),
        slack.api_url(),
        backend.yaml(),
    );
    let mut gws = Vec::new();
    for i in 0..replicas {
        let gw_dir = dir.path().join(format!("gw{i}"));
        std::fs::create_dir_all(&gw_dir)?;
        gws.push(Process::start(&gw_dir, &yaml, &ssm.env()).await);
    }
    let bases: Arc<Vec<String>> = Arc::new(gws.iter().map(Process::base).collect());
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(connections)
        .build()?;

    // Ingest.
    let next = Arc::new(AtomicU64::new(0));
    let run_for = WARMUP + Duration::from_secs(seconds);
    let start = Instant::now();
    let workers = (0..connections).map(|w| {
        let (client, bases, next) = (client.clone(), bases.clone(), next.clone());
        tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut errors = 0u64;
            let url = format!("{}/api/incidents", bases[w % bases.len()]);
            while start.elapsed() < run_for {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let sent = Instant::now();
                let ok = post(&client, &url, &format!("ingest{i}")).await;
                if sent.duration_since(start) >= WARMUP {
                    lat.push(sent.elapsed());
                    errors += u64::from(!ok);
                }
            }
            (lat, errors)
        })
    });
    let mut lat = Vec::new();
    let mut ingest_errors = 0;
    for w in futures::future::join_all(workers).await {
        let (l, e) = w?;
        lat.extend(l);
        ingest_errors += e;
    }
    lat.sort();
    let ingest_per_s = (lat.len() as u64 - ingest_errors) as f64 / seconds as f64;

    // Escalation: every incident due at `due`.
    let at = Instant::now() + DUE_AFTER;
    let at_wall = SystemTime::now() + DUE_AFTER;
    let next = Arc::new(AtomicU64::new(0));
    let raisers = (0..connections).map(|w| {
        let (client, bases, next) = (client.clone(), bases.clone(), next.clone());
        tokio::spawn(async move {
            let base = &bases[w % bases.len()];
            let mut ok = 0;
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed) as usize;
                if i >= incidents {
                    return ok;
                }
                let left = at_wall
                    .duration_since(SystemTime::now())
                    .unwrap_or_default();
                let url = format!(
                    "{base}/api/incidents?oncall_wait_minutes={}",
                    left.as_secs_f64() / 60.0
                );
                ok += usize::from(post(&client, &url, &format!("due{i}")).await);
            }
        })
    });
    let mut raised = 0;
    for r in futures::future::join_all(raisers).await {
        raised += r?;
    }
    anyhow::ensure!(
        Instant::now() + Duration::from_secs(1) < at,
        "raising {incidents} incidents took longer than {DUE_AFTER:?}: lower VERSUS_BENCH_INCIDENTS"
    );
    anyhow::ensure!(raised == incidents, "only {raised} of {incidents} raised");
    // All paged, then 3 s more in which a second page would show.
    while ssm.calls().len() < incidents && at.elapsed() < Duration::from_secs(120) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let calls = ssm.calls();
    let mut per_incident: HashMap<String, usize> = HashMap::new();
    let mut late: Vec<Duration> = Vec::new();
    for call in &calls {
        let id = call.body["clientToken"].as_str().unwrap_or_default();
        *per_incident.entry(id.to_string()).or_default() += 1;
        late.push(call.at.saturating_duration_since(at));
    }
    late.sort();
    let early = calls.iter().filter(|c| c.at < at).count();
    anyhow::ensure!(early == 0, "{early} incidents paged before they were due");
    Ok(Figures {
        backend: backend.name(),
        replicas,
        ingest_per_s,
        ingest_p50: pct(&lat, 0.50),
        ingest_p99: pct(&lat, 0.99),
        ingest_errors,
        escalated: per_incident.len(),
        duplicates: per_incident.values().filter(|&&n| n > 1).count(),
        drain: late.last().copied().unwrap_or_default(),
        late_p50: pct(&late, 0.50),
        late_p99: pct(&late, 0.99),
    })
}

/// Posts a one-alert Alertmanager group of its own; true on 201.
async fn post(client: &reqwest::Client, url: &str, name: &str) -> bool {
    let body = json!({
        "version": "4", "receiver": "versus", "status": "firing",
        "groupKey": format!("{{}}:{{alertname=\"{name}\"}}"),
        "commonLabels": {"alertname": name, "severity": "critical", "instance": "db-1"},
        "alerts": [{"status": "firing", "labels": {"alertname": name}, "annotations": {}}],
    });
    client
        .post(url)
        .header("content-type", "application/json")
        .body(body.to_string())
        .send()
        .await
        .is_ok_and(|r| r.status() == 201)
}

/// The `q` quantile of sorted `v`.
fn pct(v: &[Duration], q: f64) -> Duration {
    if v.is_empty() {
        return Duration::ZERO;
    }
    v[((v.len() - 1) as f64 * q).round() as usize]
}
