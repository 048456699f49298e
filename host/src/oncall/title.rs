//! What a page says, built from the alert: the title and impact for AWS
//! Incident Manager, and the details an escalator plugin gets.

use std::collections::BTreeMap;

use serde_json::Value;

/// AWS limits an incident title to 200 characters.
const MAX_TITLE_CHARS: usize = 200;

/// The labels that describe an Alertmanager payload: the common ones, else
/// the first alert's.
fn labels(payload: &Value) -> Option<&Value> {
    payload.get("commonLabels").or_else(|| {
        payload
            .get("alerts")
            .and_then(|a| a.get(0))
            .and_then(|a| a.get("labels"))
    })
}

/// The alert's severity: the one the transforms found, else the
/// `severity` label; `None` when neither is set or it is empty.
pub fn severity<'a>(payload: &'a Value, severity: Option<&'a str>) -> Option<&'a str> {
    severity
        .or_else(|| labels(payload)?.get("severity")?.as_str())
        .filter(|s| !s.is_empty())
}

/// A title like `[CRITICAL] HighErrorRate on web-1:9090`, from Alertmanager
/// labels when present, else common fields of other senders.
pub fn title(payload: &Value, severity: Option<&str>) -> String {
    let labels = labels(payload);
    let label = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
    let field = |keys: &[&str]| {
        keys.iter()
            .find_map(|k| payload.get(*k).and_then(Value::as_str))
    };
    let name = label("alertname")
        .or_else(|| {
            field(&[
                "AlarmName",
                "title",
                "Title",
                "Subject",
                "alertname",
                "name",
            ])
        })
        .unwrap_or("Alert");
    let mut t = String::new();
    if let Some(sev) = self::severity(payload, severity) {
        t.push_str(&format!("[{}] ", sev.to_uppercase()));
    }
    t.push_str(name);
    if let Some(instance) = label("instance").or_else(|| field(&["instance", "host"])) {
        t.push_str(" on ");
        t.push_str(instance);
    }
    t.chars().take(MAX_TITLE_CHARS).collect()
}

/// AWS impact (1 critical … 5 no impact) for `severity`, looked up in
/// `table` (`oncall.aws_incident_manager.impact`) without regard to case.
/// A severity not in the table, or none, leaves the response plan's own
/// default in force.
pub fn impact(table: &BTreeMap<String, u32>, severity: Option<&str>) -> Option<i32> {
    let severity = severity?.trim();
    table
        .iter()
        .find(|(name, _)| name.eq_ignore_ascii_case(severity))
        .and_then(|(_, impact)| i32::try_from(*impact).ok())
}

/// Longest summary kept with an incident, in characters.
const MAX_SUMMARY_CHARS: usize = 1000;

/// The annotations that describe an Alertmanager payload: the common ones,
/// else the first alert's.
fn annotations(payload: &Value) -> Option<&Value> {
    payload.get("commonAnnotations").or_else(|| {
        payload
            .get("alerts")
            .and_then(|a| a.get(0))
            .and_then(|a| a.get("annotations"))
    })
}

/// The details an escalator plugin gets besides the title: a summary, the
/// sender, the labels and a link to the alert at its source. `routes` are
/// the `other_*` targets the query chose, by provider.
pub fn details(payload: &Value, routes: BTreeMap<String, String>) -> super::PageDetails {
    let text = |v: Option<&Value>| v.and_then(Value::as_str).map(str::to_owned);
    let note = |k: &str| text(annotations(payload).and_then(|a| a.get(k)));
    let summary = note("summary")
        .or_else(|| note("description"))
        .or_else(|| {
            ["summary", "description", "message", "NewStateReason"]
                .iter()
                .find_map(|k| text(payload.get(*k)))
        })
        .unwrap_or_default();
    let alertmanager = payload.get("groupKey").is_some() && payload.get("receiver").is_some();
    let source = if alertmanager {
        "alertmanager".to_string()
    } else {
        text(payload.get("source")).unwrap_or_else(|| "versus".into())
    };
    let labels = labels(payload)
        .or_else(|| payload.get("labels"))
        .filter(|l| l.is_object())
        .map_or_else(|| "{}".to_string(), Value::to_string);
    let source_url = payload
        .get("alerts")
        .and_then(|a| a.get(0))
        .and_then(|a| text(a.get("generatorURL")))
        .or_else(|| text(payload.get("generatorURL")))
        .or_else(|| text(payload.get("externalURL")))
        .filter(|u| u.starts_with("https://") || u.starts_with("http://"));
    super::PageDetails {
        summary: summary.trim().chars().take(MAX_SUMMARY_CHARS).collect(),
        source,
        labels,
        source_url,
        routes,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn alertmanager_title() {
        let p: Value = serde_json::from_str(include_str!(
            "../../../tests/fixtures/alertmanager/critical.json"
        ))
        .expect("fixture");
        assert_eq!(
            title(&p, Some("critical")),
            "[CRITICAL] HighErrorRate on web-1:9100"
        );
        assert_eq!(title(&p, None), "[CRITICAL] HighErrorRate on web-1:9100");
    }

    #[test]
    fn severity_from_the_event_else_the_label() {
        let p = json!({"commonLabels": {"severity": "warning"}});
        assert_eq!(severity(&p, Some("critical")), Some("critical"));
        assert_eq!(severity(&p, None), Some("warning"));
        let first = json!({"alerts": [{"labels": {"severity": "info"}}]});
        assert_eq!(severity(&first, None), Some("info"));
        assert_eq!(severity(&json!({}), Some("")), None);
        assert_eq!(
            severity(&json!({"commonLabels": {"severity": 3}}), None),
            None
        );
    }

    #[test]
    fn other_payloads_and_limits() {
        assert_eq!(title(&json!({"AlarmName": "CPU high"}), None), "CPU high");
        assert_eq!(title(&json!({}), Some("warning")), "[WARNING] Alert");
        let long = "x".repeat(500);
        assert_eq!(title(&json!({ "title": long }), None).chars().count(), 200);
    }

    #[test]
    fn details_of_an_alertmanager_payload_and_of_a_generic_one() {
        let p: Value = serde_json::from_str(include_str!(
            "../../../tests/fixtures/alertmanager/critical.json"
        ))
        .expect("fixture");
        let routes = BTreeMap::from([("pagerduty".to_string(), "infra".to_string())]);
        let d = details(&p, routes.clone());
        assert_eq!(d.source, "alertmanager");
        assert_eq!(d.routes, routes);
        let labels: Value = serde_json::from_str(&d.labels).expect("labels");
        assert_eq!(labels["alertname"], "HighErrorRate");
        assert!(!d.summary.is_empty(), "{d:?}");
        assert!(
            d.source_url
                .as_deref()
                .is_some_and(|u| u.starts_with("http")),
            "{d:?}"
        );
        let d = details(
            &json!({"message": "disk full", "source": "cron"}),
            BTreeMap::new(),
        );
        assert_eq!(
            (d.summary.as_str(), d.source.as_str(), d.labels.as_str()),
            ("disk full", "cron", "{}")
        );
        assert_eq!(details(&json!({}), BTreeMap::new()).source, "versus");
    }

    #[test]
    fn impact_from_the_default_table() {
        let table = crate::config::default_impact();
        assert_eq!(impact(&table, Some("CRITICAL")), Some(1));
        assert_eq!(impact(&table, Some("high")), Some(2));
        assert_eq!(impact(&table, Some("warning")), Some(3));
        assert_eq!(impact(&table, Some("minor")), Some(4));
        assert_eq!(impact(&table, Some("info")), Some(5));
        assert_eq!(impact(&table, Some("weird")), None);
        assert_eq!(impact(&table, None), None);
    }

    #[test]
    fn impact_from_a_configured_table() {
        let table = BTreeMap::from([("Sev1".to_string(), 1), ("warning".to_string(), 2)]);
        assert_eq!(impact(&table, Some("sev1")), Some(1));
        // The configured table replaces the default: warning is now 2 and
        // critical is not mapped at all.
        assert_eq!(impact(&table, Some("warning")), Some(2));
        assert_eq!(impact(&table, Some("critical")), None);
        assert_eq!(impact(&BTreeMap::new(), Some("critical")), None);
    }
}
