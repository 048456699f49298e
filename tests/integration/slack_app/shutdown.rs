//! A click just before a graceful shutdown: Slack has its 200 already, so
//! the gateway finishes the click's work (the acknowledgement, the message
//! update, an ACK passed on to the provider that paged) before it exits,
//! rather than drop it.

use std::time::{Duration, Instant};

use super::{SIGNING_SECRET, click, gateway, raise, signed};
use crate::gateway::Process;
use crate::oncall_rig::{Rig, incident_json, reaches};
use crate::opsgenie_emulator::OpsgenieEmulator;
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

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_click_just_before_sigterm_is_still_passed_on_to_opsgenie() {
    let rig = Rig::new().await;
    let og = OpsgenieEmulator::start(&[crate::opsgenie::KEY]).await;
    let mut env = rig.env();
    env.push(("OPSGENIE_API_KEY", crate::opsgenie::KEY.into()));
    env.push(("SLACK_SIGNING_SECRET", SIGNING_SECRET.into()));
    let yaml = crate::opsgenie::yaml(&rig, &og);
    let mut gw = Process::start(&rig.dir("og"), &yaml, &env).await;
    let id = raise(&gw, "slack-app-og-shutdown", 0.0).await;
    assert!(reaches(&gw, &id, "escalated", 10).await, "{}", gw.log());

    // Opsgenie asks the first try to wait 2 s, so passing the ACK on is
    // still under way when the signal comes.
    og.fail_next(&[(429, Some(2))]);
    let (status, _, _) = signed(&gw, click(&rig.slack, "ack_incident", &id)).await;
    assert_eq!(status, 200);
    gw.terminate();
    let exited = gw.wait_exit(Duration::from_secs(30));
    assert!(
        exited.is_some_and(|s| s.success()),
        "{exited:?}\n{}",
        gw.log()
    );

    let acknowledged = og.events_of("acknowledge");
    assert_eq!(acknowledged.len(), 1, "{}", gw.log());
    assert_eq!(acknowledged[0].body["user"], "alice (Slack U123)");
    assert!(og.invalid().is_empty(), "{:?}", og.invalid());
}
