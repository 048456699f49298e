//! How each on-call target went, as a chat message's escalated line shows
//! it: the gateway passes the statuses in an update's event payload.

use super::EventInfo;

impl EventInfo {
    /// With several on-call targets, how each went, for an escalation's
    /// update: e.g. `aws_incident_manager: paged · pagerduty: retrying
    /// (HTTP 503)`. The gateway passes the statuses in the update's
    /// payload (`oncall_targets`); `None` when there are none.
    pub fn oncall_targets(&self) -> Option<String> {
        let payload: serde_json::Value = serde_json::from_str(&self.payload).ok()?;
        let targets = payload.get("oncall_targets")?.as_array()?;
        let parts: Vec<String> = targets
            .iter()
            .filter_map(|t| {
                let provider = t.get("provider")?.as_str()?;
                let state = match t.get("state")?.as_str()? {
                    "paged" => "paged",
                    "paging" => "retrying",
                    "failed" => "FAILED",
                    other => other,
                };
                Some(match t.get("last_error").and_then(|e| e.as_str()) {
                    Some(e) => format!("{provider}: {state} ({})", short(e)),
                    None => format!("{provider}: {state}"),
                })
            })
            .collect();
        (!parts.is_empty()).then(|| parts.join(" · "))
    }
}

/// An error cut to a length that fits a status line.
fn short(error: &str) -> String {
    const MAX: usize = 80;
    if error.chars().count() <= MAX {
        return error.to_string();
    }
    let cut: String = error.chars().take(MAX - 1).collect();
    format!("{cut}…")
}

#[cfg(test)]
mod tests {
    #[test]
    fn several_targets_are_listed_with_their_status() {
        let event = |payload: &str| crate::chat::EventInfo {
            id: "inc-7".into(),
            resolved: false,
            severity: None,
            ack_url: None,
            payload: payload.into(),
        };
        let payload = serde_json::json!({"oncall_targets": [
            {"provider": "aws_incident_manager", "state": "paged"},
            {"provider": "pagerduty", "state": "paging", "last_error": "HTTP 503"},
            {"provider": "opsgenie", "state": "failed", "last_error": "x".repeat(100)},
        ]});
        let line = event(&payload.to_string())
            .oncall_targets()
            .expect("a line");
        assert_eq!(
            line,
            format!(
                "aws_incident_manager: paged · pagerduty: retrying (HTTP 503) · opsgenie: FAILED ({}…)",
                "x".repeat(79)
            )
        );
        assert_eq!(event("{}").oncall_targets(), None);
        assert_eq!(event("not json").oncall_targets(), None);
    }
}
