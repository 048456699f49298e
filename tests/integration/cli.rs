//! The binary's subcommands: `render` against the Go goldens, `check` and the
//! compiled-component cache, and `serve` answering health checks or
//! refusing a bad config.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::common::{fixture, repo, versus};

const PAYLOADS: &[&str] = &["critical", "resolved", "urgent", "warning"];
const ACK_URL: &str = "https://your-ack-host.example/api/ack/0b9f6c1e-1111-4c2a-9d51-2f0e5a7c9e11?exp=1795000000&sig=3q2-7w";

#[test]
fn render_matches_go_output_for_every_fixture() {
    let cache = tempfile::tempdir().expect("tempdir");
    let template = fixture("templates/slack_message.tmpl");
    for name in PAYLOADS {
        let data = fixture(&format!("alertmanager/{name}.json"));
        let out = versus(
            &[
                "render",
                "--template",
                path(&template),
                "--data",
                path(&data),
            ],
            cache.path(),
        );
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let golden =
            std::fs::read(fixture(&format!("rendered/slack_message.{name}.txt"))).expect("golden");
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&golden),
            "{name}"
        );
        assert_eq!(out.stdout, golden, "{name}: bytes differ");
    }
}

#[test]
fn render_with_ack_url_matches_go_output() {
    let cache = tempfile::tempdir().expect("tempdir");
    let template = fixture("templates/slack_message.tmpl");
    for name in ["critical", "urgent", "warning"] {
        let mut data: serde_json::Value = serde_json::from_slice(
            &std::fs::read(fixture(&format!("alertmanager/{name}.json"))).expect("payload"),
        )
        .expect("json");
        data["AckURL"] = ACK_URL.into();
        let data_file = cache.path().join(format!("{name}.json"));
        std::fs::write(&data_file, serde_json::to_vec(&data).expect("encode")).expect("write");
        let out = versus(
            &[
                "render",
                "--template",
                path(&template),
                "--data",
                path(&data_file),
            ],
            cache.path(),
        );
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let golden = std::fs::read(fixture(&format!(
            "rendered/slack_message.{name}.with-ack.txt"
        )))
        .expect("golden");
        assert_eq!(out.stdout, golden, "{name}");
    }
}

#[test]
fn render_errors_go_to_stderr_with_exit_1() {
    let cache = tempfile::tempdir().expect("tempdir");
    let bad = cache.path().join("bad.tmpl");
    std::fs::write(&bad, "{{ .x ").expect("write");
    let data = fixture("alertmanager/critical.json");
    let out = versus(
        &["render", "--template", path(&bad), "--data", path(&data)],
        cache.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("invalid input"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let not_json = cache.path().join("data.json");
    std::fs::write(&not_json, "{nope").expect("write");
    let template = fixture("templates/slack_message.tmpl");
    let out = versus(
        &[
            "render",
            "--template",
            path(&template),
            "--data",
            path(&not_json),
        ],
        cache.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
}

#[test]
fn render_with_a_renderer_file_that_is_not_a_renderer_fails_clearly() {
    let cache = tempfile::tempdir().expect("tempdir");
    let template = fixture("templates/slack_message.tmpl");
    let data = fixture("alertmanager/critical.json");
    let channel = crate::common::built_plugin("test_channel");
    let out = versus(
        &[
            "render",
            "--template",
            path(&template),
            "--data",
            path(&data),
            "--renderer",
            path(&channel),
        ],
        cache.path(),
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("does not implement the `renderer` world"),
        "{err}"
    );
}

#[test]
fn second_check_loads_every_component_from_the_cache() {
    let cache = tempfile::tempdir().expect("tempdir");
    let config = repo().join("config/config.yaml");
    let run = || {
        let out = Command::new(env!("CARGO_BIN_EXE_versus"))
            .args(["check", "--config", path(&config)])
            .current_dir(repo())
            .env("VERSUS_CACHE_DIR", cache.path())
            .output()
            .expect("run");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let first = run();
    assert!(
        first.contains("components: 2 compiled, 0 loaded from cache"),
        "{first}"
    );
    let second = run();
    assert!(
        second.contains("components: 0 compiled, 2 loaded from cache"),
        "{second}"
    );

    // A corrupted artifact is ignored and rebuilt, never trusted.
    for entry in std::fs::read_dir(cache.path()).expect("cache dir") {
        let p = entry.expect("entry").path();
        std::fs::write(&p, b"VERSUS01 not a real artifact").expect("corrupt");
    }
    let third = run();
    assert!(
        third.contains("components: 2 compiled, 0 loaded from cache"),
        "{third}"
    );
}

#[test]
fn check_names_the_problem_and_exits_1() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("config.yaml");
    std::fs::write(
        &config,
        "alert:\n  console:\n    enable: true\n    template_path: /nonexistent/t.tmpl\n",
    )
    .expect("write");
    let out = versus(&["check", "--config", path(&config)], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot read template /nonexistent/t.tmpl"),
        "{err}"
    );

    std::fs::write(&config, "plugins:\n  renderer: nosuch\n").expect("write");
    let out = versus(&["check", "--config", path(&config)], dir.path());
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("plugin `nosuch` is not built in"), "{err}");
}

#[test]
fn serve_answers_health_checks_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let config = dir.path().join("config.yaml");
    let template = fixture("templates/slack_message.tmpl");
    std::fs::write(
        &config,
        format!(
            "host: 127.0.0.1\nport: {port}\nalert:\n  console:\n    enable: true\n    template_path: {}\n",
            template.display()
        ),
    )
    .expect("write");
    let mut child = Command::new(env!("CARGO_BIN_EXE_versus"))
        .args(["--config", path(&config)])
        .env("VERSUS_CACHE_DIR", dir.path())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let stderr = child.stderr.take().expect("stderr");
    let mut lines = BufReader::new(stderr).lines();
    let listening = lines
        .by_ref()
        .map_while(Result::ok)
        .find(|l| l.contains("versus listening"))
        .expect("server did not start");
    assert!(
        listening.contains(&format!(
            "versus listening on 127.0.0.1:{port}; channels: console; on-call: off; \
             plugins: gotemplate, console (built-in)"
        )),
        "{listening}"
    );
    let body = http_get(port, "/healthz");
    assert!(body.contains(r#"{"status":"ok"}"#), "{body}");
    let body = http_get(port, "/readyz");
    assert!(body.contains(r#""channels":["console"]"#), "{body}");

    let pid = child.id().to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    let status = child.wait().expect("wait");
    assert!(status.success(), "exit status {status:?}");
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(
        rest.iter().any(|l| l.contains("shut down cleanly")),
        "{rest:?}"
    );
}

#[test]
fn serve_with_a_bad_config_exits_1_naming_the_key_and_the_fix() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("config.yaml");
    let template = fixture("templates/slack_message.tmpl");
    // Everything else is servable, so a missed check would start listening.
    let good = format!(
        "host: 127.0.0.1\nport: {}\nalert:\n  console:\n    enable: true\n    template_path: {}\n",
        free_port(),
        template.display()
    );
    let cases = [
        (
            "alert",
            "  debug_body: maybe\n",
            "key `alert.debug_body`: expected true or false, found `maybe`",
        ),
        (
            "alert",
            "  retry:\n    max_elapsed: 0s\n",
            "config key `alert.retry.max_elapsed`: must be greater than 0",
        ),
        (
            "oncall",
            "  enable: true\n  provider: xmatters\n",
            "config key `oncall.provider`: `xmatters` is not an on-call provider this build \
             has (it has: aws_incident_manager, pagerduty, incident_io, opsgenie, servicenow)",
        ),
        (
            "oncall",
            "  initialized_only: true\n  ack_secret: short-ack-secret-0123\n",
            "config key `oncall.ack_secret`: is 21 bytes long, shorter than 32: set \
             VERSUS_ACK_SECRET (or oncall.ack_secret) to a random value of at least 32 bytes, \
             e.g. the output of `openssl rand -hex 32`",
        ),
    ];
    for (section, bad, want) in cases {
        let yaml = if section == "alert" {
            good.replace("alert:\n", &format!("alert:\n{bad}"))
        } else {
            format!("{good}{section}:\n{bad}")
        };
        std::fs::write(&config, &yaml).expect("write");
        // No subcommand: serving is the default.
        for args in [
            &["--config", path(&config)][..],
            &["serve", "--config", path(&config)],
        ] {
            let (code, err) = run_for_at_most(args, dir.path(), Duration::from_secs(60));
            assert_eq!(code, Some(1), "{args:?} with\n{yaml}\nstderr: {err}");
            assert!(err.contains(want), "{args:?}: want {want:?} in {err}");
            assert!(!err.contains("versus listening"), "{err}");
            assert!(!err.contains("short-ack-secret"), "{err}");
        }
    }
}

/// Runs `versus args`, killing it if it is still running after `limit`
/// (a server that should not have started); returns its exit code and
/// stderr.
fn run_for_at_most(
    args: &[&str],
    cache: &std::path::Path,
    limit: Duration,
) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_versus"))
        .args(args)
        .env("VERSUS_CACHE_DIR", cache)
        .env_remove("VERSUS_CONFIG")
        .env_remove("RUST_LOG")
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let started = Instant::now();
    while child.try_wait().expect("wait").is_none() && started.elapsed() < limit {
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let out = child.wait_with_output().expect("output");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn http_get(port: u16, path: &str) -> String {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )
    .expect("send");
    let mut out = String::new();
    s.read_to_string(&mut out).expect("read");
    out
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

fn path(p: &std::path::Path) -> &str {
    p.to_str().expect("utf-8 path")
}

#[test]
fn help_explains_each_command_with_examples() {
    let cache = tempfile::tempdir().expect("tempdir");
    let help = |args: &[&str]| {
        let out = versus(args, cache.path());
        assert!(out.status.success(), "{args:?}");
        let text = String::from_utf8(out.stdout).expect("utf-8");
        assert!(text.contains("\nExamples:\n"), "{args:?}:\n{text}");
        text
    };
    let main = help(&["--help"]);
    for want in [
        "serve",
        "check",
        "render",
        "--config",
        "VERSUS_CONFIG",
        "--log-format",
        "versus check ",
        "docs/configuration.md",
    ] {
        assert!(main.contains(want), "--help lacks {want:?}:\n{main}");
    }
    let serve = help(&["serve", "--help"]);
    for want in ["/healthz", "/readyz", "/metrics", "SIGTERM", "kill -HUP"] {
        assert!(
            serve.contains(want),
            "serve --help lacks {want:?}:\n{serve}"
        );
    }
    let check = help(&["check", "--help"]);
    assert!(check.contains("does not connect to Redis"), "{check}");
    let render = help(&["render", "--help"]);
    for want in ["--template", "--data", "--renderer", "AckURL"] {
        assert!(
            render.contains(want),
            "render --help lacks {want:?}:\n{render}"
        );
    }
}

#[test]
fn check_lists_what_is_enabled_and_the_ignored_keys() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("config.yaml");
    let template = fixture("templates/slack_message.tmpl");
    std::fs::write(
        &config,
        format!(
            "port: 8080\nalert:\n  console:\n    enable: true\n    template_path: {}\n  \
             telegram:\n    enable: true\noncall:\n  enable: true\n  wait_minutes: 0.5\n",
            template.display()
        ),
    )
    .expect("write");
    let out = versus(&["check", "--config", path(&config)], dir.path());
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    for want in [
        "is valid\n",
        "  listen:   0.0.0.0:8080\n",
        "  channels: console\n",
        "  on-call:  every alert, wait 30s, paging aws_incident_manager, in memory (escalations do not survive a restart)\n",
        "  plugins:  gotemplate, console (built-in)\n",
        "4 warning(s):\n  - alert.telegram.enable is true but alert.telegram.bot_token or chat_id \
         is empty: Telegram is disabled; set TELEGRAM_BOT_TOKEN and TELEGRAM_CHAT_ID\n",
        "  - on-call is enabled without Redis: escalations are kept in memory and do NOT survive \
         a restart; configure redis: for production\n",
        "  - public_host is empty: ACK links will be relative and will not work from chat; set \
         public_host\n",
        "  - oncall.aws_incident_manager.response_plan_arn is empty: only alerts with \
         awsim_response_plan_arn escalate\n",
    ] {
        assert!(stdout.contains(want), "want {want:?} in\n{stdout}");
    }
}
