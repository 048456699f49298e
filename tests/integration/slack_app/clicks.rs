//! Clicks on Acknowledge and Escalate now: who, when, and what is refused.

use std::time::Duration;

use serde_json::{Value, json};

use super::{
    SIGNING_SECRET, click, deliver, gateway, now_secs, raise, replies, sign, signed, update_notes,
};
use crate::common::eventually;
use crate::gateway::Process;
use crate::metrics::{sample, scrape};
use crate::oncall_rig::{Rig, incident_json, reaches};
use crate::slack_emulator::Mode;
use crate::ssm_emulator::Failure;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_click_acknowledges_as_its_user_and_the_message_says_who() {
    let rig = Rig::new().await;
    let a = gateway(&rig, "a").await;
    let b = gateway(&rig, "b").await;
    let id = raise(&a, "slack-app-ack", 3.0).await;

    // The buttons are interactive: no URL, upstream's ids, the incident id
    // as their value.
    let posted = rig.slack.posted();
    let blocks = posted[0]["attachments"][0]["blocks"]
        .as_array()
        .expect("blocks")
        .clone();
    let actions = blocks
        .iter()
        .find(|b| b["type"] == "actions")
        .expect("buttons");
    assert_eq!(actions["block_id"], "incident_actions");
    let buttons = actions["elements"].as_array().expect("elements");
    let ids: Vec<(&str, &str)> = buttons
        .iter()
        .map(|b| {
            (
                b["action_id"].as_str().unwrap_or(""),
                b["value"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(
        ids,
        [
            ("ack_incident", id.as_str()),
            ("escalate_incident", id.as_str())
        ]
    );
    assert!(buttons.iter().all(|b| b.get("url").is_none()), "{actions}");

    // Clicked: Slack gets its 200 at once; the incident is acknowledged by
    // U123, and the message is updated naming them.
    let body = click(&rig.slack, "ack_incident", &id);
    let ts = now_secs();
    let signature = sign(SIGNING_SECRET, ts, &body);
    let (status, _, _) = deliver(&a, body.clone(), ts, &signature).await;
    assert_eq!(status, 200);
    assert!(reaches(&b, &id, "acknowledged", 10).await, "{}", a.log());
    let shown = incident_json(&b, &id).await;
    assert_eq!(
        shown["acked_by"],
        json!({"source": "slack", "user_id": "U123", "name": "alice"})
    );
    let entry = shown["timeline"]
        .as_array()
        .and_then(|t| t.iter().find(|e| e["event"] == "acknowledged").cloned())
        .expect("an acknowledged entry");
    assert_eq!(entry["by"]["user_id"], "U123");
    assert!(
        eventually(Duration::from_secs(10), async || !update_notes(&rig.slack)
            .is_empty())
        .await
    );
    let notes = update_notes(&rig.slack);
    assert_eq!(notes.len(), 1, "{notes:?}");
    let when = shown["acked_ms"].as_i64().expect("acked_ms");
    let minutes = when / 60_000 % (24 * 60);
    assert_eq!(
        notes[0],
        format!(
            "✅ Acknowledged by <@U123> at {:02}:{:02} UTC — escalation cancelled",
            minutes / 60,
            minutes % 60
        )
    );

    // The same request again, to the other replica: a replay.
    let (status, answer, _) = deliver(&b, body, ts, &signature).await;
    assert_eq!((status, &answer["reason"]), (401, &json!("replayed")));

    // Counted by outcome.
    let (_, metrics) = scrape(&a).await;
    let series = r#"versus_slack_interactions_total{action="acknowledge",outcome="acknowledged"}"#;
    assert_eq!(sample(&metrics, series), Some(1.0), "{metrics}");
    assert!(rig.slack.replies().is_empty(), "{:?}", rig.slack.replies());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_not_signed_by_the_app_are_refused_and_change_nothing() {
    let rig = Rig::new().await;
    let gw = gateway(&rig, "a").await;
    let id = raise(&gw, "slack-app-refused", 3.0).await;
    let body = click(&rig.slack, "ack_incident", &id);
    let ts = now_secs();
    let stale = ts - 6 * 60;
    let mut altered = body.clone();
    altered.extend_from_slice(b"%20");
    let cases = [
        (
            "forged",
            body.clone(),
            ts,
            format!("v0={}", "0f".repeat(32)),
            "bad_signature",
        ),
        (
            "another app's secret",
            body.clone(),
            ts,
            sign("0123456789abcdef0123456789abcdef", ts, &body),
            "bad_signature",
        ),
        (
            "altered after signing",
            altered,
            ts,
            sign(SIGNING_SECRET, ts, &body),
            "bad_signature",
        ),
        (
            "stale",
            body.clone(),
            stale,
            sign(SIGNING_SECRET, stale, &body),
            "stale",
        ),
    ];
    for (what, body, ts, signature, reason) in cases {
        let (status, answer, _) = deliver(&gw, body, ts, &signature).await;
        assert_eq!(status, 401, "{what}: {answer}");
        assert_eq!(answer["reason"], reason, "{what}");
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(incident_json(&gw, &id).await["state"], "pending");
    assert!(rig.slack.calls("chat.update").is_empty());
    let (_, metrics) = scrape(&gw).await;
    let refused = |reason: &str| {
        sample(
            &metrics,
            &format!(r#"versus_slack_interactions_total{{action="none",outcome="{reason}"}}"#),
        )
    };
    assert_eq!(
        (refused("bad_signature"), refused("stale")),
        (Some(3.0), Some(1.0))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_late_clicks_are_told_privately_and_passed_on_with_the_user() {
    let rig = Rig::new().await;
    let gw = gateway(&rig, "a").await;

    // Paged at once: an ACK is passed on to AWS naming the person, and
    // they are told it was too late.
    let paged = raise(&gw, "slack-app-paged", 0.0).await;
    assert!(reaches(&gw, &paged, "escalated", 10).await, "{}", gw.log());
    let (status, _, _) = signed(&gw, click(&rig.slack, "ack_incident", &paged)).await;
    assert_eq!(status, 200);
    assert_eq!(
        replies(&rig.slack, 1).await,
        [
            "Too late: the incident was already escalated to on-call; the acknowledgement is passed on to aws_incident_manager"
        ]
    );
    assert!(
        eventually(Duration::from_secs(10), async || !rig
            .ssm
            .updates()
            .is_empty())
        .await
    );
    let (op, event) = rig.ssm.updates()[0].clone();
    let data: Value =
        serde_json::from_str(event["eventData"].as_str().unwrap_or("{}")).expect("eventData");
    assert_eq!(
        (op, data["text"].as_str()),
        (
            "timeline",
            Some("Acknowledged in Versus by alice (Slack U123) after the page")
        )
    );

    // Escalate now on it: already paged.
    let (status, _, _) = signed(&gw, click(&rig.slack, "escalate_incident", &paged)).await;
    assert_eq!(status, 200);
    assert_eq!(
        replies(&rig.slack, 2).await[1],
        "Too late: the incident was already escalated to on-call"
    );

    // Paging failed for good: the click says so.
    rig.ssm.fail_next(1, Failure::AccessDenied);
    let failed = raise(&gw, "slack-app-failed", 0.0).await;
    assert!(
        reaches(&gw, &failed, "escalation_failed", 10).await,
        "{}",
        gw.log()
    );
    let (status, _, _) = signed(&gw, click(&rig.slack, "ack_incident", &failed)).await;
    assert_eq!(status, 200);
    assert_eq!(
        replies(&rig.slack, 3).await[2],
        "Paging failed: nobody was paged"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escalate_now_pages_at_once_and_records_who_asked() {
    let rig = Rig::new().await;
    let gw = gateway(&rig, "a").await;
    let id = raise(&gw, "slack-app-now", 3.0).await;
    let (status, _, _) = signed(&gw, click(&rig.slack, "escalate_incident", &id)).await;
    assert_eq!(status, 200);
    assert!(reaches(&gw, &id, "escalated", 10).await, "{}", gw.log());
    assert_eq!(rig.ssm.calls_for(&id).len(), 1);
    let shown = incident_json(&gw, &id).await;
    assert_eq!(shown["escalate_now"]["by"]["user_id"], "U123");
    let events: Vec<&str> = shown["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .filter_map(|e| e["event"].as_str())
        .collect();
    assert_eq!(
        events,
        [
            "created",
            "escalation_requested",
            "escalation_attempt",
            "escalated"
        ]
    );
    assert_eq!(replies(&rig.slack, 1).await, ["Paging on-call now."]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_gets_its_answer_in_time_while_its_web_api_is_slow() {
    // chat.postMessage and chat.update each take 4 s.
    let rig = Rig::with_slack(Mode::Slow(Duration::from_secs(4))).await;
    let gw = gateway(&rig, "a").await;
    let id = raise(&gw, "slack-app-slow", 3.0).await;
    let (status, _, took) = signed(&gw, click(&rig.slack, "ack_incident", &id)).await;
    assert_eq!(status, 200);
    assert!(took < Duration::from_secs(3), "answered after {took:?}");
    // The update still goes out, after the answer.
    assert!(
        eventually(Duration::from_secs(15), async || update_notes(&rig.slack)
            .len()
            == 1)
        .await
    );
    assert!(update_notes(&rig.slack)[0].starts_with("✅ Acknowledged by <@U123>"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_click_acknowledges_at_opsgenie_as_the_person() {
    let rig = Rig::new().await;
    let og = crate::opsgenie_emulator::OpsgenieEmulator::start(&[crate::opsgenie::KEY]).await;
    let mut env = rig.env();
    env.push(("OPSGENIE_API_KEY", crate::opsgenie::KEY.into()));
    env.push(("SLACK_SIGNING_SECRET", SIGNING_SECRET.into()));
    let gw = Process::start(&rig.dir("og"), &crate::opsgenie::yaml(&rig, &og), &env).await;
    let id = raise(&gw, "slack-app-og", 0.0).await;
    assert!(reaches(&gw, &id, "escalated", 10).await, "{}", gw.log());
    let (status, _, _) = signed(&gw, click(&rig.slack, "ack_incident", &id)).await;
    assert_eq!(status, 200);
    assert!(
        eventually(Duration::from_secs(10), async || !og
            .events_of("acknowledge")
            .is_empty())
        .await
    );
    let acknowledge = &og.events_of("acknowledge")[0];
    assert_eq!(
        acknowledge.body["user"], "alice (Slack U123)",
        "{}",
        acknowledge.body
    );
    assert_eq!(
        acknowledge.body["note"],
        "Acknowledged in Versus by alice (Slack U123) after the page"
    );
    assert!(og.invalid().is_empty(), "{:?}", og.invalid());
    assert_eq!(
        replies(&rig.slack, 1).await,
        [
            "Too late: the incident was already escalated to on-call; the acknowledgement is passed on to opsgenie"
        ]
    );
}
