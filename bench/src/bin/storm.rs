//! An alert storm against Slack's rate limit, through the real `versus`
//! binary: `--notifications` over `--seconds` across `--channels` Slack
//! channels, each sent by its own sender that behaves like Alertmanager
//! (a 5xx or no answer within 10 s is sent again, up to 3 times). The Slack
//! stand-in here enforces the limit per channel and token (a burst of 3,
//! then one message a second; 429 with `Retry-After` beyond it).
//!
//! On-call is on with its state in Redis, so the outbound queues are the
//! shared, durable ones; the wait is long enough that nothing pages during
//! the run.
//!
//! Prints a Markdown table: what the senders were answered, what Slack
//! shows (delivered, duplicates, out of order), the time until the last
//! message was posted, the gateway's peak RSS and Redis's peak memory.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use clap::Parser;
use serde_json::{Value, json};

/// An alert storm against a rate-limited Slack.
#[derive(Debug, Parser)]
struct Args {
    /// The gateway binary (a release build).
    #[arg(long)]
    versus: PathBuf,
    /// Notifications sent in all.
    #[arg(long, default_value_t = 500)]
    notifications: usize,
    /// Seconds over which they are sent, evenly.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Slack channels they are spread over, round robin.
    #[arg(long, default_value_t = 5)]
    channels: usize,
    /// Redis, for on-call's state and the queues.
    #[arg(long, default_value = "127.0.0.1:6379")]
    redis: String,
    /// Turn on `alert.slack.storm_digest`.
    #[arg(long)]
    digest: bool,
}

/// What the Slack stand-in saw.
#[derive(Default)]
struct Slack {
    /// Per (channel, token): messages left, and when that was counted.
    buckets: HashMap<(String, String), (f64, Instant)>,
    /// The alerts in successful posts, as (channel, sequence number), in
    /// the order shown (a merged message shows several).
    posted: Vec<(String, usize)>,
    /// Successful posts.
    messages: usize,
    /// Posts answered 429.
    limited: usize,
}

type Shared = Arc<Mutex<Slack>>;

async fn post_message(State(slack): State<Shared>, headers: HeaderMap, body: String) -> Response {
    let body: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
    let channel = body["channel"].as_str().unwrap_or_default().to_string();
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let mut slack = slack
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let now = Instant::now();
    let (left, at) = slack
        .buckets
        .entry((channel.clone(), token))
        .or_insert((3.0, now));
    *left = (*left + now.duration_since(*at).as_secs_f64()).min(3.0);
    *at = now;
    if *left < 1.0 {
        let secs = (1.0 - *left).ceil().max(1.0) as u64;
        slack.limited += 1;
        return (
            StatusCode::TOO_MANY_REQUESTS,
            [(header::RETRY_AFTER, secs.to_string())],
            axum::Json(json!({"ok": false, "error": "ratelimited"})),
        )
            .into_response();
    }
    *left -= 1.0;
    let alerts = numbers_in(&body.to_string());
    slack
        .posted
        .extend(alerts.into_iter().map(|n| (channel.clone(), n)));
    slack.messages += 1;
    let ts = format!("1700000000.{:06}", slack.messages);
    axum::Json(json!({"ok": true, "channel": channel, "ts": ts})).into_response()
}

/// The sequence numbers of the alerts a message shows, in order of first
/// appearance (each title, `C<channel> #<n>`, may appear more than once in
/// its body: in the text and in the blocks).
fn numbers_in(body: &str) -> Vec<usize> {
    let mut found = Vec::new();
    for (at, _) in body.match_indices(" #") {
        let digits: String = body[at + 2..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        let titled = body[..at]
            .rsplit_once('C')
            .is_some_and(|(_, c)| !c.is_empty() && c.chars().all(|ch| ch.is_ascii_digit()));
        if let (true, Ok(n)) = (titled, digits.parse())
            && !found.contains(&n)
        {
            found.push(n);
        }
    }
    found
}

/// What one sender saw.
#[derive(Default)]
struct Answers {
    /// Final answers by status (0: no answer).
    statuses: HashMap<u16, usize>,
    /// Requests sent again.
    retries: usize,
}

async fn send(client: &reqwest::Client, url: &str, body: String, answers: &Mutex<Answers>) {
    let mut status = 0;
    for attempt in 0..=3 {
        if attempt > 0 {
            lock(answers).retries += 1;
        }
        let reply = client
            .post(url)
            .header("content-type", "application/json")
            .body(body.clone())
            .timeout(Duration::from_secs(10))
            .send()
            .await;
        status = reply.map_or(0, |r| r.status().as_u16());
        if status != 0 && status < 500 {
            break;
        }
    }
    *lock(answers).statuses.entry(status).or_default() += 1;
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A `/proc/<pid>/status` field in KiB.
fn status_kib(pid: u32, field: &str) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|t| {
            t.lines()
                .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
                .and_then(|v| v.split_whitespace().next()?.parse().ok())
        })
        .unwrap_or(0)
}

/// Redis's `used_memory`, in bytes.
async fn redis_memory(con: &mut redis::aio::MultiplexedConnection) -> u64 {
    let info: String = redis::cmd("INFO")
        .arg("memory")
        .query_async(con)
        .await
        .unwrap_or_default();
    info.lines()
        .find_map(|l| l.strip_prefix("used_memory:")?.trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let slack: Shared = Arc::default();
    let app = Router::new()
        .route("/api/chat.postMessage", post(post_message))
        .with_state(slack.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let slack_addr = listener.local_addr()?;
    tokio::spawn(async move { axum::serve(listener, app).await });

    let dir = std::env::temp_dir().join(format!("versus-storm-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let template = dir.join("title.tmpl");
    std::fs::write(&template, "{{.title}}")?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let (redis_host, redis_port) = args.redis.split_once(':').context("--redis host:port")?;
    let prefix = format!("versus-storm-{}:", std::process::id());
    let config = format!(
        "host: 127.0.0.1\nport: {port}\npublic_host: http://127.0.0.1:{port}\n\
         alert:\n  slack:\n    enable: true\n    token: xoxb-storm\n    channel_id: C0\n    \
         storm_digest: {}\n    template_path: {}\n    api_url: http://{slack_addr}/api/\n\
         oncall:\n  enable: true\n  wait_minutes: 60\n  ack_secret: storm-bench-secret-0123456789abcdef\n  \
         aws_incident_manager:\n    response_plan_arn: arn:aws:ssm-incidents::111122223333:response-plan/storm\n\
         redis:\n  host: {redis_host}\n  port: {redis_port}\n\
         plugins:\n  watch: false\n",
        args.digest,
        template.display()
    );
    let config_path = dir.join("config.yaml");
    std::fs::write(&config_path, config)?;
    let mut child = Command::new(&args.versus)
        .arg("--config")
        .arg(&config_path)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("RUST_LOG", "warn")
        .env("REDIS_KEY_PREFIX", &prefix)
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "AKIDSTORM")
        .env("AWS_SECRET_ACCESS_KEY", "storm")
        .env("AWS_ENDPOINT_URL_SSM_INCIDENTS", "http://127.0.0.1:9")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("spawn versus")?;
    let pid = child.id();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let up = Instant::now();
    while !client
        .get(format!("{base}/readyz"))
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
    {
        if up.elapsed() > Duration::from_secs(120) {
            let _ = child.kill();
            bail!("versus was not ready within 120 s");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let mut redis = redis::Client::open(format!("redis://{}/", args.redis))?
        .get_multiplexed_async_connection()
        .await?;
    let redis_before = redis_memory(&mut redis).await;

    // The storm: one sender per notification, started evenly over the
    // period.
    let answers = Arc::new(Mutex::new(Answers::default()));
    let gap = Duration::from_secs(args.seconds).div_f64(args.notifications as f64);
    let started = Instant::now();
    let mut senders = Vec::new();
    for n in 0..args.notifications {
        tokio::time::sleep_until((started + gap.mul_f64(n as f64)).into()).await;
        let channel = format!("C{}", n % args.channels + 1);
        let url = format!("{base}/api/incidents?slack_channel_id={channel}");
        let body = json!({"title": format!("{channel} #{n}"), "status": "firing"}).to_string();
        let (client, answers) = (client.clone(), answers.clone());
        senders.push(tokio::spawn(async move {
            send(&client, &url, body, &answers).await
        }));
    }

    // Until every message is posted (or nothing moves for 60 s).
    let (mut peak_rss, mut peak_redis) = (0, 0);
    let mut last = (0, Instant::now());
    loop {
        peak_rss = peak_rss.max(status_kib(pid, "VmRSS"));
        peak_redis = peak_redis.max(redis_memory(&mut redis).await);
        let posted = lock(&slack).posted.len();
        let done = senders.iter().all(|s| s.is_finished());
        if done && posted >= args.notifications {
            break;
        }
        if posted != last.0 {
            last = (posted, Instant::now());
        } else if last.1.elapsed() > Duration::from_secs(60) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let drained = started.elapsed();
    for s in senders {
        s.await?;
    }
    // Anything posted late would be a duplicate: look again after a while.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
    let leftover: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut redis)
        .await?;
    if !leftover.is_empty() {
        let mut del = redis::cmd("DEL");
        for k in &leftover {
            del.arg(k);
        }
        let _: i64 = del.query_async(&mut redis).await?;
    }

    let slack = lock(&slack);
    let distinct: HashSet<&(String, usize)> = slack.posted.iter().collect();
    let duplicates = slack.posted.len() - distinct.len();
    // Out of order: an alert shown after one sent later to its channel.
    let mut highest: HashMap<&str, usize> = HashMap::new();
    let mut out_of_order = 0;
    for (channel, n) in &slack.posted {
        let top = highest.entry(channel).or_insert(0);
        if *n < *top {
            out_of_order += 1;
        }
        *top = (*top).max(*n);
    }
    let answers = lock(&answers);
    let mut statuses: Vec<_> = answers.statuses.iter().collect();
    statuses.sort();
    let statuses: Vec<String> = statuses.iter().map(|(s, n)| format!("{n}× {s}")).collect();
    let per_channel = args.notifications.div_ceil(args.channels);
    println!(
        "| storm_digest | notifications | channels | senders' final answers | retries | delivered | duplicates | out of order | messages posted | 429s from Slack | last message posted | ideal | gateway peak RSS | Redis peak memory |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    println!(
        "| {} | {} in {} s | {} | {} | {} | {} of {} | {} | {} | {} | {} | {:.1} s | {} s | {:.1} MiB | +{:.2} MiB |",
        if args.digest { "on" } else { "off" },
        args.notifications,
        args.seconds,
        args.channels,
        statuses.join(", "),
        answers.retries,
        distinct.len(),
        args.notifications,
        duplicates,
        out_of_order,
        slack.messages,
        slack.limited,
        drained.as_secs_f64(),
        per_channel.saturating_sub(3),
        peak_rss as f64 / 1024.0,
        peak_redis.saturating_sub(redis_before) as f64 / (1024.0 * 1024.0),
    );
    Ok(())
}
