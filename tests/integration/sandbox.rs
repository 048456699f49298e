//! Sandbox tests with real misbehaving components built from source: each
//! failure is confined to its own call, and the next call succeeds.

use std::time::{Duration, Instant};

use axum::Router;
use axum::response::Redirect;
use axum::routing::get;
use versus::pipeline::PluginError;
use versus::pipeline::bindings::types::{Event, Receipt};

use crate::common::{built_plugin, loader, plugins_allowing};

async fn assert_still_works(r: &versus::pipeline::RendererPlugin) {
    let out = r
        .render("echo", r#"{"a":1}"#)
        .await
        .expect("echo after failure");
    assert_eq!(out, r#"echo:{"a":1}"#);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runaway_loop_is_stopped_by_the_deadline() {
    let loader = loader();
    let mut plugins = plugins_allowing(&[]);
    plugins.defaults.timeout = Duration::from_millis(300);
    let r = loader
        .renderer(
            &plugins,
            "test_renderer",
            Some(&built_plugin("test_renderer")),
        )
        .await
        .expect("load");
    let started = Instant::now();
    let err = r.render("loop", "{}").await.expect_err("must time out");
    assert!(matches!(err, PluginError::Timeout(_)), "{err:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    assert_still_works(&r).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runaway_loop_does_not_block_other_calls() {
    let loader = loader();
    let mut plugins = plugins_allowing(&[]);
    plugins.defaults.timeout = Duration::from_secs(2);
    let r = std::sync::Arc::new(
        loader
            .renderer(
                &plugins,
                "test_renderer",
                Some(&built_plugin("test_renderer")),
            )
            .await
            .expect("load"),
    );
    // Two loops on a two-worker runtime: guests yield at every epoch tick,
    // so an echo call still completes long before the loops time out.
    let loops: Vec<_> = (0..2)
        .map(|_| {
            let r = r.clone();
            tokio::spawn(async move { r.render("loop", "{}").await })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    assert_still_works(&r).await;
    assert!(
        started.elapsed() < Duration::from_millis(1500),
        "echo waited {:?}",
        started.elapsed()
    );
    for l in loops {
        assert!(matches!(
            l.await.expect("join"),
            Err(PluginError::Timeout(_))
        ));
    }
}

#[tokio::test]
async fn memory_bomb_is_stopped_by_the_cap() {
    let loader = loader();
    let r = loader
        .renderer(
            &plugins_allowing(&[]),
            "test_renderer",
            Some(&built_plugin("test_renderer")),
        )
        .await
        .expect("load");
    let err = r.render("oom", "{}").await.expect_err("must hit the cap");
    assert!(matches!(err, PluginError::MemoryLimit(32)), "{err:?}");
    assert_still_works(&r).await;
}

#[tokio::test]
async fn trap_fails_only_that_call() {
    let loader = loader();
    let r = loader
        .renderer(
            &plugins_allowing(&[]),
            "test_renderer",
            Some(&built_plugin("test_renderer")),
        )
        .await
        .expect("load");
    let err = r.render("trap", "{}").await.expect_err("must trap");
    assert!(matches!(err, PluginError::Trap(_)), "{err:?}");
    assert_still_works(&r).await;
}

#[tokio::test]
async fn oversized_output_is_rejected() {
    let loader = loader();
    let mut plugins = plugins_allowing(&[]);
    plugins.defaults.max_output_bytes = 1000;
    let r = loader
        .renderer(
            &plugins,
            "test_renderer",
            Some(&built_plugin("test_renderer")),
        )
        .await
        .expect("load");
    assert_eq!(
        r.render("big:1000", "{}")
            .await
            .expect("at the limit")
            .len(),
        1000
    );
    let err = r
        .render("big:1001", "{}")
        .await
        .expect_err("over the limit");
    assert!(
        matches!(
            err,
            PluginError::OutputTooLarge {
                size: 1001,
                limit: 1000
            }
        ),
        "{err:?}"
    );
    assert_still_works(&r).await;
}

fn event() -> Event {
    crate::common::event("test-1")
}

/// A local server: `/ok` answers, `/away` redirects to a host that is not allowed.
async fn local_server() -> u16 {
    let app = Router::new()
        .route("/ok", get(|| async { "hello from loopback" }))
        .route(
            "/away",
            get(|| async { Redirect::temporary("http://localhost:9/elsewhere") }),
        )
        .route("/stay", get(|| async { Redirect::temporary("/ok") }))
        .route("/big", get(|| async { "x".repeat(10_000) }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move { axum::serve(listener, app).await });
    port
}

async fn deliver_to(
    hosts: &[&str],
    url: &str,
    max_body: Option<usize>,
) -> Result<Receipt, PluginError> {
    let mut plugins = plugins_allowing(hosts);
    if let Some(m) = max_body {
        plugins.defaults.http_max_body_bytes = m;
    }
    let c = loader()
        .channel_file(&plugins, &built_plugin("test_channel"))
        .await
        .expect("load");
    let config = serde_json::json!({ "url": url }).to_string();
    c.deliver("hi", &event(), &config).await
}

#[tokio::test]
async fn outbound_http_follows_the_allow_list() {
    let port = local_server().await;
    let allowed = format!("http://127.0.0.1:{port}");
    let ok = deliver_to(&[&allowed], &format!("http://127.0.0.1:{port}/ok"), None)
        .await
        .expect("allowed");
    assert_eq!(ok.destination, "200");
    assert_eq!(ok.message_id, "hello from loopback");

    // Not on the list: the guest sees a `denied` error, not a trap.
    let err = deliver_to(
        &["http://127.0.0.1:1"],
        &format!("http://127.0.0.1:{port}/ok"),
        None,
    )
    .await
    .expect_err("denied");
    assert!(
        matches!(&err, PluginError::Permanent(m) if m.starts_with("http: denied")),
        "{err:?}"
    );

    // A redirect inside the list is followed; one leaving it is refused.
    let stay = deliver_to(&[&allowed], &format!("http://127.0.0.1:{port}/stay"), None)
        .await
        .expect("same-host redirect");
    assert_eq!(stay.message_id, "hello from loopback");
    let err = deliver_to(&[&allowed], &format!("http://127.0.0.1:{port}/away"), None)
        .await
        .expect_err("redirect out of the list");
    assert!(
        matches!(&err, PluginError::Permanent(m) if m.starts_with("http: denied")),
        "{err:?}"
    );

    // The response body cap.
    let err = deliver_to(
        &[&allowed],
        &format!("http://127.0.0.1:{port}/big"),
        Some(1000),
    )
    .await
    .expect_err("too large");
    assert!(
        matches!(&err, PluginError::Permanent(m) if m.starts_with("http: too-large")),
        "{err:?}"
    );
}
