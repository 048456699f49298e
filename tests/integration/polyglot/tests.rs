//! The gateway delivers through JavaScript and Python channel plugins, picks
//! up a new build of one while it runs, loads them from the compiled-component
//! cache on the next start, and rejects a component of the wrong world.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use versus::pipeline::bindings::StatusChange;
use versus::pipeline::bindings::types::{Event, Receipt};
use versus::pipeline::{Loader, PluginError};

use super::build::{polyglot_plugin, shared_cache_dir};
use super::receiver::Receiver;
use crate::common::{built_plugin, plugin_dir_with, plugins_allowing, versus};
use crate::gateway::Process;

const TOKEN: &str = "123:abc";

fn config(dir: &Path, rx: &Receiver) -> String {
    format!(
        "host: 127.0.0.1\nport: {{port}}\n\
         channels:\n\
         \x20 - name: ops-webhook\n    plugin: js_webhook\n    template_path: {tmpl}\n    \
         allowed_hosts: [\"{origin}\"]\n    config:\n      url: {origin}/hook/ops\n\
         \x20 - name: ops-telegram\n    plugin: py_telegram\n    template_path: {tmpl}\n    \
         allowed_hosts: [\"{origin}\"]\n    config:\n      token: \"{TOKEN}\"\n      chat_id: -100\n      \
         api_url: {origin}\n\
         plugins:\n  dir: {plugins}\n  cache_dir: {cache}\n  transforms: []\n  watch: true\n",
        tmpl = dir.join("msg.tmpl").display(),
        origin = rx.origin(),
        plugins = dir.join("plugins").display(),
        cache = dir.join("cache").display(),
    )
}

/// Posts one alert; returns the incident id after checking every channel delivered.
async fn post_alert(gw: &Process, name: &str) -> String {
    let resp = reqwest::Client::new()
        .post(format!("{}/api/incidents", gw.base()))
        .header("content-type", "application/json")
        .body(json!({ "name": name, "status": "firing" }).to_string())
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .expect("POST");
    let status = resp.status().as_u16();
    let body: Value = serde_json::from_str(&resp.text().await.expect("body")).expect("json");
    assert_eq!(status, 201, "{body}\n{}", gw.log());
    body["id"].as_str().expect("id").to_string()
}

/// `line` without terminal colour codes.
fn plain(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            chars.by_ref().find(|&c| c == 'm');
        } else {
            out.push(c);
        }
    }
    out
}

/// The `elapsed_ms` of the log line saying `plugin` was compiled.
fn compile_ms(log: &str, plugin: &str) -> Option<u64> {
    log.lines().map(plain).find_map(|l| {
        if !l.contains("compiled component") || !l.contains(&format!("plugin=\"{plugin}\"")) {
            return None;
        }
        let rest = &l[l.find("elapsed_ms=")? + "elapsed_ms=".len()..];
        rest.split(|c: char| !c.is_ascii_digit())
            .next()?
            .parse()
            .ok()
    })
}

fn replace(path: &Path, from: &Path) {
    let tmp = path.with_extension("new");
    std::fs::copy(from, &tmp).expect("copy");
    std::fs::rename(&tmp, path).expect("rename");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_and_python_channels_deliver_reload_and_load_from_cache() {
    let rx = Receiver::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let plugins = dir.path().join("plugins");
    std::fs::create_dir_all(&plugins).expect("mkdir");
    std::fs::write(dir.path().join("msg.tmpl"), "{{ .name }} is {{ .status }}").expect("tmpl");
    let js = plugins.join("js_webhook.wasm");
    std::fs::copy(polyglot_plugin("js_webhook"), &js).expect("copy js");
    std::fs::copy(
        polyglot_plugin("py_telegram"),
        plugins.join("py_telegram.wasm"),
    )
    .expect("copy py");
    let yaml = config(dir.path(), &rx);
    std::fs::write(dir.path().join("config.yaml"), yaml.replace("{port}", "1")).expect("config");
    let log_env = [("RUST_LOG", "info,versus::pipeline::cache=debug".to_string())];

    // `versus check` with a cold cache compiles both guests...
    let started = Instant::now();
    let check = versus(
        &[
            "--config",
            dir.path().join("config.yaml").to_str().expect("utf-8"),
            "check",
        ],
        &dir.path().join("cache"),
    );
    let cold_check = started.elapsed();
    let log = String::from_utf8_lossy(&check.stderr).into_owned();
    assert!(check.status.success(), "{log}");
    let js_ms = compile_ms(&log, "js_webhook").expect("js_webhook compiled");
    let py_ms = compile_ms(&log, "py_telegram").expect("py_telegram compiled");

    // ...so the gateway loads them from the cache.
    let started = Instant::now();
    let gw = Process::start(dir.path(), &yaml, &log_env).await;
    let warm_start = started.elapsed();
    assert_loaded_from_cache(&gw.log());

    let id = post_alert(&gw, "db-1").await;
    let hits = rx.wait_for(2).await;
    let hook = hits
        .iter()
        .find(|h| h.path == "/hook/ops")
        .expect("webhook hit");
    assert_eq!(hook.content_type, "application/json");
    assert_eq!(
        hook.body,
        json!({ "text": "db-1 is firing", "id": id, "resolved": false })
    );
    let tg = hits
        .iter()
        .find(|h| h.path == format!("/bot{TOKEN}/sendMessage"))
        .expect("telegram hit");
    assert_eq!(
        tg.body,
        json!({
            "chat_id": -100,
            "text": "db-1 is firing",
            "link_preview_options": { "is_disabled": true },
        })
    );

    // Hot reload: a new build of the JS plugin replaces the file.
    replace(&js, &polyglot_plugin("js_webhook_v2"));
    let swapped = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(240);
    let reloaded = loop {
        let id = post_alert(&gw, "db-2").await;
        let last = rx
            .hits()
            .into_iter()
            .rev()
            .find(|h| h.path == "/hook/ops" && h.body["id"] == json!(id))
            .expect("webhook hit for this alert");
        if last.body.get("build").is_some() {
            eprintln!(
                "polyglot: new build serving {:?} after the swap",
                swapped.elapsed()
            );
            break Some((id, last.body));
        }
        assert_eq!(
            last.body,
            json!({ "text": "db-2 is firing", "id": id, "resolved": false })
        );
        if Instant::now() > deadline {
            break None;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let (id, body) = reloaded.unwrap_or_else(|| panic!("new build not picked up:\n{}", gw.log()));
    assert_eq!(
        body,
        json!({ "text": "db-2 is firing", "id": id, "resolved": false, "build": "v2" })
    );
    drop(gw);

    // A restart loads both from the cache again (v2 was cached on reload).
    let gw = Process::start(dir.path(), &yaml, &log_env).await;
    assert_loaded_from_cache(&gw.log());
    post_alert(&gw, "db-3").await;
    eprintln!(
        "polyglot: compile js_webhook {js_ms} ms, py_telegram {py_ms} ms; \
         `versus check` with a cold cache {cold_check:?}, gateway start with a warm cache {warm_start:?}"
    );
    assert!(
        warm_start < cold_check,
        "warm {warm_start:?} vs cold {cold_check:?}"
    );
}

fn assert_loaded_from_cache(log: &str) {
    for plugin in ["js_webhook", "py_telegram"] {
        assert!(
            log.lines()
                .map(plain)
                .any(|l| l.contains("loaded compiled component from cache")
                    && l.contains(&format!("plugin=\"{plugin}\""))),
            "{plugin} not loaded from the cache:\n{log}"
        );
        assert!(
            compile_ms(log, plugin).is_none(),
            "{plugin} compiled again:\n{log}"
        );
    }
}

#[test]
fn a_renderer_configured_as_a_channel_is_rejected_naming_the_missing_export() {
    let dir = tempfile::tempdir().expect("tempdir");
    let plugins = plugin_dir_with(dir.path(), &built_plugin("gotemplate"), "not_a_channel");
    std::fs::write(dir.path().join("msg.tmpl"), "{{ .name }}").expect("tmpl");
    let config = dir.path().join("config.yaml");
    std::fs::write(
        &config,
        format!(
            "channels:\n  - name: hook\n    plugin: not_a_channel\n    template_path: {}\n\
             plugins:\n  dir: {}\n  transforms: []\n",
            dir.path().join("msg.tmpl").display(),
            plugins.display()
        ),
    )
    .expect("config");
    let out = versus(
        &["--config", config.to_str().expect("utf-8"), "check"],
        &dir.path().join("cache"),
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("plugin `not_a_channel`")
            && err.contains("does not implement the `channel` world"),
        "{err}"
    );
    assert!(err.contains("deliver"), "missing export not named: {err}");
}

fn event(i: usize) -> Event {
    crate::common::event(format!("bench-{i}"))
}

/// Many deliveries in a row through each guest language, each in a fresh
/// instance, all arrive (`cargo bench --bench polyglot` times them).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeated_deliveries_through_each_language_all_arrive() {
    const N: usize = 20;
    let rx = Receiver::start().await;
    let origin = rx.origin();
    let plugins = plugins_allowing(&[&origin]);
    let cases = [
        (
            "rust test_channel",
            built_plugin("test_channel"),
            json!({ "url": format!("{origin}/hook/rust"), "method": "POST" }),
        ),
        (
            "js_webhook",
            polyglot_plugin("js_webhook"),
            json!({ "url": format!("{origin}/hook/js") }),
        ),
        (
            "py_telegram",
            polyglot_plugin("py_telegram"),
            json!({ "token": TOKEN, "chat_id": 1, "api_url": origin }),
        ),
    ];
    let cached_loader = Loader::new(Some(shared_cache_dir())).expect("engine");
    for (label, file, config) in cases {
        let channel = cached_loader
            .channel_file(&plugins, &file)
            .await
            .expect("load");
        let config = config.to_string();
        let before = rx.hits().len();
        for i in 0..N {
            channel
                .deliver("cost probe", &event(i), &config)
                .await
                .unwrap_or_else(|e| panic!("{label}: {e:?}"));
        }
        assert_eq!(rx.hits().len() - before, N, "{label}");
    }
}

/// The guests map the host's HTTP errors and the remote side's refusals to
/// the right `plugin-error` case, and report bad config as `config`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_and_python_channels_report_errors_by_case() {
    let rx = Receiver::start().await;
    let origin = rx.origin();
    let plugins = plugins_allowing(&[&origin]);
    let loader = Loader::new(Some(shared_cache_dir())).expect("engine");
    let js = loader
        .channel_file(&plugins, &polyglot_plugin("js_webhook"))
        .await
        .expect("load js");
    let py = loader
        .channel_file(&plugins, &polyglot_plugin("py_telegram"))
        .await
        .expect("load py");
    let js_to = |url: String| json!({ "url": url }).to_string();
    let py_to = |api: String| json!({ "token": TOKEN, "chat_id": 1, "api_url": api }).to_string();
    let busy = format!("{origin}/status/503/x");
    let gone = format!("{origin}/status/404/x");
    let elsewhere = "http://127.0.0.1:9/hook".to_string();

    for (label, result) in [
        (
            "js 503",
            js.deliver("m", &event(0), &js_to(busy.clone())).await,
        ),
        ("py 503", py.deliver("m", &event(0), &py_to(busy)).await),
    ] {
        match result {
            Err(PluginError::Transient {
                message,
                retry_after,
            }) => {
                assert!(message.contains("503"), "{label}: {message}");
                assert_eq!(retry_after, Some(Duration::from_secs(7)), "{label}");
            }
            other => panic!("{label}: {other:?}"),
        }
    }
    for (label, result) in [
        (
            "js 404",
            js.deliver("m", &event(0), &js_to(gone.clone())).await,
        ),
        ("py 404", py.deliver("m", &event(0), &py_to(gone)).await),
    ] {
        assert!(
            matches!(&result, Err(PluginError::Permanent(m)) if m.contains("404")),
            "{label}: {result:?}"
        );
    }
    for (label, result) in [
        (
            "js denied",
            js.deliver("m", &event(0), &js_to(elsewhere.clone())).await,
        ),
        (
            "py denied",
            py.deliver("m", &event(0), &py_to(elsewhere)).await,
        ),
        ("js no url", js.deliver("m", &event(0), "{}").await),
        (
            "py no token",
            py.deliver("m", &event(0), r#"{"chat_id":1}"#).await,
        ),
        ("js not json", js.deliver("m", &event(0), "{nope").await),
    ] {
        assert!(
            matches!(&result, Err(PluginError::Config(_))),
            "{label}: {result:?}"
        );
    }
    assert!(rx.hits().is_empty(), "{:?}", rx.hits());
}

/// `update` shows a status change: the webhook gets the body with `status`,
/// Telegram gets `editMessageText` on the message `deliver` returned.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_and_python_channels_update_delivered_messages() {
    let rx = Receiver::start().await;
    let origin = rx.origin();
    let plugins = plugins_allowing(&[&origin]);
    let loader = Loader::new(Some(shared_cache_dir())).expect("engine");
    let js = loader
        .channel_file(&plugins, &polyglot_plugin("js_webhook"))
        .await
        .expect("load js");
    let py = loader
        .channel_file(&plugins, &polyglot_plugin("py_telegram"))
        .await
        .expect("load py");
    let js_config = json!({ "url": format!("{origin}/hook/up") }).to_string();
    let py_config = json!({ "token": TOKEN, "chat_id": -100, "api_url": origin }).to_string();

    let receipt = js
        .deliver("disk full", &event(1), &js_config)
        .await
        .expect("js deliver");
    assert_eq!(receipt.message_id, "bench-1");
    js.update(
        &receipt,
        StatusChange::Acknowledged,
        "disk full",
        &event(1),
        &js_config,
    )
    .await
    .expect("js update");
    let receipt = py
        .deliver("disk full", &event(1), &py_config)
        .await
        .expect("py deliver");
    assert_eq!(
        (receipt.destination.as_str(), receipt.message_id.as_str()),
        ("-100", "4242")
    );
    py.update(
        &receipt,
        StatusChange::Resolved,
        "disk full",
        &event(1),
        &py_config,
    )
    .await
    .expect("py update");
    let bad = Receipt {
        destination: "-100".into(),
        message_id: "not-a-number".into(),
    };
    let err = py
        .update(
            &bad,
            StatusChange::Resolved,
            "disk full",
            &event(1),
            &py_config,
        )
        .await;
    assert!(matches!(err, Err(PluginError::InvalidInput(_))), "{err:?}");

    let hits = rx.wait_for(4).await;
    assert_eq!(
        hits[1].body,
        json!({ "text": "disk full", "id": "bench-1", "resolved": false, "status": "acknowledged" })
    );
    assert_eq!(hits[3].path, format!("/bot{TOKEN}/editMessageText"));
    assert_eq!(
        hits[3].body,
        json!({
            "chat_id": "-100",
            "message_id": 4242,
            "text": "disk full\n\nResolved",
            "link_preview_options": { "is_disabled": true },
        })
    );
    assert_eq!(hits.len(), 4, "{hits:?}");
}
