//! The keys we know, as a tree walked over the parsed YAML before it is
//! deserialized. The walk:
//! - warns once for each key we do not implement or do not know;
//! - removes empty values (`~`, nothing, an unset `${VAR}`, and blank text
//!   where a number, boolean or duration is expected), so the field's
//!   default applies;
//! - checks each scalar with the same [`lenient`] helper the field uses, so
//!   a bad value is reported with its dotted key.
//!
//! This tree and the serde structs must agree: `schema_tests` reads the
//! fields serde asks for in every struct and fails on any difference, so a
//! field added without its key here (which would be warned about as
//! unknown and dropped) cannot land. A built-in
//! channel's keys sit next to its section struct, in its module in
//! `channel` (`BuiltinChannel::KEYS`), and are joined in under `alert:`.
//!
//! It is also where a key is declared secret ([`Node::Secret`]): the one
//! list of keys whose values are masked in the log (`config::secrets` reads
//! their values, and its tests check it reads every key marked here).

use serde_yaml_ng::{Mapping, Value};

use super::lenient;

/// What is expected at one place in the file.
pub enum Node {
    /// Text; blank text is kept (`button_style: ""` means grey).
    Text,
    /// Text that is, or holds, a secret (a token, a password, a URL that
    /// carries its own credential): read like [`Node::Text`], and masked
    /// in every log line (see `config::secrets`).
    Secret,
    /// A scalar read by a lenient helper; blank text counts as empty.
    Scalar(Kind),
    /// Anything: passed on as written (plugin settings).
    Free,
    /// A mapping with these keys.
    Map(&'static [(&'static str, Node)]),
    /// A mapping with the keys of both lists.
    Joined(
        &'static [(&'static str, Node)],
        &'static [(&'static str, Node)],
    ),
    /// A mapping whose keys are chosen by the user, each value shaped so.
    Named(&'static Node),
    /// A list whose items are shaped so.
    List(&'static Node),
    /// An upstream key we do not implement: what to say about it.
    Unimplemented(&'static str),
}

impl Node {
    /// The keys of a mapping ([`Node::Map`] or [`Node::Joined`]).
    pub fn keys(&self) -> Option<impl Iterator<Item = &(&'static str, Node)>> {
        match self {
            Map(keys) => Some(keys.iter().chain(&[][..])),
            Joined(first, second) => Some(first.iter().chain(*second)),
            _ => None,
        }
    }
}

/// The scalar kinds, by the lenient helper that reads them.
#[derive(Clone, Copy)]
pub enum Kind {
    Bool,
    U16,
    U32,
    I64,
    Usize,
    Float,
    Duration,
}

use Kind::{Bool, Duration, Float, I64, U16, U32, Usize};
use Node::{Free, Joined, List, Map, Named, Scalar, Secret, Text, Unimplemented};

const LIMITS: &[(&str, Node)] = &[
    ("memory_mb", Scalar(U32)),
    ("timeout", Scalar(Duration)),
    ("max_output_bytes", Scalar(Usize)),
    ("allowed_hosts", List(&Text)),
    ("http_timeout", Scalar(Duration)),
    ("http_max_body_bytes", Scalar(Usize)),
    ("allow_private_networks", Scalar(Bool)),
    ("calls_per_instance", Scalar(U32)),
];

/// `alert:`: our keys, then each built-in channel's section, declared
/// in its module (`channel::SCHEMA`).
const ALERT: Node = Joined(
    &[
        ("debug_body", Scalar(Bool)),
        ("max_body_bytes", Scalar(Usize)),
        (
            "retry",
            Map(&[
                ("max_elapsed", Scalar(Duration)),
                ("initial_backoff", Scalar(Duration)),
                ("max_backoff", Scalar(Duration)),
            ]),
        ),
        ("dedup_window", Scalar(Duration)),
    ],
    crate::channel::SCHEMA,
);

const ONCALL: Node = Joined(
    &[
        ("enable", Scalar(Bool)),
        ("initialized_only", Scalar(Bool)),
        ("wait_minutes", Scalar(Float)),
        ("provider", Text),
        ("providers", List(&Text)),
        ("ack_secret", Secret),
        ("ack_expiry", Scalar(Duration)),
        ("retention", Scalar(Duration)),
        // A user escalator's settings: `config::secrets` finds the secrets
        // in them by name.
        ("plugin_settings", Free),
        (
            "aws_incident_manager",
            Map(&[
                ("response_plan_arn", Text),
                ("region", Text),
                ("endpoint_url", Text),
                ("other_response_plan_arns", Named(&Text)),
                ("max_attempts", Scalar(U32)),
                ("initial_backoff", Scalar(Duration)),
                ("max_backoff", Scalar(Duration)),
                ("impact", Named(&Scalar(U32))),
                ("resolve_on_alert_resolved", Scalar(Bool)),
            ]),
        ),
    ],
    crate::escalator::SCHEMA,
);

const REDIS: Node = Map(&[
    ("host", Text),
    ("port", Scalar(U16)),
    ("password", Secret),
    ("db", Scalar(I64)),
    ("insecure_skip_verify", Scalar(Bool)),
    ("tls", Scalar(Bool)),
    // Its password, if it has one.
    ("url", Secret),
    ("key_prefix", Text),
    ("wait_replicas", Scalar(U32)),
    ("wait_timeout", Scalar(Duration)),
    ("ca_cert", Text),
    ("cluster", Scalar(Bool)),
    ("nodes", List(&Text)),
    (
        "sentinel",
        Map(&[
            ("master_name", Text),
            ("nodes", List(&Text)),
            ("password", Secret),
        ]),
    ),
]);

const PLUGINS: Node = Map(&[
    ("dir", Text),
    ("cache_dir", Text),
    ("renderer", Text),
    ("transforms", List(&Text)),
    ("watch", Scalar(Bool)),
    ("defaults", Map(LIMITS)),
    ("overrides", Named(&Map(LIMITS))),
]);

const CHANNEL: Node = Map(&[
    ("name", Text),
    ("plugin", Text),
    ("template_path", Text),
    ("enable", Scalar(Bool)),
    ("allowed_hosts", List(&Text)),
    // Plugin settings: `config::secrets` finds the secrets in them by name.
    ("config", Free),
    ("memory_mb", Scalar(U32)),
    ("timeout", Scalar(Duration)),
    ("max_output_bytes", Scalar(Usize)),
    ("http_timeout", Scalar(Duration)),
    ("http_max_body_bytes", Scalar(Usize)),
    ("allow_private_networks", Scalar(Bool)),
]);

const INGEST: Node = Map(&[
    (
        "sources",
        List(&Map(&[
            ("name", Text),
            ("token", Secret),
            ("hmac_secret", Secret),
            ("allowed_overrides", List(&Text)),
        ])),
    ),
    ("max_json_depth", Scalar(Usize)),
    ("max_alerts", Scalar(Usize)),
    ("max_concurrent_requests", Scalar(Usize)),
    ("header_read_timeout", Scalar(Duration)),
    ("body_read_timeout", Scalar(Duration)),
]);

/// `queue:`: SNS and SQS, and how CloudWatch alarms are read.
const QUEUE: Node = Map(&[
    ("enable", Scalar(Bool)),
    ("debug_body", Scalar(Bool)),
    (
        "sns",
        Map(&[
            ("enable", Scalar(Bool)),
            ("https_endpoint_subscription_path", Text),
            (
                "https_endpoint_subscription",
                Unimplemented(
                    "creating the SNS subscription is not implemented: subscribe the endpoint to the topic yourself (docs/aws-ingest.md)",
                ),
            ),
            ("topic_arn", Text),
            ("cert_url_prefix", Text),
        ]),
    ),
    (
        "sqs",
        Map(&[
            ("enable", Scalar(Bool)),
            ("queue_url", Text),
            ("region", Text),
            ("endpoint_url", Text),
            ("visibility_timeout", Scalar(Duration)),
            ("wait_time", Scalar(Duration)),
            ("max_messages", Scalar(U32)),
        ]),
    ),
    (
        "cloudwatch",
        Map(&[("insufficient_data", Text), ("severity", Named(&Text))]),
    ),
    ("pubsub", Unimplemented("GCP Pub/Sub is not implemented")),
    (
        "azbus",
        Unimplemented("Azure Service Bus is not implemented"),
    ),
]);

/// The whole file.
pub(super) const ROOT: Node = Map(&[
    ("name", Text),
    ("host", Text),
    ("port", Scalar(U16)),
    ("public_host", Text),
    ("alert", ALERT),
    ("oncall", ONCALL),
    ("redis", REDIS),
    ("plugins", PLUGINS),
    ("channels", List(&CHANNEL)),
    ("log", Map(&[("format", Text)])),
    ("ingest", INGEST),
    (
        "gateway_secret",
        Unimplemented("the admin API it protects is not implemented yet"),
    ),
    (
        "proxy",
        Map(&[("url", Secret), ("username", Text), ("password", Secret)]),
    ),
    ("queue", QUEUE),
    (
        "storage",
        Unimplemented("the incident storage backend is not implemented yet"),
    ),
    (
        "agent",
        Unimplemented("the AI agent is not implemented yet"),
    ),
]);

/// A value that cannot be used, by dotted key.
#[derive(Debug)]
pub(super) struct Bad {
    pub key: String,
    pub message: String,
}

/// Walks `value` against `node`; see the module docs.
pub(super) fn walk(
    value: &mut Value,
    node: &Node,
    key: &str,
    warnings: &mut Vec<String>,
) -> Result<(), Bad> {
    let bad = |message: String| Bad {
        key: key.to_string(),
        message,
    };
    match node {
        Free | Unimplemented(_) => Ok(()),
        Text | Secret => match value {
            Value::Mapping(_) | Value::Sequence(_) => Err(bad(format!(
                "expected a single value, found {}",
                shape(value)
            ))),
            _ => Ok(()),
        },
        Scalar(kind) => check(*kind, value).map_err(bad),
        Map(_) | Joined(..) => walk_map(value, node, key, warnings),
        Named(node) => {
            let map = mapping(value).map_err(bad)?;
            map.retain(|_, v| !is_empty(v, node));
            for (k, v) in map.iter_mut() {
                let name = k.as_str().map_or_else(|| format!("{k:?}"), str::to_string);
                walk(v, node, &join(key, &name), warnings)?;
            }
            Ok(())
        }
        List(node) => {
            let Value::Sequence(items) = value else {
                return Err(bad(format!("expected a list, found {}", shape(value))));
            };
            if matches!(node, Map(_))
                && let Some(i) = items.iter().position(Value::is_null)
            {
                return Err(Bad {
                    key: format!("{key}[{i}]"),
                    message: "is empty: remove the entry or fill it in".into(),
                });
            }
            items.retain(|v| !is_empty(v, node));
            for (i, v) in items.iter_mut().enumerate() {
                walk(v, node, &format!("{key}[{i}]"), warnings)?;
            }
            Ok(())
        }
    }
}

/// Walks a mapping whose keys are those of `node`; see [`walk`].
fn walk_map(
    value: &mut Value,
    node: &Node,
    key: &str,
    warnings: &mut Vec<String>,
) -> Result<(), Bad> {
    let map = mapping(value).map_err(|message| Bad {
        key: key.to_string(),
        message,
    })?;
    let mut kept = Mapping::new();
    for (k, mut v) in std::mem::take(map) {
        let Some(name) = k.as_str() else {
            warnings.push(format!("{key}: the key {k:?} is not text; ignored"));
            continue;
        };
        let child = join(key, name);
        match node
            .keys()
            .into_iter()
            .flatten()
            .find(|(known, _)| *known == name)
        {
            None => warnings.push(format!(
                "{child}: unknown key; ignored (check the spelling)"
            )),
            Some((_, Unimplemented(what))) => warnings.push(format!("{child}: {what}; ignored")),
            Some((_, node)) => {
                if is_empty(&v, node) {
                    continue;
                }
                walk(&mut v, node, &child, warnings)?;
            }
        }
        kept.insert(k, v);
    }
    *map = kept;
    Ok(())
}

/// Whether `value` is empty where `node` is expected, so the default applies.
fn is_empty(value: &Value, node: &Node) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => matches!(node, Scalar(_)) && s.trim().is_empty(),
        _ => false,
    }
}

fn mapping(value: &mut Value) -> Result<&mut Mapping, String> {
    if value.is_null() {
        *value = Value::Mapping(Mapping::new());
    }
    let found = shape(value);
    match value {
        Value::Mapping(map) => Ok(map),
        _ => Err(format!(
            "expected a section of `key: value` lines, found {found}"
        )),
    }
}

fn check(kind: Kind, value: &Value) -> Result<(), String> {
    let v = value.clone();
    let result = match kind {
        Bool => lenient::bool(v).map(drop),
        U16 => lenient::u16(v).map(drop),
        U32 => lenient::u32(v).map(drop),
        I64 => lenient::i64(v).map(drop),
        Usize => lenient::usize(v).map(drop),
        Float => lenient::f64(v).map(drop),
        Duration => lenient::duration(v).map(drop),
    };
    result.map_err(|e| e.to_string())
}

fn shape(value: &Value) -> &'static str {
    match value {
        Value::Mapping(_) => "a section",
        Value::Sequence(_) => "a list",
        Value::Tagged(_) => "a tagged value",
        _ => "a single value",
    }
}

fn join(parent: &str, key: &str) -> String {
    if parent.is_empty() {
        key.to_string()
    } else {
        format!("{parent}.{key}")
    }
}
