//! Plugin outbound HTTP and private addresses, with the real test channel
//! plugin: loopback, link-local and other non-public addresses are refused
//! after DNS resolution and on every redirect hop, unless the allow-list
//! names the address itself or `allow_private_networks` is set.

use axum::Router;
use axum::response::Redirect;
use axum::routing::get;
use versus::pipeline::PluginError;
use versus::pipeline::bindings::types::{Event, Receipt};

use crate::common::{built_plugin, loader, plugins_allowing};

async fn server() -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let app = Router::new()
        .route("/ok", get(|| async { "reached" }))
        .route(
            "/to-localhost",
            get(move || async move { Redirect::temporary(&format!("http://localhost:{port}/ok")) }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await });
    port
}

async fn deliver(hosts: &[&str], private: bool, url: &str) -> Result<Receipt, PluginError> {
    let mut plugins = plugins_allowing(hosts);
    plugins.defaults.allow_private_networks = private;
    let channel = loader()
        .channel_file(&plugins, &built_plugin("test_channel"))
        .await
        .expect("load");
    let event = Event {
        id: "ssrf-1".into(),
        payload: "{}".into(),
        resolved: false,
        severity: None,
        ack_url: None,
        dedup_key: None,
    };
    let config = serde_json::json!({ "url": url }).to_string();
    channel.deliver("hi", &event, &config).await
}

fn assert_denied(result: Result<Receipt, PluginError>, says: &str) {
    match result {
        Err(PluginError::Permanent(m)) => {
            assert!(m.starts_with("http: denied"), "{m}");
            assert!(m.contains(says), "{m}");
        }
        other => panic!("expected a denial, got {other:?}"),
    }
}

#[tokio::test]
async fn wildcards_do_not_reach_private_addresses() {
    let port = server().await;
    let ok = format!("http://127.0.0.1:{port}/ok");
    // A wildcard entry is not an explicit allowance for loopback.
    assert_denied(
        deliver(&["http://*:*"], false, &ok).await,
        "not a public address",
    );
    let mapped = format!("http://[::ffff:127.0.0.1]:{port}/ok");
    assert_denied(
        deliver(&["http://*:*"], false, &mapped).await,
        "not a public address",
    );
    // Cloud metadata: refused without a connection attempt.
    assert_denied(
        deliver(
            &["http://*"],
            false,
            "http://169.254.169.254/latest/meta-data/",
        )
        .await,
        "169.254.169.254 is not a public address",
    );
    // The exact address in the list, or allow_private_networks: reached.
    let exact = format!("http://127.0.0.1:{port}");
    let r = deliver(&[&exact], false, &ok).await.expect("exact address");
    assert_eq!(r.message_id, "reached");
    let r = deliver(&["http://*:*"], true, &ok)
        .await
        .expect("private allowed");
    assert_eq!(r.message_id, "reached");
}

#[tokio::test]
async fn names_are_checked_after_resolution_and_on_redirects() {
    let port = server().await;
    // `localhost` is allowed by name but resolves to loopback.
    let by_name = format!("http://localhost:{port}/ok");
    assert_denied(
        deliver(&["http://localhost:*"], false, &by_name).await,
        "localhost resolves only to non-public addresses",
    );
    let r = deliver(&["http://localhost:*"], true, &by_name)
        .await
        .expect("private allowed");
    assert_eq!(r.message_id, "reached");

    // A redirect from an allowed address to a name that resolves inside.
    let exact = format!("http://127.0.0.1:{port}");
    let hop = format!("http://127.0.0.1:{port}/to-localhost");
    assert_denied(
        deliver(&[&exact, "http://localhost:*"], false, &hop).await,
        "resolves only to non-public",
    );
    // ... and to a name the list does not have at all.
    assert_denied(deliver(&[&exact], false, &hop).await, "allowed_hosts");
    let r = deliver(&[&exact, "http://localhost:*"], true, &hop)
        .await
        .expect("followed");
    assert_eq!(r.message_id, "reached");
}
