//! The interactions endpoint through `app(state).oneshot(..)` with the
//! in-memory store: only a request signed with the app's secret, fresh
//! and seen once, changes anything; a click acknowledges as its user or
//! pages at once.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use serde_json::{Value, json};

use super::signature::sign;
use crate::oncall::State;
use crate::server::rig::{Rig, answer, rig_with};

const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";

async fn slack_rig() -> Rig {
    rig_with(&format!("alert:\n  slack:\n    signing_secret: {SECRET}\n")).await
}

/// A click on `action_id` of incident `id` by U123, form-encoded as
/// Slack sends it.
fn click(action_id: &str, id: &str) -> Vec<u8> {
    let payload = json!({
        "type": "block_actions",
        "user": {"id": "U123", "username": "alice", "name": "alice", "team_id": "T1"},
        "api_app_id": "A1",
        "container": {"type": "message", "message_ts": "1.2", "channel_id": "C1", "is_ephemeral": false},
        "trigger_id": "1.2.3",
        "channel": {"id": "C1", "name": "alerts"},
        "response_url": "https://hooks.slack.com/actions/T1/1/abc",
        "actions": [{
            "action_id": action_id, "block_id": "incident_actions", "value": id,
            "type": "button", "action_ts": "1.3",
            "text": {"type": "plain_text", "text": "Acknowledge Alert"},
        }],
    });
    form_urlencoded::Serializer::new(String::new())
        .append_pair("payload", &payload.to_string())
        .finish()
        .into_bytes()
}

fn now_secs() -> i64 {
    crate::oncall::Clock::System.now_ms() / 1000
}

async fn post(r: &Rig, body: Vec<u8>, ts: i64, signature: &str) -> (StatusCode, Value) {
    let request = Request::post("/api/slack/interactions")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("x-slack-request-timestamp", ts.to_string())
        .header("x-slack-signature", signature)
        .body(Body::from(body))
        .expect("request");
    let (status, bytes) = answer(&r.router, request).await;
    (
        status,
        serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    )
}

/// Polls the incident until it leaves `Pending` (the work runs after the
/// answer), or 2 s pass.
async fn settled(r: &Rig, id: &str) -> State {
    for _ in 0..200 {
        let state = r.state(id).await;
        if state != State::Pending {
            return state;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    r.state(id).await
}

#[tokio::test]
async fn a_signed_click_acknowledges_as_its_user_once() {
    let r = slack_rig().await;
    r.pending("i-ack", "t").await;
    let body = click("ack_incident", "i-ack");
    let ts = now_secs();
    let signature = sign(SECRET.as_bytes(), ts, &body);
    let (status, _) = post(&r, body.clone(), ts, &signature).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(settled(&r, "i-ack").await, State::Acknowledged);
    let view = r
        .oncall
        .store
        .get("i-ack")
        .await
        .expect("get")
        .expect("view");
    let by = view.acked_by.expect("who acknowledged");
    assert_eq!((by.source.as_str(), by.user_id.as_str()), ("slack", "U123"));
    assert_eq!(by.name.as_deref(), Some("alice"));

    // The same request again: refused as a replay.
    let (status, answer) = post(&r, body, ts, &signature).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer["reason"], "replayed");
}

#[tokio::test]
async fn anything_not_signed_by_the_app_changes_nothing() {
    let r = slack_rig().await;
    r.pending("i-no", "t").await;
    let body = click("ack_incident", "i-no");
    let ts = now_secs();
    let old = ts - 301;
    let mut altered = body.clone();
    altered.extend_from_slice(b"&x=1");
    let cases = [
        (
            "forged",
            body.clone(),
            ts,
            format!("v0={}", "ab".repeat(32)),
            "bad_signature",
        ),
        (
            "wrong secret",
            body.clone(),
            ts,
            sign(b"another app", ts, &body),
            "bad_signature",
        ),
        (
            "altered",
            altered,
            ts,
            sign(SECRET.as_bytes(), ts, &body),
            "bad_signature",
        ),
        (
            "stale",
            body.clone(),
            old,
            sign(SECRET.as_bytes(), old, &body),
            "stale",
        ),
        ("unsigned", body.clone(), ts, String::new(), "malformed"),
    ];
    for (what, body, ts, signature, reason) in cases {
        let (status, answer) = post(&r, body, ts, &signature).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {answer}");
        assert_eq!(answer["reason"], reason, "{what}");
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(r.state("i-no").await, State::Pending);
}

#[tokio::test]
async fn escalate_now_makes_the_incident_due_at_once() {
    let r = slack_rig().await;
    r.pending("i-now", "t").await;
    let body = click("escalate_incident", "i-now");
    let ts = now_secs();
    let (status, _) = post(&r, body.clone(), ts, &sign(SECRET.as_bytes(), ts, &body)).await;
    assert_eq!(status, StatusCode::OK);
    let mut asked = None;
    for _ in 0..200 {
        let view = r
            .oncall
            .store
            .get("i-now")
            .await
            .expect("get")
            .expect("view");
        if view.escalate_now.is_some() {
            asked = view.escalate_now;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let asked = asked.expect("the request was recorded");
    assert_eq!(asked.by.user_id, "U123");
    // Due now: the next claim takes it, three minutes early.
    let now = r.oncall.clock.now_ms();
    let claimed = r
        .oncall
        .store
        .claim_due(now, now + 30_000, 10)
        .await
        .expect("claim");
    assert_eq!(claimed, ["i-now"]);
}

#[tokio::test]
async fn without_a_signing_secret_the_endpoint_is_off() {
    let r = rig_with("").await;
    let body = click("ack_incident", "x");
    let ts = now_secs();
    let (status, answer) = post(&r, body.clone(), ts, &sign(SECRET.as_bytes(), ts, &body)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        answer["error"]
            .as_str()
            .unwrap_or("")
            .contains("SLACK_SIGNING_SECRET")
    );
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let r = slack_rig().await;
    let body = vec![b'a'; super::BODY_LIMIT + 1];
    let ts = now_secs();
    let (status, _) = post(&r, body.clone(), ts, &sign(SECRET.as_bytes(), ts, &body)).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[test]
fn the_action_ids_are_the_slack_channels() {
    assert_eq!(super::ACK_ACTION_ID, slack::ACK_ACTION_ID);
    assert_eq!(super::ESCALATE_ACTION_ID, slack::ESCALATE_ACTION_ID);
}
