//! Channel plugins in three languages: the Rust ones (`test_channel`, and
//! the SDK's example `discord_example`), the JavaScript `js_webhook` and the
//! Python `py_telegram`, built from source. For each:
//!
//! - cold compile: loading it with an empty compiled-component cache (the
//!   Cranelift compile plus writing the cache entry);
//! - cache load: loading it again in a new loader from that cache, as a
//!   restart does;
//! - per call: `deliver` the way the pipeline calls it (a fresh instance),
//!   one POST to a local endpoint included; median and p99.
//!
//! Run with `cargo bench -p versus --bench polyglot`; it runs
//! `scripts/build-polyglot-plugins` first (which installs the JavaScript and
//! Python toolchains under the target directory when missing). Prints a
//! Markdown table, and `BENCH key value unit` lines for `bench/suite.sh`.

#[path = "shared/mod.rs"]
mod shared;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use axum::Router;
use serde_json::json;
use versus::config::PluginsConfig;
use versus::pipeline::Loader;
use versus::pipeline::bindings::types::Event;

const CALLS: usize = 500;
const WARMUP: usize = 10;

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// Builds the JavaScript and Python plugins into `<target>/polyglot-plugins`.
fn polyglot_dir() -> anyhow::Result<PathBuf> {
    // <target>/release/deps/polyglot-<hash> → <target>
    let exe = std::env::current_exe()?;
    let target = exe
        .ancestors()
        .nth(3)
        .ok_or_else(|| anyhow::anyhow!("cannot find the target directory from {exe:?}"))?;
    let out = target.join("polyglot-plugins");
    let status = std::process::Command::new(repo().join("scripts/build-polyglot-plugins"))
        .arg(&out)
        .status()?;
    anyhow::ensure!(status.success(), "scripts/build-polyglot-plugins failed");
    Ok(out)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn quantile(v: &mut [Duration], q: f64) -> Duration {
    v.sort();
    v[((v.len() - 1) as f64 * q) as usize]
}

fn event(i: usize) -> Event {
    Event {
        id: format!("bench-{i}"),
        payload: json!({"status": "firing", "name": "disk-full"}).to_string(),
        resolved: false,
        severity: None,
        ack_url: None,
        dedup_key: None,
    }
}

/// Any path: an answer each plugin accepts (Telegram's `result`, the
/// Discord example's `id`).
async fn answer() -> axum::Json<serde_json::Value> {
    axum::Json(json!({ "ok": true, "id": "1", "result": { "message_id": 1, "chat": { "id": 1 } } }))
}

fn main() -> anyhow::Result<()> {
    shared::on_two_threads(run())
}

async fn run() -> anyhow::Result<()> {
    let polyglot = polyglot_dir()?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let origin = format!("http://127.0.0.1:{}", listener.local_addr()?.port());
    tokio::spawn(async move { axum::serve(listener, Router::new().fallback(answer)).await });

    let mut plugins = PluginsConfig::default();
    plugins.defaults.allowed_hosts = vec![origin.clone()];
    let built = Path::new(env!("VERSUS_PLUGIN_OUT_DIR"));
    let cases = [
        (
            "test_channel",
            "Rust",
            built.join("test_channel.wasm"),
            json!({ "url": format!("{origin}/hook/rust"), "method": "POST" }),
        ),
        (
            "discord_example",
            "Rust (SDK)",
            built.join("discord_example.wasm"),
            json!({ "webhook_url": format!("{origin}/api/webhooks/1/tok") }),
        ),
        (
            "js_webhook",
            "JavaScript",
            polyglot.join("js_webhook.wasm"),
            json!({ "url": format!("{origin}/hook/js") }),
        ),
        (
            "py_telegram",
            "Python",
            polyglot.join("py_telegram.wasm"),
            json!({ "token": "123:abc", "chat_id": 1, "api_url": origin }),
        ),
    ];

    let mut lines = Vec::new();
    println!(
        "| plugin | language | size | cold compile | cache load | per call p50 | per call p99 |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (name, language, file, config) in cases {
        let size = std::fs::metadata(&file)?.len();
        let cache = tempfile::tempdir()?;
        let started = Instant::now();
        Loader::new(Some(cache.path().to_path_buf()))?
            .channel_file(&plugins, &file)
            .await?;
        let compile = started.elapsed();
        let loader = Loader::new(Some(cache.path().to_path_buf()))?;
        let started = Instant::now();
        let channel = loader.channel_file(&plugins, &file).await?;
        let load = started.elapsed();
        anyhow::ensure!(
            loader
                .cache()
                .stats
                .disk_hits
                .load(std::sync::atomic::Ordering::Relaxed)
                == 1,
            "{name}: the second load did not come from the cache"
        );

        let config = config.to_string();
        let mut calls = Vec::with_capacity(CALLS);
        for i in 0..WARMUP + CALLS {
            let started = Instant::now();
            channel
                .deliver("disk full on db-1", &event(i), &config)
                .await
                .map_err(|e| anyhow::anyhow!("{name}: {e}"))?;
            if i >= WARMUP {
                calls.push(started.elapsed());
            }
        }
        let p50 = quantile(&mut calls, 0.5);
        let p99 = quantile(&mut calls, 0.99);
        println!(
            "| `{name}` | {language} | {:.1} MB | {:.0} ms | {:.1} ms | {:.2} ms | {:.2} ms |",
            size as f64 / 1e6,
            ms(compile),
            ms(load),
            ms(p50),
            ms(p99)
        );
        for (key, value) in [
            ("compile", ms(compile)),
            ("cache_load", ms(load)),
            ("call_p50", ms(p50)),
            ("call_p99", ms(p99)),
        ] {
            lines.push(format!("BENCH polyglot_{name}_{key}_ms {value:.3} ms"));
        }
    }
    println!();
    for line in lines {
        println!("{line}");
    }
    Ok(())
}
