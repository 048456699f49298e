//! On-call through PagerDuty (`oncall.provider: pagerduty`), driven through
//! the real binary against a local Events API v2 emulator that checks each
//! event against PagerDuty's published description.

use std::time::Duration;

use serde_json::Value;

use crate::common::eventually;
use crate::gateway::Process;
use crate::oncall_rig::{
    PLAN, Rig, Setup, ack, ack_url_of, incident_json, payload, post, reaches, state_of,
};
use crate::pagerduty_emulator::PagerDutyEmulator;

/// The configured integration key (PagerDuty's are 32 characters).
const ROUTING_KEY: &str = "R0UTINGKEY0000000000000000000001";
/// The `infra` entry of `other_routing_keys`.
const INFRA_KEY: &str = "R0UTINGKEY00000000000000000INFRA";

/// The rig's config with PagerDuty as the provider: retries every 100 ms,
/// up to `max_attempts`; `other_routing_keys` has `infra` and `bad` (a key
/// PagerDuty refuses).
fn yaml(rig: &Rig, pd: &PagerDutyEmulator, max_attempts: u32) -> String {
    let yaml = rig.yaml(&Setup::redis_port(6379));
    let aws = format!("  aws_incident_manager:\n    response_plan_arn: {PLAN}\n");
    assert!(yaml.contains(&aws), "the rig's config changed shape");
    let pagerduty = format!(
        "  provider: pagerduty\n  aws_incident_manager:\n    max_attempts: {max_attempts}\n    \
         initial_backoff: 100ms\n    max_backoff: 1s\n  pagerduty:\n    routing_key: {ROUTING_KEY}\n    \
         other_routing_keys:\n      infra: {INFRA_KEY}\n      bad: not-a-routing-key\n    \
         api_url: {}\n",
        pd.url
    );
    let slack = "    channel_id: C123\n";
    assert!(yaml.contains(slack), "the rig's config changed shape");
    yaml.replacen(&aws, &pagerduty, 1).replacen(
        slack,
        &format!("{slack}    workspace_url: {WORKSPACE}\n"),
        1,
    )
}

/// `alert.slack.workspace_url`: pages link to the Slack message.
const WORKSPACE: &str = "https://acme.slack.com";

async fn gateway(rig: &Rig, pd: &PagerDutyEmulator, name: &str, max_attempts: u32) -> Process {
    Process::start(&rig.dir(name), &yaml(rig, pd, max_attempts), &rig.env()).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pagerduty_pages_once_and_hears_of_the_late_ack_and_the_resolve() {
    let rig = Rig::new().await;
    let pd = PagerDutyEmulator::start().await;
    let gw = gateway(&rig, &pd, "gw", 3).await;

    // 1.2 s to acknowledge, and nobody does.
    let (status, body) = post(
        &gw,
        "oncall_wait_minutes=0.02",
        payload("critical", "pd-one"),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().expect("id").to_string();
    let link = ack_url_of(&rig.slack, 0).expect("the Slack message has an ACK button");
    let escalated = reaches(&gw, &id, "escalated", 10).await;
    assert!(escalated, "not escalated:\n{}", gw.log());

    // One trigger, keyed by the incident's dedup key, as PagerDuty's
    // description wants it.
    let shown = incident_json(&gw, &id).await;
    let key = shown["dedup_key"]
        .as_str()
        .expect("a dedup key")
        .to_string();
    let triggers = pd.events_of("trigger");
    assert_eq!(triggers.len(), 1, "{triggers:#?}");
    assert!(pd.invalid().is_empty(), "{:?}", pd.invalid());
    let trigger = &triggers[0].body;
    assert_eq!(trigger["routing_key"], ROUTING_KEY);
    assert_eq!(trigger["dedup_key"], key.as_str());
    let event = &trigger["payload"];
    assert_eq!(event["summary"], shown["title"], "{trigger}");
    assert_eq!(event["severity"], "critical");
    assert_eq!(event["source"], "alertmanager");
    assert_eq!(event["custom_details"]["versus_incident_id"], id.as_str());
    assert_eq!(
        event["custom_details"]["labels"]["alertname"],
        "HighErrorRate"
    );
    assert_eq!(
        event["custom_details"]["summary"],
        "Very high error rate detected in api"
    );
    assert_eq!(trigger["links"][0]["href"], link.as_str(), "{trigger}");
    assert_eq!(trigger["client_url"], link.as_str());
    assert!(
        trigger["links"][1]["href"]
            .as_str()
            .is_some_and(|u| u.starts_with("http://prometheus.example.com:9090/graph")),
        "{trigger}"
    );
    // And to the Slack message, posted to C123 with the emulator's ts.
    let permalink = format!(
        "{WORKSPACE}/archives/C123/p{}",
        crate::slack_emulator::TS.replace('.', "")
    );
    assert_eq!(trigger["links"][2]["href"], permalink.as_str(), "{trigger}");
    assert_eq!(trigger["links"][2]["text"], "Slack message", "{trigger}");
    // The incident shows where it was paged.
    assert_eq!(shown["targets"][0]["provider"], "pagerduty", "{shown}");
    assert_eq!(shown["targets"][0]["id"], key.as_str(), "{shown}");

    // An ACK after the page: 409, and passed on to PagerDuty.
    let (status, text) = ack(&link, "application/json").await;
    assert_eq!(status, 409, "{text}");
    let answer: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(answer["status"], "already_escalated", "{answer}");
    assert_eq!(answer["passed_on_to"], "pagerduty", "{answer}");
    let acked = eventually(Duration::from_secs(10), async || {
        pd.events_of("acknowledge").len() == 1
    })
    .await;
    assert!(acked, "no acknowledge event:\n{}", gw.log());
    assert_eq!(pd.events_of("acknowledge")[0].key(), key);
    assert_eq!(pd.alert(&key).expect("alert").0.status, "acknowledged");

    // The resolve reaches PagerDuty too.
    let (status, body) = post(&gw, "", payload("resolved", "pd-one")).await;
    assert!(status == 200 || status == 201, "{status} {body}");
    let resolved = eventually(Duration::from_secs(10), async || {
        pd.events_of("resolve").len() == 1
    })
    .await;
    assert!(resolved, "no resolve event:\n{}", gw.log());
    let (alert, opened) = pd.alert(&key).expect("alert");
    assert_eq!((alert.status, alert.triggers, opened), ("resolved", 1, 1));
    assert_eq!(pd.events().len(), 3, "{:#?}", pd.events());
    assert!(pd.invalid().is_empty(), "{:?}", pd.invalid());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pagerduty_429_and_5xx_are_retried_after_the_wait_asked_and_a_400_fails_at_once() {
    let rig = Rig::new().await;
    let pd = PagerDutyEmulator::start().await;
    let gw = gateway(&rig, &pd, "gw", 5).await;

    // A 429 that asks for 2 s, then a 503, then accepted.
    pd.fail_next(&[(429, Some(2)), (503, None)]);
    let (status, body) = post(
        &gw,
        "oncall_wait_minutes=0&pagerduty_other_routing_key=infra",
        payload("critical", "pd-retry"),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().expect("id").to_string();
    let escalated = reaches(&gw, &id, "escalated", 15).await;
    assert!(escalated, "not escalated:\n{}", gw.log());
    let events = pd.events();
    let statuses: Vec<u16> = events.iter().map(|e| e.status).collect();
    assert_eq!(statuses, [429, 503, 202], "{events:#?}");
    let asked = events[1].at - events[0].at;
    assert!(
        asked >= Duration::from_secs(2),
        "Retry-After not honoured: {asked:?}"
    );
    let backoff = events[2].at - events[1].at;
    assert!(backoff < Duration::from_secs(2), "{backoff:?}");
    // The route chose the infra key, for every attempt.
    assert!(
        events.iter().all(|e| e.body["routing_key"] == INFRA_KEY),
        "{events:#?}"
    );
    let shown = incident_json(&gw, &id).await;
    assert_eq!(shown["attempts"], 3, "{shown}");
    let key = shown["dedup_key"].as_str().expect("dedup key");
    assert_eq!(pd.alert(key).expect("alert").1, 1);

    // A key PagerDuty refuses: 400, no retry, paging failed, and chat says so.
    let (status, body) = post(
        &gw,
        "oncall_wait_minutes=0&pagerduty_other_routing_key=bad",
        payload("critical", "pd-refused"),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().expect("id").to_string();
    let failed = reaches(&gw, &id, "escalation_failed", 10).await;
    assert!(failed, "not failed:\n{}", gw.log());
    let shown = incident_json(&gw, &id).await;
    assert_eq!(shown["attempts"], 1, "{shown}");
    let error = shown["last_error"].as_str().unwrap_or("");
    assert!(error.contains("should be 32 characters"), "{shown}");
    assert_eq!(pd.invalid().len(), 1, "{:?}", pd.invalid());
    let told = eventually(Duration::from_secs(10), async || {
        rig.slack
            .calls("chat.update")
            .iter()
            .any(|u| u.to_string().contains("Paging failed"))
    })
    .await;
    assert!(told, "Slack was not told:\n{}", gw.log());

    // An unknown route is refused before anything is sent.
    let posted = rig.slack.posted().len();
    let (status, body) = post(
        &gw,
        "pagerduty_other_routing_key=nope",
        payload("critical", "pd-nope"),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    let error = body.to_string();
    assert!(
        error.contains("other_routing_keys") && error.contains("infra"),
        "{error}"
    );
    assert_eq!(rig.slack.posted().len(), posted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pagerduty_pages_once_across_two_replicas_and_a_kill9_mid_call() {
    let rig = Rig::new().await;
    let pd = PagerDutyEmulator::start().await;
    let mut a = gateway(&rig, &pd, "a", 3).await;
    let b = gateway(&rig, &pd, "b", 3).await;

    // Only `a` is told about the alert, and wakes at once; its call reaches
    // PagerDuty (which opens the alert) but is answered 20 s later.
    pd.slow_next(1, Duration::from_secs(20));
    let (status, body) = post(
        &a,
        "oncall_wait_minutes=0",
        payload("critical", "pd-killed"),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let killed = body["id"].as_str().expect("id").to_string();
    let reached = eventually(Duration::from_secs(10), async || !pd.events().is_empty()).await;
    assert!(reached, "no call:\n{}", a.log());
    a.kill9();

    // Meanwhile more alerts, through the survivor.
    let mut ids = vec![killed.clone()];
    for n in 0..5 {
        let (status, body) = post(
            &b,
            "oncall_wait_minutes=0",
            payload("critical", &format!("pd-{n}")),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        ids.push(body["id"].as_str().expect("id").to_string());
    }
    // `b` takes the killed call over when its lease ends (30 s).
    let all = eventually(Duration::from_secs(50), async || {
        for id in &ids {
            if state_of(&b, id).await != "escalated" {
                return false;
            }
        }
        true
    })
    .await;
    assert!(all, "not every incident was paged:\n{}", b.log());
    for id in &ids {
        let shown = incident_json(&b, id).await;
        let key = shown["dedup_key"].as_str().expect("dedup key");
        let (alert, opened) = pd.alert(key).expect("alert");
        assert_eq!(opened, 1, "{id}: {alert:?}");
        let triggers = if *id == killed { 2 } else { 1 };
        assert_eq!(alert.triggers, triggers, "{id}: {alert:?}");
    }
    assert_eq!(pd.alerts_opened(), ids.len());
    assert!(pd.invalid().is_empty(), "{:?}", pd.invalid());
}
