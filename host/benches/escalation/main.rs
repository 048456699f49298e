//! Escalation precision: 1,000 incidents pending in real Redis, deadlines
//! spread over 10 s, escalated through the real AWS SDK to a local
//! StartIncident endpoint. Reports lateness (deadline → request received),
//! the latency of an ACK as a bare Redis transition and as an HTTP round
//! trip through the gateway's router, and the process's CPU while the
//! scheduler idles with incidents pending an hour out.
//!
//! Needs Redis at 127.0.0.1:6379. Run: `cargo bench -p versus --bench escalation`.
//! `VERSUS_BENCH_QUICK=1` shrinks every phase for a smoke run in a debug
//! build (`cargo bench --profile dev …`); its numbers are not measurements.

#[path = "../shared/mod.rs"]
mod shared;

mod http_ack;
mod support;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use support::{Sizes, incident, pct, process_cpu_ms};
use tokio::sync::Notify;
use versus::config::AwsIncidentManagerConfig;
use versus::oncall::{AckSigner, Clock, Escalator, OnCall, RedisStore, Settings, Store, scheduler};
use versus::pipeline::{Loader, Reloader};

type Arrivals = Arc<Mutex<HashMap<String, i64>>>;

fn main() -> anyhow::Result<()> {
    support::fake_aws_env();
    shared::on_two_threads(run(Sizes::from_env()))
}

async fn start_incident(State(arrivals): State<Arrivals>, body: Bytes) -> &'static str {
    let now = Clock::System.now_ms();
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    if let (Some(token), Ok(mut a)) = (v["clientToken"].as_str(), arrivals.lock()) {
        a.entry(token.to_string()).or_insert(now);
    }
    r#"{"incidentRecordArn":"arn:aws:ssm-incidents::1:incident-record/x"}"#
}

async fn run(sizes: Sizes) -> anyhow::Result<()> {
    let Sizes {
        pending,
        spread_ms,
        acks: ack_count,
        idle,
        background,
    } = sizes;
    let arrivals: Arrivals = Arc::default();
    let app = Router::new()
        .route("/startIncident", post(start_incident))
        .with_state(arrivals.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let endpoint = format!("http://127.0.0.1:{}", listener.local_addr()?.port());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let dir = tempfile::tempdir()?;
    let config = dir.path().join("config.yaml");
    std::fs::write(&config, "plugins:\n  transforms: []\n")?;
    let reloader = Reloader::start(config, Arc::new(Loader::new(None)?)).await?;
    let prefix = format!("versus-bench-{}:", uuid::Uuid::new_v4());
    let store = Store::Redis(Box::new(
        RedisStore::connect("redis://127.0.0.1:6379/0", &prefix).await?,
    ));
    let aws = AwsIncidentManagerConfig {
        region: Some("us-east-1".into()),
        endpoint_url: Some(endpoint),
        ..Default::default()
    };
    let oncall = Arc::new(OnCall {
        store: store.clone(),
        signer: AckSigner::new(b"bench".to_vec()),
        escalator: Escalator::new(&aws).await,
        clock: Clock::System,
        settings: Settings {
            enable: true,
            wait: Duration::from_secs(10),
            response_plan_arn: support::PLAN.into(),
            public_host: String::new(),
            ..Settings::default()
        },
        reloader,
        wake: Arc::new(Notify::new()),
        stats: Default::default(),
    });

    // The background first: writing 9,000 incidents one by one can take
    // longer than the head start below on a slow moment of the machine,
    // and would then count as the scheduler's lateness.
    let far = Clock::System.now_ms() + 3_600_000;
    for i in 0..background {
        let id = format!("background-{i}");
        store.create(&incident(id, far, far + i as i64)).await?;
    }
    // Deadlines spread over the next `spread_ms`, starting 2 s from now.
    let start = Clock::System.now_ms() + 2_000;
    let mut deadlines = HashMap::new();
    for i in 0..pending {
        let id = uuid::Uuid::new_v4().to_string();
        let deadline = start + (i as i64 * spread_ms) / pending as i64;
        store.create(&incident(id.clone(), start, deadline)).await?;
        deadlines.insert(id, deadline);
    }
    anyhow::ensure!(
        Clock::System.now_ms() < start,
        "writing the pending incidents took longer than their 2 s head start"
    );
    let in_due_set = store.due_count().await?;
    let shutdown = Arc::new(Notify::new());
    let first = tokio::spawn(scheduler::run(
        oncall.clone(),
        oncall.wake.clone(),
        shutdown.clone(),
    ));

    let until = Instant::now() + Duration::from_secs(30);
    while arrivals.lock().map(|a| a.len()).unwrap_or(0) < pending && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // `notify_one` keeps a permit if the scheduler is busy claiming, so it
    // stops at its next wait instead of running on beside the next one.
    shutdown.notify_one();
    first.await?;
    let got = arrivals.lock().map(|a| a.clone()).unwrap_or_default();
    let mut late: Vec<i64> = got
        .iter()
        .filter_map(|(id, at)| Some(at - deadlines.get(id)?))
        .collect();
    late.sort_unstable();
    anyhow::ensure!(!late.is_empty(), "no escalation arrived");

    // ACK transition latency (one Lua script round trip).
    let mut acks = Vec::new();
    for i in 0..ack_count {
        let id = format!("ack-{i}");
        let far = Clock::System.now_ms() + 3_600_000;
        store.create(&incident(id.clone(), far, far)).await?;
        let t = Instant::now();
        store.ack(&id, Clock::System.now_ms(), None).await?;
        acks.push(t.elapsed().as_micros() as i64);
    }
    acks.sort_unstable();

    // ACK as a click: signed link → router → Redis → JSON answer.
    let http = http_ack::measure(&oncall, ack_count).await?;

    // Idle: `pending` incidents an hour out, a fresh scheduler, nothing due.
    let far = Clock::System.now_ms() + 3_600_000;
    for i in 0..pending {
        let id = format!("idle-{i}");
        store.create(&incident(id, far, far + i as i64)).await?;
    }
    let shutdown = Arc::new(Notify::new());
    let idle_scheduler = tokio::spawn(scheduler::run(
        oncall.clone(),
        oncall.wake.clone(),
        shutdown.clone(),
    ));
    tokio::time::sleep(Duration::from_secs(1)).await;
    let cpu0 = process_cpu_ms()?;
    tokio::time::sleep(idle).await;
    let idle_cpu = process_cpu_ms()? - cpu0;
    shutdown.notify_one();
    idle_scheduler.await?;

    println!("| measure | value |\n|---|---|");
    println!("| incidents in the due-set when the scheduler started | {in_due_set} |");
    println!("| incidents escalated | {} of {pending} |", late.len());
    println!("| lateness p50 | {} ms |", pct(&late, 50));
    println!("| lateness p99 | {} ms |", pct(&late, 99));
    println!("| lateness max | {} ms |", late[late.len() - 1]);
    println!(
        "| early (negative lateness) | {} |",
        late.iter().filter(|l| **l < 0).count()
    );
    println!("| ACK transition p50 | {} µs |", pct(&acks, 50));
    println!("| ACK transition p99 | {} µs |", pct(&acks, 99));
    println!(
        "| ACK over HTTP (signed link, keep-alive) p50 | {} µs |",
        pct(&http.rtts, 50)
    );
    println!("| ACK over HTTP p99 | {} µs |", pct(&http.rtts, 99));
    println!(
        "| ACK over HTTP: answered 200 and acked / connections | {} / {} |",
        http.rtts.len(),
        http.connections
    );
    println!(
        "| idle process CPU, {} pending an hour out | {idle_cpu} ms in {} s ({:.2} % of one core) |",
        pending + background,
        idle.as_secs(),
        idle_cpu as f64 / idle.as_millis() as f64 * 100.0
    );
    println!("BENCH escalation_due_set {in_due_set} incidents");
    println!("BENCH escalation_escalated {} incidents", late.len());
    println!("BENCH escalation_lateness_p50_ms {} ms", pct(&late, 50));
    println!("BENCH escalation_lateness_p99_ms {} ms", pct(&late, 99));
    println!(
        "BENCH escalation_lateness_max_ms {} ms",
        late[late.len() - 1]
    );
    println!("BENCH ack_http_p99_us {} us", pct(&http.rtts, 99));
    println!(
        "BENCH scheduler_idle_cpu_pct {:.3} %",
        idle_cpu as f64 / idle.as_millis() as f64 * 100.0
    );
    Ok(())
}
