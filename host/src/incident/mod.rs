//! Incidents: what one alert becomes inside the gateway, and how it travels
//! through the pipeline (transforms, then every channel concurrently).

mod check;
pub mod cloudwatch;
pub mod dedup;
mod facts;
mod fallback;
pub mod flow;
#[cfg(test)]
mod fuzz;
pub mod ledger;
mod overrides;
mod process;
pub mod queueing;
mod retry;

use std::collections::HashMap;

use facts::{Facts, Members};
use serde_json::value::RawValue;

pub use check::render_all;
pub use overrides::Overrides;
pub use process::{
    ChannelOutcome, LateDelivery, Outcome, Transformed, deliver, template_data, transform,
};
pub use retry::{RetryPolicy, retry_after, retryable};

/// One alert, accepted and given an id.
#[derive(Debug, Clone)]
pub struct Incident {
    /// Gateway-assigned id (UUID v4).
    pub id: String,
    /// The alert body (a JSON object), as the sender wrote it: plugins get
    /// this text unchanged, never a re-encoding.
    pub payload: Box<RawValue>,
    /// Whether the alert says the problem is over.
    pub resolved: bool,
    /// The kind of sender (see [`source_kind`]).
    pub source: &'static str,
    /// Query overrides.
    pub overrides: Overrides,
    /// Set when on-call found an open incident with the same dedup key and
    /// this alert joined it: `id` is then that incident's, and templates see
    /// `Repeat: true`.
    pub repeat: bool,
    /// Which earlier alerts are the same problem (see [`dedup`]): the
    /// `?dedup_key=` override, else the body's own.
    pub dedup_key: Option<String>,
    /// For a repeat or a resolve of an on-call incident: per channel that
    /// threads, the message to reply under.
    pub reply_to: HashMap<String, ReplyTo>,
    /// The severity the host found before any transform (an Alertmanager
    /// notification's label, see `facts`, or a CloudWatch alarm's, see
    /// [`cloudwatch`]); transforms start from it.
    pub severity: Option<String>,
    /// Why the host drops this alert before any transform runs.
    pub dropped: Option<String>,
}

/// The message a threaded channel replies under: the first it posted for
/// the incident. It reaches the plugin as `reply_to` in its settings.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ReplyTo {
    /// The destination as the remote side names it (Slack: the channel id).
    pub destination: String,
    /// The remote side's id for the message (Slack: its `ts`).
    pub message_id: String,
}

impl Incident {
    /// A new incident for `payload` with a fresh id.
    pub fn new(payload: Box<RawValue>, overrides: Overrides) -> Self {
        let members = Members::scan(payload.get());
        let facts = Facts::of(members.as_ref());
        let dedup_key = overrides
            .dedup_key
            .as_deref()
            .filter(|k| !k.trim().is_empty())
            .map(dedup::given)
            .or_else(|| dedup::from(members.as_ref()?));
        Self {
            id: new_id(),
            resolved: facts.resolved,
            source: facts.source,
            payload,
            overrides,
            repeat: false,
            dedup_key,
            reply_to: HashMap::new(),
            severity: facts.severity,
            dropped: None,
        }
    }
}

/// A fresh id for an incident or a queued notification, a UUID v4. Its
/// random bits come from the thread's CSPRNG (`rand`), seeded from the
/// system once, where `Uuid::new_v4` makes a system call for every alert.
fn new_id() -> String {
    uuid::Builder::from_random_bytes(rand::random())
        .into_uuid()
        .to_string()
}

/// Resolved detection as upstream: `status`, `state` or `alertState` equal
/// to `resolved` (any case), plus CloudWatch's `NewStateValue: OK`. SNS
/// wraps CloudWatch alarms as a JSON string in `Message`, so look there too.
pub fn is_resolved(payload: &str) -> bool {
    Facts::of(Members::scan(payload).as_ref()).resolved
}

/// The kind of sender a payload comes from, for the `source` label of
/// `versus_incidents_received_total`: `alertmanager` (a webhook v4 body:
/// `version` "4", an `alerts` array and a `groupKey`), `cloudwatch` (an
/// alarm, bare or wrapped by SNS as a JSON string in `Message`), `sns`
/// (any other SNS notification) or `generic`. A fixed set, so the label
/// cannot grow with what senders post.
pub fn source_kind(payload: &str) -> &'static str {
    Facts::of(Members::scan(payload).as_ref()).source
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// `source_kind` and `is_resolved` read the JSON text of `value`.
    fn kind(value: serde_json::Value) -> &'static str {
        source_kind(&value.to_string())
    }

    fn resolved(value: serde_json::Value) -> bool {
        is_resolved(&value.to_string())
    }

    #[test]
    fn source_kinds() {
        let am = include_str!("../../../tests/fixtures/alertmanager/critical.json");
        assert_eq!(source_kind(am), "alertmanager");
        assert_eq!(
            kind(json!({"version": "4", "alerts": [], "groupKey": 7})),
            "generic"
        );
        assert_eq!(
            kind(json!({"version": "4", "alerts": {}, "groupKey": "g"})),
            "generic"
        );
        assert_eq!(
            kind(json!({"AlarmName": "cpu", "NewStateValue": "ALARM"})),
            "cloudwatch"
        );
        assert_eq!(kind(json!({"NewStateValue": null})), "cloudwatch");
        let sns = |m: &str| json!({"Type": "Notification", "Message": m});
        assert_eq!(kind(sns(r#"{"AlarmName":"cpu"}"#)), "cloudwatch");
        assert_eq!(kind(sns("plain text")), "sns");
        assert_eq!(kind(json!({"log": "disk full"})), "generic");
        assert_eq!(kind(json!([1, 2])), "generic");
        assert_eq!(source_kind("not json"), "generic");
    }

    #[test]
    fn resolved_detection() {
        assert!(resolved(json!({"status": "resolved"})));
        assert!(resolved(json!({"state": "RESOLVED"})));
        assert!(resolved(json!({"alertState": "Resolved"})));
        assert!(resolved(json!({"NewStateValue": "OK"})));
        assert!(resolved(json!({"Message": "{\"NewStateValue\":\"OK\"}"})));
        assert!(resolved(json!({"Message": "{\"status\":\"resolved\"}"})));
        // Escaped text is compared unescaped.
        assert!(is_resolved(r#"{"st\u0061tus": "res\u006flved"}"#));
        assert!(!resolved(json!({"status": "firing"})));
        assert!(!resolved(json!({"NewStateValue": "ALARM"})));
        assert!(!resolved(json!({"status": 1})));
        assert!(!resolved(json!({"Message": "[1]"})));
        assert!(!resolved(json!({})));
    }

    /// The gateway reads an Alertmanager notification as the built-in
    /// `alertmanager` transform does, so the default pipeline can leave
    /// that transform out and every event still carries the same facts.
    #[test]
    fn alertmanager_facts_are_the_transforms() {
        let fixtures = [
            include_str!("../../../tests/fixtures/alertmanager/critical.json"),
            include_str!("../../../tests/fixtures/alertmanager/resolved.json"),
            include_str!("../../../tests/fixtures/alertmanager/urgent.json"),
            include_str!("../../../tests/fixtures/alertmanager/warning.json"),
        ];
        let edited = [
            // Severity from the first alert when the group has none; trimmed
            // and lower-cased.
            r#"{"version":"4","groupKey":"g","receiver":"r","status":"firing","commonLabels":{},"alerts":[{"labels":{"severity":" Warning "}}]}"#,
            // An empty label is no severity.
            r#"{"version":"4","groupKey":"g","status":"RESOLVED","commonLabels":{"severity":""},"alerts":[]}"#,
            // `status` decides, not another member that says resolved.
            r#"{"version":"4","groupKey":"g","status":"firing","state":"resolved","alerts":[]}"#,
        ];
        let mut severities = Vec::new();
        for text in fixtures.into_iter().chain(edited) {
            let payload = RawValue::from_string(text.to_string()).expect("valid JSON");
            let incident = Incident::new(payload, Overrides::default());
            let derived = alertmanager::inspect(text)
                .expect("valid JSON")
                .expect("an Alertmanager body");
            assert_eq!(incident.source, "alertmanager", "{text}");
            assert_eq!(incident.resolved, derived.resolved, "{text}");
            assert_eq!(incident.severity, derived.severity, "{text}");
            assert_eq!(incident.dedup_key, Some(derived.dedup_key), "{text}");
            severities.push(incident.severity);
        }
        let want = [
            Some("critical"),
            Some("critical"),
            Some("urgent"),
            Some("warning"),
            Some("warning"),
            None,
            None,
        ];
        let want: Vec<_> = want.iter().map(|s| s.map(str::to_string)).collect();
        assert_eq!(severities, want);
    }
}
