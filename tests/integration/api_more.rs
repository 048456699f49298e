//! More of `POST /api/incidents` end to end, against the real binary and a
//! local Slack emulator: `alert.debug_body`, a transform that drops (202),
//! the Slack ACK button against a golden body, `disable_button` handing the
//! link to the template, and a configured retry budget that bounds the
//! whole delivery.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{built_plugin, eventually, fixture};
use crate::gateway::Process;
use crate::incidents::{assert_golden, payload};
use crate::slack_emulator::{Mode, SlackEmulator};
use crate::ssm_emulator::SsmEmulator;

/// Fixed, so the links' signatures come from a known key.
const ACK_SECRET: &str = "api-more-ack-secret-0123456789abcdef";
/// Never contacted: it only appears in ACK links.
const PUBLIC_HOST: &str = "https://versus.example";
const PLAN: &str = "arn:aws:ssm-incidents::111122223333:response-plan/api-more";
/// How long log lines may take to come through the captured stderr.
const LOG_WAIT: Duration = Duration::from_secs(30);
/// Slack for the gateway's own scheduling and process start-up on a busy
/// 2-core machine, on top of the configured retry budget.
const BUDGET_SLACK: Duration = Duration::from_secs(2);

/// A running gateway and the directory that holds its config and cache.
struct Gateway {
    process: Process,
    _dir: tempfile::TempDir,
}

impl Gateway {
    /// Serves `yaml` (see [`config`]) with `env`; `plugins` are copied from
    /// the built test plugins into `<dir>/plugins` for `plugins.dir`.
    async fn start(yaml: &str, env: &[(&str, String)], plugins: &[&str]) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let gw_dir = dir.path().join("gw");
        std::fs::create_dir_all(gw_dir.join("plugins")).expect("mkdir");
        for name in plugins {
            let to = gw_dir.join("plugins").join(format!("{name}.wasm"));
            std::fs::copy(built_plugin(name), to).expect("copy plugin");
        }
        let yaml = yaml.replace(
            "{plugins_dir}",
            &gw_dir.join("plugins").display().to_string(),
        );
        let process = Process::start(&gw_dir, &yaml, env).await;
        Self { process, _dir: dir }
    }

    /// POSTs `body` as JSON to `/api/incidents`.
    async fn post(&self, body: &[u8]) -> (u16, Value) {
        let response = reqwest::Client::new()
            .post(format!("{}/api/incidents", self.process.base()))
            .header("content-type", "application/json")
            .body(body.to_vec())
            .timeout(Duration::from_secs(60))
            .send()
            .await
            .unwrap_or_else(|e| panic!("POST failed: {e}\n{}", self.process.log()));
        let status = response.status().as_u16();
        let bytes = response.bytes().await.expect("response body");
        let json = serde_json::from_slice(&bytes)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&bytes)));
        (status, json)
    }

    /// Waits until the log reports incident `id` delivered; everything the
    /// gateway logs about the request comes before that line.
    async fn wait_delivered(&self, id: &str) {
        let done = eventually(LOG_WAIT, async || {
            self.process
                .log()
                .lines()
                .any(|l| l.contains(id) && l.contains("delivered"))
        })
        .await;
        assert!(done, "incident {id} not delivered:\n{}", self.process.log());
    }
}

/// A config with Slack pointed at `slack` (token `xoxb-test`, channel
/// `C123`, the fixture template). `slack_lines` go under `alert.slack`
/// (4-space indent), `alert_lines` under `alert` (2-space indent) and `rest`
/// at the top level.
fn config(slack: &SlackEmulator, slack_lines: &str, alert_lines: &str, rest: &str) -> String {
    format!(
        "host: 127.0.0.1\nport: {{port}}\npublic_host: {PUBLIC_HOST}\nalert:\n  slack:\n    \
         enable: true\n    token: xoxb-test\n    channel_id: C123\n    template_path: {}\n    \
         api_url: {}\n{slack_lines}{alert_lines}{rest}",
        fixture("templates/slack_message.tmpl").display(),
        slack.api_url()
    )
}

/// On-call with a fixed ACK secret and in-memory state (no Redis): every
/// firing alert gets an ACK link; nobody is paged within a test's time.
fn oncall_section() -> String {
    format!(
        "oncall:\n  enable: true\n  wait_minutes: 3\n  ack_secret: {ACK_SECRET}\n  \
         aws_incident_manager:\n    response_plan_arn: {PLAN}\nplugins:\n  watch: false\n"
    )
}

const PLUGINS_PLAIN: &str = "plugins:\n  watch: false\n";

/// The critical fixture with a `marker` field, to find it in the log.
fn marked_payload(marker: &str) -> Vec<u8> {
    let mut v: Value = serde_json::from_slice(&payload("critical")).expect("fixture JSON");
    v["marker"] = Value::String(marker.into());
    serde_json::to_vec(&v).expect("encode")
}

async fn debug_body_case(enabled: bool) {
    let slack = SlackEmulator::start(Mode::Ok).await;
    let alert = format!("  debug_body: {enabled}\n");
    let gateway = Gateway::start(&config(&slack, "", &alert, PLUGINS_PLAIN), &[], &[]).await;
    let marker = format!("body-marker-{}", uuid::Uuid::new_v4());
    let (status, response) = gateway.post(&marked_payload(&marker)).await;
    assert_eq!(status, 201, "{response}");
    let id = response["id"].as_str().unwrap_or_default();
    gateway.wait_delivered(id).await;
    let log = gateway.process.log();
    assert_eq!(
        log.contains(&marker),
        enabled,
        "debug_body: {enabled}; log:\n{log}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debug_body_true_logs_the_raw_body() {
    debug_body_case(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn debug_body_is_off_by_default_and_when_false() {
    debug_body_case(false).await;
    // Not set at all: the default is off.
    let slack = SlackEmulator::start(Mode::Ok).await;
    let gateway = Gateway::start(&config(&slack, "", "", PLUGINS_PLAIN), &[], &[]).await;
    let marker = format!("body-marker-{}", uuid::Uuid::new_v4());
    let (status, response) = gateway.post(&marked_payload(&marker)).await;
    assert_eq!(status, 201, "{response}");
    gateway
        .wait_delivered(response["id"].as_str().unwrap_or_default())
        .await;
    assert!(!gateway.process.log().contains(&marker));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropping_transform_answers_202_with_its_reason_and_sends_nothing() {
    let slack = SlackEmulator::start(Mode::Ok).await;
    let plugins = "plugins:\n  watch: false\n  dir: {plugins_dir}\n  \
                   transforms: [alertmanager, test_transform]\n";
    let yaml = config(&slack, "", "", plugins);
    let gateway = Gateway::start(&yaml, &[], &["test_transform"]).await;

    let mut dropped: Value = serde_json::from_slice(&payload("critical")).expect("fixture");
    dropped["drop"] = "maintenance window".into();
    let (status, response) = gateway
        .post(&serde_json::to_vec(&dropped).expect("encode"))
        .await;
    assert_eq!(status, 202, "{response}");
    assert_eq!(response["status"], "Incident dropped", "{response}");
    assert_eq!(response["reason"], "maintenance window", "{response}");
    assert!(response["id"].is_string(), "{response}");
    // The answer comes after every channel call, so none can be on its way.
    assert!(slack.requests().is_empty(), "{:#?}", slack.requests());

    let (status, response) = gateway.post(&payload("critical")).await;
    assert_eq!(status, 201, "{response}");
    assert_eq!(response["status"], "Incident created", "{response}");
    assert_eq!(slack.requests().len(), 1, "only the kept alert is sent");
}

/// Checks that `url` is a signed ACK link for incident `id`.
fn assert_ack_url(url: &str, id: &str) {
    let parsed = reqwest::Url::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
    assert_eq!(
        parsed.as_str().split('?').next(),
        Some(format!("{PUBLIC_HOST}/api/ack/{id}").as_str()),
        "{url}"
    );
    let query: Vec<(String, String)> = parsed.query_pairs().into_owned().collect();
    let keys: Vec<&str> = query.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(keys, ["exp", "sig"], "{url}");
    assert!(query[0].1.parse::<u64>().is_ok(), "exp: {url}");
    assert!(!query[1].1.is_empty(), "sig: {url}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ack_link_is_a_button_and_not_repeated_in_the_text() {
    let slack = SlackEmulator::start(Mode::Ok).await;
    let ssm = SsmEmulator::start().await;
    let yaml = config(&slack, "", "", &oncall_section());
    let gateway = Gateway::start(&yaml, &ssm.env(), &[]).await;
    let (status, response) = gateway.post(&payload("critical")).await;
    assert_eq!(status, 201, "{response}");
    let id = response["id"].as_str().unwrap_or_default();

    let requests = slack.requests();
    assert_eq!(requests.len(), 1, "{requests:#?}");
    let mut body = requests[0].body.clone();
    let blocks = body["attachments"][0]["blocks"].clone();
    let url = blocks[1]["elements"][0]["url"].as_str().unwrap_or_default();
    assert_ack_url(url, id);
    let section = blocks[0]["text"]["text"].as_str().unwrap_or_default();
    assert!(
        !section.contains("/api/ack/"),
        "link shown twice: {section}"
    );
    assert!(!section.contains("Click here to acknowledge"), "{section}");

    // The button carries the incident id, as upstream's does.
    let button = &blocks[1]["elements"][0];
    assert_eq!(button["value"], id);

    // The id, expiry and signature change every run; the rest must not.
    body["attachments"][0]["blocks"][1]["elements"][0]["url"] =
        format!("{PUBLIC_HOST}/api/ack/{{id}}?exp={{exp}}&sig={{sig}}").into();
    body["attachments"][0]["blocks"][1]["elements"][0]["value"] = "{id}".into();
    assert_golden("critical.with-ack", &body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disable_button_hands_the_ack_link_to_the_template() {
    let slack = SlackEmulator::start(Mode::Ok).await;
    let ssm = SsmEmulator::start().await;
    let props = "    message_properties:\n      disable_button: true\n";
    let yaml = config(&slack, props, "", &oncall_section());
    let gateway = Gateway::start(&yaml, &ssm.env(), &[]).await;
    let (status, response) = gateway.post(&payload("critical")).await;
    assert_eq!(status, 201, "{response}");
    let id = response["id"].as_str().unwrap_or_default();

    let requests = slack.requests();
    assert_eq!(requests.len(), 1, "{requests:#?}");
    let blocks = requests[0].body["attachments"][0]["blocks"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        blocks.iter().all(|b| b["type"] == "section"),
        "no button when disabled: {blocks:#?}"
    );
    let text: String = blocks
        .iter()
        .filter_map(|b| b["text"]["text"].as_str())
        .collect();
    // The fixture template prints `<{{.AckURL}}|Click here to acknowledge>`.
    let start = text
        .find('<')
        .unwrap_or_else(|| panic!("no link in the text: {text}"));
    let (url, rest) = text[start + 1..].split_once('|').unwrap_or_default();
    assert_ack_url(url, id);
    assert!(rest.starts_with("Click here to acknowledge>"), "{text}");
}

/// Posts to a gateway whose Slack answers in `mode`, with a 3 s retry
/// budget, and checks that the 502 arrives within the budget.
async fn budget_case(mode: Mode) -> Value {
    const BUDGET: Duration = Duration::from_secs(3);
    let slack = SlackEmulator::start(mode).await;
    let alert = "  retry:\n    max_elapsed: 3s\n";
    let gateway = Gateway::start(&config(&slack, "", alert, PLUGINS_PLAIN), &[], &[]).await;
    let started = Instant::now();
    let (status, response) = gateway.post(&payload("critical")).await;
    let elapsed = started.elapsed();
    assert_eq!(status, 502, "{response}");
    assert!(
        elapsed < BUDGET + BUDGET_SLACK,
        "answered after {elapsed:?}, budget {BUDGET:?}: {response}"
    );
    let channels = response["channels"].as_array().cloned().unwrap_or_default();
    assert_eq!(channels.len(), 1, "{response}");
    assert_eq!(
        channels[0]["attempts"],
        slack.requests().len(),
        "{response}"
    );
    channels[0].clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hanging_slack_is_given_up_within_the_retry_budget() {
    // The plugin's own timeout (10 s) is longer than the budget.
    // The attempt is not dropped: it goes on in the background, and the
    // answer says it is still in flight.
    let slack = budget_case(Mode::AlwaysHang).await;
    assert_eq!(slack["status"], "in_flight", "{slack}");
    assert_eq!(slack["error_kind"], "in_flight", "{slack}");
    let error = slack["error"].as_str().unwrap_or_default();
    assert!(error.contains("alert.retry.max_elapsed"), "{slack}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn persistent_server_errors_stop_within_a_configured_budget() {
    let slack = budget_case(Mode::AlwaysServerError).await;
    assert_eq!(slack["error_kind"], "transient", "{slack}");
    let attempts = slack["attempts"].as_u64().unwrap_or_default();
    // Waits of about 0.5 s and 1 s fit in 3 s; the next 2 s one does not.
    assert!((2..=4).contains(&attempts), "{attempts} attempts: {slack}");
}
