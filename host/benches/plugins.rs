//! Per-call cost of the transform and the Slack channel: the built-in
//! `alertmanager` and `slack` components called the way the pipeline calls
//! them (a reused instance, the default `calls_per_instance`), against the
//! same crates called natively. Neither guest keeps anything between calls,
//! so both sides do the same work on every call.
//!
//! - transform: the critical Alertmanager payload; native is
//!   `alertmanager::inspect` plus setting the event's fields, the guest's
//!   whole job.
//! - Slack: `deliver` to a local `chat.postMessage` endpoint; native is the
//!   same crate's config parsing, request building and response reading
//!   around one request on a pooled reqwest client, which is what the
//!   host's HTTP import does for the guest.
//!
//! Run with `cargo bench -p versus --bench plugins`; prints a Markdown
//! table, and `BENCH key value unit` lines for `bench/suite.sh`.

#[path = "shared/mod.rs"]
mod shared;

use std::path::Path;
use std::time::{Duration, Instant};

use axum::Router;
use axum::routing::post;
use versus::pipeline::bindings::types::{Event, TransformOutcome};
use versus::pipeline::{Loader, Reloader};

const TRANSFORM_ITERS: usize = 5_000;
const DELIVER_ITERS: usize = 2_000;

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn p99(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() * 99 / 100]
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

async fn chat_post() -> &'static str {
    r#"{"ok":true,"channel":"C1","ts":"1700000000.000100"}"#
}

fn main() -> anyhow::Result<()> {
    shared::on_two_threads(run())
}

async fn run() -> anyhow::Result<()> {
    let payload =
        std::fs::read_to_string(repo().join("tests/fixtures/alertmanager/critical.json"))?;
    let template = repo().join("tests/fixtures/templates/slack_message.tmpl");

    let app = Router::new().route("/api/chat.postMessage", post(chat_post));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let api = format!("http://127.0.0.1:{}/api/", listener.local_addr()?.port());
    tokio::spawn(async move { axum::serve(listener, app).await });

    let dir = tempfile::tempdir()?;
    let config = dir.path().join("config.yaml");
    std::fs::write(
        &config,
        format!(
            "alert:\n  slack:\n    enable: true\n    token: xoxb-bench\n    channel_id: C1\n    \
             template_path: {}\n    api_url: {api}\nplugins:\n  transforms: [alertmanager]\n",
            template.display()
        ),
    )?;
    let reloader = Reloader::start(config, std::sync::Arc::new(Loader::new(None)?)).await?;
    let pipeline = reloader.pipeline();
    let event = Event {
        id: "bench-1".into(),
        payload: payload.clone(),
        resolved: false,
        severity: None,
        ack_url: None,
        dedup_key: None,
    };
    let mut rows: Vec<(String, String)> = Vec::new();
    let mut lines: Vec<String> = Vec::new();

    // Transform.
    let transform = pipeline
        .transforms
        .first()
        .ok_or_else(|| anyhow::anyhow!("no transform configured"))?;
    let mut native = Vec::with_capacity(TRANSFORM_ITERS);
    for _ in 0..TRANSFORM_ITERS {
        let t = Instant::now();
        let mut e = event.clone();
        if let Ok(Some(d)) = alertmanager::inspect(&e.payload) {
            e.resolved = d.resolved;
            e.severity = d.severity.or(e.severity);
            e.dedup_key = Some(d.dedup_key);
        }
        native.push(t.elapsed());
        std::hint::black_box(e);
    }
    let mut wasm = Vec::with_capacity(TRANSFORM_ITERS);
    for _ in 0..TRANSFORM_ITERS {
        let t = Instant::now();
        let out = transform.transform(&event).await?;
        wasm.push(t.elapsed());
        anyhow::ensure!(
            matches!(&out, TransformOutcome::Keep(e) if e.dedup_key.is_some()),
            "the transform did not recognise the payload"
        );
    }
    compare(
        "transform (alertmanager)",
        "transform",
        native,
        wasm,
        &mut rows,
        &mut lines,
    );

    // Slack delivery.
    let slack = pipeline
        .channels
        .iter()
        .find(|c| c.name == "slack")
        .ok_or_else(|| anyhow::anyhow!("slack is not enabled"))?;
    let message = pipeline.renderer.render(&slack.template, &payload).await?;
    let client = versus::pipeline::outbound::Clients::new().any;
    let mut native = Vec::with_capacity(DELIVER_ITERS);
    for _ in 0..DELIVER_ITERS {
        let t = Instant::now();
        let receipt = native_deliver(&client, &message, &slack.config_json).await?;
        native.push(t.elapsed());
        std::hint::black_box(receipt);
    }
    let mut wasm = Vec::with_capacity(DELIVER_ITERS);
    for _ in 0..DELIVER_ITERS {
        let t = Instant::now();
        let receipt = slack
            .plugin
            .deliver(&message, &event, &slack.config_json)
            .await?;
        wasm.push(t.elapsed());
        std::hint::black_box(receipt);
    }
    compare(
        "Slack deliver (local chat.postMessage)",
        "slack_deliver",
        native,
        wasm,
        &mut rows,
        &mut lines,
    );

    println!("| measure | value |\n|---|---|");
    for (k, v) in rows {
        println!("| {k} | {v} |");
    }
    for l in lines {
        println!("{l}");
    }
    Ok(())
}

/// The Slack crate's own logic around one HTTP request, as the host would
/// send it for the guest.
async fn native_deliver(
    client: &reqwest::Client,
    message: &str,
    config_json: &str,
) -> anyhow::Result<slack::Receipt> {
    let config = slack::Config::parse(config_json).map_err(|e| anyhow::anyhow!("{e}"))?;
    let event = slack::EventInfo {
        id: "bench-1".into(),
        resolved: false,
        severity: None,
        ack_url: None,
        payload: "{}".into(),
    };
    let request =
        slack::build_post(message, &event, &config).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut builder = client.post(&request.url).body(request.body);
    for (k, v) in &request.headers {
        builder = builder.header(k, v);
    }
    let resp = builder.timeout(Duration::from_secs(10)).send().await?;
    let status = resp.status().as_u16();
    let headers: Vec<(String, String)> = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_string()))
        .collect();
    let body = resp.bytes().await?;
    let posted =
        slack::interpret_response(status, &headers, &body).map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(posted.into_receipt(&config))
}

fn compare(
    name: &str,
    key: &str,
    native: Vec<Duration>,
    wasm: Vec<Duration>,
    rows: &mut Vec<(String, String)>,
    lines: &mut Vec<String>,
) {
    let (n, w) = (median(native.clone()), median(wasm.clone()));
    let ratio = w.as_secs_f64() / n.as_secs_f64();
    rows.push((
        format!("{name}: native median / p99"),
        format!("{:.1} µs / {:.1} µs", us(n), us(p99(native))),
    ));
    rows.push((
        format!("{name}: wasm median / p99"),
        format!("{:.1} µs / {:.1} µs", us(w), us(p99(wasm))),
    ));
    rows.push((format!("{name}: wasm / native"), format!("{ratio:.2}×")));
    lines.push(format!("BENCH {key}_native_median_us {:.1} us", us(n)));
    lines.push(format!("BENCH {key}_wasm_median_us {:.1} us", us(w)));
    lines.push(format!("BENCH {key}_ratio {ratio:.2} x"));
}
