//! `POST /sns`: AWS SNS deliveries through the real binary. The test plays
//! AWS (see [`aws`]): it signs messages with its own key and serves the
//! certificate locally, through `queue.sns.cert_url_prefix`.

mod aws;
mod cloudwatch;

use std::time::Duration;

use serde_json::{Value, json};

use crate::gateway::Process;
use crate::slack_emulator::{Mode, SlackEmulator};
use aws::{AwsHost, Signer, TOPIC, confirmation, notification, timestamp};

/// The signer, the SNS host the gateway trusts, another host it must never
/// fetch from, Slack, and the gateway.
struct Rig {
    signer: Signer,
    aws: AwsHost,
    elsewhere: AwsHost,
    slack: SlackEmulator,
    gw: Process,
    _dir: tempfile::TempDir,
}

impl Rig {
    async fn start() -> Self {
        let signer = Signer::new();
        let aws = AwsHost::start(signer.certificate()).await;
        let elsewhere = AwsHost::start(signer.certificate()).await;
        let slack = SlackEmulator::start(Mode::Ok).await;
        let dir = tempfile::tempdir().expect("tempdir");
        let gw = gateway(dir.path(), &slack, aws.base()).await;
        Self {
            signer,
            aws,
            elsewhere,
            slack,
            gw,
            _dir: dir,
        }
    }
}

/// A gateway with Slack and SNS on, trusting certificates under `prefix`.
async fn gateway(dir: &std::path::Path, slack: &SlackEmulator, prefix: &str) -> Process {
    let template = dir.join("slack.tmpl");
    std::fs::write(
        &template,
        "{{ with .message }}{{ . }}{{ else }}{{ .commonLabels.alertname }}{{ end }}",
    )
    .expect("write the template");
    let yaml = format!(
        "host: 127.0.0.1\nport: {{port}}\nalert:\n  slack:\n    enable: true\n    token: xoxb-test\n    \
         channel_id: C123\n    template_path: {}\n    api_url: {}\nqueue:\n  enable: true\n  sns:\n    \
         enable: true\n    topic_arn: {TOPIC}\n    cert_url_prefix: {prefix}\nplugins:\n  watch: false\n",
        template.display(),
        slack.api_url()
    );
    let gw_dir = dir.join("gw");
    std::fs::create_dir_all(&gw_dir).expect("mkdir");
    Process::start(&gw_dir, &yaml, &[]).await
}

/// POSTs `message` to `/sns` as SNS does (text/plain); status and answer.
async fn deliver(gw: &Process, message: &Value) -> (u16, Value) {
    deliver_to(gw, "", message).await
}

/// [`deliver`] to `/sns?{query}`.
async fn deliver_to(gw: &Process, query: &str, message: &Value) -> (u16, Value) {
    let response = reqwest::Client::new()
        .post(format!("{}/sns?{query}", gw.base()))
        .header("content-type", "text/plain; charset=UTF-8")
        .header(
            "x-amz-sns-message-type",
            message["Type"].as_str().unwrap_or_default(),
        )
        .body(message.to_string())
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST /sns failed: {e}\n{}", gw.log()));
    let status = response.status().as_u16();
    let bytes = response.bytes().await.unwrap_or_default();
    let answer = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (status, answer)
}

fn texts(slack: &SlackEmulator) -> Vec<String> {
    slack.posted().iter().map(|p| p.to_string()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_notifications_are_delivered_and_forgeries_refused() {
    let Rig {
        signer,
        aws,
        elsewhere,
        slack,
        gw,
        _dir,
    } = Rig::start().await;
    assert!(
        gw.log().contains("queue.sns.cert_url_prefix is set"),
        "startup must warn about the test prefix:\n{}",
        gw.log()
    );
    let cert = format!("{}cert.pem", aws.base());

    // Version 1 (SHA1withRSA), the Message an Alertmanager payload.
    let alert = std::fs::read_to_string(crate::common::fixture("alertmanager/critical.json"))
        .expect("fixture");
    let v1 = signer.signed(notification(&alert, "1", &cert));
    let (status, answer) = deliver(&gw, &v1).await;
    assert_eq!(status, 201, "{answer}\n{}", gw.log());
    // Version 2 (SHA256withRSA), a plain-text Message.
    let v2 = signer.signed(notification("disk full on db-1", "2", &cert));
    let (status, answer) = deliver(&gw, &v2).await;
    assert_eq!(status, 201, "{answer}\n{}", gw.log());
    let posted = texts(&slack);
    assert_eq!(posted.len(), 2, "{posted:?}");
    assert!(posted[0].contains("HighErrorRate"), "{}", posted[0]);
    assert!(posted[1].contains("disk full on db-1"), "{}", posted[1]);

    // Each refused with 400, nothing delivered.
    let mut tampered = v2.clone();
    tampered["Message"] = json!("disk full on db-2");
    let mut wrong_topic = notification("x", "2", &cert);
    wrong_topic["TopicArn"] = json!("arn:aws:sns:eu-west-1:123456789012:other");
    let mut stale = notification("x", "2", &cert);
    stale["Timestamp"] = json!(timestamp(2 * 3600));
    let mut bad_v1 = signer.signed(notification("x", "1", &cert));
    bad_v1["Signature"] = json!(signer.sign("1", "something else"));
    let mut bad_v2 = signer.signed(notification("x", "2", &cert));
    bad_v2["Signature"] = json!(signer.sign("2", "something else"));
    let outside = signer.signed(notification(
        "x",
        "2",
        &format!("{}cert.pem", elsewhere.base()),
    ));
    let cases = [
        ("tampered body", tampered, "signature does not match"),
        (
            "wrong topic",
            signer.signed(wrong_topic),
            "is not queue.sns.topic_arn",
        ),
        ("stale", signer.signed(stale), "more than an hour"),
        (
            "version 1, bad signature",
            bad_v1,
            "signature does not match",
        ),
        (
            "version 2, bad signature",
            bad_v2,
            "signature does not match",
        ),
        (
            "certificate outside the prefix",
            outside,
            "is not an AWS SNS certificate URL",
        ),
    ];
    for (what, message, why) in cases {
        let (status, answer) = deliver(&gw, &message).await;
        assert_eq!(status, 400, "{what}: {answer}");
        assert!(
            answer["error"].as_str().unwrap_or_default().contains(why),
            "{what}: {answer}"
        );
    }
    assert_eq!(texts(&slack).len(), 2, "nothing more delivered");
    assert!(
        elsewhere.hits().is_empty(),
        "fetched outside the prefix: {:?}",
        elsewhere.hits()
    );
    // The certificate was fetched once, then kept.
    assert_eq!(aws.hits(), vec!["/cert.pem".to_string()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscription_is_confirmed_only_for_the_configured_topic() {
    let Rig {
        signer,
        aws,
        elsewhere,
        slack,
        gw,
        _dir,
    } = Rig::start().await;
    let cert = format!("{}cert.pem", aws.base());
    let subscribe = format!("{}?Action=ConfirmSubscription&Token=token-1", aws.base());

    let other = signer.signed(confirmation(
        "arn:aws:sns:eu-west-1:1:other",
        &subscribe,
        &cert,
    ));
    let (status, answer) = deliver(&gw, &other).await;
    assert_eq!(status, 400, "{answer}");
    let off_host = format!("{}?Action=ConfirmSubscription", elsewhere.base());
    let outside = signer.signed(confirmation(TOPIC, &off_host, &cert));
    let (status, answer) = deliver(&gw, &outside).await;
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer["error"]
            .as_str()
            .unwrap_or_default()
            .contains("SubscribeURL"),
        "{answer}"
    );
    assert!(elsewhere.hits().is_empty(), "{:?}", elsewhere.hits());

    let ours = signer.signed(confirmation(TOPIC, &subscribe, &cert));
    let (status, answer) = deliver(&gw, &ours).await;
    assert_eq!(status, 200, "{answer}\n{}", gw.log());
    assert_eq!(answer["status"], "subscribed");
    assert_eq!(
        aws.hits(),
        vec![
            "/cert.pem".to_string(),
            "/?Action=ConfirmSubscription&Token=token-1".to_string()
        ]
    );
    assert!(texts(&slack).is_empty());
}
