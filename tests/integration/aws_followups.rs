//! AWS Incident Manager after the page: the record links back to the ACK
//! page and the alert, a late ACK and the resolve become timeline events,
//! and with `resolve_on_alert_resolved` the record is resolved. Through the
//! real binary and the real `aws-sdk-ssmincidents` client.

use std::time::Duration;

use serde_json::Value;

use crate::common::eventually;
use crate::oncall_rig::{PLAN, Rig, Setup, ack, ack_url_of, incident_json, payload, post, reaches};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn aws_records_link_back_and_hear_of_the_late_ack_and_the_resolve() {
    let rig = Rig::new().await;
    let yaml = rig.yaml(&Setup::redis_port(6379));
    let plan = format!("    response_plan_arn: {PLAN}\n");
    assert!(yaml.contains(&plan), "the rig's config changed shape");
    let yaml = yaml.replacen(
        &plan,
        &format!("{plan}    resolve_on_alert_resolved: true\n"),
        1,
    );
    let slack = "    channel_id: C123\n";
    assert!(yaml.contains(slack), "the rig's config changed shape");
    let yaml = yaml.replacen(
        slack,
        &format!("{slack}    workspace_url: https://acme.slack.com\n"),
        1,
    );
    let gw = crate::gateway::Process::start(&rig.dir("gw"), &yaml, &rig.env()).await;

    let (status, body) = post(
        &gw,
        "oncall_wait_minutes=0.02",
        payload("critical", "aws-follow"),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().expect("id").to_string();
    let link = ack_url_of(&rig.slack, 0).expect("ACK button");
    let escalated = reaches(&gw, &id, "escalated", 10).await;
    assert!(escalated, "not escalated:\n{}", gw.log());

    // StartIncident links back to the ACK page and the alert's source.
    let calls = rig.ssm.calls_for(&id);
    assert_eq!(calls.len(), 1);
    let start = &calls[0].body;
    let items = start["relatedItems"].as_array().expect("related items");
    let urls: Vec<(&str, &str)> = items
        .iter()
        .map(|i| {
            assert_eq!(i["identifier"]["type"], "OTHER", "{i}");
            (
                i["title"].as_str().unwrap_or(""),
                i["identifier"]["value"]["url"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(urls[0], ("Acknowledge in Versus", link.as_str()), "{start}");
    assert_eq!(urls[1].0, "Alert source");
    assert!(
        urls[1]
            .1
            .starts_with("http://prometheus.example.com:9090/graph"),
        "{start}"
    );
    // And the Slack message, posted before the page.
    let permalink = format!(
        "https://acme.slack.com/archives/C123/p{}",
        crate::slack_emulator::TS.replace('.', "")
    );
    assert_eq!(urls[2], ("Slack message", permalink.as_str()), "{start}");
    assert_eq!(urls.len(), 3, "{start}");
    assert_eq!(start["triggerDetails"]["source"], "versus");
    let raw: Value =
        serde_json::from_str(start["triggerDetails"]["rawData"].as_str().expect("raw"))
            .expect("raw data is JSON");
    assert_eq!(raw["versus_incident_id"], id.as_str());
    let shown = incident_json(&gw, &id).await;
    let arn = shown["targets"][0]["id"]
        .as_str()
        .expect("the record's ARN")
        .to_string();
    assert_eq!(shown["targets"][0]["provider"], "aws_incident_manager");
    assert!(arn.starts_with("arn:aws:ssm-incidents::"), "{arn}");

    // A late ACK answers 409 and becomes a timeline event.
    let (status, text) = ack(&link, "application/json").await;
    assert_eq!(status, 409, "{text}");
    let answer: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(answer["passed_on_to"], "aws_incident_manager", "{answer}");
    let noted = eventually(Duration::from_secs(10), async || {
        rig.ssm.updates().len() == 1
    })
    .await;
    assert!(noted, "no timeline event:\n{}", gw.log());

    // The resolve: a timeline event, then the record resolved.
    let (status, body) = post(&gw, "", payload("resolved", "aws-follow")).await;
    assert!(status == 200 || status == 201, "{status} {body}");
    let resolved = eventually(Duration::from_secs(10), async || {
        rig.ssm.updates().len() == 3
    })
    .await;
    assert!(resolved, "not resolved at AWS:\n{}", gw.log());
    tokio::time::sleep(Duration::from_millis(500)).await;
    let updates = rig.ssm.updates();
    let ops: Vec<&str> = updates.iter().map(|(op, _)| *op).collect();
    assert_eq!(ops, ["timeline", "timeline", "update"], "{updates:#?}");
    for (_, body) in &updates[..2] {
        assert_eq!(body["incidentRecordArn"], arn.as_str());
        assert_eq!(body["eventType"], "Custom Event");
    }
    let text = |n: usize| -> String {
        let data: Value = serde_json::from_str(updates[n].1["eventData"].as_str().unwrap_or("{}"))
            .unwrap_or(Value::Null);
        data["text"].as_str().unwrap_or("").to_string()
    };
    assert_eq!(text(0), "Acknowledged in Versus after the page");
    assert_eq!(text(1), "The alert resolved (Versus)");
    assert_eq!(
        (&updates[2].1["arn"], &updates[2].1["status"]),
        (&Value::from(arn.as_str()), &Value::from("RESOLVED"))
    );
}
