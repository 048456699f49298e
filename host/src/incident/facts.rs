//! What the host itself reads from an alert body: whether it says the
//! problem is over, which kind of sender wrote it, an Alertmanager
//! notification's severity, and (in `dedup`) which earlier alerts are the
//! same problem.
//!
//! Strategy: one scan picks out every top-level member these answers need
//! (see `alertmanager::scan`), and each answer reads what it needs from
//! that. No document is built, since the plugins get the text and decode
//! it themselves.

use alertmanager::scan::{members, text};
use alertmanager::{Derived, Scanned};
use serde_json::value::RawValue;

/// The top-level members of an alert body the host reads, each as its
/// JSON text. Those an Alertmanager notification is read from are kept
/// together, as the `alertmanager` crate's rule takes them.
pub struct Members<'a> {
    /// `version`, `alerts`, `groupKey`, `status`, `commonLabels` and
    /// `receiver`.
    pub am: Scanned<'a>,
    pub state: Option<&'a RawValue>,
    pub alert_state: Option<&'a RawValue>,
    pub new_state: Option<&'a RawValue>,
    pub message: Option<&'a RawValue>,
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
            "version",
            "alerts",
            "groupKey",
            "status",
            "commonLabels",
            "receiver",
            "state",
            "alertState",
            "NewStateValue",
            "Message",
            "AlarmArn",
            "AlarmName",
            "AWSAccountId",
            "Region",
            "Type",
            "dedup_key",
            "fingerprint",
        ];
        let [
            version,
            alerts,
            group_key,
            status,
            common_labels,
            receiver,
            state,
            alert_state,
            new_state,
            message,
            alarm_arn,
            alarm_name,
            account,
            region,
            kind,
            dedup_key,
            fingerprint,
        ] = members(payload, keys).ok().flatten()?;
        Some(Self {
            am: Scanned {
                version,
                alerts,
                group_key,
                status,
                common_labels,
                receiver,
            },
            state,
            alert_state,
            new_state,
            message,
            alarm_arn,
            alarm_name,
            account,
            region,
            kind,
            dedup_key,
            fingerprint,
        })
    }

    /// What an Alertmanager webhook body says (`version` "4", an `alerts`
    /// array and a string `groupKey`), by the rule of the `alertmanager`
    /// plugin itself, which is why the default pipeline does not need to
    /// run that plugin.
    fn alertmanager(&self) -> Option<Derived> {
        alertmanager::derive(&self.am)
    }
}

/// Whether the alert is resolved, its kind of sender, and its severity
/// when the body is an Alertmanager notification.
pub struct Facts {
    pub resolved: bool,
    pub source: &'static str,
    pub severity: Option<String>,
}

impl Facts {
    /// The facts of a body with these members (`None`: not a JSON object).
    pub fn of(scanned: Option<&Members<'_>>) -> Self {
        let Some(m) = scanned else {
            return Self {
                resolved: false,
                source: "generic",
                severity: None,
            };
        };
        // An Alertmanager notification says it all in `status` and its
        // labels, as the `alertmanager` plugin reads them.
        if let Some(am) = m.alertmanager() {
            return Self {
                resolved: am.resolved,
                source: "alertmanager",
                severity: am.severity,
            };
        }
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
        let resolved = says_resolved([m.am.status, m.state, m.alert_state, m.new_state])
            || inner.is_some_and(|(resolved, _)| resolved);
        let source = if m.alarm_name.is_some() || m.new_state.is_some() {
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
        Self {
            resolved,
            source,
            severity: None,
        }
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
