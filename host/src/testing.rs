//! Helpers shared by the unit tests: property-test settings and generators.

use proptest::prelude::*;
use serde_json::Value;

/// Cases per property in `cargo test`: enough to catch shallow bugs while
/// keeping the suite fast. `PROPTEST_CASES=N` overrides it for a long
/// local run (see docs/SECURITY.md).
const DEFAULT_CASES: u32 = 64;

/// The settings every property test uses.
pub fn proptest_config() -> ProptestConfig {
    let mut config = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = DEFAULT_CASES;
    }
    config
}

/// Text: words the gateway looks for, or anything at all.
pub fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "",
            "resolved",
            "RESOLVED",
            "Resolved",
            "firing",
            "OK",
            "ALARM",
            "critical",
            "{",
            "[1",
            "{\"status\":\"resolved\"}",
            "{\"NewStateValue\":\"OK\"}",
            "{\"AlarmName\":\"cpu\"}",
            "4",
            "Notification",
            "${HOME}",
            "\u{0}",
            "é",
        ])
        .prop_map(str::to_string),
        ".{0,24}",
    ]
}

/// Object keys: the ones the gateway reads, or anything.
pub fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "status",
            "state",
            "alertState",
            "NewStateValue",
            "Message",
            "alerts",
            "labels",
            "commonLabels",
            "groupKey",
            "version",
            "AlarmName",
            "Type",
            "severity",
            "AckURL",
            "Repeat",
        ])
        .prop_map(str::to_string),
        ".{0,12}",
    ]
}

/// Any JSON value, nested up to `depth` levels.
pub fn json_value(depth: u32) -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter_map("finite", |f| serde_json::Number::from_f64(f)
            .map(Value::Number)),
        text().prop_map(Value::String),
    ];
    leaf.prop_recursive(depth, 256, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(key(), inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}
