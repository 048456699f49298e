//! `POST /api/incidents` end to end: the real `versus` binary delivering to a
//! local Slack emulator. Exact Slack request bodies (against goldens in
//! `tests/golden/slack/`, regenerated with `VERSUS_BLESS=1`), query
//! overrides, retries, channel isolation, and `versus check` on upstream
//! configs.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{fixture, repo};
use crate::gateway::Process;
use crate::slack_emulator::{Mode, Recorded, SlackEmulator};

const FIXTURES: &[&str] = &["critical", "resolved", "urgent", "warning"];
const FIRING_COLOR: &str = "#C70039";
const RESOLVED_COLOR: &str = "#36A64F";

/// A running `versus serve` (a [`Process`]) with its own directory.
struct Gateway {
    process: Process,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Gateway {
    /// Serves with Slack pointed at `slack` (token `xoxb-test`, channel
    /// `C123`), plus the console channel when `console` is set.
    async fn start(slack: &SlackEmulator, console: bool) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let template = fixture("templates/slack_message.tmpl");
        let template = template.display();
        let yaml = format!(
            "host: 127.0.0.1\nport: {{port}}\nalert:\n  slack:\n    enable: true\n    token: xoxb-test\n    \
             channel_id: C123\n    template_path: {template}\n    api_url: {}\n  console:\n    \
             enable: {console}\n    template_path: {template}\nplugins:\n  watch: false\n",
            slack.api_url()
        );
        // The cache goes beside the gateway's directory, inside `dir`.
        let gw_dir = dir.path().join("gw");
        std::fs::create_dir_all(&gw_dir).expect("mkdir");
        let process = Process::start(&gw_dir, &yaml, &[]).await;
        let port = process.port;
        Self {
            process,
            port,
            _dir: dir,
        }
    }

    /// POSTs `body` as JSON to `/api/incidents?{query}`.
    async fn post(&self, query: &str, body: &[u8]) -> (u16, Value) {
        let url = format!("http://127.0.0.1:{}/api/incidents?{query}", self.port);
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

    fn log(&self) -> String {
        self.process.log()
    }
}

/// `versus` with a clean environment (no `HOST`, `SLACK_*`, … overrides
/// leaking in from the shell) and its compiled-component cache in `cache`.
fn versus_command(cache: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_versus"));
    cmd.env_clear().env("VERSUS_CACHE_DIR", cache);
    cmd
}

pub(crate) fn payload(name: &str) -> Vec<u8> {
    std::fs::read(fixture(&format!("alertmanager/{name}.json"))).expect("read payload")
}

/// The entry for channel `name` in a response's `channels` list.
fn channel<'a>(response: &'a Value, name: &str) -> &'a Value {
    response["channels"]
        .as_array()
        .and_then(|list| list.iter().find(|c| c["channel"] == name))
        .unwrap_or_else(|| panic!("no `{name}` in the channel list: {response}"))
}

/// Checks `body` against the plugin's documented shape, independently of
/// the golden: colour by status, the Go-rendered text in one section block.
fn assert_slack_shape(name: &str, body: &Value) {
    let color = if name == "resolved" {
        RESOLVED_COLOR
    } else {
        FIRING_COLOR
    };
    let rendered = std::fs::read_to_string(fixture(&format!("rendered/slack_message.{name}.txt")))
        .expect("rendered fixture");
    // A section never ends in newlines: the next block starts on a new line.
    let rendered = rendered.trim_end_matches('\n');
    let first_line = rendered.lines().map(str::trim).find(|l| !l.is_empty());
    assert_eq!(body["channel"], "C123", "{name}");
    assert_eq!(body["text"].as_str(), first_line, "{name}");
    let attachments = body["attachments"].as_array().expect("attachments");
    assert_eq!(attachments.len(), 1, "{name}: {body}");
    assert_eq!(attachments[0]["color"], color, "{name}");
    let blocks = attachments[0]["blocks"].as_array().expect("blocks");
    assert_eq!(
        blocks.len(),
        1,
        "{name}: no ACK button without on-call: {body}"
    );
    assert_eq!(blocks[0]["type"], "section", "{name}");
    assert_eq!(blocks[0]["text"]["type"], "mrkdwn", "{name}");
    assert_eq!(blocks[0]["text"]["text"].as_str(), Some(rendered), "{name}");
}

/// Compares `actual` with `tests/golden/slack/<name>.json`, or rewrites the
/// golden when `VERSUS_BLESS=1`.
pub(crate) fn assert_golden(name: &str, actual: &Value) {
    let path: PathBuf = repo().join(format!("tests/golden/slack/{name}.json"));
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
        "{name}: Slack body differs from {}; if the change is intended, rerun with VERSUS_BLESS=1",
        path.display()
    );
}

fn only_post(requests: &[Recorded]) -> &Recorded {
    assert_eq!(requests.len(), 1, "{requests:#?}");
    assert_eq!(requests[0].path, "/api/chat.postMessage");
    &requests[0]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_fixture_reaches_slack_as_its_golden_body() {
    let slack = SlackEmulator::start(Mode::Ok).await;
    let gateway = Gateway::start(&slack, false).await;
    for (i, name) in FIXTURES.iter().enumerate() {
        let (status, response) = gateway.post("", &payload(name)).await;
        assert_eq!(status, 201, "{name}: {response}");
        assert_eq!(response["status"], "Incident created", "{name}");
        assert_eq!(channel(&response, "slack")["status"], "delivered", "{name}");
        let requests = slack.requests();
        assert_eq!(requests.len(), i + 1, "{name}: one request per alert");
        let request = &requests[i];
        assert_eq!(request.path, "/api/chat.postMessage", "{name}");
        assert_eq!(
            request.header("authorization"),
            "Bearer xoxb-test",
            "{name}"
        );
        assert!(
            request
                .header("content-type")
                .starts_with("application/json"),
            "{name}: {:?}",
            request.headers
        );
        assert_slack_shape(name, &request.body);
        assert_golden(name, &request.body);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_channel_id_query_overrides_the_channel() {
    let slack = SlackEmulator::start(Mode::Ok).await;
    let gateway = Gateway::start(&slack, false).await;
    let (status, response) = gateway
        .post("slack_channel_id=COVERRIDE", &payload("critical"))
        .await;
    assert_eq!(status, 201, "{response}");
    assert_eq!(only_post(&slack.requests()).body["channel"], "COVERRIDE");
}

/// A 429 is not waited out inside the request: the notification goes into
/// the channel's outbound queue, the sender is answered at once, and the
/// queue posts it after `Retry-After`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limited_delivery_is_queued_and_posted_after_retry_after() {
    let slack = SlackEmulator::start(Mode::RateLimitedOnce {
        retry_after_secs: 1,
    })
    .await;
    let gateway = Gateway::start(&slack, false).await;
    let (status, response) = gateway.post("", &payload("critical")).await;
    assert_eq!(status, 201, "{response}");
    assert_eq!(
        channel(&response, "slack")["status"],
        "queued",
        "{response}"
    );
    assert_eq!(channel(&response, "slack")["attempts"], 1, "{response}");
    assert!(
        crate::common::eventually(Duration::from_secs(5), async || slack.posted().len() == 1).await,
        "the queue never posted it"
    );
    let requests = slack.requests();
    assert_eq!(requests.len(), 2, "{requests:#?}");
    let gap = requests[1].at - requests[0].at;
    // Retry-After: 1 means one second, give or take clock granularity.
    assert!(gap >= Duration::from_millis(950), "retried after {gap:?}");
    assert_eq!(
        requests[0].body, requests[1].body,
        "the queue sends the same message"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_error_is_retried() {
    let slack = SlackEmulator::start(Mode::ServerErrorOnce).await;
    let gateway = Gateway::start(&slack, false).await;
    let (status, response) = gateway.post("", &payload("critical")).await;
    assert_eq!(status, 201, "{response}");
    assert_eq!(channel(&response, "slack")["attempts"], 2, "{response}");
    assert_eq!(slack.requests().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_error_is_not_retried_and_reported() {
    let slack = SlackEmulator::start(Mode::SlackError("channel_not_found")).await;
    let gateway = Gateway::start(&slack, false).await;
    let (status, response) = gateway.post("", &payload("critical")).await;
    assert_eq!(status, 502, "{response}");
    assert_eq!(response["status"], "Delivery failed", "{response}");
    assert_eq!(
        response["channels"].as_array().map(Vec::len),
        Some(1),
        "{response}"
    );
    let slack_result = channel(&response, "slack");
    assert_eq!(slack_result["status"], "failed", "{response}");
    assert_eq!(slack_result["attempts"], 1, "{response}");
    assert_eq!(slack_result["error_kind"], "permanent", "{response}");
    let error = slack_result["error"].as_str().unwrap_or_default();
    assert!(error.contains("channel_not_found"), "{response}");
    only_post(&slack.requests());
}

/// With the default 30 s budget (`alert.retry.max_elapsed`), so this waits
/// out the real backoff: about 24 s. `api_more.rs` checks a short budget.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn persistent_server_errors_give_up_within_the_retry_budget() {
    let slack = SlackEmulator::start(Mode::AlwaysServerError).await;
    let gateway = Gateway::start(&slack, false).await;
    let started = Instant::now();
    let (status, response) = gateway.post("", &payload("critical")).await;
    let elapsed = started.elapsed();
    assert_eq!(status, 502, "{response}");
    let slack_result = channel(&response, "slack");
    assert_eq!(slack_result["status"], "failed", "{response}");
    assert_eq!(slack_result["error_kind"], "transient", "{response}");
    let attempts = slack.requests().len();
    assert_eq!(slack_result["attempts"], attempts, "{response}");
    assert!((3..=10).contains(&attempts), "{attempts} attempts");
    assert!(
        elapsed < Duration::from_secs(35),
        "gave up after {elapsed:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_channel_does_not_block_the_others() {
    let slack = SlackEmulator::start(Mode::SlackError("invalid_auth")).await;
    let gateway = Gateway::start(&slack, true).await;
    let (status, response) = gateway.post("", &payload("warning")).await;
    assert_eq!(status, 502, "{response}");
    assert_eq!(
        channel(&response, "console")["status"],
        "delivered",
        "{response}"
    );
    let slack_result = channel(&response, "slack");
    assert_eq!(slack_result["status"], "failed", "{response}");
    let error = slack_result["error"].as_str().unwrap_or_default();
    assert!(error.contains("invalid_auth"), "{response}");
    only_post(&slack.requests());
}

/// Runs `versus check --config <config>` from a directory holding
/// `config/slack_message.tmpl`, as upstream configs expect.
fn check(config: &Path, env: &[(&str, &str)]) {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::create_dir_all(dir.path().join("config")).expect("mkdir");
    std::fs::copy(
        fixture("templates/slack_message.tmpl"),
        dir.path().join("config/slack_message.tmpl"),
    )
    .expect("copy template");
    let out = versus_command(dir.path())
        .args(["check", "--config"])
        .arg(config)
        .envs(env.iter().copied())
        .current_dir(dir.path())
        .output()
        .expect("run versus check");
    assert!(
        out.status.success(),
        "{}: {:?}\nstdout: {}\nstderr: {}",
        config.display(),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("is valid"), "{stdout}");
}

#[test]
fn upstream_configs_pass_check() {
    for file in ["upstream-v1.2.0.yaml", "upstream-v1.4.23.yaml"] {
        check(&fixture(&format!("configs/{file}")), &[]);
    }
}

#[test]
fn seed_config_passes_check_with_its_environment() {
    check(
        &fixture("configs/seed-config.yaml"),
        &[
            ("SLACK_TOKEN", "xoxb-test"),
            ("SLACK_CHANNEL_ID", "C123"),
            ("REDIS_HOST", "127.0.0.1"),
            ("REDIS_PORT", "6379"),
            (
                "AWS_INCIDENT_MANAGER_RESPONSE_PLAN_ARN",
                "arn:aws:ssm-incidents::111122223333:response-plan/versus-test",
            ),
        ],
    );
}
