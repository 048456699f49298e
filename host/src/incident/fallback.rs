//! The message a channel gets when its template fails at render time (a
//! `gt` between a list and a number, `index` of a missing map, a trap in
//! the renderer, …): built by the host from the alert itself, so the alert
//! still reaches the channel, and saying what went wrong with the template.

use serde_json::Value;

use crate::oncall::title::title;
use crate::pipeline::PluginError;

/// Most labels listed: enough to tell alerts apart, short enough for chat.
const MAX_LABELS: usize = 20;

/// The fallback text: title, status, labels, and the template error.
pub fn message(
    payload: &str,
    severity: Option<&str>,
    resolved: bool,
    error: &PluginError,
) -> String {
    let doc: Value = serde_json::from_str(payload).unwrap_or(Value::Null);
    let status = if resolved { "resolved" } else { "firing" };
    let mut text = format!(
        "{} {}\nstatus: {status}\n",
        if resolved { "✅" } else { "🔥" },
        title(&doc, severity)
    );
    let labels = labels(&doc);
    if !labels.is_empty() {
        text.push_str("labels: ");
        text.push_str(&labels.join(", "));
        text.push('\n');
    }
    text.push_str(&format!("template error: {error}"));
    text
}

/// `name=value` for each label of the alert: Alertmanager's common labels,
/// else the first alert's, else a top-level `labels` object.
fn labels(doc: &Value) -> Vec<String> {
    let object = doc
        .get("commonLabels")
        .filter(|l| l.as_object().is_some_and(|m| !m.is_empty()))
        .or_else(|| {
            doc.get("alerts")
                .and_then(|a| a.get(0))
                .and_then(|a| a.get("labels"))
        })
        .or_else(|| doc.get("labels"))
        .and_then(Value::as_object);
    object
        .into_iter()
        .flatten()
        .take(MAX_LABELS)
        .map(|(k, v)| match v {
            Value::String(s) => format!("{k}={s}"),
            other => format!("{k}={other}"),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error() -> PluginError {
        PluginError::InvalidInput("template failed: execution error: incompatible types".into())
    }

    #[test]
    fn alertmanager_alert_keeps_title_status_and_labels() {
        let payload = r#"{"status":"firing","commonLabels":{"alertname":"DiskFull","instance":"db-1","severity":"critical"}}"#;
        assert_eq!(
            message(payload, None, false, &error()),
            "🔥 [CRITICAL] DiskFull on db-1\nstatus: firing\n\
             labels: alertname=DiskFull, instance=db-1, severity=critical\n\
             template error: invalid input: template failed: execution error: incompatible types"
        );
    }

    #[test]
    fn any_payload_gets_a_message() {
        let text = message(
            r#"{"AlarmName":"cpu-high","n":1}"#,
            Some("warning"),
            true,
            &error(),
        );
        assert!(
            text.starts_with("✅ [WARNING] cpu-high\nstatus: resolved\ntemplate error: "),
            "{text}"
        );
        let text = message("[1,2]", None, false, &error());
        assert!(
            text.starts_with("🔥 Alert\nstatus: firing\ntemplate error: "),
            "{text}"
        );
    }
}
