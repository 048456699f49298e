//! A message update is retried like a delivery: Slack rate-limits the
//! `chat.update` that shows an ACK, and the gateway waits the
//! `Retry-After` it was given and sends it again, so the message does not
//! keep saying less than what happened.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::oncall_rig::{Rig, ack, ack_url_of, payload, post, wait_for};
use crate::slack_emulator::{Fault, Mode};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limited_update_is_sent_again_after_retry_after() {
    // Call 1 (the post) passes; call 2 (the first update) is told to wait 1 s.
    let script = Arc::new(vec![Fault::Pass, Fault::RateLimited(1)]);
    let rig = Rig::with_slack(Mode::Scripted(script)).await;
    let gw = rig.gateway("gw", 6379).await;
    let (status, body) = post(&gw, "", payload("critical", "update-retry")).await;
    assert_eq!(status, 201, "{body}");
    let link = ack_url_of(&rig.slack, 0).expect("an ACK link");

    let acked = Instant::now();
    let (status, answer) = ack(&link, "application/json").await;
    assert_eq!(status, 200, "{answer}");
    assert!(
        wait_for(Duration::from_secs(10), || rig
            .slack
            .calls("chat.update")
            .len()
            == 2)
        .await,
        "the update was not sent again:\n{}",
        gw.log()
    );
    assert!(
        acked.elapsed() >= Duration::from_secs(1),
        "Retry-After not kept"
    );
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let updates = rig.slack.calls("chat.update");
    assert_eq!(updates.len(), 2, "{updates:#?}");
    assert_eq!(updates[0], updates[1]);
    let note = updates[1]["attachments"][0]["blocks"]
        .as_array()
        .and_then(|b| b.last())
        .map(|b| b["elements"][0]["text"].clone())
        .unwrap_or_default();
    assert_eq!(note, "✅ Acknowledged — escalation cancelled");
}
