//! Helpers shared by the integration tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;
use std::time::{Duration, Instant};

use versus::config::PluginsConfig;
use versus::pipeline::Loader;
use versus::pipeline::bindings::types::Event;

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A file under `tests/fixtures/`.
pub fn fixture(rel: &str) -> PathBuf {
    repo().join("tests/fixtures").join(rel)
}

/// A plugin built by `host/build.rs`, e.g. `test_renderer`.
pub fn built_plugin(name: &str) -> PathBuf {
    Path::new(env!("VERSUS_PLUGIN_OUT_DIR")).join(format!("{name}.wasm"))
}

/// `<dir>/plugins` holding `file` as `<name>.wasm`, for `plugins.dir`.
pub fn plugin_dir_with(dir: &Path, file: &Path, name: &str) -> PathBuf {
    let plugins = dir.join("plugins");
    std::fs::create_dir_all(&plugins).expect("mkdir plugins");
    std::fs::copy(file, plugins.join(format!("{name}.wasm"))).expect("copy the plugin");
    plugins
}

/// Runs the `versus` binary with `args`, with its cache in `cache`.
pub fn versus(args: &[&str], cache: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_versus"))
        .args(args)
        .env("VERSUS_CACHE_DIR", cache)
        .env_remove("VERSUS_CONFIG")
        .env_remove("RUST_LOG")
        .output()
        .expect("run versus")
}

/// A loader with no disk cache.
pub fn loader() -> Arc<Loader> {
    Arc::new(Loader::new(None).expect("engine"))
}

/// Plugin settings with `allowed_hosts` for every plugin.
pub fn plugins_allowing(hosts: &[&str]) -> PluginsConfig {
    let mut p = PluginsConfig::default();
    p.defaults.allowed_hosts = hosts.iter().map(|h| h.to_string()).collect();
    p.defaults.timeout = Duration::from_secs(2);
    p.defaults.memory_mb = 32;
    p
}

/// Polls `check` every 20 ms until it holds or `timeout` passes.
pub async fn eventually(timeout: Duration, mut check: impl AsyncFnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}

/// A firing event with id `id` and an empty JSON object as the payload, for
/// calling a channel or transform directly.
pub fn event(id: impl Into<String>) -> Event {
    Event {
        id: id.into(),
        payload: "{}".into(),
        resolved: false,
        severity: None,
        ack_url: None,
        dedup_key: None,
    }
}

/// Serves `app` on a free port of 127.0.0.1 until the test ends; returns
/// its base URL (`http://127.0.0.1:PORT`). For the emulators of the APIs
/// the gateway calls.
pub async fn serve(app: axum::Router) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind an emulator");
    let port = listener.local_addr().expect("emulator address").port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://127.0.0.1:{port}")
}

/// A series' value on `{base}/metrics` (`name{labels}` as exposed), 0
/// when absent.
pub async fn metric(base: &str, series: &str) -> f64 {
    let text = reqwest::get(format!("{base}/metrics"))
        .await
        .expect("GET /metrics")
        .text()
        .await
        .expect("metrics text");
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .map_or(0.0, |n| n.trim().parse().expect("a number"))
}
