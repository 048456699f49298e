//! On-call through Opsgenie (`oncall.provider: opsgenie`), driven through
//! the real binary against a local emulator of the Alert API v2 that
//! checks each request against Opsgenie's published description.

use std::time::Duration;

use serde_json::Value;

use crate::common::eventually;
use crate::gateway::Process;
use crate::oncall_rig::{PLAN, Rig, Setup, ack, ack_url_of, incident_json, payload, post, reaches};
use crate::opsgenie_emulator::OpsgenieEmulator;

/// Opsgenie API keys are UUIDs.
pub(crate) const KEY: &str = "0a1b2c3d-0000-4000-8000-000000000001";
pub(crate) const TEAM_KEY: &str = "0a1b2c3d-0000-4000-8000-0000000000aa";

/// The rig's config with Opsgenie as the provider, its key from the
/// environment; a second replica-safe backoff of 100 ms.
pub(crate) fn yaml(rig: &Rig, og: &OpsgenieEmulator) -> String {
    let yaml = rig.yaml(&Setup::redis_port(6379));
    let aws = format!("  aws_incident_manager:\n    response_plan_arn: {PLAN}\n");
    assert!(yaml.contains(&aws), "the rig's config changed shape");
    let section = format!(
        "  provider: opsgenie\n  aws_incident_manager:\n    initial_backoff: 100ms\n  \
         opsgenie:\n    other_api_keys:\n      team: {TEAM_KEY}\n    api_url: {}\n",
        og.url
    );
    yaml.replacen(&aws, &section, 1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opsgenie_creates_once_by_alias_then_acknowledges_and_closes() {
    let rig = Rig::new().await;
    let og = OpsgenieEmulator::start(&[KEY, TEAM_KEY]).await;
    let mut env = rig.env();
    env.push(("OPSGENIE_API_KEY", KEY.into()));
    let gw = Process::start(&rig.dir("gw"), &yaml(&rig, &og), &env).await;

    // Rate limited first: retried no sooner than Opsgenie asked.
    og.fail_next(&[(429, Some(2))]);
    let (status, body) = post(
        &gw,
        "oncall_wait_minutes=0.02",
        payload("critical", "og-one"),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().expect("id").to_string();
    let link = ack_url_of(&rig.slack, 0).expect("ACK button");
    let escalated = reaches(&gw, &id, "escalated", 15).await;
    assert!(escalated, "not escalated:\n{}", gw.log());
    let shown = incident_json(&gw, &id).await;
    let alias = shown["dedup_key"].as_str().expect("dedup key").to_string();
    assert_eq!(shown["targets"][0]["provider"], "opsgenie", "{shown}");
    assert_eq!(shown["targets"][0]["id"], alias.as_str(), "{shown}");

    let events = og.events();
    let statuses: Vec<u16> = events.iter().map(|e| e.status).collect();
    assert_eq!(statuses, [429, 202], "{events:#?}");
    let waited = events[1].at - events[0].at;
    assert!(
        waited >= Duration::from_secs(2),
        "Retry-After not honoured: {waited:?}"
    );
    let create = &og.events_of("create")[0];
    assert_eq!(create.alias(), alias);
    assert_eq!(create.body["message"], shown["title"], "{}", create.body);
    assert_eq!(create.body["priority"], "P1");
    assert_eq!(create.body["source"], "alertmanager");
    assert_eq!(create.body["details"]["versus_incident_id"], id.as_str());
    assert_eq!(create.body["details"]["alertname"], "HighErrorRate");
    assert!(
        create.body["description"]
            .as_str()
            .is_some_and(|d| d.contains(&link)),
        "{}",
        create.body
    );
    let (alert, opened) = og.alert(&alias).expect("alert");
    assert_eq!((alert.status, alert.count, opened), ("open", 1, 1));
    assert_eq!(alert.api_key, KEY);

    // A late ACK answers 409 and acknowledges the alert.
    let (status, text) = ack(&link, "application/json").await;
    assert_eq!(status, 409, "{text}");
    let answer: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(answer["passed_on_to"], "opsgenie", "{answer}");
    let acked = eventually(Duration::from_secs(10), async || {
        og.alert(&alias).is_some_and(|(a, _)| a.status == "acked")
    })
    .await;
    assert!(acked, "not acknowledged:\n{}", gw.log());

    // The resolve closes it.
    let (status, body) = post(&gw, "", payload("resolved", "og-one")).await;
    assert!(status == 200 || status == 201, "{status} {body}");
    let closed = eventually(Duration::from_secs(10), async || {
        og.alert(&alias).is_some_and(|(a, _)| a.status == "closed")
    })
    .await;
    assert!(closed, "not closed:\n{}", gw.log());
    let actions: Vec<(String, u16)> = og
        .events()
        .iter()
        .map(|e| (e.action().to_string(), e.status))
        .collect();
    assert_eq!(
        actions,
        [
            ("create".to_string(), 429),
            ("create".to_string(), 202),
            ("acknowledge".to_string(), 202),
            ("close".to_string(), 202)
        ]
    );
    assert!(og.invalid().is_empty(), "{:?}", og.invalid());

    // The query picks the team's key; a repeat of an open alert is merged.
    let (status, body) = post(
        &gw,
        "oncall_wait_minutes=0&opsgenie_other_api_key=team",
        payload("critical", "og-team"),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().expect("id").to_string();
    let escalated = reaches(&gw, &id, "escalated", 10).await;
    assert!(escalated, "not escalated:\n{}", gw.log());
    let last = og.events_of("create").pop().expect("create");
    assert_eq!(og.alert(last.alias()).expect("alert").0.api_key, TEAM_KEY);
    assert_eq!(og.alerts_opened(), 2);
}
