//! CloudWatch alarms through SNS with on-call on: an `ALARM` pages once
//! when nobody acknowledges in time, and an `OK` for the same alarm within
//! the wait resolves the incident and cancels its page.

use std::time::Duration;

use serde_json::json;

use super::aws::{AwsHost, Signer, TOPIC, notification};
use super::deliver_to;
use crate::oncall_rig::{Rig, wait_for};

/// A CloudWatch alarm state change, as CloudWatch publishes it to SNS.
fn alarm(name: &str, state: &str) -> String {
    json!({
        "AlarmName": name,
        "AlarmDescription": "API 5xx above 5%",
        "AWSAccountId": "123456789012",
        "NewStateValue": state,
        "NewStateReason": "Threshold Crossed: 1 datapoint [7.2] was greater than the threshold (5.0).",
        "StateChangeTime": "2026-12-07T01:00:00.000+0000",
        "Region": "EU (Ireland)",
        "AlarmArn": format!("arn:aws:cloudwatch:eu-west-1:123456789012:alarm:{name}"),
        "OldStateValue": if state == "OK" { "ALARM" } else { "OK" },
        "Trigger": {"MetricName": "5XXError", "Namespace": "AWS/ApiGateway"}
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_alarm_pages_once_unless_ok_arrives_within_the_wait() {
    let signer = Signer::new();
    let aws = AwsHost::start(signer.certificate()).await;
    let rig = Rig::new().await;
    let yaml = format!(
        "{}queue:\n  enable: true\n  sns:\n    enable: true\n    topic_arn: {TOPIC}\n    \
         cert_url_prefix: {}\n",
        rig.yaml_with("  host: 127.0.0.1\n  port: 6379\n"),
        aws.base()
    );
    let gw = crate::gateway::Process::start(&rig.dir("gw"), &yaml, &rig.env()).await;
    let cert = format!("{}cert.pem", aws.base());
    let send = |text: String| signer.signed(notification(&text, "2", &cert));
    // A 2.4 s wait before paging, through the subscription URL's query.
    let query = "oncall_wait_minutes=0.04";

    let (status, answer) = deliver_to(&gw, query, &send(alarm("api-5xx", "ALARM"))).await;
    assert_eq!(status, 201, "{answer}\n{}", gw.log());
    let (status, answer) = deliver_to(&gw, query, &send(alarm("api-5xx", "OK"))).await;
    assert_eq!(status, 201, "{answer}\n{}", gw.log());
    let (status, answer) = deliver_to(&gw, query, &send(alarm("db-cpu", "ALARM"))).await;
    assert_eq!(status, 201, "{answer}\n{}", gw.log());

    // db-cpu pages once its wait is over; api-5xx, resolved, never does.
    assert!(
        wait_for(Duration::from_secs(20), || !rig.ssm.calls().is_empty()).await,
        "db-cpu never paged\n{}",
        gw.log()
    );
    tokio::time::sleep(Duration::from_secs(4)).await;
    let calls = rig.ssm.calls();
    assert_eq!(
        calls.len(),
        1,
        "{:?}",
        calls.iter().map(|c| &c.body).collect::<Vec<_>>()
    );
    assert!(
        calls[0].body.to_string().contains("db-cpu"),
        "{}",
        calls[0].body
    );
}

/// `queue.cloudwatch`: the severity by alarm name sets the page's impact,
/// and `INSUFFICIENT_DATA` posts without paging (`notify`) or is dropped
/// (`ignore`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn severity_by_alarm_name_and_insufficient_data() {
    let signer = Signer::new();
    let aws = AwsHost::start(signer.certificate()).await;
    let rig = Rig::new().await;
    let gateway = |name: &'static str, insufficient: &'static str| {
        let yaml = format!(
            "{}queue:\n  enable: true\n  sns:\n    enable: true\n    topic_arn: {TOPIC}\n    \
             cert_url_prefix: {}\n  cloudwatch:\n    insufficient_data: {insufficient}\n    \
             severity:\n      \"staging-*\": warning\n      \"*-info\": info\n",
            rig.yaml_with("  host: 127.0.0.1\n  port: 6379\n"),
            aws.base()
        );
        let dir = rig.dir(name);
        let env = rig.env();
        async move { crate::gateway::Process::start(&dir, &yaml, &env).await }
    };
    let gw = gateway("notify", "notify").await;
    let cert = format!("{}cert.pem", aws.base());
    let send = |text: String| signer.signed(notification(&text, "2", &cert));
    // Each pages at once: no ACK wait.
    let query = "oncall_wait_minutes=0";
    for (name, state) in [
        ("staging-db", "ALARM"),
        ("prod-api", "ALARM"),
        ("prod-cache", "INSUFFICIENT_DATA"),
    ] {
        let (status, answer) = deliver_to(&gw, query, &send(alarm(name, state))).await;
        assert_eq!(status, 201, "{name}: {answer}\n{}", gw.log());
    }
    assert!(
        wait_for(Duration::from_secs(20), || rig.ssm.calls().len() >= 2).await,
        "{}",
        gw.log()
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut impacts: Vec<(String, i64)> = rig
        .ssm
        .calls()
        .iter()
        .map(|c| {
            let title = c.body["title"].as_str().unwrap_or_default().to_string();
            (title, c.body["impact"].as_i64().unwrap_or_default())
        })
        .collect();
    impacts.sort();
    let want =
        [("[CRITICAL] prod-api", 1), ("[WARNING] staging-db", 3)].map(|(t, i)| (t.to_string(), i));
    assert_eq!(impacts, want, "INSUFFICIENT_DATA must not page");
    // All three reached Slack; only the paging ones with an incident.
    let posted = rig.slack.posted();
    assert_eq!(posted.len(), 3, "{posted:?}");
    assert!(posted.iter().any(|p| p.to_string().contains("prod-cache")));
    drop(gw);

    let gw = gateway("ignore", "ignore").await;
    let (status, answer) =
        deliver_to(&gw, query, &send(alarm("prod-cache", "INSUFFICIENT_DATA"))).await;
    assert_eq!(status, 202, "{answer}\n{}", gw.log());
    assert_eq!(answer["status"], "Incident dropped", "{answer}");
    assert!(
        answer["reason"]
            .as_str()
            .is_some_and(|r| r.contains("queue.cloudwatch.insufficient_data")),
        "{answer}"
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(rig.slack.posted().len(), 3);
    assert_eq!(rig.ssm.calls().len(), 2);
}
