//! Property tests: any JSON body becomes an incident whose payload survives
//! the trip to the plugins unchanged, resolved detection agrees with its
//! SNS-wrapped form, and no query string panics the overrides.

use proptest::prelude::*;
use serde_json::{Value, json};

use serde_json::value::RawValue;

use super::{Incident, Overrides, is_resolved};
use crate::testing::{json_value, proptest_config, text};

proptest! {
    #![proptest_config(proptest_config())]

    #[test]
    fn fuzz_payload_reaches_plugins_unchanged(payload in json_value(6), pretty in any::<bool>()) {
        let text = if pretty {
            serde_json::to_string_pretty(&payload)
        } else {
            serde_json::to_string(&payload)
        }
        .expect("serialisable");
        let raw = RawValue::from_string(text.clone()).expect("valid JSON");
        let incident = Incident::new(raw, Overrides::default());
        // The transforms receive exactly the text that was sent.
        prop_assert_eq!(incident.payload.get(), text.as_str());
        // The one-pass scan reads the body as the document would.
        prop_assert_eq!(incident.resolved, resolved_by_document(&payload));
        prop_assert_eq!(incident.source, source_by_document(&payload));
    }

    #[test]
    fn fuzz_sns_wrapping_keeps_resolved(payload in json_value(4)) {
        // A payload without a `Message` key of its own is resolved exactly
        // when its SNS-wrapped form is.
        if let Value::Object(mut map) = payload {
            map.remove("Message");
            let inner = Value::Object(map);
            let wrapped = json!({ "Type": "Notification", "Message": inner.to_string() });
            prop_assert_eq!(is_resolved(&inner.to_string()), is_resolved(&wrapped.to_string()));
        }
    }

    #[test]
    fn fuzz_overrides_never_panic(pairs in prop::collection::vec((text(), text()), 0..6)) {
        let query: Vec<String> = pairs
            .iter()
            .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
            .chain(["oncall_wait_minutes=".to_string() + &encode(&pairs.first().map(|p| p.1.clone()).unwrap_or_default())])
            .collect();
        let uri = format!("/api/incidents?{}", query.join("&"));
        let Ok(uri) = uri.parse::<axum::http::Uri>() else { return Ok(()) };
        if let Ok(q) = axum::extract::Query::<Overrides>::try_from_uri(&uri)
            && let Some(m) = q.0.oncall_wait_minutes
        {
            prop_assert!(m.is_finite() && m >= 0.0);
        }
    }
}

/// Percent-encodes every byte that is not unreserved.
fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Resolved detection read from the whole document, as the host did before
/// it scanned: the reference the scan is checked against.
fn resolved_by_document(payload: &Value) -> bool {
    let says = |v: &Value, key: &str, want: &str| {
        v.get(key)
            .and_then(Value::as_str)
            .is_some_and(|s| s.eq_ignore_ascii_case(want))
    };
    let direct = |v: &Value| {
        ["status", "state", "alertState"]
            .iter()
            .any(|k| says(v, k, "resolved"))
            || says(v, "NewStateValue", "OK")
    };
    direct(payload) || sns_message(payload).is_some_and(|inner| direct(&inner))
}

/// The sender kind read from the whole document (see `source_kind`).
fn source_by_document(payload: &Value) -> &'static str {
    let is_alarm = |v: &Value| v.get("AlarmName").is_some() || v.get("NewStateValue").is_some();
    if payload.get("version").and_then(Value::as_str) == Some("4")
        && payload.get("alerts").is_some_and(Value::is_array)
        && payload.get("groupKey").is_some_and(Value::is_string)
    {
        "alertmanager"
    } else if is_alarm(payload) {
        "cloudwatch"
    } else if payload.get("Type").and_then(Value::as_str) == Some("Notification") {
        if sns_message(payload).as_ref().is_some_and(is_alarm) {
            "cloudwatch"
        } else {
            "sns"
        }
    } else {
        "generic"
    }
}

fn sns_message(payload: &Value) -> Option<Value> {
    let message = payload.get("Message")?.as_str()?;
    serde_json::from_str(message).ok()
}

/// Numbers reach the plugins as they were written: the body is never
/// decoded and encoded again (an earlier version that did needed
/// serde_json's `float_roundtrip` to keep them exact).
#[test]
fn regression_numbers_survive_the_host_parse_exactly() {
    for text in [
        "-2.1299231905560653e+227",
        "2.2250738585072014e-308",
        "0.30000000000000004",
        "1e3",
        "-0.0",
    ] {
        let body = format!("{{\"status\":[{text}]}}");
        let raw = RawValue::from_string(body.clone()).expect("json");
        let incident = Incident::new(raw, Overrides::default());
        assert_eq!(incident.payload.get(), body);
    }
}
