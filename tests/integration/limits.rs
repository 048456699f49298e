//! Request limits against the real binary: JSON nesting depth, alerts per
//! array, load shedding with 503 + `Retry-After`, and the existing body
//! size cap. After each refusal the gateway still serves.

use std::time::{Duration, Instant};

use crate::harden_rig::{Gw, alert};
use crate::slack_emulator::{Mode, SlackEmulator};

fn nested(depth: usize) -> Vec<u8> {
    // An alert the template can render, with a chain of objects under `a`
    // so that the whole body is `depth` levels deep.
    let chain = depth - 1;
    let mut s = String::from(
        "{\"status\":\"firing\",\"commonLabels\":{\"severity\":\"critical\",\
         \"alertname\":\"Deep\"},\"a\":",
    );
    for _ in 1..chain {
        s.push_str("{\"a\":");
    }
    s.push_str("{}");
    for _ in 1..chain {
        s.push('}');
    }
    s.push('}');
    s.into_bytes()
}

#[tokio::test]
async fn deep_json_is_refused_before_parsing() {
    let slack = SlackEmulator::start(Mode::Ok).await;
    let gw = Gw::start(&slack, "ingest:\n  max_json_depth: 16\n", &[]).await;

    // At the limit: accepted and rendered.
    let a = gw.post("", &[], &nested(16)).await;
    assert_eq!(a.status, 201, "{}", a.text);

    // One deeper: 400 naming the key.
    let a = gw.post("", &[], &nested(17)).await;
    assert_eq!(a.status, 400, "{}", a.text);
    assert!(a.error().contains("ingest.max_json_depth"), "{}", a.text);

    // Half a million open brackets (within the body cap): refused at once,
    // and nothing crashed.
    let started = Instant::now();
    let a = gw.post("", &[], &"[".repeat(500_000).into_bytes()).await;
    assert_eq!(a.status, 400, "{}", a.text);
    assert!(started.elapsed() < Duration::from_secs(10));
    assert!(gw.healthy().await);
    assert_eq!(slack.requests().len(), 1);
}

#[tokio::test]
async fn default_depth_limit_protects_the_plugins() {
    let slack = SlackEmulator::start(Mode::Ok).await;
    let gw = Gw::start(&slack, "", &[]).await;
    // 64 levels (the default) go through every plugin; 65 do not get in.
    let a = gw.post("", &[], &nested(64)).await;
    assert_eq!(a.status, 201, "{}", a.text);
    let a = gw.post("", &[], &nested(65)).await;
    assert_eq!(a.status, 400, "{}", a.text);
    let deep_in_array = format!("[{}]", String::from_utf8(nested(64)).expect("utf8"));
    let a = gw.post("", &[], deep_in_array.as_bytes()).await;
    assert_eq!(a.status, 400, "{}", a.text);
    assert!(gw.healthy().await);
}

#[tokio::test]
async fn arrays_longer_than_max_alerts_are_refused() {
    let slack = SlackEmulator::start(Mode::Ok).await;
    let gw = Gw::start(&slack, "ingest:\n  max_alerts: 3\n", &[]).await;
    let batch = |n: usize| {
        let items: Vec<String> = (0..n)
            .map(|i| String::from_utf8(alert(&format!("Batch{i}"))).expect("utf8"))
            .collect();
        format!("[{}]", items.join(",")).into_bytes()
    };
    let a = gw.post("", &[], &batch(3)).await;
    assert_eq!(a.status, 201, "{}", a.text);
    assert_eq!(a.json()["count"], 3);
    let a = gw.post("", &[], &batch(4)).await;
    assert_eq!(a.status, 413, "{}", a.text);
    assert!(a.error().contains("4 alerts"), "{}", a.text);
    assert!(a.error().contains("ingest.max_alerts"), "{}", a.text);
    assert_eq!(
        slack.requests().len(),
        3,
        "nothing of the refused batch sent"
    );
}

#[tokio::test]
async fn load_beyond_max_concurrent_requests_is_shed_with_retry_after() {
    // Slack never answers; each delivery gives up after its 3 s budget, so
    // one request holds the only slot for about 3 s.
    let slack = SlackEmulator::start(Mode::AlwaysHang).await;
    let extra = "ingest:\n  max_concurrent_requests: 1\n";
    let gw = Gw::start_with_budget(&slack, "3s", extra, &[]).await;
    let gw = std::sync::Arc::new(gw);
    let first = {
        let gw = gw.clone();
        tokio::spawn(async move { gw.post("", &[], &alert("Holder")).await })
    };
    // Wait until the first request has reached Slack (it holds the slot).
    let reached = crate::common::eventually(Duration::from_secs(30), async || {
        !slack.requests().is_empty()
    })
    .await;
    assert!(reached, "the first alert never reached Slack");

    let shed = gw.post("", &[], &alert("Shed")).await;
    assert_eq!(shed.status, 503, "{}", shed.text);
    assert_eq!(shed.header("retry-after"), "1");
    assert!(
        shed.error().contains("ingest.max_concurrent_requests"),
        "{}",
        shed.text
    );
    // Other routes are not limited.
    assert!(gw.healthy().await);

    let first = first.await.expect("first request");
    assert_eq!(first.status, 502, "{}", first.text);
    // The slot is free again.
    let again = gw.post("", &[], &b"[]"[..]).await;
    assert_eq!(again.status, 400, "{}", again.text);
}

#[tokio::test]
async fn bodies_over_max_body_bytes_get_413() {
    let slack = SlackEmulator::start(Mode::Ok).await;
    let gw = Gw::start(&slack, "", &[]).await;
    let big = format!(
        "{{\"status\":\"firing\",\"pad\":\"{}\"}}",
        "x".repeat(1_100_000)
    );
    let a = gw.post("", &[], big.as_bytes()).await;
    assert_eq!(a.status, 413, "{}", a.text);
    assert!(a.error().contains("alert.max_body_bytes"), "{}", a.text);
    assert!(gw.healthy().await);
}

/// A client that sends its request head a few bytes at a time (slowloris)
/// is cut off after `ingest.header_read_timeout`; the gateway serves others
/// meanwhile. Without the timeout the connection would stay open for good.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_request_head_is_cut_off() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let slack = SlackEmulator::start(Mode::Ok).await;
    let gw = Gw::start(&slack, "ingest:\n  header_read_timeout: 1s\n", &[]).await;
    let addr = format!("127.0.0.1:{}", gw.process.port);
    let mut slow = tokio::net::TcpStream::connect(&addr)
        .await
        .expect("connect");
    let opened = Instant::now();
    let head =
        b"POST /api/incidents HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n";
    let mut closed = false;
    for chunk in head.chunks(4) {
        if slow.write_all(chunk).await.is_err() {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // A normal request on another connection is served in the meantime.
    let a = gw.post("", &[], &alert("served")).await;
    assert_eq!(a.status, 201, "{}", a.text);
    if !closed {
        let mut buf = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(20), slow.read_to_end(&mut buf)).await;
        assert!(
            read.is_ok(),
            "the slow connection is still open after {:?}",
            opened.elapsed()
        );
    }
    assert!(
        opened.elapsed() >= Duration::from_millis(900),
        "closed too early"
    );
    assert!(gw.healthy().await);
}

/// A client that sends a complete head, then its body too slowly, gets 408
/// after `ingest.body_read_timeout`, and nothing is posted to Slack.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_body_gets_408_and_nothing_is_sent() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let slack = SlackEmulator::start(Mode::Ok).await;
    let gw = Gw::start(&slack, "ingest:\n  body_read_timeout: 1s\n", &[]).await;
    let body = alert("slow body");
    let mut slow = tokio::net::TcpStream::connect(format!("127.0.0.1:{}", gw.process.port))
        .await
        .expect("connect");
    let head = format!(
        "POST /api/incidents HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    slow.write_all(head.as_bytes()).await.expect("head");
    let sent = Instant::now();
    // Half the body now, the rest never.
    slow.write_all(&body[..body.len() / 2])
        .await
        .expect("half the body");
    let mut answer = Vec::new();
    tokio::time::timeout(Duration::from_secs(20), slow.read_to_end(&mut answer))
        .await
        .expect("answered in time")
        .expect("read");
    let answer = String::from_utf8_lossy(&answer);
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("ingest.body_read_timeout"), "{answer}");
    assert!(
        sent.elapsed() >= Duration::from_millis(900),
        "answered before the timeout: {:?}",
        sent.elapsed()
    );
    assert_eq!(slack.requests().len(), 0, "nothing reaches Slack");
    // The gateway goes on serving.
    let ok = gw.post("", &[], &alert("served")).await;
    assert_eq!(ok.status, 201, "{}", ok.text);
}
