//! On-call through ServiceNow (`oncall.provider: servicenow`), driven
//! through the real binary against a local emulator of the Table API.
//! ServiceNow has no idempotency key, so the escalator finds its record
//! again by `correlation_id`: the kill -9 test proves one record per
//! incident when a replica dies between creating it and hearing back.

use std::time::Duration;

use serde_json::Value;

use crate::common::eventually;
use crate::gateway::Process;
use crate::oncall_rig::{PLAN, Rig, Setup, ack, ack_url_of, incident_json, payload, post, reaches};
use crate::servicenow_emulator::ServiceNowEmulator;

const USER: &str = "versus.integration";
const PASSWORD: &str = "s3cret:pass^word";

/// The rig's config with ServiceNow as the provider, in upstream's keys
/// (the password from the environment); `infra` is another instance.
fn yaml(rig: &Rig, sn: &ServiceNowEmulator, infra: &ServiceNowEmulator) -> String {
    let yaml = rig.yaml(&Setup::redis_port(6379));
    let aws = format!("  aws_incident_manager:\n    response_plan_arn: {PLAN}\n");
    assert!(yaml.contains(&aws), "the rig's config changed shape");
    let section = format!(
        "  provider: servicenow\n  aws_incident_manager:\n    initial_backoff: 100ms\n  \
         servicenow:\n    instance_url: {}\n    username: {USER}\n    \
         password: ${{SERVICENOW_PASSWORD}}\n    table: incident\n    \
         other_instance_urls:\n      infra: {}\n",
        sn.url, infra.url
    );
    yaml.replacen(&aws, &section, 1)
}

async fn gateway(
    rig: &Rig,
    name: &str,
    sn: &ServiceNowEmulator,
    infra: &ServiceNowEmulator,
) -> Process {
    let mut env = rig.env();
    env.push(("SERVICENOW_PASSWORD", PASSWORD.into()));
    Process::start(&rig.dir(name), &yaml(rig, sn, infra), &env).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servicenow_opens_one_record_marks_it_in_progress_and_resolves_it() {
    let rig = Rig::new().await;
    let sn = ServiceNowEmulator::start(USER, PASSWORD).await;
    let infra = ServiceNowEmulator::start(USER, PASSWORD).await;
    let gw = gateway(&rig, "gw", &sn, &infra).await;

    sn.fail_next(&[(503, Some(1))]);
    let (status, body) = post(
        &gw,
        "oncall_wait_minutes=0.02",
        payload("critical", "sn-one"),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().expect("id").to_string();
    let link = ack_url_of(&rig.slack, 0).expect("ACK button");
    let escalated = reaches(&gw, &id, "escalated", 15).await;
    assert!(escalated, "not escalated:\n{}", gw.log());

    let records = sn.records();
    assert_eq!(records.len(), 1, "{records:#?}");
    let record = &records[0];
    let shown = incident_json(&gw, &id).await;
    assert_eq!(
        record.correlation_id,
        shown["dedup_key"].as_str().expect("key")
    );
    assert_eq!(
        record.short_description,
        shown["title"].as_str().expect("title")
    );
    assert_eq!(
        (record.urgency.as_str(), record.impact.as_str()),
        ("1", "1")
    );
    assert!(record.description.contains(&link), "{record:?}");
    assert_eq!(shown["targets"][0]["provider"], "servicenow", "{shown}");
    assert_eq!(shown["targets"][0]["id"], record.sys_id.as_str(), "{shown}");
    assert!(
        shown["targets"][0]["url"]
            .as_str()
            .is_some_and(|u| u.contains(&record.sys_id)),
        "{shown}"
    );
    // A 503 (the lookup), then the lookup again and the create.
    let calls: Vec<(&str, u16)> = sn.requests().iter().map(|r| (r.method, r.status)).collect();
    assert_eq!(
        calls,
        [("GET", 503), ("GET", 200), ("POST", 201)],
        "{:#?}",
        sn.requests()
    );
    let waited = sn.requests()[1].at - sn.requests()[0].at;
    assert!(
        waited >= Duration::from_secs(1),
        "Retry-After not honoured: {waited:?}"
    );

    // A late ACK: 409, and the record goes In Progress with a work note.
    let (status, text) = ack(&link, "application/json").await;
    assert_eq!(status, 409, "{text}");
    let answer: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(answer["passed_on_to"], "servicenow", "{answer}");
    let in_progress = eventually(Duration::from_secs(10), async || {
        sn.records()[0].state == "2"
    })
    .await;
    assert!(in_progress, "not in progress:\n{}", gw.log());
    assert_eq!(sn.records()[0].work_notes.len(), 1, "{:?}", sn.records());

    // The resolve resolves it.
    let (status, body) = post(&gw, "", payload("resolved", "sn-one")).await;
    assert!(status == 200 || status == 201, "{status} {body}");
    let resolved = eventually(Duration::from_secs(10), async || !sn.records()[0].active()).await;
    assert!(resolved, "not resolved:\n{}", gw.log());
    let record = &sn.records()[0];
    assert_eq!(record.state, "6");
    assert!(
        !record.close_code.is_empty() && !record.close_notes.is_empty(),
        "{record:?}"
    );
    assert!(sn.invalid().is_empty(), "{:?}", sn.invalid());

    // The query picks the other instance.
    let (status, body) = post(
        &gw,
        "oncall_wait_minutes=0&servicenow_other_instance=infra",
        payload("critical", "sn-infra"),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().expect("id").to_string();
    let escalated = reaches(&gw, &id, "escalated", 10).await;
    assert!(escalated, "not escalated:\n{}", gw.log());
    assert_eq!((sn.created(), infra.created()), (1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn servicenow_keeps_one_record_when_a_replica_dies_after_creating_it() {
    let rig = Rig::new().await;
    let sn = ServiceNowEmulator::start(USER, PASSWORD).await;
    let infra = ServiceNowEmulator::start(USER, PASSWORD).await;
    let mut a = gateway(&rig, "a", &sn, &infra).await;
    let b = gateway(&rig, "b", &sn, &infra).await;

    // `a` looks up, then creates the record, which ServiceNow keeps but
    // answers 8 s later (within the plugin's 10 s): `a` dies before it hears.
    sn.slow_creates(1, Duration::from_secs(8));
    let (status, body) = post(
        &a,
        "oncall_wait_minutes=0",
        payload("critical", "sn-killed"),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().expect("id").to_string();
    let created = eventually(Duration::from_secs(5), async || sn.created() == 1).await;
    assert!(created, "no record:\n{}", a.log());
    a.kill9();

    // `b` takes the incident over when the lease ends, finds the record by
    // its correlation id, and creates nothing.
    let escalated = reaches(&b, &id, "escalated", 50).await;
    assert!(escalated, "not escalated:\n{}", b.log());
    assert_eq!(sn.created(), 1, "{:#?}", sn.records());
    let shown = incident_json(&b, &id).await;
    assert_eq!(
        shown["targets"][0]["id"],
        sn.records()[0].sys_id.as_str(),
        "{shown}"
    );
    let posts = sn.requests().iter().filter(|r| r.method == "POST").count();
    assert_eq!(posts, 1, "{:#?}", sn.requests());
}
