use serde_json::{Value, json};
use versus_plugin_sdk::chat::{HttpError, Response};

use super::*;

const CONFIG: &str = r#"{"bot_token":"123:abc","chat_id":-1001,"api_url":"http://127.0.0.1:9/tg"}"#;

#[test]
fn config_reads_upstream_keys_and_defaults_the_api() {
    let c = Config::parse(CONFIG).expect("config");
    assert_eq!(c.chat_id, "-1001");
    assert_eq!(c.api_url, "http://127.0.0.1:9/tg/");
    let c = Config::parse(r#"{"bot_token":"1:x","chat_id":"@ops","api_url":null}"#).expect("c");
    assert_eq!(c.api_url, DEFAULT_API_URL);
    for bad in [
        r#"{"chat_id":"1"}"#,
        r#"{"bot_token":"1:x"}"#,
        r#"{"bot_token":"1:x/../y","chat_id":"1"}"#,
        r#"{"bot_token":"1:x","chat_id":"1","api_url":"ftp://x"}"#,
    ] {
        assert!(matches!(Config::parse(bad), Err(Error::Config(_))), "{bad}");
    }
}

#[test]
fn send_message_body_is_html_without_link_previews() {
    let c = Config::parse(CONFIG).expect("config");
    let r = build_send("<b>hi</b> & bye", &c).expect("request");
    assert_eq!(r.method, "POST");
    assert_eq!(r.url, "http://127.0.0.1:9/tg/bot123:abc/sendMessage");
    let body: Value = serde_json::from_slice(&r.body).expect("json");
    assert_eq!(
        body,
        json!({
            "chat_id": "-1001",
            "text": "<b>hi</b> & bye",
            "parse_mode": "HTML",
            "link_preview_options": {"is_disabled": true},
        })
    );
    assert!(matches!(build_send(" \n", &c), Err(Error::InvalidInput(_))));
}

#[test]
fn answers() {
    let ok = br#"{"ok":true,"result":{"message_id":42,"chat":{"id":-1001}}}"#;
    assert_eq!(interpret(200, &[], ok), Ok("42".into()));
    let limited = br#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 7","parameters":{"retry_after":7}}"#;
    assert_eq!(
        interpret(429, &[], limited),
        Err(Error::Transient {
            message: "telegram http 429: Too Many Requests: retry after 7".into(),
            retry_after_ms: Some(7000),
        })
    );
    let header = vec![("retry-after".to_string(), "2".to_string())];
    assert!(matches!(
        interpret(429, &header, limited),
        Err(Error::Transient {
            retry_after_ms: Some(2000),
            ..
        })
    ));
    assert!(matches!(
        interpret(502, &[], b"bad gateway"),
        Err(Error::Transient { .. })
    ));
    assert!(matches!(
        interpret(408, &[], b"request timeout"),
        Err(Error::Transient { .. })
    ));
    let missing = br#"{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}"#;
    assert_eq!(
        interpret(400, &[], missing),
        Err(Error::Permanent(
            "telegram http 400: Bad Request: chat not found".into()
        ))
    );
    assert!(matches!(
        interpret(200, &[], br#"{"ok":false}"#),
        Err(Error::Permanent(_))
    ));
}

#[test]
fn the_token_never_appears_in_errors() {
    let mut send = |_r: Request| -> Result<Response, HttpError> {
        Err(HttpError::Transport(
            "error sending request for url (http://127.0.0.1:9/tg/bot123:abc/sendMessage)".into(),
        ))
    };
    let err = Telegram::deliver("m", &EventInfo::default(), CONFIG, &mut send).expect_err("fails");
    let text = err.to_string();
    assert!(!text.contains("123:abc"), "{text}");
    assert!(text.contains("<bot_token>"), "{text}");
}

#[test]
fn delivery_returns_chat_and_message_id() {
    let mut seen = Vec::new();
    let mut send = |r: Request| -> Result<Response, HttpError> {
        seen.push(r.url.clone());
        Ok(Response {
            status: 200,
            headers: vec![],
            body: br#"{"ok":true,"result":{"message_id":7}}"#.to_vec(),
        })
    };
    let receipt = Telegram::deliver("m", &EventInfo::default(), CONFIG, &mut send).expect("ok");
    assert_eq!(receipt.destination, "-1001");
    assert_eq!(receipt.message_id, "7");
    assert_eq!(seen.len(), 1);
}

fn event() -> EventInfo {
    EventInfo {
        id: "inc-1".into(),
        resolved: false,
        severity: None,
        ack_url: None,
        payload: "{}".into(),
    }
}

fn receipt(message_id: &str) -> Receipt {
    Receipt {
        destination: "-1001".into(),
        message_id: message_id.into(),
    }
}

#[test]
fn an_edit_keeps_the_text_and_adds_what_happened() {
    let c = Config::parse(CONFIG).expect("config");
    for (change, note) in [
        (
            Change::Acknowledged,
            "✅ <b>Acknowledged</b> — escalation cancelled",
        ),
        (Change::Escalated, "🚨 <b>Escalated to on-call</b>"),
        (Change::Resolved, "✅ <b>Resolved</b>"),
        (
            Change::PagingFailed,
            "⛔ <b>Paging failed</b> — nobody was paged. Page the on-call team by hand.",
        ),
    ] {
        let r = build_edit(
            &receipt("42"),
            change,
            "<b>Disk full</b>\nhost db-1\n",
            None,
            &c,
        )
        .expect("request");
        assert_eq!(r.url, "http://127.0.0.1:9/tg/bot123:abc/editMessageText");
        let body: Value = serde_json::from_slice(&r.body).expect("json");
        assert_eq!(
            body,
            json!({
                "chat_id": "-1001",
                "message_id": 42,
                "text": format!("<b>Disk full</b>\nhost db-1\n\n{note}"),
                "parse_mode": "HTML",
                "link_preview_options": {"is_disabled": true},
            }),
            "{change:?}"
        );
    }
}

#[test]
fn an_escalation_with_several_targets_says_how_each_went_escaped() {
    let c = Config::parse(CONFIG).expect("config");
    let targets = "aws_incident_manager: paged · pagerduty: FAILED (HTTP 400 <invalid>)";
    let r = build_edit(
        &receipt("42"),
        Change::Escalated,
        "Disk full",
        Some(targets),
        &c,
    )
    .expect("request");
    let body: Value = serde_json::from_slice(&r.body).expect("json");
    assert_eq!(
        body["text"],
        "Disk full\n\n🚨 <b>Escalated to on-call</b>\nOn-call: aws_incident_manager: paged · \
         pagerduty: FAILED (HTTP 400 &lt;invalid&gt;)"
    );
}

#[test]
fn an_edit_that_would_be_too_long_drops_whole_lines() {
    let c = Config::parse(CONFIG).expect("config");
    let line = format!("<i>{}</i>\n", "x".repeat(93));
    let message = line.repeat(50); // 5,000 characters
    let r = build_edit(&receipt("7"), Change::Resolved, &message, None, &c).expect("request");
    let body: Value = serde_json::from_slice(&r.body).expect("json");
    let text = body["text"].as_str().expect("text");
    assert!(text.chars().count() <= TEXT_LIMIT, "{}", text.len());
    assert!(text.ends_with("</i>\n\n✅ <b>Resolved</b>"), "{text}");
    assert_eq!(text.matches("<i>").count(), text.matches("</i>").count());
}

#[test]
fn an_edit_needs_a_message_id() {
    let c = Config::parse(CONFIG).expect("config");
    assert!(matches!(
        build_edit(&receipt(""), Change::Resolved, "m", None, &c),
        Err(Error::InvalidInput(_))
    ));
}

#[test]
fn an_edit_is_sent_and_telegram_errors_are_classified() {
    let mut sent = Vec::new();
    let mut ok = |r: Request| {
        sent.push(r);
        Ok(Response {
            status: 200,
            headers: vec![],
            body: br#"{"ok":true,"result":{"message_id":42}}"#.to_vec(),
        })
    };
    Telegram::update(
        &receipt("42"),
        Change::Escalated,
        "m",
        &event(),
        CONFIG,
        &mut ok,
    )
    .expect("edited");
    assert_eq!(sent.len(), 1);
    let mut refused = |_: Request| -> Result<Response, HttpError> {
        Ok(Response {
            status: 400,
            headers: vec![],
            body: br#"{"ok":false,"description":"Bad Request: message to edit not found"}"#
                .to_vec(),
        })
    };
    let err = Telegram::update(
        &receipt("42"),
        Change::Escalated,
        "m",
        &event(),
        CONFIG,
        &mut refused,
    )
    .expect_err("refused");
    assert!(
        matches!(&err, Error::Permanent(m) if m.contains("message to edit not found") && !m.contains("123:abc")),
        "{err:?}"
    );
}
