//! The example files end to end: a real Prometheus (Debian's `prometheus`)
//! evaluates `examples/prometheus/alert_rules.yml` against a scrape target
//! that is down, a real Alertmanager routes the alerts with
//! `examples/alertmanager.yml`, and the gateway, on
//! `examples/config.yaml`, posts each to the Slack emulator and escalates
//! the critical and urgent ones to the SSM Incidents emulator.
//!
//! Only addresses and timings are changed at test time: `localhost` ports
//! become free loopback ports, intervals and `for:` become seconds, and the
//! critical route's 5-minute ACK wait becomes 3 seconds.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_yaml_ng::Value;

use crate::common::{eventually, repo};
use crate::gateway::{Process, free_port};
use crate::slack_emulator::{Mode, SlackEmulator};
use crate::ssm_emulator::SsmEmulator;

const PLAN: &str = "arn:aws:ssm-incidents::111122223333:response-plan/service-oncall";

/// A child process killed on drop.
struct Daemon(Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn spawn(program: &str, args: &[String]) -> Daemon {
    let child = Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{program} must be installed (scripts/test installs it): {e}"));
    Daemon(child)
}

fn example(rel: &str) -> String {
    std::fs::read_to_string(repo().join("examples").join(rel)).expect("example file")
}

/// `text` with `from` replaced by `to`, which must be there (every occurrence).
fn replace_present(text: &str, from: &str, to: &str) -> String {
    assert!(text.contains(from), "`{from}` is no longer in the example");
    text.replace(from, to)
}

/// examples/prometheus/*.yml in `dir`, scraping itself on `self_port` and
/// the node exporter on `node_port` (where nothing listens), every second.
fn prometheus_files(dir: &Path, self_port: u16, node_port: u16, am_port: u16) {
    let config = example("prometheus/prometheus.yml");
    let config = replace_present(&config, "localhost:9090", &format!("127.0.0.1:{self_port}"));
    let config = replace_present(&config, "localhost:9100", &format!("127.0.0.1:{node_port}"));
    let config = replace_present(&config, "localhost:9093", &format!("127.0.0.1:{am_port}"));
    let mut config: Value = serde_yaml_ng::from_str(&config).expect("prometheus.yml");
    config["global"]["scrape_interval"] = "1s".into();
    config["global"]["evaluation_interval"] = "1s".into();
    write_yaml(&dir.join("prometheus.yml"), &config);

    let mut rules: Value =
        serde_yaml_ng::from_str(&example("prometheus/alert_rules.yml")).expect("rules");
    for group in rules["groups"].as_sequence_mut().expect("groups") {
        for rule in group["rules"].as_sequence_mut().expect("rules") {
            assert!(rule.get("for").is_some(), "{rule:?}");
            rule["for"] = "0s".into();
        }
    }
    write_yaml(&dir.join("alert_rules.yml"), &rules);
}

/// examples/alertmanager.yml posting to `gateway`, grouping for a second.
fn alertmanager_file(dir: &Path, gateway: &str) -> std::path::PathBuf {
    let config = example("alertmanager.yml");
    let config = replace_present(&config, "http://localhost:3000", gateway);
    let config = replace_present(
        &config,
        "oncall_enable=true&oncall_wait_minutes=5'",
        "oncall_enable=true&oncall_wait_minutes=0.05'",
    );
    let mut config: Value = serde_yaml_ng::from_str(&config).expect("alertmanager.yml");
    config["route"]["group_wait"] = "1s".into();
    let path = dir.join("alertmanager.yml");
    write_yaml(&path, &config);
    path
}

fn write_yaml(path: &Path, value: &Value) {
    std::fs::write(path, serde_yaml_ng::to_string(value).expect("yaml")).expect("write");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prometheus_rule_fires_alertmanager_routes_gateway_posts_and_escalates() {
    let slack = SlackEmulator::start(Mode::Ok).await;
    let ssm = SsmEmulator::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut env = ssm.env();
    env.extend([
        ("SLACK_TOKEN", "xoxb-test".to_string()),
        ("SLACK_CHANNEL_ID", "C0E2E".to_string()),
        ("SLACK_API_URL", slack.api_url().to_string()),
        ("AWS_INCIDENT_MANAGER_RESPONSE_PLAN_ARN", PLAN.to_string()),
        ("REDIS_HOST", "127.0.0.1".to_string()),
        (
            "REDIS_KEY_PREFIX",
            format!("versus-e2e-{}:", uuid::Uuid::new_v4()),
        ),
    ]);
    let started = Instant::now();
    let gw = Process::start_file(
        &repo().join("examples/config.yaml"),
        &repo(),
        &dir.path().join("cache"),
        &env,
    )
    .await;

    let am_port = free_port();
    let am_config = alertmanager_file(dir.path(), &gw.base());
    let _alertmanager = spawn(
        "prometheus-alertmanager",
        &[
            format!("--config.file={}", am_config.display()),
            format!("--storage.path={}", dir.path().join("am").display()),
            format!("--web.listen-address=127.0.0.1:{am_port}"),
            "--cluster.listen-address=".into(),
        ],
    );
    let (prom_port, node_port) = (free_port(), free_port());
    prometheus_files(dir.path(), prom_port, node_port, am_port);
    let _prometheus = spawn(
        "prometheus",
        &[
            format!(
                "--config.file={}",
                dir.path().join("prometheus.yml").display()
            ),
            format!("--storage.tsdb.path={}", dir.path().join("tsdb").display()),
            format!("--web.listen-address=127.0.0.1:{prom_port}"),
        ],
    );

    // One Slack message per route.
    let posts = || {
        slack
            .requests()
            .into_iter()
            .filter(|r| r.path.ends_with("chat.postMessage"))
            .collect::<Vec<_>>()
    };
    let posted = eventually(Duration::from_secs(40), async || posts().len() >= 3).await;
    assert!(posted, "slack got {} posts\n{}", posts().len(), gw.log());
    let post_for = |alert: &str| {
        let matching: Vec<_> = posts()
            .into_iter()
            .filter(|p| p.body["text"].as_str().is_some_and(|t| t.contains(alert)))
            .collect();
        assert_eq!(matching.len(), 1, "{alert}: {matching:?}");
        matching.into_iter().next().expect("one post")
    };
    let has_ack_button = |alert: &str| {
        post_for(alert).body["attachments"][0]["blocks"]
            .as_array()
            .expect("blocks")
            .iter()
            .any(|b| b["type"] == "actions")
    };
    for alert in ["JobDegraded", "InstanceDown", "JobDown"] {
        assert_eq!(post_for(alert).body["channel"], "C0E2E");
    }
    // Only the route that waits for an ACK offers one.
    assert!(has_ack_button("InstanceDown"));
    assert!(!has_ack_button("JobDown"));
    assert!(!has_ack_button("JobDegraded"));

    // Urgent pages at once, critical after its 3 s wait, warning never.
    let node = format!("127.0.0.1:{node_port}");
    let title_of =
        |c: &crate::ssm_emulator::Call| c.body["title"].as_str().unwrap_or("").to_string();
    let paged = eventually(Duration::from_secs(20), async || ssm.calls().len() >= 2).await;
    assert!(paged, "{:?}\n{}", ssm.calls(), gw.log());
    let mut titles: Vec<String> = ssm.calls().iter().map(title_of).collect();
    titles.sort();
    assert_eq!(
        titles,
        [
            format!("[CRITICAL] InstanceDown on {node}"),
            "[URGENT] JobDown".to_string()
        ]
    );
    for call in ssm.calls() {
        assert_eq!(call.body["responsePlanArn"], PLAN);
        assert_eq!(call.body["impact"], 1, "{call:?}");
    }
    let calls = ssm.calls();
    let urgent = calls
        .iter()
        .find(|c| title_of(c).starts_with("[URGENT]"))
        .expect("urgent");
    let critical = calls
        .iter()
        .find(|c| title_of(c).starts_with("[CRITICAL]"))
        .expect("critical");
    assert!(
        critical.at.duration_since(post_for("InstanceDown").at) >= Duration::from_secs(2),
        "critical paged before its ACK wait"
    );

    // The gateway reports both incidents escalated.
    let client = reqwest::Client::new();
    for call in [urgent, critical] {
        let id = call.body["clientToken"].as_str().expect("token");
        let url = format!("{}/api/incidents/{id}", gw.base());
        let escalated = eventually(Duration::from_secs(10), async || {
            let Ok(response) = client.get(&url).send().await else {
                return false;
            };
            let body = response.bytes().await.unwrap_or_default();
            let view: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
            view["state"] == "escalated"
        })
        .await;
        assert!(escalated, "{id}\n{}", gw.log());
    }

    // Nothing more: the warning route never pages, repeats do not page again.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(ssm.calls().len(), 2, "{:?}", ssm.calls());
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn example_prometheus_and_alertmanager_files_pass_their_own_checks() {
    let examples = repo().join("examples");
    let run = |program: &str, args: &[&str]| {
        let out = Command::new(program)
            .args(args)
            .current_dir(&examples)
            .output()
            .unwrap_or_else(|e| {
                panic!("{program} must be installed (scripts/test installs it): {e}")
            });
        assert!(
            out.status.success(),
            "{program} {args:?}:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(
        "promtool",
        &["check", "config", "prometheus/prometheus.yml"],
    );
    run(
        "promtool",
        &["check", "rules", "prometheus/alert_rules.yml"],
    );
    // The rules' thresholds and `for:` durations, on synthetic series.
    run(
        "promtool",
        &["test", "rules", "prometheus/alert_rules_test.yml"],
    );
    run("amtool", &["check-config", "alertmanager.yml"]);
}
