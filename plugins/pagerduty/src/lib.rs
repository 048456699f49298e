//! The built-in PagerDuty escalator: the Events API v2
//! (`POST {api_url}/v2/enqueue`). A page is a `trigger` event whose
//! `dedup_key` is the incident's dedup key, so retries, repeats and
//! replicas collapse into one PagerDuty alert; an ACK in Versus after the
//! page sends `acknowledge`, a resolved alert sends `resolve`.
//!
//! Settings (from `oncall.pagerduty`): `routing_key` (the integration key),
//! `other_routing_keys` (chosen per alert with
//! `?pagerduty_other_routing_key=NAME`), `api_url` (default
//! `https://events.pagerduty.com`).

use serde_json::{Value, json};
use versus_plugin_sdk::oncall::{
    self, Error, Escalator, Incident, Receipt, Request, Send, Settings, Urgency, routed,
};

/// The Events API's own host.
pub const DEFAULT_API_URL: &str = "https://events.pagerduty.com";

/// PagerDuty's limit on `payload.summary`, in characters.
const MAX_SUMMARY: usize = 1024;

/// PagerDuty's limit on `dedup_key`, in characters.
const MAX_DEDUP_KEY: usize = 255;

/// The escalator.
pub struct PagerDuty;

/// What the settings give one call.
struct Target {
    url: String,
    routing_key: String,
}

impl Target {
    fn of(config_json: &str, incident: &Incident) -> Result<Self, Error> {
        let settings = Settings::parse("pagerduty", config_json)?;
        let base = settings.url("api_url", Some(DEFAULT_API_URL))?;
        Ok(Self {
            url: format!("{}/v2/enqueue", base.trim_end_matches('/')),
            routing_key: routed(&settings, incident, "routing_key", "other_routing_keys")?,
        })
    }

    /// Sends one event and reads PagerDuty's answer: 202 accepted (its
    /// `dedup_key` returned), 400 refused for good (its `errors` quoted),
    /// 429 and 5xx retried.
    fn enqueue(&self, event: Value, send: &mut Send<'_>) -> Result<Value, Error> {
        let request = Request::post_json(&self.url, &event);
        let response = send(request).map_err(|e| oncall::from_http_error("pagerduty", e))?;
        if response.status == 400 {
            let body = response.json("pagerduty").unwrap_or_default();
            let errors = body["errors"]
                .as_array()
                .map(|e| {
                    e.iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join("; ")
                })
                .filter(|e| !e.is_empty())
                .unwrap_or_else(|| oncall::body_snippet(&response.body));
            return Err(Error::Permanent(format!(
                "pagerduty refused the event (http 400): {errors}"
            )));
        }
        oncall::check_status("pagerduty", &response)?;
        Ok(response.json("pagerduty").unwrap_or_default())
    }
}

/// PagerDuty's severity for the alert's urgency: `critical`, `error`,
/// `warning` or `info`.
pub fn severity(urgency: Urgency) -> &'static str {
    match urgency {
        Urgency::Critical => "critical",
        Urgency::High => "error",
        Urgency::Medium => "warning",
        Urgency::Low | Urgency::Info => "info",
    }
}

/// The `trigger` event for `incident`.
pub fn trigger(incident: &Incident, routing_key: &str) -> Value {
    let links: Vec<Value> = incident
        .links
        .iter()
        .map(|l| json!({ "href": l.url, "text": l.text }))
        .collect();
    let mut details = json!({
        "versus_incident_id": incident.id,
        "labels": Value::Object(incident.labels()),
    });
    if !incident.summary.trim().is_empty() {
        details["summary"] = Value::from(incident.summary.as_str());
    }
    let mut event = json!({
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": incident.key_within(MAX_DEDUP_KEY),
        "client": "Versus Incident",
        "payload": {
            "summary": versus_plugin_sdk::truncate(&incident.title, MAX_SUMMARY),
            "source": incident.source,
            "severity": severity(incident.urgency()),
            "custom_details": details,
        },
        "links": links,
    });
    if let Some(ack) = incident.links.first() {
        event["client_url"] = Value::from(ack.url.as_str());
    }
    event
}

impl Escalator for PagerDuty {
    const ACKNOWLEDGES: bool = true;

    fn validate_config(config_json: &str) -> Result<(), Error> {
        let settings = Settings::parse("pagerduty", config_json)?;
        settings.url("api_url", Some(DEFAULT_API_URL))?;
        settings.required("routing_key")?;
        settings
            .named("other_routing_keys", "routing keys")
            .map(drop)
    }

    fn start(
        incident: &Incident,
        config_json: &str,
        send: &mut Send<'_>,
    ) -> Result<Receipt, Error> {
        let target = Target::of(config_json, incident)?;
        let answer = target.enqueue(trigger(incident, &target.routing_key), send)?;
        let id = answer["dedup_key"]
            .as_str()
            .filter(|k| !k.is_empty())
            .unwrap_or(incident.key_within(MAX_DEDUP_KEY))
            .to_string();
        Ok(Receipt { id, url: None })
    }

    fn acknowledge(
        incident: &Incident,
        receipt: &Receipt,
        _who: Option<&str>,
        config_json: &str,
        send: &mut Send<'_>,
    ) -> Result<(), Error> {
        let target = Target::of(config_json, incident)?;
        target
            .enqueue(follow_up(&target, "acknowledge", receipt), send)
            .map(drop)
    }

    fn resolve(
        incident: &Incident,
        receipt: &Receipt,
        config_json: &str,
        send: &mut Send<'_>,
    ) -> Result<(), Error> {
        let target = Target::of(config_json, incident)?;
        target
            .enqueue(follow_up(&target, "resolve", receipt), send)
            .map(drop)
    }
}

/// An `acknowledge` or `resolve` event for the alert the trigger opened.
fn follow_up(target: &Target, action: &str, receipt: &Receipt) -> Value {
    json!({
        "routing_key": target.routing_key,
        "event_action": action,
        "dedup_key": receipt.id,
    })
}

versus_plugin_sdk::export_escalator!(PagerDuty);

#[cfg(test)]
mod tests;
