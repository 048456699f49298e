//! The on-call test rig: a Slack emulator, an SSM Incidents emulator, a key
//! prefix of its own in the real Redis, and gateway processes configured
//! against them; plus the helpers the on-call tests share.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::chat_emulator::ChatEmulator;
use crate::common::fixture;
use crate::gateway::Process;
use crate::slack_emulator::{Mode, SlackEmulator};
use crate::ssm_emulator::SsmEmulator;

/// A Bot API answer to `sendMessage`: message 42 in chat -1001.
pub(crate) const TELEGRAM_OK: &str =
    r#"{"ok":true,"result":{"message_id":42,"chat":{"id":-1001}}}"#;

/// The configured response plan.
pub(crate) const PLAN: &str = "arn:aws:ssm-incidents::111122223333:response-plan/default";
/// The configured ACK secret (unless a test leaves it out).
pub(crate) const SECRET: &str = "test-ack-secret-0123456789abcdef-0123";

/// What a test may change in a rig gateway's config.
pub(crate) struct Setup {
    /// The `redis:` section's (indented) lines; `None` leaves it out.
    pub(crate) redis: Option<String>,
    /// `oncall.ack_secret`; `None` leaves it out.
    pub(crate) ack_secret: Option<String>,
    /// The Slack message template.
    pub(crate) template: PathBuf,
}

impl Setup {
    /// Redis on 127.0.0.1:`redis_port`, [`SECRET`], the fixture template.
    pub(crate) fn redis_port(redis_port: u16) -> Self {
        Self {
            redis: Some(format!("  host: 127.0.0.1\n  port: {redis_port}\n")),
            ack_secret: Some(SECRET.into()),
            template: fixture("templates/slack_message.tmpl"),
        }
    }
}

pub(crate) struct Rig {
    pub(crate) slack: SlackEmulator,
    pub(crate) ssm: SsmEmulator,
    /// The Redis key prefix every gateway of this rig uses.
    pub(crate) prefix: String,
    dir: tempfile::TempDir,
}

impl Rig {
    pub(crate) async fn new() -> Self {
        Self::with_slack(Mode::Ok).await
    }

    /// A rig whose Slack emulator answers as `mode` says.
    pub(crate) async fn with_slack(mode: Mode) -> Self {
        Self {
            slack: SlackEmulator::start(mode).await,
            ssm: SsmEmulator::start().await,
            prefix: format!("versus-test-{}:", uuid::Uuid::new_v4()),
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    /// The rig's config with `redis` (indented lines) as the redis: section.
    pub(crate) fn yaml_with(&self, redis: &str) -> String {
        self.yaml(&Setup {
            redis: Some(redis.into()),
            ..Setup::redis_port(6379)
        })
    }

    /// The rig's config plus a Telegram channel on the emulator `telegram`
    /// (its answers: [`TELEGRAM_OK`]).
    pub(crate) fn yaml_with_telegram(&self, telegram: &ChatEmulator) -> String {
        let yaml = self.yaml_with("  host: 127.0.0.1\n  port: 6379\n");
        let section = format!(
            "alert:\n  telegram:\n    enable: true\n    bot_token: \"123:abc\"\n    \
             chat_id: \"-1001\"\n    template_path: {}\n    api_url: {}/\n",
            crate::chat_rig::config_template("telegram_message.tmpl"),
            telegram.base()
        );
        assert!(yaml.contains("alert:\n"), "the rig's config changed shape");
        yaml.replacen("alert:\n", &section, 1)
    }

    /// The rig's config as `setup` says.
    pub(crate) fn yaml(&self, setup: &Setup) -> String {
        let secret = setup
            .ack_secret
            .as_ref()
            .map(|s| format!("  ack_secret: {s}\n"))
            .unwrap_or_default();
        let redis = setup
            .redis
            .as_ref()
            .map(|r| format!("redis:\n{r}"))
            .unwrap_or_default();
        format!(
            "host: 127.0.0.1\nport: {{port}}\npublic_host: http://127.0.0.1:{{port}}\n\
             alert:\n  slack:\n    enable: true\n    token: xoxb-test\n    channel_id: C123\n    \
             template_path: {}\n    api_url: {}\n\
             oncall:\n  enable: true\n  wait_minutes: 3\n{secret}  \
             aws_incident_manager:\n    response_plan_arn: {PLAN}\n\
             {redis}plugins:\n  watch: false\n",
            setup.template.display(),
            self.slack.api_url()
        )
    }

    /// A gateway on the rig's Redis at `redis_port`, with the default setup.
    pub(crate) async fn gateway(&self, name: &str, redis_port: u16) -> Process {
        self.gateway_with(name, &Setup::redis_port(redis_port))
            .await
    }

    /// A gateway configured as `setup` says.
    pub(crate) async fn gateway_with(&self, name: &str, setup: &Setup) -> Process {
        let dir = self.dir(name);
        Process::start(&dir, &self.yaml(setup), &self.env()).await
    }

    /// A fresh directory for one gateway's config.
    pub(crate) fn dir(&self, name: &str) -> PathBuf {
        let dir = self.dir.path().join(name);
        std::fs::create_dir_all(&dir).expect("mkdir");
        dir
    }

    /// The gateway's environment: the SSM endpoint and the key prefix.
    pub(crate) fn env(&self) -> Vec<(&'static str, String)> {
        let mut env = self.ssm.env();
        env.push(("REDIS_KEY_PREFIX", self.prefix.clone()));
        env
    }
}

/// A fixture payload with its own group, so tests do not join each other.
pub(crate) fn payload(name: &str, group: &str) -> Vec<u8> {
    let mut v: Value = serde_json::from_slice(
        &std::fs::read(fixture(&format!("alertmanager/{name}.json"))).expect("read"),
    )
    .expect("json");
    v["groupKey"] = Value::String(format!("{{}}:{{alertname=\"{group}\"}}"));
    serde_json::to_vec(&v).expect("encode")
}

/// POSTs `body` to `/api/incidents?{query}`: the status and the JSON answer.
pub(crate) async fn post(gw: &Process, query: &str, body: Vec<u8>) -> (u16, Value) {
    post_as(gw, None, query, body).await
}

/// [`post`] with `Authorization: Bearer {token}` when a token is given.
pub(crate) async fn post_as(
    gw: &Process,
    token: Option<&str>,
    query: &str,
    body: Vec<u8>,
) -> (u16, Value) {
    let mut request = reqwest::Client::new()
        .post(format!("{}/api/incidents?{query}", gw.base()))
        .header("content-type", "application/json");
    if let Some(token) = token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let resp = request
        .body(body)
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .unwrap_or_else(|e| panic!("POST failed: {e}\n{}", gw.log()));
    let status = resp.status().as_u16();
    let bytes = resp.bytes().await.unwrap_or_default();
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// GETs `url` with `accept`: the status and the body.
pub(crate) async fn get(url: &str, accept: &str) -> (u16, String) {
    let resp = reqwest::Client::new()
        .get(url)
        .header("accept", accept)
        .send()
        .await
        .expect("GET");
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap_or_default())
}

/// POSTs to the ACK link `url` with `accept`, as its page's button does
/// (only a POST acknowledges): the status and the body.
pub(crate) async fn ack(url: &str, accept: &str) -> (u16, String) {
    let resp = reqwest::Client::new()
        .post(url)
        .header("accept", accept)
        .send()
        .await
        .expect("POST ack");
    let status = resp.status().as_u16();
    (status, resp.text().await.unwrap_or_default())
}

/// The incident's state as `GET /api/incidents/{id}` shows it.
pub(crate) async fn state_of(gw: &Process, id: &str) -> Value {
    let url = format!("{}/api/incidents/{id}", gw.base());
    let (_, text) = get(&url, "application/json").await;
    serde_json::from_str::<Value>(&text).unwrap_or(Value::Null)["state"].clone()
}

/// `GET /api/incidents/{id}` as JSON (`null` when the answer is not JSON).
pub(crate) async fn incident_json(gw: &Process, id: &str) -> Value {
    let url = format!("{}/api/incidents/{id}", gw.base());
    let (_, text) = get(&url, "application/json").await;
    serde_json::from_str(&text).unwrap_or(Value::Null)
}

/// Whether the incident reaches `state` within `secs` seconds.
pub(crate) async fn reaches(gw: &Process, id: &str, state: &str, secs: u64) -> bool {
    crate::common::eventually(Duration::from_secs(secs), async || {
        state_of(gw, id).await == state
    })
    .await
}

/// The ACK button URL of the `nth_post` Slack message posted, if it has one.
pub(crate) fn ack_url_of(slack: &SlackEmulator, nth_post: usize) -> Option<String> {
    let posts: Vec<_> = slack
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("chat.postMessage"))
        .collect();
    let blocks = posts.get(nth_post)?.body["attachments"][0]["blocks"]
        .as_array()?
        .clone();
    blocks
        .iter()
        .find(|b| b["type"] == "actions")
        .and_then(|b| b["elements"][0]["url"].as_str().map(str::to_string))
}

/// Polls `f` every 25 ms until it holds or `timeout` passes.
pub(crate) async fn wait_for(timeout: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < timeout {
        if f() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    f()
}
