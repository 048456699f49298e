//! Incidents: what one alert becomes inside the gateway, and how it travels
//! through the pipeline (transforms, then every channel concurrently).

#[cfg(test)]
mod fuzz;
mod overrides;
mod process;
mod retry;

use serde_json::Value;

pub use process::{ChannelOutcome, Outcome, Transformed, deliver, template_data, transform};
pub use retry::RetryPolicy;

/// Per-request overrides from the query string, as upstream Versus accepts.
#[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
pub struct Overrides {
    /// Post to this Slack channel instead of the configured one.
    pub slack_channel_id: Option<String>,
    /// Turn on-call on or off for this alert.
    #[serde(default, deserialize_with = "lenient_bool")]
    pub oncall_enable: Option<bool>,
    /// Minutes to wait for an ACK before escalating; fractions allowed.
    #[serde(default, deserialize_with = "lenient_f64")]
    pub oncall_wait_minutes: Option<f64>,
    /// Response plan to start instead of the configured one.
    pub awsim_response_plan_arn: Option<String>,
    /// Post to this Telegram chat instead of the configured one.
    pub telegram_chat_id: Option<String>,
    /// Send mail to these addresses (comma-separated) instead of `alert.email.to`.
    pub email_to: Option<String>,
    /// Use this mail subject instead of `alert.email.subject`.
    pub email_subject: Option<String>,
    /// Send to this Viber user (bot API) instead of the configured one.
    pub viber_user_id: Option<String>,
    /// Post to this Viber channel (channel API) instead of the configured one.
    pub viber_channel_id: Option<String>,
    /// Name of an `alert.msteams.other_power_urls` entry to use instead of
    /// `power_automate_url`.
    pub msteams_other_power_url: Option<String>,
    /// Name of an `alert.lark.other_webhook_urls` entry to use instead of
    /// `webhook_url`.
    pub lark_other_webhook_url: Option<String>,
}

fn lenient_bool<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    let s: Option<String> = serde::Deserialize::deserialize(d)?;
    match s.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) if v.eq_ignore_ascii_case("true") || v == "1" => Ok(Some(true)),
        Some(v) if v.eq_ignore_ascii_case("false") || v == "0" => Ok(Some(false)),
        Some(v) => Err(serde::de::Error::custom(format!(
            "`{v}` is not true or false"
        ))),
    }
}

fn lenient_f64<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    let s: Option<String> = serde::Deserialize::deserialize(d)?;
    match s.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => match v.parse::<f64>() {
            Ok(n) if n.is_finite() && n >= 0.0 => Ok(Some(n)),
            _ => Err(serde::de::Error::custom(format!(
                "`{v}` is not a number of minutes ≥ 0"
            ))),
        },
    }
}

/// One alert, accepted and given an id.
#[derive(Debug, Clone)]
pub struct Incident {
    /// Gateway-assigned id (UUID v4).
    pub id: String,
    /// The alert body (a JSON object).
    pub payload: Value,
    /// Whether the alert says the problem is over.
    pub resolved: bool,
    /// Query overrides.
    pub overrides: Overrides,
    /// Set when on-call found an open incident with the same dedup key and
    /// this alert joined it: `id` is then that incident's, and templates see
    /// `Repeat: true`.
    pub repeat: bool,
}

impl Incident {
    /// A new incident for `payload` with a fresh id.
    pub fn new(payload: Value, overrides: Overrides) -> Self {
        Self {
            id: uuid::Uuid::new_v4().to_string(),
            resolved: is_resolved(&payload),
            payload,
            overrides,
            repeat: false,
        }
    }
}

/// Resolved detection as upstream: `status`, `state` or `alertState` equal
/// to `resolved` (any case), plus CloudWatch's `NewStateValue: OK`. SNS
/// wraps CloudWatch alarms as a JSON string in `Message`, so look there too.
pub fn is_resolved(payload: &Value) -> bool {
    let says = |v: &Value, key: &str, want: &str| {
        v.get(key)
            .and_then(Value::as_str)
            .is_some_and(|s| s.eq_ignore_ascii_case(want))
    };
    let direct = |v: &Value| {
        ["status", "state", "alertState"]
            .iter()
            .any(|k| says(v, k, "resolved"))
            || says(v, "NewStateValue", "OK")
    };
    direct(payload)
        || payload
            .get("Message")
            .and_then(Value::as_str)
            .and_then(|m| serde_json::from_str::<Value>(m).ok())
            .is_some_and(|inner| direct(&inner))
}

/// The kind of sender a payload comes from, for the `source` label of
/// `versus_incidents_received_total`: `alertmanager` (a webhook v4 body:
/// `version` "4", an `alerts` array and a `groupKey`), `cloudwatch` (an
/// alarm, bare or wrapped by SNS as a JSON string in `Message`), `sns`
/// (any other SNS notification) or `generic`. A fixed set, so the label
/// cannot grow with what senders post.
pub fn source_kind(payload: &Value) -> &'static str {
    let is_alarm = |v: &Value| v.get("AlarmName").is_some() || v.get("NewStateValue").is_some();
    if payload.get("version").and_then(Value::as_str) == Some("4")
        && payload.get("alerts").is_some_and(Value::is_array)
        && payload.get("groupKey").is_some_and(Value::is_string)
    {
        return "alertmanager";
    }
    if is_alarm(payload) {
        return "cloudwatch";
    }
    if payload.get("Type").and_then(Value::as_str) == Some("Notification") {
        let wrapped = payload
            .get("Message")
            .and_then(Value::as_str)
            .and_then(|m| serde_json::from_str::<Value>(m).ok());
        return if wrapped.as_ref().is_some_and(is_alarm) {
            "cloudwatch"
        } else {
            "sns"
        };
    }
    "generic"
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn source_kinds() {
        let am = serde_json::from_str(include_str!(
            "../../../tests/fixtures/alertmanager/critical.json"
        ))
        .expect("fixture");
        assert_eq!(source_kind(&am), "alertmanager");
        assert_eq!(
            source_kind(&json!({"version": "4", "alerts": [], "groupKey": 7})),
            "generic"
        );
        assert_eq!(
            source_kind(&json!({"AlarmName": "cpu", "NewStateValue": "ALARM"})),
            "cloudwatch"
        );
        let sns = |m: &str| json!({"Type": "Notification", "Message": m});
        assert_eq!(source_kind(&sns(r#"{"AlarmName":"cpu"}"#)), "cloudwatch");
        assert_eq!(source_kind(&sns("plain text")), "sns");
        assert_eq!(source_kind(&json!({"log": "disk full"})), "generic");
        assert_eq!(source_kind(&json!([1, 2])), "generic");
    }

    #[test]
    fn resolved_detection() {
        assert!(is_resolved(&json!({"status": "resolved"})));
        assert!(is_resolved(&json!({"state": "RESOLVED"})));
        assert!(is_resolved(&json!({"alertState": "Resolved"})));
        assert!(is_resolved(&json!({"NewStateValue": "OK"})));
        assert!(is_resolved(
            &json!({"Message": "{\"NewStateValue\":\"OK\"}"})
        ));
        assert!(!is_resolved(&json!({"status": "firing"})));
        assert!(!is_resolved(&json!({"NewStateValue": "ALARM"})));
        assert!(!is_resolved(&json!({"status": 1})));
        assert!(!is_resolved(&json!({})));
    }

    #[test]
    fn overrides_parse_leniently() {
        let o: Overrides = serde_urlencoded_like(
            "oncall_enable=false&oncall_wait_minutes=0.1&slack_channel_id=C1&unknown=x",
        );
        assert_eq!(o.oncall_enable, Some(false));
        assert_eq!(o.oncall_wait_minutes, Some(0.1));
        assert_eq!(o.slack_channel_id.as_deref(), Some("C1"));
    }

    fn serde_urlencoded_like(q: &str) -> Overrides {
        let uri: axum::http::Uri = format!("/x?{q}").parse().expect("uri");
        axum::extract::Query::<Overrides>::try_from_uri(&uri)
            .expect("query")
            .0
    }
}
