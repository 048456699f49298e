//! The monitoring kit against real Prometheus tools: `promtool` checks and
//! unit-tests the alert rules, a real Prometheus server scrapes the real
//! gateway, and the Grafana dashboard parses, is shaped like a dashboard,
//! names only metrics the gateway exposes and every query parses in that
//! Prometheus.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::{fixture, repo};
use crate::gateway::{Process, free_port};
use crate::incidents::payload;
use crate::metrics::scrape;

const PROMTOOL: &str = "/usr/bin/promtool";
const PROMETHEUS: &str = "/usr/bin/prometheus";

fn docs(name: &str) -> PathBuf {
    repo().join("docs").join(name)
}

fn promtool(args: &[&str]) -> String {
    let out = Command::new(PROMTOOL)
        .args(args)
        .current_dir(repo().join("docs"))
        .output()
        .expect("promtool must be installed (scripts/test installs prometheus)");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "promtool {args:?} failed:\n{text}");
    text
}

#[test]
fn promtool_checks_and_unit_tests_the_alert_rules() {
    let checked = promtool(&["check", "rules", "prometheus-rules.yml"]);
    assert!(checked.contains("SUCCESS: 11 rules found"), "{checked}");
    let tested = promtool(&["test", "rules", "prometheus-rules.test.yml"]);
    assert!(tested.contains("SUCCESS"), "{tested}");
}

/// A Prometheus server scraping `target` every second, killed on drop.
struct Prometheus {
    child: Child,
    base: String,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    fn start(target: &str) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = dir.path().join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n\
                 scrape_configs:\n  - job_name: versus\n    static_configs:\n      \
                 - targets: ['{target}']\n"
            ),
        )
        .expect("write prometheus.yml");
        let port = free_port();
        let child = Command::new(PROMETHEUS)
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.path().join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("prometheus must be installed (scripts/test installs it)");
        Self {
            child,
            base: format!("http://127.0.0.1:{port}"),
            _dir: dir,
        }
    }

    /// GET an API path; `None` until the server answers with JSON.
    async fn api(&self, path_and_query: &str) -> Option<Value> {
        let resp = reqwest::Client::new()
            .get(format!("{}{path_and_query}", self.base))
            .timeout(Duration::from_secs(5))
            .send()
            .await
            .ok()?;
        serde_json::from_str(&resp.text().await.ok()?).ok()
    }

    async fn query(&self, expr: &str) -> Option<Value> {
        let q: String = url_encode(expr);
        self.api(&format!("/api/v1/query?query={q}")).await
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Polls `f` every 250 ms until it gives a value or `deadline` passes.
async fn poll<T>(deadline: Instant, mut f: impl AsyncFnMut() -> Option<T>) -> Option<T> {
    while Instant::now() < deadline {
        if let Some(v) = f().await {
            return Some(v);
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    None
}

/// A gateway with the console channel and on-call in memory, so every
/// metric family is registered and the pending gauge is read.
async fn gateway(dir: &std::path::Path) -> Process {
    let yaml = format!(
        "host: 127.0.0.1\nport: {{port}}\nalert:\n  console:\n    enable: true\n    \
         template_path: {}\noncall:\n  enable: true\n  wait_minutes: 3\n  \
         aws_incident_manager:\n    response_plan_arn: arn:aws:ssm-incidents::1:response-plan/p\n\
         plugins:\n  watch: false\n",
        fixture("templates/slack_message.tmpl").display()
    );
    Process::start(dir, &yaml, &[]).await
}

async fn post_alert(gw: &Process, name: &str) {
    let resp = reqwest::Client::new()
        .post(format!("{}/api/incidents?oncall_enable=false", gw.base()))
        .header("content-type", "application/json")
        .body(payload(name))
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .expect("POST");
    assert_eq!(resp.status(), 201, "{}", gw.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_prometheus_scrapes_the_gateway() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gw_dir = dir.path().join("gw");
    std::fs::create_dir_all(&gw_dir).expect("mkdir");
    let gw = gateway(&gw_dir).await;
    for name in ["critical", "warning", "resolved"] {
        post_alert(&gw, name).await;
    }
    let prom = Prometheus::start(&format!("127.0.0.1:{}", gw.port));
    let deadline = Instant::now() + Duration::from_secs(45);

    let health = poll(deadline, async || {
        let v = prom.api("/api/v1/targets").await?;
        let target = v["data"]["activeTargets"].as_array()?.first()?.clone();
        (target["health"] == "up").then_some(target)
    })
    .await;
    let health = health.expect("the gateway target never became healthy");
    assert_eq!(health["labels"]["job"], "versus", "{health}");
    assert_eq!(health["lastError"], "", "{health}");

    let total = poll(deadline, async || {
        let v = prom.query("sum(versus_incidents_received_total)").await?;
        let value = v["data"]["result"].as_array()?.first()?["value"][1]
            .as_str()?
            .parse::<f64>()
            .ok()?;
        (value == 3.0).then_some(value)
    })
    .await;
    assert_eq!(total, Some(3.0), "Prometheus never saw the 3 alerts");
    let by_status = prom
        .query("versus_incidents_received_total")
        .await
        .expect("query");
    let mut seen: Vec<(String, String)> = by_status["data"]["result"]
        .as_array()
        .expect("result")
        .iter()
        .map(|r| {
            (
                r["metric"]["status"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                r["value"][1].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    seen.sort();
    assert_eq!(
        seen,
        [
            ("firing".into(), "2".into()),
            ("resolved".into(), "1".into())
        ]
    );

    // Every dashboard query parses and runs in this Prometheus.
    for expr in dashboard_exprs() {
        let concrete = expr
            .replace("$__rate_interval", "1m")
            .replace("$instance", ".*")
            .replace("$job", "versus");
        let v = prom.query(&concrete).await.expect("query answered");
        assert_eq!(v["status"], "success", "{concrete}: {v}");
    }
}

/// Every `expr` of every panel target in the dashboard.
fn dashboard_exprs() -> Vec<String> {
    let text = std::fs::read_to_string(docs("grafana-dashboard.json")).expect("read dashboard");
    let dash: Value = serde_json::from_str(&text).expect("the dashboard is valid JSON");
    let mut exprs = Vec::new();
    for p in dash["panels"].as_array().expect("panels") {
        for t in p["targets"].as_array().into_iter().flatten() {
            exprs.push(t["expr"].as_str().expect("expr").to_string());
        }
    }
    exprs
}

/// Metric names (`versus_…`) used in a PromQL expression.
fn metric_names(expr: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = expr;
    while let Some(at) = rest.find("versus_") {
        let tail = &rest[at..];
        let end = tail
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(tail.len());
        names.insert(tail[..end].to_string());
        rest = &tail[end..];
    }
    names
}

/// The series names an exposition makes queryable: from each `# TYPE`
/// line, with the suffixes Prometheus stores for its type.
fn exposed(text: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("# TYPE ") else {
            continue;
        };
        let mut parts = rest.split_whitespace();
        let (Some(name), Some(kind)) = (parts.next(), parts.next()) else {
            continue;
        };
        let suffixes: &[&str] = match kind {
            "counter" => &["_total"],
            "histogram" => &["_bucket", "_sum", "_count"],
            _ => &[""],
        };
        for s in suffixes {
            names.insert(format!("{name}{s}"));
        }
    }
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dashboard_and_rules_name_only_exposed_metrics() {
    let text = std::fs::read_to_string(docs("grafana-dashboard.json")).expect("read dashboard");
    let dash: Value = serde_json::from_str(&text).expect("the dashboard is valid JSON");
    assert_eq!(dash["uid"], "versus-gateway");
    assert!(
        dash["schemaVersion"].as_u64().is_some_and(|v| v >= 30),
        "{}",
        dash["schemaVersion"]
    );
    let panels = dash["panels"].as_array().expect("panels");
    let ids: BTreeSet<u64> = panels.iter().filter_map(|p| p["id"].as_u64()).collect();
    assert_eq!(ids.len(), panels.len(), "panel ids must be unique");
    for p in panels {
        let grid = &p["gridPos"];
        for k in ["h", "w", "x", "y"] {
            assert!(grid[k].is_u64(), "panel {} lacks gridPos.{k}", p["title"]);
        }
        assert!(p["type"].is_string() && p["title"].is_string(), "{p}");
        if p["type"] != "row" {
            let targets = p["targets"].as_array().expect("targets");
            assert!(!targets.is_empty(), "panel {} has no query", p["title"]);
            for t in targets {
                assert!(t["refId"].is_string() && t["expr"].is_string(), "{t}");
            }
        }
    }

    let dir = tempfile::tempdir().expect("tempdir");
    let gw_dir = dir.path().join("gw");
    std::fs::create_dir_all(&gw_dir).expect("mkdir");
    let gw = gateway(&gw_dir).await;
    let exposition = scrape(&gw).await.1;
    let exposed = exposed(&exposition);

    let mut used = BTreeSet::new();
    for expr in dashboard_exprs() {
        used.extend(metric_names(&expr));
    }
    let rules: serde_yaml_ng::Value = serde_yaml_ng::from_str(
        &std::fs::read_to_string(docs("prometheus-rules.yml")).expect("read rules"),
    )
    .expect("rules YAML");
    let mut in_rules = BTreeSet::new();
    for group in rules["groups"].as_sequence().expect("groups") {
        for rule in group["rules"].as_sequence().expect("rules") {
            in_rules.extend(metric_names(rule["expr"].as_str().expect("expr")));
        }
    }
    for name in used.iter().chain(&in_rules) {
        assert!(
            exposed.contains(name),
            "{name} is used but not exposed; the gateway exposes {exposed:?}"
        );
    }
    // The dashboard shows every family the gateway exposes.
    let families: BTreeSet<&str> = exposition
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE ")?.split_whitespace().next())
        .collect();
    for family in families {
        assert!(
            used.iter().any(|u| u.starts_with(family)),
            "the dashboard does not show {family}"
        );
    }
    assert!(in_rules.len() >= 6, "{in_rules:?}");
}
