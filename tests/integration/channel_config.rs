//! A channel plugin checks its configuration when the gateway loads it
//! (`validate-config`, `versus:gateway@0.2.0`): a mistake in a `channels:`
//! entry stops `versus check` and startup, naming the channel, the plugin
//! and the key, instead of failing the first alert.

use crate::common::{fixture, versus};

/// A config whose one channel is the entry `name` on `plugin`, allowed to
/// call `host`, with `config` (indented lines). The port is never bound:
/// the pipeline is built (and refused) before listening.
fn config_with(name: &str, plugin: &str, host: &str, config: &str) -> String {
    format!(
        "host: 127.0.0.1\nport: 3999\nchannels:\n  - name: {name}\n    plugin: {plugin}\n    \
         template_path: {}\n    allowed_hosts: [\"{host}\"]\n    config:\n{config}",
        fixture("templates/slack_message.tmpl").display()
    )
}

/// Runs `versus <args…> --config <file>` on `yaml`: the exit code and stderr.
fn run(args: &[&str], yaml: &str) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("config.yaml");
    std::fs::write(&path, yaml).expect("write");
    let path_text = path.display().to_string();
    let mut all = args.to_vec();
    all.extend(["--config", &path_text]);
    let out = versus(&all, dir.path());
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn slack(config: &str) -> String {
    config_with("ops-slack", "slack", "https://slack.com", config)
}

#[test]
fn a_bad_channel_config_stops_check_and_startup_naming_the_key() {
    let (code, err) = run(
        &["check"],
        &slack("      token: xoxb-1\n      channel_id: C1\n"),
    );
    assert_eq!(code, Some(0), "{err}");

    let bad = slack("      channel_id: C1\n");
    let (code, err) = run(&["check"], &bad);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("channel `ops-slack`: its plugin `slack` refused the configuration")
            && err.contains("token"),
        "{err}"
    );

    // Serving refuses to start the same way, before it listens.
    let (code, err) = run(&[], &bad);
    assert_eq!(code, Some(1));
    assert!(
        err.contains("channel `ops-slack`: its plugin `slack` refused the configuration"),
        "{err}"
    );
}

#[test]
fn a_webhook_entry_with_a_typo_is_refused_at_check() {
    let webhook = |format: &str| {
        config_with(
            "ops-hook",
            "webhook",
            "https://hooks.example.com",
            &format!("      url: https://hooks.example.com/ops\n      format: {format}\n"),
        )
    };
    let (code, err) = run(&["check"], &webhook("text"));
    assert_eq!(code, Some(0), "{err}");

    let (code, err) = run(&["check"], &webhook("jsn"));
    assert_eq!(code, Some(1));
    assert!(
        err.contains("channel `ops-hook`: its plugin `webhook` refused the configuration")
            && err.contains("format"),
        "{err}"
    );
}
