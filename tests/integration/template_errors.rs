//! A template that parses but fails at render time never loses the alert:
//! the channel gets a fallback message built from the alert, the error is
//! logged and counted, and `versus check --data` finds it before deploying.

use crate::chat_rig::{ChatGateway, alertmanager, channel};
use crate::common::{fixture, versus};
use crate::metrics::sample;
use crate::slack_emulator::{Mode, SlackEmulator};

/// Parses, but `gt` between the alert list and a number fails in Go and here.
const BROKEN: &str = "{{ if gt .alerts 1 }}many{{ end }}\n";

/// What the renderer says about [`BROKEN`]: Go's words, position included.
const ERROR: &str = "invalid input: template failed: template: message:1:6: \
     executing \"message\" at <gt .alerts 1>: error calling gt: invalid type for comparison";

/// Parses, but fails on its third line for an alert without a `team`
/// label: `upper` needs a string.
const BROKEN_ON_LINE_3: &str =
    "🔥 {{ .status }}\n{{ range .alerts }}\n  owner: {{ upper .labels.team }}\n{{ end }}\n";

fn slack_yaml(slack: &SlackEmulator, template: &std::path::Path) -> String {
    format!(
        "  slack:\n    enable: true\n    token: xoxb-test\n    channel_id: C123\n    \
         template_path: {}\n    api_url: {}\n",
        template.display(),
        slack.api_url()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_render_error_still_reaches_the_channel_as_a_fallback_message() {
    let slack = SlackEmulator::start(Mode::Ok).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let template = dir.path().join("broken.tmpl");
    std::fs::write(&template, BROKEN).expect("write template");
    let gw = ChatGateway::start(&slack_yaml(&slack, &template), &[]).await;

    let (status, answer) = gw.post("", &alertmanager("critical")).await;
    assert_eq!(status, 201, "{answer}\n{}", gw.log());
    assert_eq!(
        channel(&answer, "slack")["template_error"],
        ERROR,
        "{answer}"
    );

    let posted = slack.posted();
    assert_eq!(posted.len(), 1, "{posted:?}");
    assert_eq!(
        posted[0]["text"],
        "🔥 [CRITICAL] HighErrorRate on web-1:9100"
    );
    let shown = posted[0]["attachments"][0]["blocks"][0]["text"]["text"]
        .as_str()
        .unwrap_or_default();
    assert!(shown.contains("\nstatus: firing\n"), "{shown}");
    assert!(shown.contains("alertname=HighErrorRate"), "{shown}");
    assert!(
        shown.ends_with(&format!("template error: {ERROR}")),
        "{shown}"
    );

    let (_, metrics) = crate::metrics::scrape(gw.process()).await;
    assert_eq!(
        sample(&metrics, "versus_template_errors_total{channel=\"slack\"}"),
        Some(1.0),
        "{metrics}"
    );
    assert!(
        gw.log()
            .contains("rendering failed; sending the fallback message"),
        "{}",
        gw.log()
    );
}

#[test]
fn check_with_data_names_the_template_line_and_cause_of_a_render_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = dir.path().join("good.tmpl");
    std::fs::write(&good, "{{ .status }}\n").expect("write template");
    let broken = dir.path().join("broken.tmpl");
    std::fs::write(&broken, BROKEN_ON_LINE_3).expect("write template");
    let config = dir.path().join("config.yaml");
    std::fs::write(
        &config,
        format!(
            "alert:\n  console:\n    enable: true\n    template_path: {}\n  \
             slack:\n    enable: true\n    token: xoxb-test\n    channel_id: C1\n    \
             template_path: {}\n",
            good.display(),
            broken.display()
        ),
    )
    .expect("write config");
    let config = config.to_string_lossy().into_owned();
    let data = fixture("alertmanager/critical.json");
    let data = data.to_string_lossy().into_owned();
    let cache = dir.path().join("cache");

    // The template parses, so a plain check passes.
    let plain = versus(&["check", "--config", &config], &cache);
    assert!(
        plain.status.success(),
        "{}",
        String::from_utf8_lossy(&plain.stderr)
    );

    let out = versus(&["check", "--config", &config, "--data", &data], &cache);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stdout}");
    let broken = broken.display();
    assert!(
        stdout.contains(&format!(
            "  slack ({broken}): FAILS at {broken}:3:25: executing \"message\" at <.labels.team>: \
             invalid value; expected string\n"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("  console ({}): ok, 7 bytes\n", good.display())),
        "{stdout}"
    );
    assert!(stderr.contains("1 template(s) fail to render"), "{stderr}");

    std::fs::write(dir.path().join("broken.tmpl"), "{{ .status }}\n").expect("fix template");
    let fixed = versus(&["check", "--config", &config, "--data", &data], &cache);
    let stdout = String::from_utf8_lossy(&fixed.stdout);
    assert!(fixed.status.success(), "{stdout}");
    assert!(
        stdout.contains(&format!("  slack ({broken}): ok, 7 bytes")),
        "{stdout}"
    );
}
