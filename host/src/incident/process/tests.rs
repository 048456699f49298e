use serde_json::{Value, json};

use super::template_data;
use crate::incident::retry::retryable;
use crate::pipeline::PluginError;
use crate::pipeline::bindings::types::Event;

#[test]
fn a_full_instance_pool_and_timeouts_are_retried_plugin_bugs_are_not() {
    use std::time::Duration;
    let s = Duration::from_secs(1);
    assert!(retryable(&PluginError::Busy(s)));
    assert!(retryable(&PluginError::Timeout(s)));
    assert!(retryable(&PluginError::Transient {
        message: "503".into(),
        retry_after: None
    }));
    assert!(!retryable(&PluginError::Trap("unreachable".into())));
    assert!(!retryable(&PluginError::Permanent("invalid_auth".into())));
    assert!(!retryable(&PluginError::MemoryLimit(64)));
}

fn event(payload: &str, ack_url: Option<&str>) -> Event {
    Event {
        id: "i".into(),
        payload: payload.into(),
        resolved: false,
        severity: None,
        ack_url: ack_url.map(str::to_string),
        dedup_key: None,
    }
}

fn data(event: &Event, with_ack: bool, repeat: bool) -> Value {
    serde_json::from_str(&template_data(event, with_ack, repeat)).expect("json")
}

#[test]
fn ack_url_only_where_the_channel_has_no_button() {
    let e = event(r#"{"a":1}"#, Some("http://x/api/ack/i"));
    assert_eq!(
        data(&e, true, false),
        json!({"a": 1, "AckURL": "http://x/api/ack/i"})
    );
    assert_eq!(data(&e, false, false), json!({"a": 1}));
}

#[test]
fn a_repeat_is_marked_with_or_without_a_link() {
    let e = event(r#"{"a":1}"#, Some("u"));
    assert_eq!(
        data(&e, true, true),
        json!({"a": 1, "AckURL": "u", "Repeat": true})
    );
    assert_eq!(data(&e, false, true), json!({"a": 1, "Repeat": true}));
    let e = event(r#"{"a":1}"#, None);
    assert_eq!(data(&e, true, true), json!({"a": 1, "Repeat": true}));
    assert_eq!(data(&e, true, false), json!({"a": 1}));
}

#[test]
fn a_payload_that_is_not_an_object_passes_unchanged() {
    let e = event("[1,2]", Some("u"));
    assert_eq!(template_data(&e, true, true), "[1,2]");
}

#[test]
fn members_are_added_to_the_payload_as_it_was_written() {
    // Not decoded and encoded again: the sender's spacing, member order
    // and number forms stay as they were.
    let e = event(" {\"b\": 1.0, \"a\": [2]} \n", Some("http://x/ack?t=\"q\""));
    assert_eq!(
        template_data(&e, true, true),
        r#" {"b": 1.0, "a": [2],"AckURL":"http://x/ack?t=\"q\"","Repeat":true}"#
    );
    let e = event("{ }", Some("u"));
    assert_eq!(template_data(&e, true, false), r#"{ "AckURL":"u"}"#);
    assert_eq!(data(&e, true, true), json!({"AckURL": "u", "Repeat": true}));
}

#[test]
fn our_ack_url_wins_over_one_the_payload_has() {
    // A repeated key keeps its last value, in the built-in renderer's
    // decoder as in serde_json's.
    let e = event(r#"{"AckURL":"theirs","Repeat":false}"#, Some("ours"));
    assert_eq!(
        data(&e, true, true),
        json!({"AckURL": "ours", "Repeat": true})
    );
    assert_eq!(
        data(&e, false, false),
        json!({"AckURL": "theirs", "Repeat": false})
    );
}
