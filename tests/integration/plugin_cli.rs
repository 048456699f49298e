//! `versus plugin test`: one call of a plugin from the command line, with
//! its HTTP printed, sent for real or answered by a dry run.

use std::path::Path;
use std::process::Output;

use crate::chat_emulator::{ChatEmulator, Mode};
use crate::common::{built_plugin, fixture, versus};

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn explain(out: &Output) -> String {
    format!(
        "status {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        stdout(out),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

/// Runs `versus plugin test ARGS` off the async runtime, so a local
/// emulator keeps answering meanwhile.
async fn plugin_test(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        let cache = tempfile::tempdir().expect("tempdir");
        let mut all = vec!["plugin".to_string(), "test".to_string()];
        all.extend(args);
        let all: Vec<&str> = all.iter().map(String::as_str).collect();
        versus(&all, cache.path())
    })
    .await
    .expect("join")
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[tokio::test]
async fn dry_run_prints_each_request_and_sends_nothing() {
    let plugin = built_plugin("discord_example");
    let data = fixture("alertmanager/critical.json");
    let out = plugin_test(args(&[
        "--plugin",
        path(&plugin),
        "--data",
        path(&data),
        "--config",
        r#"{"webhook_url": "https://discord.example/api/webhooks/1/tok", "username": "versus"}"#,
        "--message",
        "disk full",
        "--update",
        "acknowledged",
        "--dry-run",
        "--dry-run-body",
        r#"{"id": "99"}"#,
    ]))
    .await;
    assert!(out.status.success(), "{}", explain(&out));
    let text = stdout(&out);
    let want = [
        "deliver (discord_example, channel)",
        "> POST https://discord.example/api/webhooks/1/tok?wait=true",
        "> Content-Type: application/json",
        r#"> {"content":"disk full","username":"versus"}"#,
        "< 200 (dry run: not sent)",
        r#"< {"id": "99"}"#,
        r#"deliver: ok, receipt destination="discord" message_id="99""#,
        "update (discord_example, acknowledged)",
        "> PATCH https://discord.example/api/webhooks/1/tok/messages/99",
        r#"> {"content":"**✅ Acknowledged**\ndisk full","username":"versus"}"#,
        "update: ok",
    ];
    let mut at = 0;
    for line in want {
        let found = text[at..].find(line);
        assert!(
            found.is_some(),
            "missing, in order: {line}\n{}",
            explain(&out)
        );
        at += found.unwrap_or(0) + line.len();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_run_sends_the_rendered_template_and_prints_the_answer() {
    let emu = ChatEmulator::start(Mode::Ok(r#"{"ok": true}"#)).await;
    let data = fixture("alertmanager/critical.json");
    let template = fixture("templates/slack_message.tmpl");
    let config = format!(r#"{{"url": "{}/hook", "format": "text"}}"#, emu.base());
    let out = plugin_test(args(&[
        "--plugin",
        "webhook",
        "--data",
        path(&data),
        "--template",
        path(&template),
        "--config",
        &config,
        "--allow-host",
        emu.base(),
    ]))
    .await;
    assert!(out.status.success(), "{}", explain(&out));
    let golden =
        std::fs::read_to_string(fixture("rendered/slack_message.critical.txt")).expect("golden");
    let requests = emu.requests();
    assert_eq!(requests.len(), 1, "{}", explain(&out));
    assert_eq!(requests[0].path, "/hook");
    assert_eq!(String::from_utf8_lossy(&requests[0].body), golden);
    let text = stdout(&out);
    assert!(
        text.contains(&format!("> POST {}/hook", emu.base())),
        "{text}"
    );
    assert!(text.contains("< 200\n"), "{text}");
    assert!(text.contains("deliver: ok"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_host_or_a_failing_call_exits_1() {
    let emu = ChatEmulator::start(Mode::Always(503, r#"{"error": "down"}"#)).await;
    let data = fixture("alertmanager/critical.json");
    let config = format!(r#"{{"url": "{}/hook"}}"#, emu.base());
    let webhook_allowing = |host: &str| {
        args(&[
            "--plugin",
            "webhook",
            "--data",
            path(&data),
            "--config",
            &config,
            "--message",
            "hi",
            "--allow-host",
            host,
        ])
    };
    let refused = plugin_test(webhook_allowing("https://hooks.example.com")).await;
    assert_eq!(refused.status.code(), Some(1), "{}", explain(&refused));
    let text = stdout(&refused);
    assert!(
        text.contains(
            "< not sent (denied): http://127.0.0.1 is not in this plugin's allowed_hosts"
        ),
        "{text}"
    );
    assert!(text.contains("deliver: failed"), "{text}");

    let down = plugin_test(webhook_allowing(emu.base())).await;
    assert_eq!(down.status.code(), Some(1), "{}", explain(&down));
    let text = stdout(&down);
    assert!(text.contains("< 503"), "{text}");
    assert!(text.contains("deliver: failed (transient)"), "{text}");
    assert!(text.contains("the gateway would retry this"), "{text}");
    assert_eq!(emu.requests().len(), 1, "one call, no retries");
}

#[tokio::test]
async fn transformers_and_renderers_are_found_and_called() {
    let data = fixture("alertmanager/critical.json");
    let out = plugin_test(args(&["--plugin", "alertmanager", "--data", path(&data)])).await;
    assert!(out.status.success(), "{}", explain(&out));
    let text = stdout(&out);
    assert!(
        text.starts_with("transform (alertmanager, transformer)\ntransform: keep\n"),
        "{text}"
    );
    let kept: serde_json::Value =
        serde_json::from_str(&text[text.find('{').unwrap_or(0)..]).expect("the kept event as JSON");
    assert_eq!(kept["severity"], "critical");
    assert!(
        kept["dedup_key"]
            .as_str()
            .is_some_and(|k| k.starts_with("am:")),
        "{kept}"
    );

    let template = fixture("templates/slack_message.tmpl");
    let out = plugin_test(args(&[
        "--plugin",
        "gotemplate",
        "--data",
        path(&data),
        "--template",
        path(&template),
    ]))
    .await;
    assert!(out.status.success(), "{}", explain(&out));
    let golden =
        std::fs::read_to_string(fixture("rendered/slack_message.critical.txt")).expect("golden");
    assert_eq!(
        stdout(&out),
        format!("render (gotemplate, renderer)\nrender: ok\n{golden}\n")
    );
}

#[tokio::test]
async fn mistakes_get_a_clear_message() {
    let data = fixture("alertmanager/critical.json");
    let cases: [(Vec<String>, &str); 4] = [
        (
            args(&["--plugin", "webhook", "--data", path(&data)]),
            "add --message TEXT, or --template FILE",
        ),
        (
            args(&[
                "--plugin",
                path(&built_plugin("test_renderer")),
                "--data",
                path(&data),
                "--world",
                "channel",
            ]),
            "does not implement that world",
        ),
        (
            args(&["--plugin", "email", "--data", path(&data), "--message", "m"]),
            "needs an SMTP server",
        ),
        (
            args(&["--plugin", "no_such_plugin", "--data", path(&data)]),
            "is not built in",
        ),
    ];
    for (case, want) in cases {
        let out = plugin_test(case.clone()).await;
        assert_eq!(out.status.code(), Some(1), "{case:?}: {}", explain(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(want),
            "{case:?}: want {want:?}\n{}",
            explain(&out)
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_escalator_pages_then_hears_the_ack_and_the_resolve() {
    use crate::pagerduty_emulator::PagerDutyEmulator;
    let emu = PagerDutyEmulator::start().await;
    let data = fixture("alertmanager/critical.json");
    let config = format!(
        r#"{{"routing_key": "R0UTINGKEY0000000000000000000001", "api_url": "{}"}}"#,
        emu.url
    );
    let run = |extra: &[&str]| {
        let mut list = args(&[
            "--plugin",
            "pagerduty",
            "--data",
            path(&data),
            "--config",
            &config,
            "--allow-host",
            &emu.url,
            "--dedup-key",
            "am:web-1",
        ]);
        list.extend(args(extra));
        plugin_test(list)
    };
    let out = run(&[
        "--ack-url",
        "https://versus.example/api/ack/x?exp=1&sig=s",
        "--follow-up",
        "acknowledge",
        "--who",
        "alice",
        "--follow-up",
        "resolve",
    ])
    .await;
    assert!(out.status.success(), "{}", explain(&out));
    assert_eq!(emu.invalid(), vec![], "{}", explain(&out));
    let events = emu.events();
    let seen: Vec<(&str, &str)> = events.iter().map(|e| (e.action(), e.key())).collect();
    assert_eq!(
        seen,
        [
            ("trigger", "am:web-1"),
            ("acknowledge", "am:web-1"),
            ("resolve", "am:web-1")
        ]
    );
    let trigger = &events[0].body;
    assert_eq!(
        trigger["payload"]["summary"],
        "[CRITICAL] HighErrorRate on web-1:9100"
    );
    assert_eq!(
        trigger["links"][0]["href"],
        "https://versus.example/api/ack/x?exp=1&sig=s"
    );
    let text = stdout(&out);
    let want = [
        "start (pagerduty, escalator)",
        &format!("> POST {}/v2/enqueue", emu.url),
        "< 202",
        r#"start: ok, receipt id="am:web-1""#,
        "acknowledge (pagerduty)",
        "acknowledge: ok",
        "resolve (pagerduty)",
        "resolve: ok",
    ];
    let mut at = 0;
    for line in want {
        let found = text[at..].find(line);
        assert!(found.is_some(), "missing, in order: {line}\n{text}");
        at += found.unwrap_or(0) + line.len();
    }

    // PagerDuty's 400 for a key it does not know fails the start and the
    // command, and nothing follows it.
    let bad_key = format!(
        r#"{{"routing_key": "not-a-routing-key", "api_url": "{}"}}"#,
        emu.url
    );
    let mut list = args(&["--plugin", "pagerduty", "--data", path(&data)]);
    list.extend(args(&["--config", &bad_key, "--allow-host", &emu.url]));
    list.extend(args(&["--follow-up", "resolve"]));
    let out = plugin_test(list).await;
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    let text = stdout(&out);
    assert!(text.contains("< 400"), "{text}");
    assert!(text.contains("start: failed (permanent)"), "{text}");
    assert!(!text.contains("resolve ("), "{text}");
    assert_eq!(emu.invalid().len(), 1);
    assert_eq!(emu.events().len(), 3);

    // Settings the plugin refuses stop it before any call.
    let out = plugin_test(args(&[
        "--plugin",
        "pagerduty",
        "--data",
        path(&data),
        "--config",
        r#"{"routing_key": ""}"#,
        "--world",
        "escalator",
    ]))
    .await;
    assert_eq!(out.status.code(), Some(1), "{}", explain(&out));
    assert!(
        stdout(&out).contains("validate-config: failed (config)"),
        "{}",
        explain(&out)
    );
    assert_eq!(emu.events().len(), 3);
    assert_eq!(emu.invalid().len(), 1);
}
