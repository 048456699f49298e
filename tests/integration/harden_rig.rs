//! A gateway for the hardening tests (authentication, limits, faults): the
//! real binary with Slack pointed at a local emulator, extra config lines
//! appended, and a raw POST helper that returns status, headers and body.

use std::time::Duration;

use serde_json::Value;

use crate::common::fixture;
use crate::gateway::Process;
use crate::slack_emulator::SlackEmulator;

/// The Slack token the gateway is configured with; no answer may show it.
pub const SLACK_TOKEN: &str = "xoxb-harden-0123456789-secret";

/// A running gateway and the directory it lives in.
pub struct Gw {
    pub process: Process,
    _dir: tempfile::TempDir,
}

/// One answer from the gateway.
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Answer {
    /// The body as JSON (`Null` if it is not).
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }

    /// The `error` field of a JSON error answer.
    pub fn error(&self) -> String {
        self.json()["error"].as_str().unwrap_or("").to_string()
    }

    /// A header as text, or `""`.
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

impl Gw {
    /// Slack (token [`SLACK_TOKEN`], channel `C123`) at `slack`, the
    /// fixture template, and `extra` appended to the YAML; `env` added.
    pub async fn start(slack: &SlackEmulator, extra: &str, env: &[(&str, String)]) -> Self {
        Self::start_with_budget(slack, "30s", extra, env).await
    }

    /// [`Gw::start`] with `alert.retry.max_elapsed` set to `budget`.
    pub async fn start_with_budget(
        slack: &SlackEmulator,
        budget: &str,
        extra: &str,
        env: &[(&str, String)],
    ) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let template = fixture("templates/slack_message.tmpl");
        let yaml = format!(
            "host: 127.0.0.1\nport: {{port}}\nalert:\n  retry:\n    max_elapsed: {budget}\n    initial_backoff: 100ms\n    \
             max_backoff: 400ms\n  slack:\n    enable: true\n    token: {SLACK_TOKEN}\n    \
             channel_id: C123\n    template_path: {}\n    api_url: {}\n{extra}",
            template.display(),
            slack.api_url()
        );
        // A test that brings its own `plugins:` section sets `watch` itself.
        let yaml = if extra.contains("plugins:") {
            yaml
        } else {
            yaml + "plugins:\n  watch: false\n"
        };
        let gw_dir = dir.path().join("gw");
        std::fs::create_dir_all(&gw_dir).expect("mkdir");
        let process = Process::start(&gw_dir, &yaml, env).await;
        Self { process, _dir: dir }
    }

    /// POSTs `body` to `/api/incidents?{query}` with `headers`.
    pub async fn post(&self, query: &str, headers: &[(&str, String)], body: &[u8]) -> Answer {
        let url = format!("{}/api/incidents?{query}", self.process.base());
        let mut req = reqwest::Client::new()
            .post(url)
            .header("content-type", "application/json")
            .body(body.to_vec())
            .timeout(Duration::from_secs(60));
        for (k, v) in headers {
            req = req.header(*k, v.as_str());
        }
        let response = req
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST failed: {e}\n{}", self.process.log()));
        Answer {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            text: response.text().await.unwrap_or_default(),
        }
    }

    /// Whether `/healthz` answers 200.
    pub async fn healthy(&self) -> bool {
        let url = format!("{}/healthz", self.process.base());
        reqwest::Client::new()
            .get(url)
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
    }
}

/// A small firing alert naming `name`.
pub fn alert(name: &str) -> Vec<u8> {
    serde_json::json!({
        "status": "firing",
        "commonLabels": { "alertname": name, "severity": "critical", "instance": "host-1" },
        "alerts": [{ "annotations": { "description": format!("{name} is down") } }],
    })
    .to_string()
    .into_bytes()
}
