//! More on-call end to end: repeats marked and answered with the open
//! incident, the Slack message updated on escalation and resolve, one ACK
//! secret shared by replicas through Redis, and on-call without Redis.

use std::time::Duration;

use serde_json::Value;

use crate::common::eventually;
use crate::gateway::Process;
use crate::oncall_rig::{PLAN, Rig, SECRET, Setup, ack, ack_url_of, get, payload, post, wait_for};
use crate::slack_emulator::{Mode, SlackEmulator, TS};

/// The Slack plugin's colours and notes (plugins/slack/src/message.rs).
const ESCALATED: (&str, &str) = ("#E01E5A", "🚨 Escalated to on-call");
const RESOLVED: (&str, &str) = ("#36A64F", "✅ Resolved");
const ACKNOWLEDGED: (&str, &str) = ("#439FE0", "✅ Acknowledged — escalation cancelled");

/// Generous: a debug build on a busy 2-core machine.
const SOON: Duration = Duration::from_secs(15);

/// Bodies of the `chat.postMessage` (or `chat.update`) calls so far.
fn bodies(slack: &SlackEmulator, method: &str) -> Vec<Value> {
    slack
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with(method))
        .map(|r| r.body)
        .collect()
}

/// The `nth` `chat.update` body, waiting for it to arrive.
async fn nth_update(slack: &SlackEmulator, gw: &Process, nth: usize) -> Value {
    let arrived = wait_for(SOON, || bodies(slack, "chat.update").len() > nth).await;
    assert!(arrived, "no chat.update #{nth}:\n{}", gw.log());
    bodies(slack, "chat.update").swap_remove(nth)
}

/// Checks that `update` rewrites the posted message `post` in place: same
/// channel and `ts`, same text, no ACK button, and the state's colour and note.
fn assert_update(update: &Value, post: &Value, (color, note): (&str, &str)) {
    assert_eq!(update["channel"], "C123", "{update}");
    assert_eq!(update["ts"], TS, "{update}");
    assert_eq!(update["text"], post["text"], "{update}");
    let attachment = &update["attachments"][0];
    assert_eq!(attachment["color"], color, "{update}");
    let blocks = attachment["blocks"].as_array().expect("blocks");
    let (last, sections) = blocks.split_last().expect("a context block");
    assert_eq!(last["type"], "context", "{update}");
    assert_eq!(last["elements"][0]["text"], note, "{update}");
    let posted: Vec<&Value> = post["attachments"][0]["blocks"]
        .as_array()
        .expect("posted blocks")
        .iter()
        .filter(|b| b["type"] == "section")
        .collect();
    assert_eq!(sections.iter().collect::<Vec<_>>(), posted, "{update}");
}

/// GETs `/api/incidents/{id}` as JSON.
async fn incident(gw: &Process, id: &str) -> (u16, Value) {
    let (status, text) = get(
        &format!("{}/api/incidents/{id}", gw.base()),
        "application/json",
    )
    .await;
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeat_answers_with_the_open_incident_and_is_marked() {
    let rig = Rig::new().await;
    let template = rig.dir("templates").join("repeat.tmpl");
    std::fs::write(
        &template,
        "{{ if .Repeat }}🔁 Repeat of an open incident\n{{ end }}\
         *{{ .commonLabels.alertname }}* is {{ .status }}\n",
    )
    .expect("write template");
    let setup = Setup {
        template,
        ..Setup::redis_port(6379)
    };
    let gw = rig.gateway_with("gw", &setup).await;

    let (status, first) = post(&gw, "oncall_wait_minutes=1", payload("critical", "rp1")).await;
    assert_eq!(status, 201, "{first}");
    let (status, second) = post(&gw, "oncall_wait_minutes=1", payload("critical", "rp1")).await;
    assert_eq!(status, 201, "{second}");
    let id = first["id"].as_str().expect("id");
    assert_eq!(second["id"], id, "a repeat answers with the open incident");

    let (status, view) = incident(&gw, id).await;
    assert_eq!(status, 200, "{view}");
    assert_eq!(view["repeats"], 1, "{view}");
    assert_eq!(view["state"], "pending", "{view}");

    // Both messages are posted; only the second is marked, and it carries
    // the open incident's ACK button.
    let posts = bodies(&rig.slack, "chat.postMessage");
    assert_eq!(posts.len(), 2, "{posts:?}");
    assert_eq!(posts[0]["text"], "*HighErrorRate* is firing");
    assert_eq!(posts[1]["text"], "🔁 Repeat of an open incident");
    let link = ack_url_of(&rig.slack, 0).expect("first ACK button");
    assert!(link.contains(&format!("/api/ack/{id}?")), "{link}");
    assert_eq!(ack_url_of(&rig.slack, 1).as_deref(), Some(link.as_str()));
    assert!(rig.ssm.calls().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn escalation_and_resolve_update_the_slack_message() {
    let rig = Rig::new().await;
    let gw = rig.gateway("gw", 6379).await;
    let (status, body) = post(&gw, "oncall_wait_minutes=0.02", payload("critical", "up1")).await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().expect("id");
    let post = bodies(&rig.slack, "chat.postMessage").remove(0);

    let escalated = nth_update(&rig.slack, &gw, 0).await;
    assert_eq!(rig.ssm.calls_for(id).len(), 1);
    assert_update(&escalated, &post, ESCALATED);

    let (status, body) = post_resolved(&gw, "up1").await;
    assert_eq!(status, 201, "{body}");
    let resolved = nth_update(&rig.slack, &gw, 1).await;
    assert_update(&resolved, &post, RESOLVED);
    let (_, view) = incident(&gw, id).await;
    assert!(view["resolved_ms"].is_i64(), "{view}");
}

/// With no wait the page can go out before Slack has answered the first
/// post: the escalation's own update finds no message yet, so the message
/// is updated once its receipt is stored, and only once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_escalation_that_beats_the_first_post_still_updates_it_once() {
    let rig = Rig::with_slack(Mode::Slow(Duration::from_millis(1500))).await;
    let gw = rig.gateway("gw", 6379).await;
    let (status, body) = post(&gw, "oncall_wait_minutes=0", payload("critical", "race1")).await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().expect("id");
    let log = gw.log();
    let paged = log.find("page started").expect("paged");
    let delivered = log.find("delivered attempts=1").expect("delivered");
    assert!(paged < delivered, "the page did not go out first:\n{log}");
    assert_eq!(rig.ssm.calls_for(id).len(), 1);

    let post = bodies(&rig.slack, "chat.postMessage").remove(0);
    let escalated = nth_update(&rig.slack, &gw, 0).await;
    assert_update(&escalated, &post, ESCALATED);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(bodies(&rig.slack, "chat.update").len(), 1, "{}", gw.log());
}

async fn post_resolved(gw: &Process, group: &str) -> (u16, Value) {
    post(gw, "", payload("resolved", group)).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_without_a_configured_secret_share_one_through_redis() {
    let rig = Rig::new().await;
    let setup = Setup {
        ack_secret: None,
        ..Setup::redis_port(6379)
    };
    let a = rig.gateway_with("a", &setup).await;
    let b = rig.gateway_with("b", &setup).await;

    let (status, body) = post(&a, "oncall_wait_minutes=1", payload("critical", "sh1")).await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().expect("id");
    let link = ack_url_of(&rig.slack, 0).expect("ACK button");
    assert!(
        link.starts_with(&format!("{}/api/ack/{id}?", a.base())),
        "{link}"
    );

    // B refuses a link signed with any other key…
    let other = versus::oncall::AckSigner::new(SECRET.as_bytes().to_vec());
    let (status, text) = get(&other.url(&b.base(), id, 4_000_000_000), "application/json").await;
    assert_eq!(status, 401, "{text}");
    // …and accepts A's.
    let (status, text) = ack(&link.replacen(&a.base(), &b.base(), 1), "application/json").await;
    assert_eq!(status, 200, "{text}\n{}", b.log());
    assert!(text.contains(r#""status":"acknowledged""#), "{text}");

    // B updates the message A posted, from the receipt A stored.
    let post = bodies(&rig.slack, "chat.postMessage").remove(0);
    let update = nth_update(&rig.slack, &b, 0).await;
    assert_update(&update, &post, ACKNOWLEDGED);
    let (_, view) = incident(&a, id).await;
    assert_eq!(view["state"], "acknowledged", "{view}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_redis_oncall_runs_in_memory_and_pages_once() {
    let rig = Rig::new().await;
    let setup = Setup {
        redis: None,
        ..Setup::redis_port(6379)
    };
    let gw = rig.gateway_with("gw", &setup).await;
    assert!(
        gw.log()
            .contains("escalations are kept in memory and do NOT survive a restart"),
        "no in-memory warning:\n{}",
        gw.log()
    );

    let (status, body) = post(&gw, "oncall_wait_minutes=0.02", payload("critical", "mem1")).await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().expect("id");
    assert!(ack_url_of(&rig.slack, 0).is_some(), "no ACK button");
    // Once the store says escalated the incident is out of the due-set, so
    // the count of calls is final.
    let escalated = eventually(SOON, async || {
        incident(&gw, id).await.1["state"] == "escalated"
    })
    .await;
    assert!(escalated, "not escalated:\n{}", gw.log());
    let calls = rig.ssm.calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0].body["clientToken"], id);
    assert_eq!(calls[0].body["responsePlanArn"], PLAN);
}
