//! Property tests: any JSON body becomes an incident whose payload survives
//! the trip to the plugins unchanged, resolved detection agrees with its
//! SNS-wrapped form, and no query string panics the overrides.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::{Incident, Overrides, is_resolved};
use crate::testing::{json_value, proptest_config, text};

proptest! {
    #![proptest_config(proptest_config())]

    #[test]
    fn fuzz_payload_reaches_plugins_unchanged(payload in json_value(6)) {
        let incident = Incident::new(payload.clone(), Overrides::default());
        // What the transforms receive is `payload.to_string()`.
        let sent = incident.payload.to_string();
        let back: Value = serde_json::from_str(&sent).expect("the host's own JSON parses");
        prop_assert_eq!(back, payload.clone());
        prop_assert_eq!(incident.resolved, is_resolved(&payload));
    }

    #[test]
    fn fuzz_sns_wrapping_keeps_resolved(payload in json_value(4)) {
        // A payload without a `Message` key of its own is resolved exactly
        // when its SNS-wrapped form is.
        if let Value::Object(mut map) = payload {
            map.remove("Message");
            let inner = Value::Object(map);
            let wrapped = json!({ "Type": "Notification", "Message": inner.to_string() });
            prop_assert_eq!(is_resolved(&inner), is_resolved(&wrapped));
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

/// Found by `fuzz_payload_reaches_plugins_unchanged`: without serde_json's
/// `float_roundtrip`, this number came back one ULP off after the host
/// parsed the body.
#[test]
fn regression_numbers_survive_the_host_parse_exactly() {
    for text in [
        "-2.1299231905560653e+227",
        "2.2250738585072014e-308",
        "0.30000000000000004",
    ] {
        let body = format!("{{\"status\":[{text}]}}");
        let parsed: Value = serde_json::from_str(&body).expect("json");
        let incident = Incident::new(parsed, Overrides::default());
        assert_eq!(incident.payload.to_string(), body);
    }
}
