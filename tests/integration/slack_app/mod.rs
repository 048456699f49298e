//! The Slack app's buttons through the real binary: the tests play Slack,
//! posting `block_actions` payloads to `/api/slack/interactions` shaped as
//! Slack's documentation shows and signed as Slack signs them, to two
//! gateway replicas on the real Redis. The Slack and SSM emulators stand
//! in for Slack's Web API (and its `response_url`) and AWS.

mod clicks;
mod shutdown;
mod store_away;
mod threads;

use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::common::eventually;
use crate::gateway::Process;
use crate::oncall_rig::{Rig, payload, post};
use crate::slack_emulator::SlackEmulator;

pub(super) const SIGNING_SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";

/// A gateway of `rig` with the Slack app's signing secret set.
pub(super) async fn gateway(rig: &Rig, name: &str) -> Process {
    let mut env = rig.env();
    env.push(("SLACK_SIGNING_SECRET", SIGNING_SECRET.into()));
    let yaml = rig.yaml_with("  host: 127.0.0.1\n  port: 6379\n");
    Process::start(&rig.dir(name), &yaml, &env).await
}

/// Raises an alert of its own group, paging after `wait_minutes`; its id.
pub(super) async fn raise(gw: &Process, group: &str, wait_minutes: f64) -> String {
    let query = format!("oncall_wait_minutes={wait_minutes}");
    let (status, body) = post(gw, &query, payload("critical", group)).await;
    assert_eq!(status, 201, "{body}");
    body["id"].as_str().expect("id").to_string()
}

/// A click on the button `action_id` of incident `id` by U123 (alice), as
/// the form body Slack posts.
pub(super) fn click(slack: &SlackEmulator, action_id: &str, id: &str) -> Vec<u8> {
    let payload = json!({
        "type": "block_actions",
        "user": {"id": "U123", "username": "alice", "name": "alice", "team_id": "T0001"},
        "api_app_id": "A0001",
        "token": "deprecated-verification-token",
        "container": {"type": "message", "message_ts": "1700000000.000100", "channel_id": "C123", "is_ephemeral": false},
        "trigger_id": "12345.98765.abcd2358fdea",
        "team": {"id": "T0001", "domain": "example"},
        "enterprise": null,
        "is_enterprise_install": false,
        "channel": {"id": "C123", "name": "alerts"},
        "message": {"type": "message", "ts": "1700000000.000100", "text": "alert", "blocks": []},
        "state": {"values": {}},
        "response_url": slack.response_url(),
        "actions": [{
            "action_id": action_id,
            "block_id": "incident_actions",
            "text": {"type": "plain_text", "text": "Acknowledge Alert", "emoji": true},
            "value": id,
            "style": "primary",
            "type": "button",
            "action_ts": "1700000042.734512",
        }],
    });
    form_urlencoded::Serializer::new(String::new())
        .append_pair("payload", &payload.to_string())
        .finish()
        .into_bytes()
}

/// `v0=` and the hex HMAC-SHA256 of `v0:{ts}:{body}`: Slack's signature.
pub(super) fn sign(secret: &str, ts: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(format!("v0:{ts}:").as_bytes());
    mac.update(body);
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

pub(super) fn now_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
}

/// Posts `body` to the interactions endpoint with Slack's headers: the
/// status, the JSON answer (`null` when empty) and how long it took.
pub(super) async fn deliver(
    gw: &Process,
    body: Vec<u8>,
    ts: i64,
    signature: &str,
) -> (u16, Value, Duration) {
    let started = Instant::now();
    let resp = reqwest::Client::new()
        .post(format!("{}/api/slack/interactions", gw.base()))
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-slack-request-timestamp", ts.to_string())
        .header("x-slack-signature", signature)
        .body(body)
        .send()
        .await
        .expect("POST interactions");
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap_or_default();
    let took = started.elapsed();
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::Null),
        took,
    )
}

/// Signs `body` now and delivers it.
pub(super) async fn signed(gw: &Process, body: Vec<u8>) -> (u16, Value, Duration) {
    let ts = now_secs();
    let signature = sign(SIGNING_SECRET, ts, &body);
    deliver(gw, body, ts, &signature).await
}

/// The context line of the `chat.update` calls so far.
pub(super) fn update_notes(slack: &SlackEmulator) -> Vec<String> {
    slack
        .calls("chat.update")
        .iter()
        .filter_map(|u| {
            let blocks = u["attachments"][0]["blocks"].as_array()?;
            let context = blocks.iter().find(|b| b["type"] == "context")?;
            context["elements"][0]["text"].as_str().map(str::to_string)
        })
        .collect()
}

/// Waits for `n` ephemeral replies; their texts.
pub(super) async fn replies(slack: &SlackEmulator, n: usize) -> Vec<String> {
    eventually(Duration::from_secs(10), async || slack.replies().len() >= n).await;
    slack
        .replies()
        .iter()
        .map(|r| {
            assert_eq!(r["response_type"], "ephemeral", "{r}");
            assert_eq!(r["replace_original"], false, "{r}");
            r["text"].as_str().unwrap_or("").to_string()
        })
        .collect()
}
