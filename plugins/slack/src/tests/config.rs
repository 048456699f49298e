//! Config parsing and validation.

use super::{minimal, with_props};
use crate::{Config, Error};

fn config_error(json: &str) -> String {
    match Config::parse(json) {
        Err(Error::Config(m)) => m,
        other => panic!("expected a config error for {json}, got {other:?}"),
    }
}

#[test]
fn defaults() {
    let c = minimal();
    assert_eq!(c.token, "xoxb-test");
    assert_eq!(c.channel_id, "C0123");
    assert_eq!(c.api_url, "https://slack.com/api/");
    assert_eq!(c.button_text, "Acknowledge Alert");
    assert_eq!(c.button_style, "primary");
    assert!(!c.disable_button);
}

#[test]
fn upstream_message_properties() {
    let c = with_props(r#"{"button_text":"Ack it","button_style":"danger","disable_button":true}"#);
    assert_eq!(c.button_text, "Ack it");
    assert_eq!(c.button_style, "danger");
    assert!(c.disable_button);

    let c = with_props(r#"{"button_style":"","disable_button":"false"}"#);
    assert_eq!(c.button_style, "");
    assert!(!c.disable_button);
    assert!(with_props(r#"{"disable_button":"TRUE"}"#).disable_button);
}

#[test]
fn api_url_gets_a_trailing_slash() {
    let c =
        Config::parse(r#"{"token":"t","channel_id":"c","api_url":"http://127.0.0.1:9000/api"}"#)
            .expect("config");
    assert_eq!(c.api_url, "http://127.0.0.1:9000/api/");
    let c = Config::parse(r#"{"token":"t","channel_id":"c","api_url":""}"#).expect("config");
    assert_eq!(c.api_url, "https://slack.com/api/");
}

#[test]
fn missing_token_is_a_config_error() {
    for json in [
        r#"{"channel_id":"C0123"}"#,
        r#"{"token":"","channel_id":"C0123"}"#,
        r#"{"token":"   ","channel_id":"C0123"}"#,
        r#"{"token":null,"channel_id":"C0123"}"#,
    ] {
        let m = config_error(json);
        assert!(m.starts_with("token is required"), "{m}");
    }
}

#[test]
fn missing_channel_is_a_config_error() {
    let m = config_error(r#"{"token":"t"}"#);
    assert!(m.starts_with("channel_id is required"), "{m}");
}

#[test]
fn bad_values_are_config_errors() {
    for (json, needle) in [
        ("not json", "not valid JSON"),
        ("[]", "must be a JSON object"),
        (r#"{"token":5,"channel_id":"c"}"#, "token must be a string"),
        (
            r#"{"token":"t","channel_id":"c","api_url":"slack.com"}"#,
            "api_url must be",
        ),
        (
            r#"{"token":"t","channel_id":"c","message_properties":"x"}"#,
            "message_properties must be an object",
        ),
        (
            r#"{"token":"t","channel_id":"c","message_properties":{"button_style":"blue"}}"#,
            "button_style must be",
        ),
        (
            r#"{"token":"t","channel_id":"c","message_properties":{"button_text":7}}"#,
            "message_properties.button_text must be a string",
        ),
        (
            r#"{"token":"t","channel_id":"c","message_properties":{"disable_button":1}}"#,
            "disable_button must be",
        ),
    ] {
        let m = config_error(json);
        assert!(m.contains(needle), "{json}: {m}");
    }
    let long = "x".repeat(76);
    let m = config_error(&format!(
        r#"{{"token":"t","channel_id":"c","message_properties":{{"button_text":"{long}"}}}}"#
    ));
    assert!(m.contains("at most 75"), "{m}");
}
