//! What the host itself reads from an alert body: whether it says the
//! problem is over, which kind of sender wrote it, and (in `dedup`) which
//! earlier alerts are the same problem.
//!
//! Strategy: one scan picks out every top-level member these answers need
//! (see `alertmanager::scan`), and each answer reads what it needs from
//! that. No document is built, since the plugins get the text and decode
//! it themselves.

use alertmanager::scan::{members, text};
use serde_json::value::RawValue;

/// The top-level members of an alert body the host reads, each as its
/// JSON text.
pub struct Members<'a> {
    pub status: Option<&'a RawValue>,
    pub state: Option<&'a RawValue>,
    pub alert_state: Option<&'a RawValue>,
    pub new_state: Option<&'a RawValue>,
    pub message: Option<&'a RawValue>,
    pub version: Option<&'a RawValue>,
    pub alerts: Option<&'a RawValue>,
    pub group_key: Option<&'a RawValue>,
    pub receiver: Option<&'a RawValue>,
    pub alarm_arn: Option<&'a RawValue>,
    pub alarm_name: Option<&'a RawValue>,
    pub account: Option<&'a RawValue>,
    pub region: Option<&'a RawValue>,
    pub kind: Option<&'a RawValue>,
    pub dedup_key: Option<&'a RawValue>,
    pub fingerprint: Option<&'a RawValue>,
}

impl<'a> Members<'a> {
    /// The members of `payload`, or `None` when it is not a JSON object.
    pub fn scan(payload: &'a str) -> Option<Self> {
        let keys = [
            "status",
            "state",
            "alertState",
            "NewStateValue",
            "Message",
            "version",
            "alerts",
            "groupKey",
            "receiver",
            "AlarmArn",
            "AlarmName",
            "AWSAccountId",
            "Region",
            "Type",
            "dedup_key",
            "fingerprint",
        ];
        let [
            status,
            state,
            alert_state,
            new_state,
            message,
            version,
            alerts,
            group_key,
            receiver,
            alarm_arn,
            alarm_name,
            account,
            region,
            kind,
            dedup_key,
            fingerprint,
        ] = members(payload, keys).ok().flatten()?;
        Some(Self {
            status,
            state,
            alert_state,
            new_state,
            message,
            version,
            alerts,
            group_key,
            receiver,
            alarm_arn,
            alarm_name,
            account,
            region,
            kind,
            dedup_key,
            fingerprint,
        })
    }

    /// Whether this is an Alertmanager webhook body: `version` "4", an
    /// `alerts` array and a string `groupKey`.
    pub fn is_alertmanager(&self) -> bool {
        text(self.version).as_deref() == Some("4")
            && self.alerts.is_some_and(|a| a.get().starts_with('['))
            && text(self.group_key).is_some()
    }
}

/// Whether the alert is resolved, and its kind of sender.
pub struct Facts {
    pub resolved: bool,
    pub source: &'static str,
}

impl Facts {
    /// The facts of a body with these members (`None`: not a JSON object).
    pub fn of(scanned: Option<&Members<'_>>) -> Self {
        let Some(m) = scanned else {
            return Self {
                resolved: false,
                source: "generic",
            };
        };
        // SNS wraps CloudWatch alarms as a JSON string in `Message`: its
        // resolved flag, and whether it is an alarm.
        let inner = text(m.message).and_then(|message| {
            let [s, st, a, n, alarm] = members(
                &message,
                [
                    "status",
                    "state",
                    "alertState",
                    "NewStateValue",
                    "AlarmName",
                ],
            )
            .ok()
            .flatten()?;
            Some((says_resolved([s, st, a, n]), alarm.is_some() || n.is_some()))
        });
        let resolved = says_resolved([m.status, m.state, m.alert_state, m.new_state])
            || inner.is_some_and(|(resolved, _)| resolved);
        let source = if m.is_alertmanager() {
            "alertmanager"
        } else if m.alarm_name.is_some() || m.new_state.is_some() {
            "cloudwatch"
        } else if text(m.kind).as_deref() == Some("Notification") {
            if inner.is_some_and(|(_, alarm)| alarm) {
                "cloudwatch"
            } else {
                "sns"
            }
        } else {
            "generic"
        };
        Self { resolved, source }
    }
}

/// Whether `status`, `state` or `alertState` is `resolved` (any case), or
/// `NewStateValue` is `OK`.
fn says_resolved([status, state, alert_state, new_state]: [Option<&RawValue>; 4]) -> bool {
    let says =
        |v: Option<&RawValue>, want: &str| text(v).is_some_and(|s| s.eq_ignore_ascii_case(want));
    says(status, "resolved")
        || says(state, "resolved")
        || says(alert_state, "resolved")
        || says(new_state, "OK")
}
