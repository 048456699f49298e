//! The README and the example files say what happens; these tests check
//! that it does: the quick start's curl example against the binary on the
//! default config, the example templates on every fixture, and
//! `versus check` on the example config.

use std::process::Command;
use std::time::Duration;

use crate::common::{eventually, fixture, repo};
use crate::gateway::Process;

/// The README's section between `heading` and the next `## ` heading.
fn readme_section(heading: &str) -> String {
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README.md");
    let start = readme
        .find(&format!("\n{heading}\n"))
        .unwrap_or_else(|| panic!("README has no `{heading}` section"));
    let rest = &readme[start + heading.len() + 2..];
    let end = rest.find("\n## ").unwrap_or(rest.len());
    rest[..end].to_string()
}

/// The fenced blocks of `text` with their info string, in order.
pub(crate) fn fenced_blocks(text: &str) -> Vec<(String, String)> {
    let mut blocks = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let Some(info) = line.strip_prefix("```") else {
            continue;
        };
        let body: Vec<&str> = lines.by_ref().take_while(|l| *l != "```").collect();
        blocks.push((info.trim().to_string(), body.join("\n")));
    }
    blocks
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readme_quick_start_curl_example_gets_201_and_prints_the_alert() {
    let section = readme_section("## Quick start");
    let blocks = fenced_blocks(&section);
    let commands = &blocks
        .iter()
        .find(|(info, _)| info == "sh")
        .expect("a sh block")
        .1;
    assert!(
        commands.contains("cargo run -p versus") && commands.contains("scripts/test"),
        "the quick start's two commands changed:\n{commands}"
    );
    let (curl_at, curl) = blocks
        .iter()
        .enumerate()
        .find(|(_, (info, body))| info == "sh" && body.trim_start().starts_with("curl "))
        .map(|(i, (_, body))| (i, body.replace("\\\n", " ")))
        .expect("a sh block with the curl example");
    assert!(curl.contains("localhost:3000"), "{curl}");
    let (_, shown_output) = blocks
        .get(curl_at + 1)
        .filter(|(info, _)| info == "text")
        .expect("the console output shown after the curl example");

    let cache = tempfile::tempdir().expect("tempdir");
    let gw = Process::start_file(
        &repo().join("config/config.yaml"),
        &repo(),
        cache.path(),
        &[],
    )
    .await;
    let curl = curl.replace("localhost:3000", &format!("127.0.0.1:{}", gw.port));
    let out = Command::new("sh")
        .args(["-c", &curl])
        .current_dir(repo())
        .output()
        .expect("run the README's curl (scripts/test installs curl)");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{curl}\n{stdout}");
    assert!(
        stdout.starts_with("HTTP/1.1 201 Created"),
        "{curl}\n{stdout}"
    );
    assert!(
        stdout.contains(r#""status":"Incident created""#),
        "{stdout}"
    );

    // Every line the README shows appears in the log, apart from the ones
    // it abbreviates with "…".
    let expected: Vec<&str> = shown_output
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.contains('…'))
        .collect();
    assert!(expected.len() >= 3, "{shown_output}");
    let printed = eventually(Duration::from_secs(10), async || {
        let log = gw.log();
        expected.iter().all(|l| log.contains(l))
    })
    .await;
    let log = gw.log();
    let missing: Vec<&&str> = expected.iter().filter(|l| !log.contains(**l)).collect();
    assert!(printed, "missing {missing:?} in\n{log}");
    assert!(log.contains("── incident "), "{log}");
    assert!(log.contains("· firing · critical"), "{log}");
}

#[test]
fn example_templates_render_every_fixture() {
    let cache = tempfile::tempdir().expect("tempdir");
    let templates = ["slack_detailed", "slack_compact"];
    for template in templates {
        let path = repo().join(format!("examples/templates/{template}.tmpl"));
        for name in ["critical", "resolved", "urgent", "warning"] {
            let data = fixture(&format!("alertmanager/{name}.json"));
            let payload: serde_json::Value =
                serde_json::from_slice(&std::fs::read(&data).expect("fixture")).expect("json");
            let out = render(&path, &data, cache.path());
            let alertname = payload["commonLabels"]["alertname"].as_str().expect("name");
            assert!(out.contains(alertname), "{template}/{name}:\n{out}");
            assert!(!out.contains("<no value>"), "{template}/{name}:\n{out}");
            if name == "resolved" {
                assert!(out.starts_with('✅'), "{template}/{name}:\n{out}");
            } else {
                let severity = payload["commonLabels"]["severity"].as_str().expect("sev");
                assert!(
                    out.contains(&severity.to_uppercase()),
                    "{template}/{name}:\n{out}"
                );
                assert!(out.contains('🔥'), "{template}/{name}:\n{out}");
            }
        }
    }

    // The on-call extras: an ACK link for channels without a button, and a
    // repeat marker.
    let mut data: serde_json::Value = serde_json::from_slice(
        &std::fs::read(fixture("alertmanager/critical.json")).expect("fixture"),
    )
    .expect("json");
    data["AckURL"] = "https://versus.example.com/api/ack/i-1?exp=1&sig=s".into();
    data["Repeat"] = true.into();
    let file = cache.path().join("oncall.json");
    std::fs::write(&file, data.to_string()).expect("write");
    let detailed = render(
        &repo().join("examples/templates/slack_detailed.tmpl"),
        &file,
        cache.path(),
    );
    assert!(
        detailed.contains("<https://versus.example.com/api/ack/i-1?exp=1&sig=s|Acknowledge>"),
        "{detailed}"
    );
    assert!(detailed.starts_with("🔁 🔥"), "{detailed}");
    let compact = render(
        &repo().join("examples/templates/slack_compact.tmpl"),
        &file,
        cache.path(),
    );
    assert!(compact.contains("|ACK>"), "{compact}");
    assert_eq!(compact.lines().count(), 1, "{compact}");
}

fn render(template: &std::path::Path, data: &std::path::Path, cache: &std::path::Path) -> String {
    let out = crate::common::versus(
        &[
            "render",
            "--template",
            template.to_str().expect("utf-8"),
            "--data",
            data.to_str().expect("utf-8"),
        ],
        cache,
    );
    assert!(
        out.status.success(),
        "{}: {}",
        template.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

#[test]
fn example_config_passes_check_with_its_variables_set() {
    let cache = tempfile::tempdir().expect("tempdir");
    let out = Command::new(env!("CARGO_BIN_EXE_versus"))
        .args(["check", "--config", "examples/config.yaml"])
        .current_dir(repo())
        .env_clear()
        .env("VERSUS_CACHE_DIR", cache.path())
        .env("SLACK_TOKEN", "xoxb-test")
        .env("SLACK_CHANNEL_ID", "C0123")
        .env(
            "AWS_INCIDENT_MANAGER_RESPONSE_PLAN_ARN",
            "arn:aws:ssm-incidents::111122223333:response-plan/service-oncall",
        )
        .env("REDIS_HOST", "redis.internal")
        .output()
        .expect("run versus check");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("  channels: slack\n"), "{stdout}");
    assert!(
        stdout.contains(
            "  on-call:  only alerts sent with oncall_enable=true, wait 3m, paging aws_incident_manager, Redis redis.internal:6379/0\n"
        ),
        "{stdout}"
    );
    assert!(!stdout.contains("warning"), "{stdout}");
}

/// The Rust channel in docs/plugins.md is the SDK's crate-level example,
/// which `cargo test` compiles as a doc-test, so the guide's code builds.
#[test]
fn the_guides_rust_channel_is_the_sdk_example_that_compiles() {
    let guide = std::fs::read_to_string(repo().join("docs/plugins.md")).expect("docs/plugins.md");
    let section = &guide[guide
        .find("## A channel in Rust")
        .expect("the Rust section")..];
    let (_, code) = fenced_blocks(section)
        .into_iter()
        .find(|(info, _)| info == "rust")
        .expect("a rust block");
    let sdk = std::fs::read_to_string(repo().join("plugins/sdk/src/lib.rs")).expect("sdk");
    let doc: Vec<&str> = sdk
        .lines()
        .filter_map(|l| l.strip_prefix("//!"))
        .map(|l| l.strip_prefix(' ').unwrap_or(l))
        .collect();
    let doc = doc.join("\n");
    let example = doc
        .split("```no_run\n")
        .nth(1)
        .and_then(|rest| rest.split("\n```").next())
        .expect("the SDK's no_run example");
    assert_eq!(example, code);
}
