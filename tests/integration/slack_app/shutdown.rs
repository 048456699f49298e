//! A click just before a graceful shutdown: Slack has its 200 already, so
//! the gateway finishes the click's work (the acknowledgement and the
//! message update) before it exits, rather than drop it.

use std::time::{Duration, Instant};

use super::{click, gateway, raise, signed};
use crate::oncall_rig::{Rig, incident_json};
use crate::slack_emulator::Mode;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_click_just_before_sigterm_is_finished_before_the_gateway_exits() {
    // Every Slack Web API call takes this long, so the click's message
    // update is still waiting for Slack when the signal comes.
    const SLOW: Duration = Duration::from_secs(2);
    let rig = Rig::with_slack(Mode::Slow(SLOW)).await;
    let mut a = gateway(&rig, "a").await;
    let b = gateway(&rig, "b").await;
    let id = raise(&a, "slack-app-shutdown", 3.0).await;

    let (status, answer, _) = signed(&a, click(&rig.slack, "ack_incident", &id)).await;
    assert_eq!(status, 200, "{answer}");
    a.terminate();
    let exited = a.wait_exit(Duration::from_secs(30));
    let exited_at = Instant::now();
    assert!(
        exited.is_some_and(|s| s.success()),
        "{exited:?}\n{}",
        a.log()
    );

    // The other replica sees the acknowledgement, and Slack answered the
    // update before the process ended.
    assert_eq!(incident_json(&b, &id).await["state"], "acknowledged");
    let update = rig
        .slack
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/chat.update"))
        .unwrap_or_else(|| panic!("no chat.update before the exit:\n{}", a.log()));
    assert!(
        exited_at >= update.at + SLOW,
        "exited {:?} after the update was sent, before Slack answered it",
        exited_at - update.at
    );
    assert!(a.log().contains("shut down cleanly"), "{}", a.log());
}
