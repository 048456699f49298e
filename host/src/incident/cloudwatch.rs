//! CloudWatch alarms, bare or wrapped by SNS in `Message`: the host's own
//! transform for them, run before the plugins' transforms.
//!
//! - `ALARM` fires, and `OK` resolves (see `Facts`);
//! - the dedup key is the alarm's ARN (see [`super::dedup`]);
//! - the severity comes from `queue.cloudwatch.severity`, the first alarm
//!   name pattern that matches, else `critical`. Transforms may still
//!   change it; it sets the page's impact and title;
//! - `INSUFFICIENT_DATA` does what `queue.cloudwatch.insufficient_data`
//!   says: fire (as `ALARM`), notify (a message, never a page) or ignore.

use alertmanager::scan::{members, text};

use super::Incident;
use crate::config::{CloudWatchConfig, InsufficientData};

/// The parts of an alarm state change the gateway reads.
#[derive(Debug, PartialEq, Eq)]
pub struct Alarm {
    /// `AlarmName`.
    pub name: String,
    /// `NewStateValue`: `ALARM`, `OK` or `INSUFFICIENT_DATA`.
    pub state: String,
}

impl Alarm {
    /// The alarm in `payload`, at the top or in an SNS `Message`.
    pub fn of(payload: &str) -> Option<Self> {
        let [name, state, message] = members(payload, ["AlarmName", "NewStateValue", "Message"])
            .ok()
            .flatten()?;
        if let (Some(name), Some(state)) = (text(name), text(state)) {
            return Some(Self { name, state });
        }
        let inner = text(message)?;
        let [name, state] = members(&inner, ["AlarmName", "NewStateValue"])
            .ok()
            .flatten()?;
        Some(Self {
            name: text(name)?,
            state: text(state)?,
        })
    }
}

/// Applies `config` to `incident` when it is a CloudWatch alarm: sets its
/// severity, and for `INSUFFICIENT_DATA` turns paging off or drops it.
pub fn prepare(config: &CloudWatchConfig, incident: &mut Incident) {
    if incident.source != "cloudwatch" {
        return;
    }
    let Some(alarm) = Alarm::of(incident.payload.get()) else {
        return;
    };
    incident.severity = Some(config.severity_of(&alarm.name).to_string());
    if alarm.state != "INSUFFICIENT_DATA" {
        return;
    }
    match config.insufficient_data() {
        InsufficientData::Fire => {}
        InsufficientData::Notify => incident.overrides.oncall_enable = Some(false),
        InsufficientData::Ignore => {
            incident.dropped = Some(format!(
                "CloudWatch alarm `{}` is INSUFFICIENT_DATA, which \
                 queue.cloudwatch.insufficient_data ignores",
                alarm.name
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::incident::Overrides;

    fn incident(value: serde_json::Value) -> Incident {
        let raw = serde_json::value::to_raw_value(&value).expect("json");
        Incident::new(raw, Overrides::default())
    }

    fn config(yaml: &str) -> CloudWatchConfig {
        let path = std::path::Path::new("t.yaml");
        let (config, _) = crate::config::Config::from_yaml(yaml, path, |_| None).expect("loads");
        config.queue.cloudwatch
    }

    #[test]
    fn alarms_bare_and_wrapped() {
        let bare = json!({"AlarmName": "cpu", "NewStateValue": "ALARM"});
        let want = Some(Alarm {
            name: "cpu".into(),
            state: "ALARM".into(),
        });
        assert_eq!(Alarm::of(&bare.to_string()), want);
        let wrapped = json!({"Type": "Notification", "Message": bare.to_string()});
        assert_eq!(Alarm::of(&wrapped.to_string()), want);
        assert_eq!(Alarm::of(r#"{"AlarmName": "cpu"}"#), None);
        assert_eq!(Alarm::of(r#"{"message": "x"}"#), None);
    }

    #[test]
    fn severity_by_name_and_insufficient_data() {
        let cw = config(
            "queue:\n  cloudwatch:\n    insufficient_data: notify\n    severity:\n      \
             \"staging-*\": warning\n",
        );
        let mut alarm = incident(json!({"AlarmName": "staging-db", "NewStateValue": "ALARM"}));
        prepare(&cw, &mut alarm);
        assert_eq!(alarm.severity.as_deref(), Some("warning"));
        assert_eq!(alarm.overrides.oncall_enable, None);

        let mut unknown =
            incident(json!({"AlarmName": "prod-db", "NewStateValue": "INSUFFICIENT_DATA"}));
        prepare(&cw, &mut unknown);
        assert_eq!(unknown.severity.as_deref(), Some("critical"));
        assert_eq!(unknown.overrides.oncall_enable, Some(false));
        assert!(unknown.dropped.is_none());

        let ignore = config("queue:\n  cloudwatch:\n    insufficient_data: ignore\n");
        let mut dropped =
            incident(json!({"AlarmName": "prod-db", "NewStateValue": "INSUFFICIENT_DATA"}));
        prepare(&ignore, &mut dropped);
        assert!(
            dropped
                .dropped
                .as_deref()
                .is_some_and(|r| r.contains("prod-db"))
        );

        let mut other = incident(json!({"alerts": [], "status": "firing"}));
        prepare(&ignore, &mut other);
        assert_eq!(other.severity, None);
    }
}
