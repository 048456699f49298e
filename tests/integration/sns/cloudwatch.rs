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
