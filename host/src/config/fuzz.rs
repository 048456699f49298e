//! Property tests: config text built from the keys we know and awkward
//! values, or any text at all, either loads (and then validates) or gives
//! an error that names something; it never panics.

use std::path::Path;

use proptest::prelude::*;

use super::Config;
use crate::testing::proptest_config;

/// Dotted keys, a mix of sections, scalars and lists.
const KEYS: &[&str] = &[
    "host",
    "port",
    "public_host",
    "name",
    "alert.max_body_bytes",
    "alert.debug_body",
    "alert.retry.max_elapsed",
    "alert.retry.initial_backoff",
    "alert.retry.max_backoff",
    "alert.slack.enable",
    "alert.slack.token",
    "alert.slack.channel_id",
    "alert.slack.api_url",
    "alert.slack.message_properties.disable_button",
    "alert.console.enable",
    "alert.console.template_path",
    "alert.telegram.enable",
    "oncall.enable",
    "oncall.wait_minutes",
    "oncall.provider",
    "oncall.initialized_only",
    "oncall.aws_incident_manager.max_attempts",
    "oncall.aws_incident_manager.impact.critical",
    "oncall.aws_incident_manager.endpoint_url",
    "oncall.aws_incident_manager.initial_backoff",
    "redis.host",
    "redis.port",
    "redis.db",
    "redis.url",
    "redis.tls",
    "plugins.renderer",
    "plugins.transforms",
    "plugins.watch",
    "plugins.dir",
    "plugins.defaults.memory_mb",
    "plugins.defaults.timeout",
    "plugins.defaults.allowed_hosts",
    "plugins.overrides.slack.http_timeout",
    "plugins.defaults.allow_private_networks",
    "plugins.defaults.calls_per_instance",
    "ingest.max_json_depth",
    "ingest.max_alerts",
    "ingest.max_concurrent_requests",
    "ingest.header_read_timeout",
    "ingest.body_read_timeout",
    "ingest.sources",
    "channels",
];

/// Values that have broken parsers before: empty, null, huge, negative,
/// wrongly typed, YAML tags and anchors, unset `${VAR}`s.
const VALUES: &[&str] = &[
    "",
    "~",
    "null",
    "0",
    "-1",
    "1",
    "65536",
    "99999999999999999999999",
    "1e400",
    "-0.0",
    "NaN",
    ".inf",
    "true",
    "no",
    "\"\"",
    "[]",
    "{}",
    "[1, [2, [3]]]",
    "{a: {b: {c: 1}}}",
    "10s",
    "1ms",
    "0s",
    "-5s",
    "forever",
    "!!binary aGVsbG8=",
    "!tag x",
    "&a 1",
    "*a",
    "${UNSET_VAR}",
    "${HOME}",
    "http://",
    "https://slack.com/api/",
    "redis://:pw@h:1/0",
    "\"\\u0000\"",
    "[{name: x}]",
    "[{name: a, token: short}]",
    "[{name: a, token: aaaaaaaaaaaaaaaaaaaa, allowed_overrides: [nope]}]",
    "[{name: c, template_path: t.tmpl, config: 1}]",
    "[~]",
    "|\n  block",
];

/// A YAML document setting each `(key, value)`.
fn document(entries: &[(usize, usize)]) -> String {
    let mut doc = String::new();
    for &(k, v) in entries {
        let key = KEYS[k % KEYS.len()];
        let value = VALUES[v % VALUES.len()];
        let parts: Vec<&str> = key.split('.').collect();
        for (depth, part) in parts.iter().enumerate() {
            doc.push_str(&"  ".repeat(depth));
            doc.push_str(part);
            doc.push(':');
            if depth + 1 == parts.len() {
                doc.push(' ');
                doc.push_str(&value.replace('\n', &format!("\n{}", "  ".repeat(depth + 1))));
            }
            doc.push('\n');
        }
    }
    doc
}

fn load(text: &str) {
    let env = |name: &str| (name == "HOME").then(|| "/root".to_string());
    match Config::from_yaml(text, Path::new("fuzz.yaml"), env) {
        Ok((config, _warnings)) => {
            assert!(config.validate().is_ok(), "loaded but does not validate");
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
}

proptest! {
    #![proptest_config(proptest_config())]

    #[test]
    fn fuzz_config_from_known_keys(entries in prop::collection::vec((0usize..1000, 0usize..1000), 0..12)) {
        load(&document(&entries));
    }

    #[test]
    fn fuzz_config_from_any_text(text in ".{0,200}") {
        load(&text);
    }

    #[test]
    fn fuzz_config_from_yaml_punctuation(chars in prop::collection::vec(
        prop::sample::select(vec![':', ' ', '\n', '-', '[', ']', '{', '}', '&', '*', '!', '|', '>', 'a', '1', '"', '\'', '#', '$', '?', ',']),
        0..120,
    )) {
        load(&chars.into_iter().collect::<String>());
    }
}
