//! Process-level figures of the real `versus` binary: start-up time with a
//! cold and a warm compiled-component cache, reload latency (template write
//! → new pipeline serving, seen on `/readyz`), idle CPU, and resident memory
//! idle and under load (from `/proc/<pid>/status`).
//!
//! Prints a Markdown table, then `BENCH key value unit` lines for
//! `bench/suite.sh`.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;

/// Start-up, reload, idle CPU and memory of the gateway.
#[derive(Debug, Parser)]
struct Args {
    /// The gateway binary (a release build).
    #[arg(long)]
    versus: PathBuf,
    /// The Slack API base URL to deliver to (the bench emulator).
    #[arg(long)]
    slack_api: String,
    /// Message template.
    #[arg(long)]
    template: PathBuf,
    /// Alert body posted under load.
    #[arg(long)]
    body: PathBuf,
    /// Warm starts and reloads measured.
    #[arg(long, default_value_t = 5)]
    samples: usize,
    /// Seconds of idle CPU sampling.
    #[arg(long, default_value_t = 10)]
    idle_seconds: u64,
    /// Seconds of load for the loaded-memory figure.
    #[arg(long, default_value_t = 10)]
    load_seconds: u64,
    /// Concurrent senders under load.
    #[arg(long, default_value_t = 64)]
    concurrency: usize,
}

/// A running gateway, killed on drop.
struct Gateway {
    child: Child,
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> anyhow::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Starts the gateway on `config` and returns it with the time until
/// `/healthz` answered (the pipeline is loaded before the socket is bound).
async fn start(versus: &Path, config: &Path, port: u16) -> anyhow::Result<(Gateway, Duration)> {
    let client = reqwest::Client::new();
    let t = Instant::now();
    let child = Command::new(versus)
        .arg("--config")
        .arg(config)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("spawn versus")?;
    let mut gw = Gateway { child };
    let url = format!("http://127.0.0.1:{port}/healthz");
    while t.elapsed() < Duration::from_secs(120) {
        if let Some(status) = gw.child.try_wait()? {
            bail!("versus exited with {status}");
        }
        if client
            .get(&url)
            .timeout(Duration::from_millis(200))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return Ok((gw, t.elapsed()));
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    bail!("versus did not answer /healthz within 120 s")
}

/// A `/proc/<pid>/status` field in KiB (`VmRSS`, `VmHWM`).
fn status_kib(pid: u32, field: &str) -> anyhow::Result<u64> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    text.lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .with_context(|| format!("no {field} in /proc/{pid}/status"))
}

/// User + system CPU of `pid` in ms (clock ticks of 100 Hz).
fn cpu_ms(pid: u32) -> anyhow::Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    let rest = stat.rsplit_once(") ").map(|(_, r)| r).unwrap_or_default();
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = f.get(11).and_then(|v| v.parse().ok()).unwrap_or(0)
        + f.get(12).and_then(|v| v.parse().ok()).unwrap_or(0);
    Ok(ticks * 10)
}

async fn generation(client: &reqwest::Client, port: u16) -> anyhow::Result<u64> {
    let text = client
        .get(format!("http://127.0.0.1:{port}/readyz"))
        .timeout(Duration::from_secs(5))
        .send()
        .await?
        .text()
        .await?;
    let v: serde_json::Value = serde_json::from_str(&text)?;
    v["generation"].as_u64().context("no generation in /readyz")
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let dir = std::env::temp_dir().join(format!("versus-procstats-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = run(&args, &dir).await;
    let _ = std::fs::remove_dir_all(&dir);
    result
}

async fn run(args: &Args, dir: &Path) -> anyhow::Result<()> {
    let template = dir.join("message.tmpl");
    let original = std::fs::read_to_string(&args.template)?;
    std::fs::write(&template, &original)?;
    let port = free_port()?;
    let config = dir.join("config.yaml");
    std::fs::write(
        &config,
        format!(
            "host: 127.0.0.1\nport: {port}\nalert:\n  slack:\n    enable: true\n    \
             token: xoxb-bench\n    channel_id: C1\n    template_path: {}\n    api_url: {}\n  \
             console:\n    enable: false\nplugins:\n  cache_dir: {}\n  watch: true\n",
            template.display(),
            args.slack_api,
            dir.join("cache").display()
        ),
    )?;
    let client = reqwest::Client::new();
    let mut rows: Vec<(String, String)> = Vec::new();

    let (gw, cold) = start(&args.versus, &config, port).await?;
    drop(gw);
    rows.push((
        "start-up, empty cache (compiles every plugin)".into(),
        format!("{:.0} ms", ms(cold)),
    ));
    let mut warm = Vec::new();
    let mut last = None;
    for _ in 0..args.samples.max(1) {
        drop(last.take());
        let (gw, t) = start(&args.versus, &config, port).await?;
        warm.push(t);
        last = Some(gw);
    }
    let gw = last.context("no gateway")?;
    let pid = gw.child.id();
    rows.push((
        format!("start-up, warm cache, median of {}", warm.len()),
        format!("{:.0} ms", ms(median(warm.clone()))),
    ));

    tokio::time::sleep(Duration::from_secs(3)).await;
    let rss_idle = status_kib(pid, "VmRSS")?;
    rows.push((
        "RSS idle (after start-up, before any alert)".into(),
        format!("{:.1} MiB", rss_idle as f64 / 1024.0),
    ));
    let c0 = cpu_ms(pid)?;
    tokio::time::sleep(Duration::from_secs(args.idle_seconds)).await;
    let idle_cpu = cpu_ms(pid)? - c0;
    let idle_pct = idle_cpu as f64 / (args.idle_seconds as f64 * 1000.0) * 100.0;
    rows.push((
        format!("idle CPU over {} s", args.idle_seconds),
        format!("{idle_cpu} ms ({idle_pct:.2} % of one core)"),
    ));

    // Reload: write the template, poll /readyz for the next generation.
    let mut reloads = Vec::new();
    for i in 0..args.samples.max(1) {
        let before = generation(&client, port).await?;
        let t = Instant::now();
        std::fs::write(&template, format!("{original}{{{{/* reload {i} */}}}}"))?;
        loop {
            if generation(&client, port).await? > before {
                break;
            }
            if t.elapsed() > Duration::from_secs(10) {
                bail!("no reload within 10 s of the template write");
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        reloads.push(t.elapsed());
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let reload_max = reloads.iter().max().copied().unwrap_or_default();
    rows.push((
        format!(
            "reload: template write → new generation serving, median of {} (max)",
            reloads.len()
        ),
        format!(
            "{:.0} ms ({:.0} ms)",
            ms(median(reloads.clone())),
            ms(reload_max)
        ),
    ));

    // Load: closed-loop senders; sample RSS while they run.
    let body = std::fs::read(&args.body)?;
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicU64::new(0));
    let url = format!("http://127.0.0.1:{port}/api/incidents");
    let mut tasks = Vec::new();
    for _ in 0..args.concurrency {
        let (client, url, body, stop, sent) = (
            client.clone(),
            url.clone(),
            body.clone(),
            stop.clone(),
            sent.clone(),
        );
        tasks.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let r = client
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .timeout(Duration::from_secs(30))
                    .send()
                    .await;
                if r.is_ok_and(|r| r.status().as_u16() == 201) {
                    sent.fetch_add(1, Ordering::Relaxed);
                }
            }
        }));
    }
    let t = Instant::now();
    let mut rss_max = 0;
    while t.elapsed() < Duration::from_secs(args.load_seconds) {
        rss_max = rss_max.max(status_kib(pid, "VmRSS")?);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for task in tasks {
        let _ = task.await;
    }
    let hwm = status_kib(pid, "VmHWM")?;
    let alerts = sent.load(Ordering::Relaxed);
    rows.push((
        format!(
            "RSS under load ({} senders, {} s, {alerts} alerts): max sampled / peak (VmHWM)",
            args.concurrency, args.load_seconds
        ),
        format!(
            "{:.1} MiB / {:.1} MiB",
            rss_max as f64 / 1024.0,
            hwm as f64 / 1024.0
        ),
    ));
    drop(gw);

    println!("| measure | value |\n|---|---|");
    for (k, v) in &rows {
        println!("| {k} | {v} |");
    }
    println!("BENCH startup_cold_ms {:.0} ms", ms(cold));
    println!("BENCH startup_warm_ms {:.0} ms", ms(median(warm)));
    println!("BENCH rss_idle_mib {:.1} MiB", rss_idle as f64 / 1024.0);
    println!("BENCH idle_cpu_pct {idle_pct:.3} %");
    println!("BENCH reload_median_ms {:.0} ms", ms(median(reloads)));
    println!("BENCH reload_max_ms {:.0} ms", ms(reload_max));
    println!("BENCH rss_loaded_mib {:.1} MiB", hwm as f64 / 1024.0);
    Ok(())
}
