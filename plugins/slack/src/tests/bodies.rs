//! Exact request bodies for `chat.postMessage` and `chat.update`.

use serde_json::{Value, json};

use super::{ID, event, facts, minimal, with_props};
use crate::{Change, Error, Receipt, build_post, build_update, post_body, update_body};

const ACK: &str = "https://gw.example/api/ack/0b9f6c1e?exp=1795000000&sig=3q2-7w";
const MESSAGE: &str = "🔥 *CRITICAL Alert: HighErrorRate*\n\n🌐 *Instance*: `web-1:9100`\n<https://gw.example/ack|Click here to acknowledge>";

fn section(text: &str) -> Value {
    json!({ "type": "section", "text": { "type": "mrkdwn", "text": text } })
}

fn button(style: Option<&str>) -> Value {
    let mut b = json!({
        "type": "button",
        "text": { "type": "plain_text", "text": "Acknowledge Alert" },
        "url": ACK,
        "action_id": "ack_incident",
        "value": ID,
    });
    if let Some(style) = style {
        b["style"] = json!(style);
    }
    json!({ "type": "actions", "block_id": "incident_actions", "elements": [b] })
}

fn post(color: &str, blocks: Vec<Value>) -> Value {
    json!({
        "channel": "C0123",
        "unfurl_links": false,
        "text": "🔥 *CRITICAL Alert: HighErrorRate*",
        "attachments": [{ "color": color, "blocks": blocks }],
    })
}

#[test]
fn firing_with_ack_has_a_button() {
    let body = post_body(MESSAGE, &event(false, Some(ACK)), &minimal()).expect("body");
    assert_eq!(
        body,
        post("#C70039", vec![section(MESSAGE), button(Some("primary"))])
    );
}

#[test]
fn firing_without_ack_has_no_button() {
    let body = post_body(MESSAGE, &event(false, None), &minimal()).expect("body");
    assert_eq!(body, post("#C70039", vec![section(MESSAGE)]));
    let body = post_body(MESSAGE, &event(false, Some("")), &minimal()).expect("body");
    assert_eq!(body, post("#C70039", vec![section(MESSAGE)]));
}

#[test]
fn resolved_is_green() {
    let body = post_body(MESSAGE, &event(true, None), &minimal()).expect("body");
    assert_eq!(body, post("#36A64F", vec![section(MESSAGE)]));
}

#[test]
fn disable_button_hides_it() {
    let config = with_props(r#"{"disable_button":true}"#);
    let body = post_body(MESSAGE, &event(false, Some(ACK)), &config).expect("body");
    assert_eq!(body, post("#C70039", vec![section(MESSAGE)]));
}

#[test]
fn empty_style_omits_the_style_key() {
    let config = with_props(r#"{"button_style":""}"#);
    let body = post_body(MESSAGE, &event(false, Some(ACK)), &config).expect("body");
    assert_eq!(body, post("#C70039", vec![section(MESSAGE), button(None)]));

    let config = with_props(r#"{"button_style":"danger"}"#);
    let body = post_body(MESSAGE, &event(false, Some(ACK)), &config).expect("body");
    assert_eq!(
        body,
        post("#C70039", vec![section(MESSAGE), button(Some("danger"))])
    );
}

#[test]
fn custom_button_text() {
    let config = with_props(r#"{"button_text":"I'm on it"}"#);
    let body = post_body(MESSAGE, &event(false, Some(ACK)), &config).expect("body");
    assert_eq!(
        body["attachments"][0]["blocks"][1]["elements"][0]["text"]["text"],
        "I'm on it"
    );
}

#[test]
fn post_request_shape() {
    let config = super::Config::parse(
        r#"{"token":"xoxb-1","channel_id":"C9","api_url":"http://127.0.0.1:8080/api"}"#,
    )
    .expect("config");
    let req = build_post(MESSAGE, &event(false, Some(ACK)), &config).expect("request");
    assert_eq!(req.method, "POST");
    assert_eq!(req.url, "http://127.0.0.1:8080/api/chat.postMessage");
    assert_eq!(
        req.headers,
        vec![
            ("Authorization".to_owned(), "Bearer xoxb-1".to_owned()),
            (
                "Content-Type".to_owned(),
                "application/json; charset=utf-8".to_owned()
            ),
        ]
    );
    let sent: Value = serde_json::from_slice(&req.body).expect("JSON body");
    assert_eq!(
        sent,
        post_body(MESSAGE, &event(false, Some(ACK)), &config).expect("body")
    );
}

#[test]
fn empty_message_is_invalid_input() {
    for message in ["", "\n\n", "  \n\t\n"] {
        assert!(matches!(
            post_body(message, &event(false, None), &minimal()),
            Err(Error::InvalidInput(_))
        ));
    }
}

#[test]
fn fallback_text_is_first_line_capped() {
    let body =
        post_body("\n\n  title line  \nrest", &event(false, None), &minimal()).expect("body");
    assert_eq!(body["text"], "title line");

    let long = "é".repeat(400);
    let body = post_body(&long, &event(false, None), &minimal()).expect("body");
    let text = body["text"].as_str().expect("text");
    assert_eq!(text.chars().count(), 150);
    assert!(text.ends_with('…'));
}

fn receipt() -> Receipt {
    Receipt {
        destination: "C0456".into(),
        message_id: "1700000000.000100".into(),
    }
}

fn update(color: &str, note: &str) -> Value {
    json!({
        "channel": "C0456",
        "ts": "1700000000.000100",
        "text": "🔥 *CRITICAL Alert: HighErrorRate*",
        "attachments": [{
            "color": color,
            "blocks": [
                section(MESSAGE),
                { "type": "context", "elements": [{ "type": "mrkdwn", "text": note }] },
            ],
        }],
    })
}

#[test]
fn update_bodies() {
    for (change, color, note) in [
        (
            Change::Acknowledged,
            "#439FE0",
            "✅ Acknowledged — escalation cancelled",
        ),
        (Change::Escalated, "#E01E5A", "🚨 Escalated to on-call"),
        (Change::Resolved, "#36A64F", "✅ Resolved"),
        (
            Change::PagingFailed,
            "#1D1C1D",
            "⛔ *Paging failed* — nobody was paged. Page the on-call team by hand.",
        ),
    ] {
        let body =
            update_body(&receipt(), change, MESSAGE, &facts("{}"), &minimal()).expect("body");
        assert_eq!(body, update(color, note), "{change:?}");
    }
}

#[test]
fn an_escalation_with_several_targets_says_how_each_went() {
    let targets = "aws_incident_manager: paged · pagerduty: retrying (HTTP 503)";
    let payload = json!({"oncall_targets": [
        {"provider": "aws_incident_manager", "state": "paged"},
        {"provider": "pagerduty", "state": "paging", "last_error": "HTTP 503"},
    ]});
    let body = update_body(
        &receipt(),
        Change::Escalated,
        MESSAGE,
        &facts(&payload.to_string()),
        &minimal(),
    )
    .expect("body");
    let blocks = body["attachments"][0]["blocks"].as_array().expect("blocks");
    let context = &blocks[blocks.len() - 1];
    assert_eq!(
        context["elements"],
        serde_json::json!([
            {"type": "mrkdwn", "text": "🚨 Escalated to on-call"},
            {"type": "mrkdwn", "text": format!("On-call: {targets}")},
        ])
    );
}

#[test]
fn update_request_shape() {
    let req = build_update(
        &receipt(),
        Change::Acknowledged,
        MESSAGE,
        &facts("{}"),
        &minimal(),
    )
    .expect("req");
    assert_eq!(req.method, "POST");
    assert_eq!(req.url, "https://slack.com/api/chat.update");
    assert_eq!(req.headers[0].1, "Bearer xoxb-test");
}

#[test]
fn update_needs_a_ts_and_defaults_the_channel() {
    let no_ts = Receipt {
        destination: "C0456".into(),
        message_id: String::new(),
    };
    assert!(matches!(
        update_body(&no_ts, Change::Resolved, MESSAGE, &facts("{}"), &minimal()),
        Err(Error::InvalidInput(_))
    ));
    let no_channel = Receipt {
        destination: String::new(),
        message_id: "1.2".into(),
    };
    let body = update_body(
        &no_channel,
        Change::Resolved,
        MESSAGE,
        &facts("{}"),
        &minimal(),
    )
    .expect("body");
    assert_eq!(body["channel"], "C0123");
}

#[test]
fn the_posted_bytes_are_the_documents_bytes() {
    let long = format!("{}\n{}", "a".repeat(2990), "b".repeat(50));
    let configs = [
        minimal(),
        with_props(r#"{"button_style":"danger","button_text":"Ack \"now\""}"#),
        with_props(r#"{"button_style":""}"#),
        with_props(r#"{"disable_button":true}"#),
    ];
    for config in &configs {
        for message in [MESSAGE, long.as_str(), "  \n<tag> & \u{7} é\n"] {
            for resolved in [false, true] {
                for ack in [None, Some(""), Some(ACK)] {
                    let sent = build_post(message, &event(resolved, ack), config).expect("request");
                    let document = post_body(message, &event(resolved, ack), config).expect("body");
                    assert_eq!(
                        String::from_utf8(sent.body).expect("utf-8"),
                        document.to_string(),
                        "{config:?} {message:?} {resolved} {ack:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn interactive_buttons_are_answered_by_the_gateway() {
    let config =
        crate::Config::parse(r#"{"token":"xoxb-test","channel_id":"C0123","interactive":true}"#)
            .expect("config");
    let body = post_body(MESSAGE, &event(false, Some(ACK)), &config).expect("body");
    let blocks = body["attachments"][0]["blocks"].as_array().expect("blocks");
    assert_eq!(
        blocks.last(),
        Some(&json!({
            "type": "actions",
            "block_id": "incident_actions",
            "elements": [
                {
                    "type": "button", "action_id": "ack_incident", "value": ID, "style": "primary",
                    "text": { "type": "plain_text", "text": "Acknowledge Alert" },
                },
                {
                    "type": "button", "action_id": "escalate_incident", "value": ID, "style": "danger",
                    "text": { "type": "plain_text", "text": "Escalate now" },
                },
            ],
        }))
    );
    // Not pending: no buttons at all.
    let body = post_body(MESSAGE, &event(false, None), &config).expect("body");
    assert_eq!(body, post("#C70039", vec![section(MESSAGE)]));
}

#[test]
fn an_acknowledgement_in_slack_names_the_person_and_the_time() {
    // 2026-01-02T03:12:45Z
    let payload = json!({
        "acknowledged_by": {"source": "slack", "user_id": "U123", "name": "alice"},
        "acknowledged_ms": 1_767_323_565_000_i64,
    });
    let body = update_body(
        &receipt(),
        Change::Acknowledged,
        MESSAGE,
        &facts(&payload.to_string()),
        &minimal(),
    )
    .expect("body");
    let blocks = body["attachments"][0]["blocks"].as_array().expect("blocks");
    assert_eq!(
        blocks[blocks.len() - 1]["elements"][0]["text"],
        "✅ Acknowledged by <@U123> at 03:12 UTC — escalation cancelled"
    );
}

fn threaded(extra: &str) -> crate::Config {
    crate::Config::parse(&format!(
        r#"{{"token":"xoxb-test","channel_id":"C0123","threads":true{extra}}}"#
    ))
    .expect("config")
}

#[test]
fn a_repeat_goes_in_the_thread_without_buttons() {
    let config =
        threaded(r#","reply_to":{"destination":"C0456","message_id":"1700000000.000100"}"#);
    let body = post_body(MESSAGE, &event(false, Some(ACK)), &config).expect("body");
    let mut want = post("#C70039", vec![section(MESSAGE)]);
    want["channel"] = json!("C0456");
    want["thread_ts"] = json!("1700000000.000100");
    assert_eq!(body, want);
    // The bytes sent are the document's.
    let sent = build_post(MESSAGE, &event(false, Some(ACK)), &config).expect("request");
    assert_eq!(
        String::from_utf8(sent.body).expect("utf-8"),
        body.to_string()
    );
}

#[test]
fn a_resolve_in_the_thread_is_broadcast_when_asked() {
    let reply_to = r#","reply_to":{"destination":"C0456","message_id":"1.2"}"#;
    let quiet = post_body(MESSAGE, &event(true, None), &threaded(reply_to)).expect("body");
    assert_eq!(quiet.get("reply_broadcast"), None);
    let loud = threaded(&format!(r#"{reply_to},"broadcast_resolved":true"#));
    let body = post_body(MESSAGE, &event(true, None), &loud).expect("body");
    assert_eq!(body["reply_broadcast"], true);
    assert_eq!(body["thread_ts"], "1.2");
    // A firing repeat is never broadcast.
    let body = post_body(MESSAGE, &event(false, None), &loud).expect("body");
    assert_eq!(body.get("reply_broadcast"), None);
}

#[test]
fn with_threads_each_change_but_the_resolve_adds_a_note_to_the_thread() {
    let payload = json!({
        "acknowledged_by": {"source": "slack", "user_id": "U123"},
        "acknowledged_ms": 1_767_323_565_000_i64,
    })
    .to_string();
    let note = crate::build_thread_note(
        &receipt(),
        Change::Acknowledged,
        &facts(&payload),
        &threaded(""),
    )
    .expect("a note");
    assert_eq!(note.url, "https://slack.com/api/chat.postMessage");
    let body: Value = serde_json::from_slice(&note.body).expect("json");
    assert_eq!(
        body,
        json!({
            "channel": receipt().destination,
            "thread_ts": receipt().message_id,
            "text": "✅ Acknowledged by <@U123> at 03:12 UTC — escalation cancelled",
            "unfurl_links": false,
        })
    );
    let escalated =
        crate::build_thread_note(&receipt(), Change::Escalated, &facts("{}"), &threaded(""));
    assert!(escalated.is_some());
    assert!(
        crate::build_thread_note(&receipt(), Change::Resolved, &facts("{}"), &threaded(""))
            .is_none()
    );
    assert!(
        crate::build_thread_note(&receipt(), Change::Escalated, &facts("{}"), &minimal()).is_none()
    );
}
