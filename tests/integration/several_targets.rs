//! Several on-call targets (`oncall.providers: [aws_incident_manager,
//! pagerduty]`): each pages, a failing one is retried on its own while the
//! other has paged, a refusal by one does not stop the other, and the
//! incident, its Slack message and a late ACK say how each went. Through
//! the real binary, real Redis, the SSM Incidents, PagerDuty and Slack
//! emulators.

use std::time::Duration;

use serde_json::Value;

use crate::common::eventually;
use crate::gateway::Process;
use crate::oncall_rig::{PLAN, Rig, Setup, ack, ack_url_of, incident_json, payload, post, reaches};
use crate::pagerduty_emulator::PagerDutyEmulator;
use crate::ssm_emulator::Failure;

const ROUTING_KEY: &str = "R0UTINGKEY0000000000000000000001";

/// The rig's config paging AWS and PagerDuty, retrying after 1 s, then 2 s,
/// 4 calls per target; `?pagerduty_other_routing_key=bad` picks a key
/// PagerDuty refuses. The first retry comes well after the first page's
/// chat update, so the message shows `retrying` before it shows `paged`
/// even on a busy machine.
fn yaml(rig: &Rig, pd: &PagerDutyEmulator) -> String {
    let yaml = rig.yaml(&Setup::redis_port(6379));
    let aws = format!("  aws_incident_manager:\n    response_plan_arn: {PLAN}\n");
    assert!(yaml.contains(&aws), "the rig's config changed shape");
    let both = format!(
        "  providers: [aws_incident_manager, pagerduty]\n{aws}    max_attempts: 4\n    \
         initial_backoff: 1s\n    max_backoff: 2s\n  pagerduty:\n    routing_key: {ROUTING_KEY}\n    \
         other_routing_keys:\n      bad: not-a-routing-key\n    api_url: {}\n",
        pd.url
    );
    yaml.replacen(&aws, &both, 1)
}

/// (provider, state, attempts) of each target, as GET shows them.
fn targets(shown: &Value) -> Vec<(String, String, u64)> {
    shown["targets"]
        .as_array()
        .map(|list| {
            list.iter()
                .map(|t| {
                    (
                        t["provider"].as_str().unwrap_or("").to_string(),
                        t["state"].as_str().unwrap_or("").to_string(),
                        t["attempts"].as_u64().unwrap_or(0),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

fn target(provider: &str, state: &str, attempts: u64) -> (String, String, u64) {
    (provider.to_string(), state.to_string(), attempts)
}

/// Waits for incident `id` to be escalated with one call per target,
/// which ended as `expected` says.
async fn escalated_with(gw: &Process, id: &str, expected: [(&str, &str); 2]) {
    assert!(reaches(gw, id, "escalated", 10).await, "{}", gw.log());
    let shown = incident_json(gw, id).await;
    let want: Vec<_> = expected.iter().map(|(p, s)| target(p, s, 1)).collect();
    assert_eq!(targets(&shown), want, "{shown}");
}

/// The on-call line of each `chat.update` so far, in order.
fn oncall_lines(rig: &Rig) -> Vec<String> {
    rig.slack
        .calls("chat.update")
        .iter()
        .map(|u| {
            let blocks = u["attachments"][0]["blocks"].as_array().cloned();
            let context = blocks.and_then(|b| b.last().cloned()).unwrap_or_default();
            context["elements"][1]["text"]
                .as_str()
                .unwrap_or("")
                .to_string()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_target_pages_and_is_retried_on_its_own() {
    let rig = Rig::new().await;
    let pd = PagerDutyEmulator::start().await;
    let gw = Process::start(&rig.dir("gw"), &yaml(&rig, &pd), &rig.env()).await;

    // PagerDuty answers 503 twice; AWS pages at the first call.
    pd.fail_next(&[(503, None), (503, None)]);
    let (status, body) = post(&gw, "oncall_wait_minutes=0.02", payload("critical", "both")).await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().expect("id").to_string();
    let link = ack_url_of(&rig.slack, 0).expect("ACK button");
    let paged = eventually(Duration::from_secs(15), async || {
        pd.events_of("trigger").len() == 1
    })
    .await;
    assert!(paged, "PagerDuty never paged:\n{}", gw.log());
    let settled = eventually(Duration::from_secs(10), async || {
        oncall_lines(&rig).len() == 2
    })
    .await;
    assert!(settled, "{:?}\n{}", oncall_lines(&rig), gw.log());

    // AWS was called once and never again; PagerDuty three times.
    assert_eq!(rig.ssm.attempts().len(), 1, "{:?}", rig.ssm.attempts());
    assert_eq!(rig.ssm.calls_for(&id).len(), 1);
    let statuses: Vec<u16> = pd.events().iter().map(|e| e.status).collect();
    assert_eq!(statuses, [503, 503, 202]);
    assert!(pd.invalid().is_empty(), "{:?}", pd.invalid());
    let shown = incident_json(&gw, &id).await;
    assert_eq!(shown["state"], "escalated", "{shown}");
    assert_eq!(
        targets(&shown),
        [
            target("aws_incident_manager", "paged", 1),
            target("pagerduty", "paged", 3)
        ],
        "{shown}"
    );
    assert_eq!(shown["attempts"], 4, "{shown}");
    assert!(
        shown["targets"][0]["id"]
            .as_str()
            .is_some_and(|arn| arn.starts_with("arn:aws:ssm-incidents::")),
        "{shown}"
    );
    assert_eq!(shown["targets"][1]["id"], shown["dedup_key"], "{shown}");
    let calls: Vec<&str> = shown["attempt_log"]
        .as_array()
        .expect("log")
        .iter()
        .map(|a| a["provider"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(calls.iter().filter(|p| **p == "pagerduty").count(), 3);
    assert_eq!(
        calls
            .iter()
            .filter(|p| **p == "aws_incident_manager")
            .count(),
        1
    );

    // The message said escalated while PagerDuty was retried, then how
    // both went.
    let lines = oncall_lines(&rig);
    assert!(
        lines[0].starts_with("On-call: aws_incident_manager: paged · pagerduty: retrying ("),
        "{lines:?}"
    );
    assert_eq!(
        lines[1],
        "On-call: aws_incident_manager: paged · pagerduty: paged"
    );

    // A late ACK is passed on to both.
    let (status, text) = ack(&link, "application/json").await;
    assert_eq!(status, 409, "{text}");
    let answer: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(answer["passed_on_to"], "aws_incident_manager, pagerduty");
    let told = eventually(Duration::from_secs(10), async || {
        pd.events_of("acknowledge").len() == 1 && rig.ssm.updates().len() == 1
    })
    .await;
    assert!(told, "{:?}\n{}", rig.ssm.updates(), gw.log());

    // PagerDuty refuses a key for good: AWS still pages, at once.
    let (status, body) = post(
        &gw,
        "oncall_wait_minutes=0.02&pagerduty_other_routing_key=bad",
        payload("critical", "refused"),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let refused = body["id"].as_str().expect("id").to_string();
    escalated_with(
        &gw,
        &refused,
        [("aws_incident_manager", "paged"), ("pagerduty", "failed")],
    )
    .await;
    assert_eq!(pd.invalid().len(), 1);
    let shows_failed = eventually(Duration::from_secs(10), async || {
        oncall_lines(&rig).len() == 3
    })
    .await;
    assert!(shows_failed, "{:?}", oncall_lines(&rig));
    let line = &oncall_lines(&rig)[2];
    assert!(
        line.starts_with("On-call: aws_incident_manager: paged · pagerduty: FAILED ("),
        "{line}"
    );

    // AWS refuses (no permission): PagerDuty's page escalates it.
    rig.ssm.fail_next(1, Failure::AccessDenied);
    let (status, body) = post(
        &gw,
        "oncall_wait_minutes=0.02",
        payload("critical", "denied"),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let denied = body["id"].as_str().expect("id").to_string();
    escalated_with(
        &gw,
        &denied,
        [("aws_incident_manager", "failed"), ("pagerduty", "paged")],
    )
    .await;
    assert_eq!(pd.events_of("trigger").len(), 2);
    assert_eq!(rig.ssm.attempts().len(), 3);
    assert_eq!(rig.ssm.calls().len(), 2);
}
