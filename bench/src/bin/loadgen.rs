//! Closed-loop HTTP/1.1 load generator.
//!
//! `--concurrency N` workers each own one keep-alive connection and send the
//! POST body back to back: a new request leaves only when the previous
//! answer has been read in full. Each request is a distinct notification:
//! the body (a JSON object) gets a `bench_seq` member with a number of its
//! own, since the same body twice while the first is in flight is a
//! sender's retry to the gateway (`alert.dedup_window`). Requests are timed from just before sending
//! to the end of the response body. Only requests that start after the
//! warm-up and finish before the end of the run are counted; each latency
//! goes into a `Vec` that is sorted at the end (no histogram buckets).
//!
//! Prints one JSON object on stdout:
//! `{"concurrency","requests","errors","rps","p50_ms","p99_ms",...}` where
//! `requests` counts every counted request, `errors` those that did not get
//! the expected status (201 by default) or failed at the connection level,
//! and `rps` counts only the successful ones per second.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use axum::body::Bytes;
use clap::Parser;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::header::{self, HeaderValue};
use hyper::{Request, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use serde_json::json;
use tokio::net::TcpStream;

/// Closed-loop load generator: N connections, one request in flight on each.
#[derive(Debug, Parser)]
struct Args {
    /// Target URL (plain `http://`), e.g. `http://127.0.0.1:3000/api/incidents`.
    #[arg(long)]
    url: String,
    /// File holding the JSON object sent (with its own `bench_seq`) as each
    /// request's body.
    #[arg(long)]
    body: PathBuf,
    /// Concurrent senders, one connection each.
    #[arg(long, default_value_t = 1)]
    concurrency: usize,
    /// Measured seconds, after the warm-up.
    #[arg(long, default_value_t = 10.0)]
    duration: f64,
    /// Seconds of load before measuring starts.
    #[arg(long, default_value_t = 2.0)]
    warmup: f64,
    /// Runtime threads for the generator itself; 1 keeps it on one core so
    /// the system under test keeps the rest.
    #[arg(long, default_value_t = 1)]
    threads: usize,
    /// The status that counts as success.
    #[arg(long, default_value_t = 201)]
    expect_status: u16,
    /// Free-form name copied into the output (e.g. `versus`, `ceiling`).
    #[arg(long, default_value = "")]
    label: String,
}

/// What the generator sends, shared by every worker.
struct Plan {
    addr: SocketAddr,
    host: HeaderValue,
    path: Uri,
    /// The body after its opening `{`.
    rest: Bytes,
    /// The next `bench_seq`.
    seq: std::sync::atomic::AtomicU64,
    expect: StatusCode,
    measure_from: Instant,
    end: Instant,
}

/// One worker's counts and latencies (microseconds).
#[derive(Default)]
struct Tally {
    latencies_us: Vec<u64>,
    ok: u64,
    errors: u64,
}

async fn connect(plan: &Plan) -> anyhow::Result<SendRequest<Full<Bytes>>> {
    let stream = TcpStream::connect(plan.addr).await?;
    stream.set_nodelay(true)?;
    let (sender, conn) = http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(async move {
        // Ends when the worker drops its sender or the server closes.
        let _ = conn.await;
    });
    Ok(sender)
}

/// Sends one request on `sender`; `Ok(true)` when the expected status came
/// back with a complete body, `Err` when the connection is unusable.
async fn one(plan: &Plan, sender: &mut SendRequest<Full<Bytes>>) -> anyhow::Result<bool> {
    sender.ready().await?;
    let n = plan.seq.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let mut body = format!("{{\"bench_seq\":{n},").into_bytes();
    body.extend_from_slice(&plan.rest);
    let request = Request::post(plan.path.clone())
        .header(header::HOST, plan.host.clone())
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(body)))?;
    let response = sender.send_request(request).await?;
    let status = response.status();
    response.into_body().collect().await?;
    Ok(status == plan.expect)
}

async fn worker(plan: std::sync::Arc<Plan>) -> Tally {
    let mut tally = Tally::default();
    let mut sender: Option<SendRequest<Full<Bytes>>> = None;
    loop {
        let start = Instant::now();
        if start >= plan.end {
            break;
        }
        let ok = match &mut sender {
            Some(s) => match one(&plan, s).await {
                Ok(ok) => ok,
                Err(_) => {
                    sender = None;
                    false
                }
            },
            None => match connect(&plan).await {
                Ok(s) => {
                    sender = Some(s);
                    // Connecting is not a request: go round again.
                    continue;
                }
                Err(_) => {
                    // Do not spin on a dead server.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    false
                }
            },
        };
        let done = Instant::now();
        if start >= plan.measure_from && done <= plan.end {
            tally
                .latencies_us
                .push(u64::try_from(done.duration_since(start).as_micros()).unwrap_or(u64::MAX));
            if ok {
                tally.ok += 1;
            } else {
                tally.errors += 1;
            }
        }
    }
    tally
}

/// Nearest-rank percentile of sorted values, in milliseconds.
fn percentile_ms(sorted_us: &[u64], p: f64) -> f64 {
    if sorted_us.is_empty() {
        return 0.0;
    }
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let rank = ((p / 100.0) * sorted_us.len() as f64).ceil() as usize;
    let idx = rank.clamp(1, sorted_us.len()) - 1;
    #[allow(clippy::cast_precision_loss)]
    let ms = sorted_us[idx] as f64 / 1000.0;
    ms
}

fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

async fn run(args: Args) -> anyhow::Result<serde_json::Value> {
    let uri: Uri = args.url.parse().context("bad --url")?;
    if uri.scheme_str() != Some("http") {
        bail!("--url must be a plain http:// URL");
    }
    let host = uri.host().context("--url has no host")?;
    let port = uri.port_u16().unwrap_or(80);
    let addr = tokio::net::lookup_host((host, port))
        .await?
        .next()
        .context("--url host does not resolve")?;
    let authority = uri.authority().context("--url has no host")?.as_str();
    let path: Uri = uri.path_and_query().map_or("/", |p| p.as_str()).parse()?;
    let body = std::fs::read(&args.body)
        .with_context(|| format!("cannot read {}", args.body.display()))?;
    let text = String::from_utf8(body).context("--body is not UTF-8")?;
    let Some(rest) = text.trim_start().strip_prefix('{') else {
        bail!("--body must hold a JSON object");
    };
    let rest = Bytes::from(rest.to_string());
    if args.concurrency == 0 {
        bail!("--concurrency must be at least 1");
    }
    let warmup = Duration::try_from_secs_f64(args.warmup).context("bad --warmup")?;
    let duration = Duration::try_from_secs_f64(args.duration).context("bad --duration")?;
    let now = Instant::now();
    let plan = std::sync::Arc::new(Plan {
        addr,
        host: HeaderValue::from_str(authority)?,
        path,
        rest,
        seq: std::sync::atomic::AtomicU64::new(0),
        expect: StatusCode::from_u16(args.expect_status)?,
        measure_from: now + warmup,
        end: now + warmup + duration,
    });
    let handles: Vec<_> = (0..args.concurrency)
        .map(|_| tokio::spawn(worker(plan.clone())))
        .collect();
    let mut latencies = Vec::new();
    let (mut ok, mut errors) = (0u64, 0u64);
    for h in handles {
        let t = h.await?;
        latencies.extend(t.latencies_us);
        ok += t.ok;
        errors += t.errors;
    }
    latencies.sort_unstable();
    let secs = duration.as_secs_f64();
    #[allow(clippy::cast_precision_loss)]
    let rps = ok as f64 / secs;
    #[allow(clippy::cast_precision_loss)]
    let mean_ms = if latencies.is_empty() {
        0.0
    } else {
        latencies.iter().sum::<u64>() as f64 / latencies.len() as f64 / 1000.0
    };
    Ok(json!({
        "label": args.label,
        "url": args.url,
        "concurrency": args.concurrency,
        "duration_s": secs,
        "requests": ok + errors,
        "errors": errors,
        "rps": round(rps, 1),
        "mean_ms": round(mean_ms, 3),
        "p50_ms": round(percentile_ms(&latencies, 50.0), 3),
        "p90_ms": round(percentile_ms(&latencies, 90.0), 3),
        "p99_ms": round(percentile_ms(&latencies, 99.0), 3),
        "max_ms": round(percentile_ms(&latencies, 100.0), 3),
    }))
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let runtime = if args.threads <= 1 {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?
    } else {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(args.threads)
            .enable_all()
            .build()?
    };
    let report = runtime.block_on(run(args))?;
    println!("{report}");
    Ok(())
}
