//! A real Prometheus Alertmanager (Debian's `prometheus-alertmanager`)
//! routing warning / critical / urgent alerts to the gateway's three URLs of
//! the on-call guide, end to end to Slack and AWS emulators.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;

use crate::gateway::{Process, free_port};
use crate::slack_emulator::{Mode, SlackEmulator};
use crate::ssm_emulator::SsmEmulator;

/// A real Alertmanager process, killed on drop.
pub(crate) struct Alertmanager {
    child: Child,
    /// Its API port on 127.0.0.1.
    pub(crate) port: u16,
}

impl Drop for Alertmanager {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_alertmanager(dir: &std::path::Path, gateway: &str) -> Alertmanager {
    Alertmanager::start(
        dir,
        &format!(
            "route:\n  receiver: warning\n  group_by: ['alertname', 'severity']\n  group_wait: 1s\n  \
             group_interval: 5m\n  repeat_interval: 4h\n  routes:\n    \
             - matchers: ['severity=\"critical\"']\n      receiver: critical\n    \
             - matchers: ['severity=\"urgent\"']\n      receiver: urgent\n\
             receivers:\n  - name: warning\n    webhook_configs:\n      \
             - url: '{gateway}/api/incidents?oncall_enable=false'\n  - name: critical\n    webhook_configs:\n      \
             - url: '{gateway}/api/incidents?oncall_wait_minutes=0.05'\n  - name: urgent\n    webhook_configs:\n      \
             - url: '{gateway}/api/incidents?oncall_wait_minutes=0'\n"
        ),
    )
}

impl Alertmanager {
    /// Starts Alertmanager in `dir` with `config` as its alertmanager.yml.
    pub(crate) fn start(dir: &std::path::Path, config: &str) -> Self {
        let port = free_port();
        let path = dir.join("alertmanager.yml");
        std::fs::write(&path, config).expect("write alertmanager config");
        let child = Command::new("prometheus-alertmanager")
            .arg(format!("--config.file={}", path.display()))
            .arg(format!("--storage.path={}", dir.join("am-data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--cluster.listen-address=")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("prometheus-alertmanager must be installed (scripts/test installs it)");
        Self { child, port }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alertmanager_routes_to_the_three_guide_urls() {
    let slack = SlackEmulator::start(Mode::Ok).await;
    let ssm = SsmEmulator::start().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let gw_dir = dir.path().join("gw");
    std::fs::create_dir_all(&gw_dir).expect("mkdir");
    let yaml = format!(
        "host: 127.0.0.1\nport: {{port}}\npublic_host: http://127.0.0.1:{{port}}\n\
         alert:\n  slack:\n    enable: true\n    token: xoxb-test\n    channel_id: C123\n    \
         template_path: {}\n    api_url: {}\n\
         oncall:\n  enable: true\n  wait_minutes: 3\n  \
         aws_incident_manager:\n    response_plan_arn: arn:aws:ssm-incidents::111122223333:response-plan/guide\n\
         redis:\n  host: 127.0.0.1\n  port: 6379\nplugins:\n  watch: false\n",
        crate::common::fixture("templates/slack_message.tmpl").display(),
        slack.api_url()
    );
    let mut env = ssm.env();
    env.push((
        "REDIS_KEY_PREFIX",
        format!("versus-am-{}:", uuid::Uuid::new_v4()),
    ));
    let gw = Process::start(&gw_dir, &yaml, &env).await;
    let am = start_alertmanager(dir.path(), &gw.base());

    let client = reqwest::Client::new();
    let alerts = json!([
        {"labels": {"alertname": "HighErrorRate", "severity": "warning", "instance": "web-1:9100"},
         "annotations": {"description": "warning alert"}},
        {"labels": {"alertname": "HighErrorRate", "severity": "critical", "instance": "web-1:9100"},
         "annotations": {"description": "critical alert"}},
        {"labels": {"alertname": "HighErrorRate", "severity": "urgent", "instance": "web-1:9100"},
         "annotations": {"description": "urgent alert"}},
    ]);
    let mut accepted = false;
    for _ in 0..100 {
        let sent = client
            .post(format!("http://127.0.0.1:{}/api/v2/alerts", am.port))
            .header("content-type", "application/json")
            .body(alerts.to_string())
            .send()
            .await;
        if sent.is_ok_and(|r| r.status().is_success()) {
            accepted = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(accepted, "alertmanager did not accept alerts");
    let sent = Instant::now();

    // Three Slack messages, one per route.
    let posted = wait(Duration::from_secs(20), || {
        slack
            .requests()
            .iter()
            .filter(|r| r.path.ends_with("chat.postMessage"))
            .count()
            >= 3
    })
    .await;
    assert!(
        posted,
        "slack got {:?}\n{}",
        slack.requests().len(),
        gw.log()
    );

    // Urgent pages right away; critical after its 3 s wait; warning never.
    let title = |sev: &str| format!("[{sev}] HighErrorRate on web-1:9100");
    let calls_for = |sev: &str| {
        ssm.calls()
            .into_iter()
            .filter(|c| c.body["title"] == title(sev))
            .count()
    };
    assert!(
        wait(Duration::from_secs(5), || calls_for("URGENT") == 1).await,
        "{}",
        gw.log()
    );
    assert!(
        wait(Duration::from_secs(15), || calls_for("CRITICAL") == 1).await,
        "{}",
        gw.log()
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(calls_for("WARNING"), 0);
    assert_eq!(ssm.calls().len(), 2, "{:?}", ssm.calls());
    assert!(sent.elapsed() < Duration::from_secs(60));
}

/// Polls `f` every 50 ms until it holds or `timeout` passes.
pub(crate) async fn wait(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if f() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    f()
}
