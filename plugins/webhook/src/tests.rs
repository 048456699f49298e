use serde_json::{Value, json};
use versus_plugin_sdk::chat::{HttpError, Response};

use super::*;

fn event() -> EventInfo {
    EventInfo {
        id: "id-1".into(),
        resolved: false,
        severity: Some("critical".into()),
        ack_url: None,
        payload: r#"{"status":"firing"}"#.into(),
    }
}

#[test]
fn json_envelope_by_default() {
    let c = Config::parse(r#"{"url":"https://h.example/x","headers":{"X-Team":"ops"}}"#)
        .expect("config");
    let r = build("hello", &event(), &c).expect("request");
    assert_eq!(
        (r.method.as_str(), r.url.as_str()),
        ("POST", "https://h.example/x")
    );
    assert_eq!(
        r.headers,
        [
            ("Content-Type".to_string(), "application/json".to_string()),
            ("X-Team".to_string(), "ops".to_string()),
        ]
    );
    let body: Value = serde_json::from_slice(&r.body).expect("json");
    assert_eq!(
        body,
        json!({"message": "hello", "incident_id": "id-1", "resolved": false,
               "severity": "critical", "ack_url": null, "alert": {"status": "firing"}})
    );
}

#[test]
fn text_and_template_bodies() {
    let c = Config::parse(r#"{"url":"http://h/","format":"text","method":"put"}"#).expect("c");
    let r = build("a <b>\n", &event(), &c).expect("request");
    assert_eq!(r.method, "PUT");
    assert_eq!(r.body, b"a <b>\n");
    assert_eq!(r.headers[0].1, "text/plain; charset=utf-8");
    assert!(matches!(
        build("  ", &event(), &c),
        Err(Error::InvalidInput(_))
    ));

    let c = Config::parse(
        r#"{"url":"http://h/","format":"template","headers":{"content-type":"application/vnd.x+json"}}"#,
    )
    .expect("c");
    let r = build(r#"{"k": 1}"#, &event(), &c).expect("request");
    assert_eq!(r.body, br#"{"k": 1}"#);
    assert_eq!(
        r.headers,
        [(
            "content-type".to_string(),
            "application/vnd.x+json".to_string()
        )]
    );
    assert!(matches!(
        build("{oops", &event(), &c),
        Err(Error::InvalidInput(_))
    ));
}

#[test]
fn bad_configs_name_the_key() {
    for (bad, key) in [
        (r#"{}"#, "webhook.url"),
        (r#"{"url":"ftp://x"}"#, "webhook.url"),
        (r#"{"url":"http://x","method":"GET"}"#, "webhook.method"),
        (r#"{"url":"http://x","format":"xml"}"#, "webhook.format"),
        (
            r#"{"url":"http://x","headers":{"X-A":"a\r\nInjected: 1"}}"#,
            "webhook.headers",
        ),
        (
            r#"{"url":"http://x","headers":{"Bad Name":"v"}}"#,
            "webhook.headers",
        ),
        (r#"{"url":"http://x","headers":["a"]}"#, "webhook.headers"),
    ] {
        match Config::parse(bad) {
            Err(Error::Config(m)) => assert!(m.contains(key), "{bad}: {m}"),
            other => panic!("{bad}: {other:?}"),
        }
    }
}

#[test]
fn delivery_checks_the_status() {
    let config = r#"{"url":"http://h/x"}"#;
    let mut send = |_r: Request| -> Result<Response, HttpError> {
        Ok(Response {
            status: 503,
            headers: vec![("retry-after".into(), "4".into())],
            body: b"busy".to_vec(),
        })
    };
    assert_eq!(
        Webhook::deliver("m", &event(), config, &mut send),
        Err(Error::Transient {
            message: "webhook http 503: busy".into(),
            retry_after_ms: Some(4000)
        })
    );
    let mut send = |_r: Request| -> Result<Response, HttpError> {
        Ok(Response {
            status: 204,
            ..Response::default()
        })
    };
    let receipt = Webhook::deliver("m", &event(), config, &mut send).expect("ok");
    assert_eq!(receipt.destination, "http://h");
}
