//! `versus check` prints every warning that serving the same config logs
//! at startup, so a config can be vetted before it is deployed.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::common::{repo, versus};
use crate::gateway::Process;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_prints_every_warning_serving_logs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gw_dir = dir.path().join("gw");
    std::fs::create_dir_all(&gw_dir).expect("mkdir");
    let template = repo().join("config/slack_message.tmpl");
    // Slack without a token, an unimplemented provider section, an unknown
    // key, and on-call with no Redis, no public_host and no response plan.
    let yaml = format!(
        "host: 127.0.0.1\nport: {{port}}\nmystery_key: 1\nalert:\n  slack:\n    enable: true\n  \
         console:\n    enable: true\n    template_path: {}\noncall:\n  enable: true\n  \
         xmatters:\n    api_key: x\n",
        template.display()
    );
    let gw = Process::start_with_args(&gw_dir, &yaml, &[], &["--log-format", "json"]).await;
    let log = gw.log();
    let served: BTreeSet<String> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        // The gateway's own warnings; the AWS SDK's about its environment
        // (no IMDS here) are not about the config.
        .filter(|v| v["level"] == "WARN")
        .filter(|v| {
            v["target"]
                .as_str()
                .is_some_and(|t| t.starts_with("versus"))
        })
        .filter_map(|v| v["fields"]["message"].as_str().map(str::to_string))
        .collect();
    assert!(served.len() >= 6, "expected six kinds of warning:\n{log}");

    let config = gw_dir.join("config.yaml");
    let out = versus(
        &["--config", &config.to_string_lossy(), "check"],
        &dir.path().join("cache"),
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let checked: BTreeSet<String> = stdout
        .lines()
        .filter_map(|l| l.strip_prefix("  - "))
        .map(str::to_string)
        .collect();
    assert_eq!(checked, served, "check:\n{stdout}\nserve:\n{log}");
}
