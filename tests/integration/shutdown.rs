//! Graceful shutdown of the real binary: on SIGTERM the listener closes, an
//! alert in flight is still delivered and answered, and the process exits
//! 0. An alert whose sender hung up is still delivered, and so is an
//! attempt that outlived its request (the retry budget ran out first).

use std::time::Duration;

use crate::common::eventually;
use crate::harden_rig::{Gw, alert};
use crate::slack_emulator::{Mode, SlackEmulator};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_finishes_the_alert_in_flight_then_exits_cleanly() {
    let slack = SlackEmulator::start(Mode::Slow(Duration::from_secs(2))).await;
    let mut gw = Gw::start(&slack, "", &[]).await;
    let base = gw.process.base();
    let in_flight = {
        let url = format!("{base}/api/incidents");
        tokio::spawn(async move {
            let r = reqwest::Client::new()
                .post(url)
                .header("content-type", "application/json")
                .body(alert("Draining"))
                .timeout(Duration::from_secs(60))
                .send()
                .await
                .expect("POST");
            (r.status().as_u16(), r.text().await.unwrap_or_default())
        })
    };
    let reached = eventually(Duration::from_secs(30), async || {
        !slack.requests().is_empty()
    })
    .await;
    assert!(reached, "the alert never reached Slack");
    gw.process.terminate();

    // New connections are refused once the signal is handled...
    tokio::time::sleep(Duration::from_millis(700)).await;
    let refused = reqwest::Client::new()
        .get(format!("{base}/healthz"))
        .timeout(Duration::from_secs(5))
        .send()
        .await;
    assert!(
        refused.is_err(),
        "still accepting after SIGTERM: {refused:?}"
    );

    // ... while the alert in flight is delivered and answered.
    let (status, text) = in_flight.await.expect("POST task");
    assert_eq!(status, 201, "{text}");
    assert_eq!(slack.posted().len(), 1);
    let exit = gw.process.wait_exit(Duration::from_secs(30));
    assert!(
        exit.is_some_and(|s| s.success()),
        "exit {exit:?}\n{}",
        gw.process.log()
    );
    assert!(gw.process.log().contains("shut down cleanly"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alert_is_delivered_even_if_its_sender_hangs_up() {
    let slack = SlackEmulator::start(Mode::Slow(Duration::from_secs(2))).await;
    let gw = Gw::start(&slack, "", &[]).await;
    let hung_up = reqwest::Client::new()
        .post(format!("{}/api/incidents", gw.process.base()))
        .header("content-type", "application/json")
        .body(alert("HungUp"))
        .timeout(Duration::from_millis(500))
        .send()
        .await;
    assert!(hung_up.is_err(), "expected the client to time out");
    let delivered = eventually(Duration::from_secs(20), async || slack.posted().len() == 1).await;
    assert!(delivered, "{}", gw.process.log());
    // Once done, the slot is free: the next alert is accepted.
    let a = gw.post("", &[], &alert("Next")).await;
    assert_eq!(a.status, 201, "{}", a.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_waits_for_a_delivery_that_outlived_its_request() {
    // Slack answers in 2 s; the budget is 1 s, so the answer comes first
    // and the attempt goes on in the background.
    let slack = SlackEmulator::start(Mode::Slow(Duration::from_secs(2))).await;
    let mut gw = Gw::start_with_budget(&slack, "1s", "", &[]).await;
    let answer = gw.post("", &[], &alert("Outlived")).await;
    assert_eq!(answer.status, 502, "{}", answer.text);
    assert!(answer.text.contains("in_flight"), "{}", answer.text);
    assert!(slack.posted().is_empty());

    gw.process.terminate();
    let exit = gw.process.wait_exit(Duration::from_secs(30));
    assert!(
        exit.is_some_and(|s| s.success()),
        "exit {exit:?}\n{}",
        gw.process.log()
    );
    // The process stayed up until Slack had the message.
    assert_eq!(slack.posted().len(), 1, "{}", gw.process.log());
    assert!(
        gw.process
            .log()
            .contains("delivered after the retry budget ran out"),
        "{}",
        gw.process.log()
    );
}
