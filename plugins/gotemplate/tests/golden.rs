//! Golden tests: the Slack template rendered with real Alertmanager payloads
//! must match Go's own rendering byte for byte (`tests/fixtures/rendered`).

use std::fs;
use std::path::{Path, PathBuf};

use versus_plugin_gotemplate::{Prepared, render};

/// The ACK link the fixtures' `.with-ack` renderings were made with.
const ACK_URL: &str = "https://your-ack-host.example/api/ack/0b9f6c1e-1111-4c2a-9d51-2f0e5a7c9e11?exp=1795000000&sig=3q2-7w";

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()))
}

/// Adds a top-level `AckURL` key to a JSON object, as the gateway does.
fn with_ack(payload: &str) -> String {
    let body = payload
        .trim_start()
        .strip_prefix('{')
        .expect("payload is a JSON object");
    format!("{{\"AckURL\": \"{ACK_URL}\",{body}")
}

fn payload_names() -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(fixtures().join("alertmanager"))
        .expect("fixtures/alertmanager exists")
        .filter_map(|e| {
            let path = e.ok()?.path();
            (path.extension()? == "json").then(|| path.file_stem()?.to_str().map(String::from))?
        })
        .collect();
    names.sort();
    names
}

#[test]
fn slack_message_matches_go_for_every_payload() {
    let template = read(&fixtures().join("templates/slack_message.tmpl"));
    let prepared = Prepared::parse(&template).expect("template parses");
    let names = payload_names();
    assert_eq!(names.len(), 4, "expected the four fixture payloads");
    for name in names {
        let payload = read(&fixtures().join(format!("alertmanager/{name}.json")));
        let want = read(&fixtures().join(format!("rendered/slack_message.{name}.txt")));
        let got = prepared.render_json(&payload).expect("renders");
        assert_eq!(got, want, "payload {name}");
        assert_eq!(render(&template, &payload).expect("renders"), want);
    }
}

#[test]
fn slack_message_with_ack_matches_go() {
    let template = read(&fixtures().join("templates/slack_message.tmpl"));
    let prepared = Prepared::parse(&template).expect("template parses");
    let mut compared = 0;
    for name in payload_names() {
        let golden = fixtures().join(format!("rendered/slack_message.{name}.with-ack.txt"));
        if !golden.exists() {
            continue;
        }
        let payload = read(&fixtures().join(format!("alertmanager/{name}.json")));
        let got = prepared.render_json(&with_ack(&payload)).expect("renders");
        assert_eq!(got, read(&golden), "payload {name} with AckURL");
        compared += 1;
    }
    assert_eq!(compared, 3, "expected three .with-ack goldens");
}
