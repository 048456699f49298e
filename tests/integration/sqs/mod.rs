//! `queue.sqs`: the real binary long-polls a queue on moto's local
//! SQS-compatible server (see [`moto`]) and posts each message to Slack.

mod moto;

use std::time::Duration;

use serde_json::json;

use crate::gateway::Process;
use crate::oncall_rig::wait_for;
use crate::slack_emulator::{Fault, Mode, SlackEmulator};
use moto::Moto;

/// Marker `i` (fixed width, so no marker is part of another).
fn marker(i: usize) -> String {
    format!("sqs-msg-{i:03}")
}

/// Message `i` as producers send them, in turn: raw JSON, wrapped by an SNS
/// subscription without raw delivery, and plain text.
fn body(i: usize) -> String {
    let alert = json!({ "message": marker(i) }).to_string();
    match i % 3 {
        0 => alert,
        1 => json!({
            "Type": "Notification",
            "MessageId": format!("5c1b7e2a-0000-4000-8000-{i:012}"),
            "TopicArn": "arn:aws:sns:us-east-1:123456789012:alerts",
            "Message": alert,
            "Timestamp": "2026-12-07T01:00:00.000Z",
            "SignatureVersion": "1",
            "Signature": "c2lnbmF0dXJl",
            "SigningCertURL": "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-x.pem",
            "UnsubscribeURL": "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe"
        })
        .to_string(),
        _ => format!("{} on db-1", marker(i)),
    }
}

/// A gateway polling `queue` on `moto`, posting to `slack`. `extra` is
/// added under `queue.sqs`; `alert` under `alert:`.
async fn gateway(
    dir: &std::path::Path,
    moto: &Moto,
    queue: &str,
    slack: &SlackEmulator,
    extra: &str,
    alert: &str,
) -> Process {
    std::fs::create_dir_all(dir).expect("mkdir");
    let template = dir.join("slack.tmpl");
    std::fs::write(&template, "{{ .message }}").expect("write the template");
    let yaml = format!(
        "host: 127.0.0.1\nport: {{port}}\nalert:\n  slack:\n    enable: true\n    token: xoxb-test\n    \
         channel_id: C123\n    template_path: {}\n    api_url: {}\n{alert}queue:\n  enable: true\n  sqs:\n    \
         enable: true\n    queue_url: {queue}\n    region: us-east-1\n    endpoint_url: {}\n    \
         wait_time: 1s\n{extra}plugins:\n  watch: false\n",
        template.display(),
        slack.api_url(),
        moto.url,
    );
    Process::start(dir, &yaml, &moto.env()).await
}

/// How many times each of the first `n` markers was posted.
fn counts(slack: &SlackEmulator, n: usize) -> Vec<usize> {
    let posted: Vec<String> = slack.posted().iter().map(|p| p.to_string()).collect();
    (0..n)
        .map(|i| {
            let m = marker(i);
            posted.iter().filter(|p| p.contains(&m)).count()
        })
        .collect()
}

/// `versus_queue_messages_total{queue="sqs",outcome=…}`.
async fn metric(gw: &Process, outcome: &str) -> u64 {
    let series = format!("versus_queue_messages_total{{queue=\"sqs\",outcome=\"{outcome}\"}}");
    crate::common::metric(&gw.base(), &series).await as u64
}

/// Whether nothing is left on the queue, waiting or in flight.
async fn drained(moto: &Moto, queue: &str) -> bool {
    moto.left(queue).await == (0, 0)
}

/// Whether the queue is [`drained`] within 10 s.
async fn empties(moto: &Moto, queue: &str) -> bool {
    for _ in 0..100 {
        if drained(moto, queue).await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_messages_are_each_delivered_once() {
    let moto = Moto::start().await;
    let queue = moto.queue("alerts").await;
    let slack = SlackEmulator::start(Mode::Ok).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut bodies: Vec<String> = (0..100).map(body).collect();
    // One message no retry can fix: nested past ingest.max_json_depth.
    bodies.push(format!("{}1{}", "{\"a\":".repeat(100), "}".repeat(100)));
    moto.send(&queue, &bodies).await;
    let gw = gateway(&dir.path().join("gw"), &moto, &queue, &slack, "", "").await;

    assert!(
        wait_for(Duration::from_secs(60), || slack.posted().len() >= 100).await,
        "{} of 100 posted\n{}",
        slack.posted().len(),
        gw.log()
    );
    assert!(
        empties(&moto, &queue).await,
        "left on the queue: {:?}",
        moto.left(&queue).await
    );
    // A while later, nothing was handed out again: still once each.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(counts(&slack, 100), vec![1; 100], "{}", gw.log());
    assert_eq!(slack.posted().len(), 100);
    assert_eq!(metric(&gw, "handled").await, 100);
    assert_eq!(metric(&gw, "refused").await, 1, "{}", gw.log());
    assert_eq!(metric(&gw, "kept").await, 0, "{}", gw.log());
    assert!(gw.log().contains("SQS message refused"), "{}", gw.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_killed_mid_batch_loses_none() {
    let moto = Moto::start().await;
    let queue = moto.queue("alerts").await;
    // Slow enough that the kill lands while a batch is being posted.
    let slack = SlackEmulator::start(Mode::Slow(Duration::from_millis(150))).await;
    let dir = tempfile::tempdir().expect("tempdir");
    moto.send(&queue, &(0..100).map(body).collect::<Vec<_>>())
        .await;
    let extra = "    visibility_timeout: 2s\n    max_messages: 10\n";
    let mut first = gateway(&dir.path().join("a"), &moto, &queue, &slack, extra, "").await;
    assert!(
        wait_for(Duration::from_secs(60), || slack.posted().len() >= 35).await,
        "{}",
        first.log()
    );
    first.kill9();
    let before = slack.posted().len();
    assert!(before < 100, "the kill came after the last message");

    let second = gateway(&dir.path().join("b"), &moto, &queue, &slack, extra, "").await;
    assert!(
        wait_for(Duration::from_secs(60), || counts(&slack, 100)
            .iter()
            .all(|&n| n >= 1))
        .await,
        "lost: {:?}\n{}",
        counts(&slack, 100)
            .iter()
            .enumerate()
            .filter(|(_, n)| **n == 0)
            .map(|(i, _)| i)
            .collect::<Vec<_>>(),
        second.log()
    );
    assert!(
        empties(&moto, &queue).await,
        "left on the queue: {:?}",
        moto.left(&queue).await
    );
    // At least once: only a message of the batch being handled at the
    // kill (at most max_messages) may have been posted and not deleted.
    let posted = counts(&slack, 100);
    let twice: usize = posted.iter().map(|n| n - 1).sum();
    assert!(posted.iter().all(|&n| n <= 2), "{posted:?}");
    assert!(twice <= 10, "{twice} posted twice: {posted:?}");
    assert_eq!(slack.posted().len(), 100 + twice);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_delivery_stays_hidden_and_a_failed_one_comes_back() {
    let moto = Moto::start().await;
    let dir = tempfile::tempdir().expect("tempdir");

    // Slack takes 4 s; the message is hidden for 1 s at a time, renewed, so
    // the other replica polling the queue never receives it.
    let slow_queue = moto.queue("slow").await;
    let slow = SlackEmulator::start(Mode::Slow(Duration::from_secs(4))).await;
    let extra = "    visibility_timeout: 1s\n";
    let gw = gateway(
        &dir.path().join("slow"),
        &moto,
        &slow_queue,
        &slow,
        extra,
        "",
    )
    .await;
    let other = gateway(
        &dir.path().join("other"),
        &moto,
        &slow_queue,
        &slow,
        extra,
        "",
    )
    .await;
    moto.send(&slow_queue, &[body(0)]).await;
    assert!(
        wait_for(Duration::from_secs(30), || slow.posted().len() == 1).await,
        "{}",
        gw.log()
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(drained(&moto, &slow_queue).await, "{}", gw.log());
    assert_eq!(counts(&slow, 1), vec![1]);
    let logs = format!("{}\n{}", gw.log(), other.log());
    assert_eq!(slow.requests().len(), 1, "received twice:\n{logs}");
    let handled = metric(&gw, "handled").await + metric(&other, "handled").await;
    let kept = metric(&gw, "kept").await + metric(&other, "kept").await;
    assert_eq!((handled, kept), (1, 0), "{logs}");
    drop((gw, other));

    // Slack fails three calls: within the 1 s budget two are tried, the
    // message is kept, and when SQS hands it out again it goes through.
    let failing_queue = moto.queue("failing").await;
    let script = vec![Fault::ServerError; 3];
    let failing = SlackEmulator::start(Mode::Scripted(std::sync::Arc::new(script))).await;
    let extra = "    visibility_timeout: 2s\n";
    let retry = "  retry:\n    max_elapsed: 1s\n    initial_backoff: 400ms\n";
    let gw = gateway(
        &dir.path().join("failing"),
        &moto,
        &failing_queue,
        &failing,
        extra,
        retry,
    )
    .await;
    moto.send(&failing_queue, &[body(1)]).await;
    assert!(
        wait_for(Duration::from_secs(30), || failing.posted().len() == 1).await,
        "{}",
        gw.log()
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(drained(&moto, &failing_queue).await, "{}", gw.log());
    assert_eq!(counts(&failing, 2), vec![0, 1]);
    assert_eq!(failing.requests().len(), 4, "{}", gw.log());
    assert_eq!(metric(&gw, "kept").await, 1, "{}", gw.log());
    assert_eq!(metric(&gw, "handled").await, 1, "{}", gw.log());
}
