//! The scheduler's Redis cost with many incidents pending: 100,000
//! incidents due in an hour, in the flat layout (one Redis) and the
//! sharded one (Redis Cluster's, 16 shards, here on the same one Redis so
//! only the layout differs). Reports the idle tick (a claim that finds
//! nothing, then the next deadline) and the claim of 100 incidents that
//! fell due among them (claimed in as many rounds as the scheduler
//! takes, the last one finding nothing).
//!
//! Needs Redis at 127.0.0.1:6379. Run: `cargo bench -p versus --bench claim`.
//! `VERSUS_BENCH_QUICK=1` pends 5,000 instead, for a smoke run in a debug
//! build; its numbers are not measurements.

#[path = "shared/mod.rs"]
mod shared;
#[allow(dead_code, reason = "shared with the escalation bench")]
#[path = "escalation/support.rs"]
mod support;

use std::time::{Duration, Instant};

use futures::StreamExt;
use versus::oncall::{NewIncident, RedisStore, Store};

const URL: &str = "redis://127.0.0.1:6379/0";
/// Idle ticks timed per layout.
const TICKS: usize = 200;
/// Claim rounds timed per layout, each of [`DUE`] incidents.
const ROUNDS: usize = 20;
const DUE: usize = 100;

fn main() -> anyhow::Result<()> {
    shared::on_two_threads(run())
}

async fn run() -> anyhow::Result<()> {
    let quick = std::env::var("VERSUS_BENCH_QUICK").is_ok_and(|v| v == "1");
    let pending = if quick { 5_000 } else { 100_000 };
    println!(
        "{pending} incidents pending an hour out; {TICKS} idle ticks, {ROUNDS} claims of {DUE}"
    );
    println!(
        "| layout | idle tick p50 | idle tick p99 | claim of {DUE} p50 | claim of {DUE} p99 |"
    );
    println!("|---|---|---|---|---|");
    for sharded in [false, true] {
        let prefix = format!("versus-bench-{}:", uuid::Uuid::new_v4());
        let mut store = RedisStore::connect(URL, &prefix).await?;
        if sharded {
            store = store.sharded();
        }
        let result = measure(&Store::Redis(Box::new(store)), pending).await;
        clean(&prefix).await?;
        let (ticks, claims) = result?;
        println!(
            "| {} | {} | {} | {} | {} |",
            if sharded { "sharded (16)" } else { "flat" },
            micros(&ticks, 50),
            micros(&ticks, 99),
            micros(&claims, 50),
            micros(&claims, 99),
        );
    }
    Ok(())
}

/// Fills the store, then times idle ticks and claims.
async fn measure(store: &Store, pending: usize) -> anyhow::Result<(Vec<Duration>, Vec<Duration>)> {
    let now = now_ms();
    fill(store, pending, now + 3_600_000).await?;
    let mut ticks = Vec::new();
    for _ in 0..TICKS {
        let start = Instant::now();
        let claimed = store.claim_due(now_ms(), now_ms() + 30_000, 100).await?;
        store.next_due_ms().await?;
        ticks.push(start.elapsed());
        anyhow::ensure!(claimed.is_empty(), "claimed an incident not due");
    }
    let mut claims = Vec::new();
    for _ in 0..ROUNDS {
        fill(store, DUE, now_ms() - 1).await?;
        // As the scheduler does: claim again at once while any came back.
        let start = Instant::now();
        let mut claimed = 0;
        for _ in 0..DUE {
            let ids = store.claim_due(now_ms(), now_ms() + 30_000, DUE).await?;
            if ids.is_empty() {
                break;
            }
            claimed += ids.len();
        }
        claims.push(start.elapsed());
        anyhow::ensure!(claimed == DUE, "claimed {claimed} of {DUE}");
    }
    Ok((ticks, claims))
}

/// Creates `count` incidents due at `deadline_ms`, 64 at a time.
async fn fill(store: &Store, count: usize, deadline_ms: i64) -> anyhow::Result<()> {
    let created = futures::stream::iter(0..count)
        .map(|_| async move { store.create(&incident(deadline_ms)).await })
        .buffer_unordered(64)
        .collect::<Vec<_>>()
        .await;
    for c in created {
        c?;
    }
    Ok(())
}

fn incident(deadline_ms: i64) -> NewIncident {
    support::incident(uuid::Uuid::new_v4().to_string(), now_ms(), deadline_ms)
}

/// Deletes every key under `prefix`.
async fn clean(prefix: &str) -> anyhow::Result<()> {
    let mut con = redis::Client::open(URL)?
        .get_multiplexed_async_connection()
        .await?;
    let mut cursor = 0u64;
    loop {
        let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(cursor)
            .arg("MATCH")
            .arg(format!("{prefix}*"))
            .arg("COUNT")
            .arg(1000)
            .query_async(&mut con)
            .await?;
        if !keys.is_empty() {
            redis::cmd("UNLINK")
                .arg(keys)
                .query_async::<()>(&mut con)
                .await?;
        }
        if next == 0 {
            return Ok(());
        }
        cursor = next;
    }
}

/// The `p`th percentile of `samples`, in µs.
fn micros(samples: &[Duration], p: usize) -> String {
    let mut v: Vec<u128> = samples.iter().map(Duration::as_micros).collect();
    v.sort_unstable();
    let i = (v.len() * p / 100).min(v.len() - 1);
    format!("{} µs", v[i])
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}
