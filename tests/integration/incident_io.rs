//! On-call through incident.io (`oncall.provider: incident_io`), driven
//! through the real binary against a local emulator of the alert events
//! API that checks each event against incident.io's published description.

use std::time::Duration;

use serde_json::Value;

use crate::common::eventually;
use crate::gateway::Process;
use crate::incident_io_emulator::IncidentIoEmulator;
use crate::oncall_rig::{PLAN, Rig, Setup, ack, ack_url_of, incident_json, payload, post, reaches};

/// The HTTP alert source, as upstream's config names it.
const SOURCE: &str = "01HTTPSOURCE";
const INFRA: &str = "01INFRASOURCE";
const KEY: &str = "inc_live_test_key";

/// The rig's config with incident.io as the provider, in upstream's keys,
/// the API key from the environment.
fn yaml(rig: &Rig, emulator: &IncidentIoEmulator) -> String {
    let yaml = rig.yaml(&Setup::redis_port(6379));
    let aws = format!("  aws_incident_manager:\n    response_plan_arn: {PLAN}\n");
    assert!(yaml.contains(&aws), "the rig's config changed shape");
    let section = format!(
        "  provider: incident_io\n  aws_incident_manager:\n    initial_backoff: 100ms\n  \
         incident_io:\n    api_key: ${{INCIDENTIO_API_KEY}}\n    alert_source_config_id: {SOURCE}\n    \
         other_alert_source_config_ids:\n      infra: {INFRA}\n      app: ${{UNSET_SOURCE}}\n    \
         api_url: {}\n",
        emulator.url
    );
    yaml.replacen(&aws, &section, 1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn incident_io_fires_once_resolves_and_is_not_told_of_a_late_ack() {
    let rig = Rig::new().await;
    let io = IncidentIoEmulator::start(&[(SOURCE, KEY), (INFRA, KEY)]).await;
    let mut env = rig.env();
    env.push(("INCIDENTIO_API_KEY", KEY.into()));
    let gw = Process::start(&rig.dir("gw"), &yaml(&rig, &io), &env).await;

    // A 503 first: retried after the backoff.
    io.fail_next(&[(503, None)]);
    let (status, body) = post(
        &gw,
        "oncall_wait_minutes=0.02&incidentio_other_alert_source=infra",
        payload("critical", "io-one"),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().expect("id").to_string();
    let link = ack_url_of(&rig.slack, 0).expect("ACK button");
    let escalated = reaches(&gw, &id, "escalated", 10).await;
    assert!(escalated, "not escalated:\n{}", gw.log());
    let shown = incident_json(&gw, &id).await;
    let key = shown["dedup_key"].as_str().expect("dedup key").to_string();
    assert_eq!(shown["targets"][0]["provider"], "incident_io", "{shown}");
    assert_eq!(shown["targets"][0]["id"], key.as_str(), "{shown}");

    let events = io.events();
    let statuses: Vec<u16> = events.iter().map(|e| e.status).collect();
    assert_eq!(statuses, [503, 202], "{events:#?}");
    let firing = &events[1];
    assert_eq!(
        (firing.source.as_str(), firing.state(), firing.key()),
        (INFRA, "firing", key.as_str())
    );
    assert_eq!(firing.body["title"], shown["title"]);
    assert_eq!(firing.body["metadata"]["versus_incident_id"], id.as_str());
    assert_eq!(
        firing.body["metadata"]["labels"]["alertname"],
        "HighErrorRate"
    );
    assert!(
        firing.body["source_url"]
            .as_str()
            .is_some_and(|u| u.starts_with("http://prometheus.example.com:9090/")),
        "{}",
        firing.body
    );
    assert!(io.refused().is_empty(), "{:?}", io.refused());

    // incident.io's HTTP source has no acknowledge: a late ACK answers 409
    // and does not claim to have told it.
    let (status, text) = ack(&link, "application/json").await;
    assert_eq!(status, 409, "{text}");
    let answer: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(answer["status"], "already_escalated");
    assert!(answer.get("passed_on_to").is_none(), "{answer}");

    // The resolve closes the alert.
    let (status, body) = post(&gw, "", payload("resolved", "io-one")).await;
    assert!(status == 200 || status == 201, "{status} {body}");
    let resolved = eventually(Duration::from_secs(10), async || {
        io.alert(&key).is_some_and(|(firing, _, _)| !firing)
    })
    .await;
    assert!(resolved, "not resolved at incident.io:\n{}", gw.log());
    assert_eq!(io.alert(&key), Some((false, 1, 1)));
    let last = io.events().pop().expect("an event");
    assert_eq!((last.source.as_str(), last.state()), (INFRA, "resolved"));
    assert_eq!(io.events().len(), 3, "{:#?}", io.events());

    // An alert source whose variable is unset is no route.
    let (status, body) = post(
        &gw,
        "incidentio_other_alert_source=app",
        payload("critical", "io-app"),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(body.to_string().contains("(known: infra)"), "{body}");
}
