//! A channel plugin checks its configuration when the gateway loads it
//! (`validate-config`, `versus:gateway@0.2.0`): a mistake in a `channels:`
//! entry stops `versus check` and startup, naming the channel, the plugin
//! and the key, instead of failing the first alert.

use std::process::Command;

use crate::common::{fixture, versus};

/// A config whose one channel is a Slack entry with `config`. The port is
/// never bound: the pipeline is built (and refused) before listening.
fn config_with(slack_config: &str) -> String {
    format!(
        "host: 127.0.0.1\nport: 3999\nchannels:\n  - name: ops-slack\n    plugin: slack\n    \
         template_path: {}\n    allowed_hosts: [\"https://slack.com\"]\n    config: {slack_config}\n",
        fixture("templates/slack_message.tmpl").display()
    )
}

#[test]
fn a_bad_channel_config_stops_check_and_startup_naming_the_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("config.yaml");
    let path_text = path.display().to_string();

    std::fs::write(&path, config_with("{token: xoxb-1, channel_id: C1}")).expect("write");
    let out = versus(&["check", "--config", &path_text], dir.path());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    std::fs::write(&path, config_with("{channel_id: C1}")).expect("write");
    let out = versus(&["check", "--config", &path_text], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("channel `ops-slack`: its plugin `slack` refused the configuration")
            && err.contains("token"),
        "{err}"
    );

    // Serving refuses to start the same way, before it listens.
    let out = Command::new(env!("CARGO_BIN_EXE_versus"))
        .args(["--config", &path_text])
        .env("VERSUS_CACHE_DIR", dir.path())
        .env_remove("VERSUS_CONFIG")
        .output()
        .expect("run versus");
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("channel `ops-slack`: its plugin `slack` refused the configuration"),
        "{err}"
    );
}

#[test]
fn a_webhook_entry_with_a_typo_is_refused_at_check() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("config.yaml");
    let path_text = path.display().to_string();
    let entry = |format: &str| {
        format!(
            "host: 127.0.0.1\nport: 3999\nchannels:\n  - name: ops-hook\n    plugin: webhook\n    \
             template_path: {}\n    allowed_hosts: [\"https://hooks.example.com\"]\n    config:\n      \
             url: https://hooks.example.com/ops\n      format: {format}\n",
            fixture("templates/slack_message.tmpl").display()
        )
    };
    std::fs::write(&path, entry("text")).expect("write");
    let out = versus(&["check", "--config", &path_text], dir.path());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    std::fs::write(&path, entry("jsn")).expect("write");
    let out = versus(&["check", "--config", &path_text], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("channel `ops-hook`: its plugin `webhook` refused the configuration")
            && err.contains("format"),
        "{err}"
    );
}
