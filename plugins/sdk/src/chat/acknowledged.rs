//! Who acknowledged, as an acknowledgement's update shows it: the gateway
//! passes it in the update's event payload when the click came from a
//! chat app (`acknowledged_by`, `acknowledged_ms`).

use super::EventInfo;

/// An acknowledgement made in a chat app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acknowledgement {
    /// Where it was made: `slack`.
    pub source: String,
    /// The person's id there (Slack: `U…`).
    pub user_id: String,
    /// Their name there, when given.
    pub name: Option<String>,
    /// When, Unix ms.
    pub at_ms: i64,
}

impl Acknowledgement {
    /// `HH:MM UTC` of [`Self::at_ms`].
    pub fn time_utc(&self) -> String {
        let minutes = self.at_ms.div_euclid(60_000).rem_euclid(24 * 60);
        format!("{:02}:{:02} UTC", minutes / 60, minutes % 60)
    }

    /// How a channel that cannot mention the person names them: their
    /// name, or their id.
    pub fn who(&self) -> &str {
        self.name
            .as_deref()
            .filter(|n| !n.is_empty())
            .unwrap_or(&self.user_id)
    }
}

impl EventInfo {
    /// For an acknowledgement's update: who acknowledged and when, when
    /// the gateway knows (a click in a chat app); `None` for an ACK link.
    pub fn acknowledgement(&self) -> Option<Acknowledgement> {
        let payload: serde_json::Value = serde_json::from_str(&self.payload).ok()?;
        let by = payload.get("acknowledged_by")?;
        let text = |v: &serde_json::Value, k: &str| v.get(k)?.as_str().map(str::to_string);
        Some(Acknowledgement {
            source: text(by, "source")?,
            user_id: text(by, "user_id")?,
            name: text(by, "name"),
            at_ms: payload.get("acknowledged_ms")?.as_i64()?,
        })
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_acknowledger_is_read_from_the_update_payload() {
        let event = |payload: &str| crate::chat::EventInfo {
            id: "inc-7".into(),
            resolved: false,
            severity: None,
            ack_url: None,
            payload: payload.into(),
        };
        // 2026-01-02T03:12:45Z
        let payload = serde_json::json!({
            "acknowledged_by": {"source": "slack", "user_id": "U123", "name": "alice"},
            "acknowledged_ms": 1_767_323_565_000_i64,
        });
        let ack = event(&payload.to_string())
            .acknowledgement()
            .expect("an acknowledgement");
        assert_eq!(ack.user_id, "U123");
        assert_eq!(ack.who(), "alice");
        assert_eq!(ack.time_utc(), "03:12 UTC");
        assert_eq!(event("{}").acknowledgement(), None);
        assert_eq!(event("not json").acknowledgement(), None);
    }
}
