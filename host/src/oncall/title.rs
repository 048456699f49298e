//! Incident titles and impact for AWS Incident Manager, built from the alert.

use serde_json::Value;

/// AWS limits an incident title to 200 characters.
const MAX_TITLE_CHARS: usize = 200;

/// A title like `[CRITICAL] HighErrorRate on web-1:9090`, from Alertmanager
/// labels when present, else common fields of other senders.
pub fn title(payload: &Value, severity: Option<&str>) -> String {
    let labels = payload.get("commonLabels").or_else(|| {
        payload
            .get("alerts")
            .and_then(|a| a.get(0))
            .and_then(|a| a.get("labels"))
    });
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
    if let Some(sev) = severity
        .or_else(|| label("severity"))
        .filter(|s| !s.is_empty())
    {
        t.push_str(&format!("[{}] ", sev.to_uppercase()));
    }
    t.push_str(name);
    if let Some(instance) = label("instance").or_else(|| field(&["instance", "host"])) {
        t.push_str(" on ");
        t.push_str(instance);
    }
    t.chars().take(MAX_TITLE_CHARS).collect()
}

/// AWS impact from severity: 1 critical … 5 no impact. Unknown severities
/// leave the response plan's own default in force.
pub fn impact(severity: Option<&str>) -> Option<i32> {
    match severity?.to_ascii_lowercase().as_str() {
        "critical" | "urgent" | "page" | "p1" => Some(1),
        "high" | "error" | "major" | "p2" => Some(2),
        "warning" | "medium" | "p3" => Some(3),
        "low" | "minor" | "p4" => Some(4),
        "info" | "none" | "p5" => Some(5),
        _ => None,
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
    fn other_payloads_and_limits() {
        assert_eq!(title(&json!({"AlarmName": "CPU high"}), None), "CPU high");
        assert_eq!(title(&json!({}), Some("warning")), "[WARNING] Alert");
        let long = "x".repeat(500);
        assert_eq!(title(&json!({ "title": long }), None).chars().count(), 200);
        assert_eq!(impact(Some("CRITICAL")), Some(1));
        assert_eq!(impact(Some("warning")), Some(3));
        assert_eq!(impact(Some("weird")), None);
        assert_eq!(impact(None), None);
    }
}
