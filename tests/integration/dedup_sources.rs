//! Every sender the gateway recognises has a dedup key, not only
//! Alertmanager: CloudWatch (bare and wrapped by SNS), Grafana, a JSON
//! body's own `dedup_key` or `fingerprint`, and the `?dedup_key=` query
//! override. For each, a repeat joins the open incident and its resolved
//! form cancels the pending page; a body with no key still pages.

use std::time::Duration;

use serde_json::{Value, json};

use crate::oncall_rig::{Rig, post, state_of, wait_for};

/// 0.05 minutes: a 3 s wait before paging.
const WAIT: &str = "oncall_wait_minutes=0.05";

fn cloudwatch(state: &str) -> Value {
    json!({
        "AlarmName": "cpu-high",
        "AlarmArn": "arn:aws:cloudwatch:eu-west-1:111122223333:alarm:cpu-high",
        "AWSAccountId": "111122223333",
        "NewStateValue": state,
        "NewStateReason": "Threshold Crossed",
    })
}

fn in_sns(message: Value) -> Value {
    json!({"Type": "Notification", "MessageId": "m-1", "Message": message.to_string()})
}

fn grafana(status: &str) -> Value {
    json!({
        "receiver": "versus", "status": status, "version": "1", "orgId": 1,
        "groupKey": "{}/{}:{alertname=\"DiskFull\"}",
        "alerts": [{"status": status, "labels": {"alertname": "DiskFull"}}],
        "title": format!("[{}] DiskFull", status.to_uppercase()),
    })
}

fn generic(member: &str, status: &str) -> Value {
    json!({"title": "queue backlog", member: "orders/backlog", "status": status})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_recognised_sender_joins_repeats_and_cancels_on_resolve() {
    let rig = Rig::new().await;
    let gw = rig.gateway("gw", 6379).await;
    let cases = [
        ("cloudwatch", cloudwatch("ALARM"), cloudwatch("OK"), ""),
        (
            "cloudwatch in sns",
            in_sns(cloudwatch("ALARM")),
            in_sns(cloudwatch("OK")),
            "",
        ),
        ("grafana", grafana("firing"), grafana("resolved"), ""),
        (
            "dedup_key member",
            generic("dedup_key", "firing"),
            generic("dedup_key", "resolved"),
            "",
        ),
        (
            "fingerprint member",
            generic("fingerprint", "firing"),
            generic("fingerprint", "resolved"),
            "",
        ),
        (
            "query override",
            json!({"title": "nightly job failed", "status": "firing"}),
            json!({"title": "nightly job failed", "status": "resolved"}),
            "&dedup_key=nightly-job",
        ),
    ];
    for (name, fire, resolve, query) in &cases {
        let q = format!("{WAIT}{query}");
        let (status, first) = post(&gw, &q, fire.to_string().into_bytes()).await;
        assert_eq!(status, 201, "{name}: {first}");
        let (status, repeat) = post(&gw, &q, fire.to_string().into_bytes()).await;
        assert_eq!(status, 201, "{name}: {repeat}");
        assert_eq!(
            repeat["id"], first["id"],
            "{name}: the repeat opened a new incident"
        );
        let (status, resolved) = post(&gw, &q, resolve.to_string().into_bytes()).await;
        assert_eq!(status, 201, "{name}: {resolved}");
        let id = first["id"].as_str().expect("id");
        assert_eq!(state_of(&gw, id).await, "resolved", "{name}: not cancelled");
    }

    // A body with no key of any kind still pages, on time.
    let keyless = json!({"title": "something odd", "status": "firing"});
    let (status, answer) = post(&gw, WAIT, keyless.to_string().into_bytes()).await;
    assert_eq!(status, 201, "{answer}");
    assert!(
        wait_for(Duration::from_secs(15), || rig.ssm.calls().len() == 1).await,
        "the keyless alert did not page:\n{}",
        gw.log()
    );
    // Nothing else paged, well past every cancelled deadline.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let calls = rig.ssm.calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0].body["clientToken"], answer["id"]);
}
