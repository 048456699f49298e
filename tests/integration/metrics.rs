//! `GET /metrics` on the real binary: the counters follow what the gateway
//! did, in the OpenMetrics text format Prometheus scrapes.

use std::time::Duration;

use crate::common::fixture;
use crate::gateway::Process;
use crate::incidents::payload;
use crate::slack_emulator::{Mode, SlackEmulator};

/// The value of the sample `series` (name and labels, as printed), if any.
pub(crate) fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' '))
        .and_then(|v| v.trim().parse().ok())
}

/// `GET /metrics`: the content type and the text.
pub(crate) async fn scrape(gw: &Process) -> (String, String) {
    let resp = reqwest::Client::new()
        .get(format!("{}/metrics", gw.base()))
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .expect("GET /metrics");
    assert_eq!(resp.status(), 200);
    let kind = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (kind, resp.text().await.expect("body"))
}

async fn post(gw: &Process, body: Vec<u8>) -> u16 {
    reqwest::Client::new()
        .post(format!("{}/api/incidents", gw.base()))
        .header("content-type", "application/json")
        .body(body)
        .timeout(Duration::from_secs(60))
        .send()
        .await
        .expect("POST")
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_count_incidents_deliveries_and_plugin_errors() {
    // Slack refuses every message for good; the console channel delivers.
    let slack = SlackEmulator::start(Mode::SlackError("channel_not_found")).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let yaml = format!(
        "host: 127.0.0.1\nport: {{port}}\nalert:\n  slack:\n    enable: true\n    \
         token: xoxb-test\n    channel_id: C123\n    template_path: {tmpl}\n    api_url: {api}\n  \
         console:\n    enable: true\n    template_path: {tmpl}\nplugins:\n  watch: false\n",
        tmpl = fixture("templates/slack_message.tmpl").display(),
        api = slack.api_url()
    );
    let gw = Process::start(dir.path(), &yaml, &[]).await;

    let (kind, before) = scrape(&gw).await;
    assert!(kind.starts_with("application/openmetrics-text"), "{kind}");
    assert!(before.trim_end().ends_with("# EOF"), "{before}");
    assert!(
        before.contains("# TYPE versus_incidents_received counter"),
        "{before}"
    );

    assert_eq!(post(&gw, payload("critical")).await, 502);
    assert_eq!(post(&gw, payload("warning")).await, 502);
    assert_eq!(post(&gw, payload("resolved")).await, 502);

    let (_, text) = scrape(&gw).await;
    let value = |series: &str| sample(&text, series);
    assert_eq!(
        value(r#"versus_incidents_received_total{source="alertmanager",status="firing"}"#),
        Some(2.0),
        "{text}"
    );
    assert_eq!(
        value(r#"versus_incidents_received_total{source="alertmanager",status="resolved"}"#),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        value(r#"versus_deliveries_total{channel="console",outcome="delivered"}"#),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        value(r#"versus_deliveries_total{channel="slack",outcome="failed"}"#),
        Some(3.0),
        "{text}"
    );
    assert_eq!(
        value(r#"versus_plugin_errors_total{plugin="slack",kind="permanent"}"#),
        Some(3.0),
        "{text}"
    );
    assert_eq!(value("versus_delivery_retries_total"), Some(0.0), "{text}");
    assert_eq!(
        value("versus_escalations_started_total"),
        Some(0.0),
        "{text}"
    );
}
