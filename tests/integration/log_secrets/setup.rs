//! The log-secrets rig: a marker for every secret-bearing key, a Redis
//! that requires a password, chat APIs that echo every marker back, and
//! the config that sets them all.

use std::time::Duration;

use crate::chat_emulator::ChatEmulator;
use crate::common::fixture;
use crate::gateway::free_port;
use crate::oncall_rig::PLAN;
use crate::slack_emulator::SlackEmulator;

pub(super) const SLACK_TOKEN: &str = "slack-secret-token-4b1d9e";
pub(super) const TELEGRAM_TOKEN: &str = "tg-bot-token-marker-7c21";
pub(super) const VIBER_TOKEN: &str = "viber-token-marker-9d3e";
/// With a quote and a backslash: both log formats escape them.
pub(super) const SMTP_PASSWORD: &str = r#"smtp-pa"ss\word-marker-2f6a"#;
pub(super) const TEAMS_PATH: &str = "teams-url-marker-5e1f";
pub(super) const TEAMS_SIG: &str = "teams-sig-marker-77aa";
pub(super) const TEAMS_OTHER: &str = "teams-other-marker-31c0";
pub(super) const LARK_HOOK: &str = "lark-hook-marker-0b9d";
pub(super) const LARK_OTHER: &str = "lark-other-marker-6a4e";
/// Only in the config the reload brings.
pub(super) const LARK_RELOADED: &str = "lark-reload-marker-c3d2";
pub(super) const ACK_SECRET: &str = "ack-secret-c0ffee-5150-0123456789ab";
pub(super) const REDIS_PASSWORD: &str = "redis-pass/7e3a+9f";
/// `redis.password`, unused (`redis.url` wins) but still a secret.
pub(super) const REDIS_FIELD_PASSWORD: &str = "redis-field-pw-marker-1d8c";
pub(super) const INGEST_TOKEN: &str = "ingest-token-marker-0d15ea5e";
pub(super) const INGEST_HMAC: &str = "ingest-hmac-marker-5eed1e55";
pub(super) const HOOK_BEARER: &str = "hook-bearer-marker-a1b2";
pub(super) const HOOK_HEADER: &str = "hdr-marker-91ab";
pub(super) const AWS_SECRET: &str = "aws-secret-key-9b8c7d6e5f";
pub(super) const AWS_SESSION: &str = "aws-session-token-1a2b3c4d";

/// Every marker, by what it stands for.
pub(super) const MARKERS: &[(&str, &str)] = &[
    ("Slack token", SLACK_TOKEN),
    ("Telegram bot token", TELEGRAM_TOKEN),
    ("Viber bot token", VIBER_TOKEN),
    ("SMTP password", SMTP_PASSWORD),
    ("Teams URL", TEAMS_PATH),
    ("Teams URL signature", TEAMS_SIG),
    ("Teams other URL", TEAMS_OTHER),
    ("Lark webhook URL", LARK_HOOK),
    ("Lark other webhook URL", LARK_OTHER),
    ("Lark webhook URL added by the reload", LARK_RELOADED),
    ("ACK secret", ACK_SECRET),
    ("Redis password in the URL", REDIS_PASSWORD),
    ("redis.password", REDIS_FIELD_PASSWORD),
    ("ingest token", INGEST_TOKEN),
    ("ingest HMAC secret", INGEST_HMAC),
    ("custom channel Authorization header", HOOK_BEARER),
    ("custom channel header", HOOK_HEADER),
    ("AWS secret key", AWS_SECRET),
    ("AWS session token", AWS_SESSION),
];

/// A `redis-server` that requires `REDIS_PASSWORD`, killed on drop.
pub(super) struct Redis(std::process::Child, pub(super) u16);

impl Redis {
    pub(super) fn start() -> Self {
        let port = free_port();
        let child = std::process::Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .args(["--requirepass", REDIS_PASSWORD])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server must be installed (scripts/test installs it)");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Self(child, port)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(super) fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// An error body naming every marker, as a chat API that echoes the
/// credentials it was sent might; each plugin reports its own field. The
/// marker the reload brings is left out unless `reloaded`: before the
/// reload the gateway cannot know it.
pub(super) fn echo_body(reloaded: bool) -> &'static str {
    let all: Vec<&str> = MARKERS
        .iter()
        .map(|(_, m)| *m)
        .filter(|m| reloaded || *m != LARK_RELOADED)
        .collect();
    let text = all.join(" ");
    let body = serde_json::json!({
        "ok": false, "description": text, "code": 1, "msg": text,
        "status": 1, "status_message": text, "error": text,
    });
    Box::leak(body.to_string().into_boxed_str())
}

/// The config with every secret-bearing key set. `reloaded` adds a Lark
/// webhook on that emulator, as the reload does.
pub(super) fn config(
    json: bool,
    debug_body: bool,
    slack: &SlackEmulator,
    chat: &ChatEmulator,
    redis_port: u16,
    reloaded: Option<&ChatEmulator>,
) -> String {
    let tmpl = fixture("templates/slack_message.tmpl");
    let tmpl = tmpl.display();
    let emu = chat.base();
    let log_section = if json { "log:\n  format: json\n" } else { "" };
    let reload_hook = reloaded.map_or_else(String::new, |later| {
        format!("\n      reload: {}/hook/{LARK_RELOADED}", later.base())
    });
    format!(
        "host: 127.0.0.1
port: {{port}}
public_host: http://127.0.0.1:{{port}}
alert:
  debug_body: {debug_body}
  retry:
    initial_backoff: 50ms
    max_elapsed: 1s
  slack:
    enable: true
    token: {SLACK_TOKEN}
    channel_id: C123
    template_path: {tmpl}
    api_url: {slack_api}
  console:
    enable: true
    template_path: {tmpl}
  telegram:
    enable: true
    bot_token: {TELEGRAM_TOKEN}
    chat_id: '-100'
    template_path: {tmpl}
    api_url: {emu}/
  viber:
    enable: true
    bot_token: {VIBER_TOKEN}
    user_id: u1
    template_path: {tmpl}
    api_url: {emu}/pa/
  email:
    enable: true
    smtp_host: 127.0.0.1
    smtp_port: {smtp_port}
    username: versus@example.com
    password: '{SMTP_PASSWORD}'
    to: ops@example.com
    tls: none
    template_path: {tmpl}
  msteams:
    enable: true
    power_automate_url: {emu}/workflows/{TEAMS_PATH}/invoke?api-version=1&sig={TEAMS_SIG}
    template_path: {tmpl}
    other_power_urls:
      qc: {emu}/qc/{TEAMS_OTHER}
  lark:
    enable: true
    webhook_url: {emu}/open-apis/bot/v2/hook/{LARK_HOOK}
    template_path: {tmpl}
    other_webhook_urls:
      dev: {emu}/hook/{LARK_OTHER}{reload_hook}
channels:
  - name: hook
    plugin: webhook
    template_path: {tmpl}
    allowed_hosts: [{emu}]
    config:
      url: {emu}/hook
      headers:
        Authorization: Bearer {HOOK_BEARER}
        X-Team-Route: {HOOK_HEADER}
oncall:
  enable: true
  wait_minutes: 3
  ack_secret: {ACK_SECRET}
  aws_incident_manager:
    response_plan_arn: {PLAN}
    initial_backoff: 100ms
redis:
  url: redis://:{pw}@127.0.0.1:{redis_port}/0
  password: {REDIS_FIELD_PASSWORD}
ingest:
  sources:
    - name: alertmanager
      token: {INGEST_TOKEN}
      allowed_overrides: [oncall_wait_minutes, lark_other_webhook_url]
    - name: relay
      hmac_secret: {INGEST_HMAC}
plugins:
  watch: false
{log_section}",
        slack_api = slack.api_url(),
        smtp_port = free_port(),
        pw = url_encode(REDIS_PASSWORD),
    )
}
