//! Unit tests against real Alertmanager 0.25 webhook payloads.

use super::*;

const CRITICAL: &str = include_str!("../../../tests/fixtures/alertmanager/critical.json");
const RESOLVED: &str = include_str!("../../../tests/fixtures/alertmanager/resolved.json");
const URGENT: &str = include_str!("../../../tests/fixtures/alertmanager/urgent.json");
const WARNING: &str = include_str!("../../../tests/fixtures/alertmanager/warning.json");

fn derived(payload: &str) -> Derived {
    inspect(payload)
        .expect("payload is JSON")
        .expect("payload is an Alertmanager webhook")
}

#[test]
fn fnv1a64_matches_published_vectors() {
    for (input, want) in [
        ("", 0xcbf2_9ce4_8422_2325_u64),
        ("a", 0xaf63_dc4c_8601_ec8c),
        ("foobar", 0x8594_4171_f739_67e8),
    ] {
        let mut h = Fnv1a64::new();
        h.write(input.as_bytes());
        assert_eq!(h.finish(), want, "FNV-1a 64 of {input:?}");
    }
}

#[test]
fn dedup_keys_are_pinned() {
    // These exact strings may already be stored in Redis: if this test
    // fails, the change breaks open incidents on upgrade.
    assert_eq!(derived(CRITICAL).dedup_key, "am:f95f60a72c4c733f");
    assert_eq!(derived(URGENT).dedup_key, "am:3dd326528dcdde6b");
    assert_eq!(derived(WARNING).dedup_key, "am:bc9769a9125e47b1");
}

#[test]
fn resolved_joins_the_firing_group() {
    assert_eq!(derived(CRITICAL).dedup_key, derived(RESOLVED).dedup_key);
}

#[test]
fn receiver_and_group_key_are_separated() {
    assert_ne!(dedup_key("a", "bc"), dedup_key("ab", "c"));
    assert_ne!(
        dedup_key("r1", "{}:{a=\"b\"}"),
        dedup_key("r2", "{}:{a=\"b\"}")
    );
}

#[test]
fn firing_fixtures() {
    for (payload, severity) in [
        (CRITICAL, "critical"),
        (URGENT, "urgent"),
        (WARNING, "warning"),
    ] {
        let d = derived(payload);
        assert!(!d.resolved, "{severity} is firing");
        assert_eq!(d.severity.as_deref(), Some(severity));
    }
}

#[test]
fn resolved_fixture() {
    let d = derived(RESOLVED);
    assert!(d.resolved);
    assert_eq!(d.severity.as_deref(), Some("critical"));
}

#[test]
fn status_is_case_insensitive() {
    let payload = RESOLVED.replace("\"status\": \"resolved\"", "\"status\": \"RESOLVED\"");
    assert_ne!(payload, RESOLVED);
    assert!(derived(&payload).resolved);
}

#[test]
fn severity_falls_back_to_first_alert_and_is_lowercased() {
    let payload = r#"{"version":"4","groupKey":"g","receiver":"r","status":"firing",
        "commonLabels":{"alertname":"X"},
        "alerts":[{"labels":{"severity":"Warning"}},{"labels":{"severity":"critical"}}]}"#;
    assert_eq!(derived(payload).severity.as_deref(), Some("warning"));

    let common = r#"{"version":"4","groupKey":"g","status":"firing",
        "commonLabels":{"severity":"CRITICAL"},
        "alerts":[{"labels":{"severity":"info"}}]}"#;
    assert_eq!(derived(common).severity.as_deref(), Some("critical"));
}

#[test]
fn no_severity_anywhere() {
    let payload = r#"{"version":"4","groupKey":"g","status":"firing","alerts":[]}"#;
    let d = derived(payload);
    assert_eq!(d.severity, None);
    assert!(!d.resolved);
    // A missing receiver hashes as the empty string.
    assert_eq!(d.dedup_key, dedup_key("", "g"));
}

#[test]
fn other_documents_pass_through() {
    for payload in [
        r#"{"Logs":"[ERROR] disk full","ServiceName":"db"}"#,
        r#"{"version":"3","groupKey":"g","alerts":[]}"#,
        r#"{"version":4,"groupKey":"g","alerts":[]}"#,
        r#"{"version":"4","alerts":[]}"#,
        r#"{"version":"4","groupKey":"g","alerts":{}}"#,
        r#"{"version":"4","groupKey":7,"alerts":[]}"#,
        r#"[1,2,3]"#,
        r#""just a string""#,
        "null",
        "42",
    ] {
        assert_eq!(inspect(payload), Ok(None), "{payload}");
    }
}

#[test]
fn invalid_json_is_rejected() {
    for payload in ["", "{", "not json", "{\"version\":\"4\",}"] {
        let err = inspect(payload).expect_err(payload);
        assert!(err.starts_with("payload is not valid JSON"), "{err}");
    }
}
