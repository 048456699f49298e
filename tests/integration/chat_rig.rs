//! A `versus serve` process for the chat-channel tests: an `alert:` section
//! given by the test, fast retries, and helpers to post alerts and compare
//! request bodies with goldens in `tests/golden/<channel>/` (regenerated
//! with `VERSUS_BLESS=1`).

use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;

use crate::common::{fixture, repo};
use crate::gateway::Process;

/// A running gateway with its own directory.
pub struct ChatGateway {
    process: Process,
    _dir: tempfile::TempDir,
}

impl ChatGateway {
    /// Serves with `alert` (YAML lines indented under `alert:`) and `env`.
    /// Retries start at 100 ms so a retry test takes well under a second.
    pub async fn start(alert: &str, env: &[(&str, String)]) -> Self {
        Self::start_with_budget(alert, env, "20s").await
    }

    /// [`ChatGateway::start`] with `alert.retry.max_elapsed` set to `budget`.
    pub async fn start_with_budget(alert: &str, env: &[(&str, String)], budget: &str) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let yaml = format!(
            "host: 127.0.0.1\nport: {{port}}\nalert:\n  retry:\n    max_elapsed: {budget}\n    \
             initial_backoff: 100ms\n    max_backoff: 1s\n{alert}\nplugins:\n  watch: false\n"
        );
        let gw_dir = dir.path().join("gw");
        std::fs::create_dir_all(&gw_dir).expect("mkdir");
        let process = Process::start(&gw_dir, &yaml, env).await;
        Self { process, _dir: dir }
    }

    /// POSTs `body` to `/api/incidents?{query}`; the status and JSON answer.
    pub async fn post(&self, query: &str, body: &[u8]) -> (u16, Value) {
        let url = format!("{}/api/incidents?{query}", self.process.base());
        let response = reqwest::Client::new()
            .post(url)
            .header("content-type", "application/json")
            .body(body.to_vec())
            .timeout(Duration::from_secs(60))
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST failed: {e}\n{}", self.log()));
        let status = response.status().as_u16();
        let bytes = response.bytes().await.expect("response body");
        let json = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
            panic!(
                "response is not JSON ({e}): {}",
                String::from_utf8_lossy(&bytes)
            )
        });
        (status, json)
    }

    /// The gateway process.
    pub fn process(&self) -> &Process {
        &self.process
    }

    /// The gateway's log so far.
    pub fn log(&self) -> String {
        self.process.log()
    }
}

/// The absolute path of a template fixture, for `template_path`.
pub fn template(rel: &str) -> String {
    fixture(&format!("templates/{rel}")).display().to_string()
}

/// The absolute path of a template in `config/`.
pub fn config_template(name: &str) -> String {
    repo().join("config").join(name).display().to_string()
}

/// An Alertmanager fixture's bytes.
pub fn alertmanager(name: &str) -> Vec<u8> {
    std::fs::read(fixture(&format!("alertmanager/{name}.json"))).expect("read payload")
}

/// The entry for channel `name` in a response's `channels` list.
pub fn channel<'a>(response: &'a Value, name: &str) -> &'a Value {
    response["channels"]
        .as_array()
        .and_then(|list| list.iter().find(|c| c["channel"] == name))
        .unwrap_or_else(|| panic!("no `{name}` in the channel list: {response}"))
}

/// Compares `actual` with `tests/golden/{channel}/{name}.json`, or writes
/// the golden when `VERSUS_BLESS=1`.
pub fn assert_golden(channel: &str, name: &str, actual: &Value) {
    let path: PathBuf = repo().join(format!("tests/golden/{channel}/{name}.json"));
    if std::env::var_os("VERSUS_BLESS").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir golden");
        let text = serde_json::to_string_pretty(actual).expect("encode") + "\n";
        std::fs::write(&path, text).expect("write golden");
        return;
    }
    let golden = std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "cannot read {} ({e}); run with VERSUS_BLESS=1 to create it",
            path.display()
        )
    });
    let golden: Value = serde_json::from_slice(&golden).expect("golden is JSON");
    assert_eq!(
        actual,
        &golden,
        "{channel}/{name}: body differs from {}; if the change is intended, rerun with VERSUS_BLESS=1",
        path.display()
    );
}
