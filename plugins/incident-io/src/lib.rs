//! The built-in incident.io escalator: alert events through an HTTP alert
//! source (`POST {api_url}/v2/alert_events/http/{alert_source_config_id}`).
//! A page is a `firing` event whose `deduplication_key` is the incident's
//! dedup key, so retries, repeats and replicas update one incident.io
//! alert; the resolve is a `resolved` event with the same key. The HTTP
//! source has no acknowledge: an ACK in Versus after the page is acted on
//! in incident.io itself.
//!
//! Settings (from `oncall.incident_io`): `api_key` (Bearer),
//! `alert_source_config_id`, `other_alert_source_config_ids` (chosen per
//! alert with `?incidentio_other_alert_source=NAME`), `api_url` (default
//! `https://api.incident.io`).

use serde_json::{Map, Value, json};
use versus_plugin_sdk::oncall::{
    self, Error, Escalator, Incident, Receipt, Request, Send, Settings, routed,
};

/// incident.io's API host.
pub const DEFAULT_API_URL: &str = "https://api.incident.io";

/// Longest title sent, in characters.
const MAX_TITLE: usize = 255;

/// The escalator.
pub struct IncidentIo;

/// What the settings give one call.
struct Target {
    url: String,
    api_key: String,
}

impl Target {
    fn of(config_json: &str, incident: &Incident) -> Result<Self, Error> {
        let settings = Settings::parse("incident_io", config_json)?;
        let base = settings.url("api_url", Some(DEFAULT_API_URL))?;
        let source = routed(
            &settings,
            incident,
            "alert_source_config_id",
            "other_alert_source_config_ids",
        )?;
        Ok(Self {
            url: format!(
                "{}/v2/alert_events/http/{}",
                base.trim_end_matches('/'),
                oncall::percent_encode(&source)
            ),
            api_key: settings.required("api_key")?,
        })
    }

    /// Sends one event: 202 accepted, 400 and 422 refused for good (the
    /// errors quoted), 429 and 5xx retried.
    fn send(&self, event: &Value, send: &mut Send<'_>) -> Result<Value, Error> {
        let request = Request::post_json(&self.url, event).bearer(&self.api_key);
        let response = send(request).map_err(|e| oncall::from_http_error("incident_io", e))?;
        if matches!(response.status, 400 | 422) {
            let body = response.json("incident_io").unwrap_or_default();
            let errors: Vec<String> = body["errors"]
                .as_array()
                .map(|list| {
                    list.iter()
                        .map(|e| {
                            let field = e["source"]["field"].as_str().unwrap_or("");
                            let message = e["message"].as_str().unwrap_or("invalid");
                            if field.is_empty() {
                                message.to_string()
                            } else {
                                format!("{field}: {message}")
                            }
                        })
                        .collect()
                })
                .unwrap_or_default();
            let detail = if errors.is_empty() {
                oncall::body_snippet(&response.body)
            } else {
                errors.join("; ")
            };
            return Err(Error::Permanent(format!(
                "incident_io refused the event (http {}): {detail}",
                response.status
            )));
        }
        oncall::check_status("incident_io", &response)?;
        Ok(response.json("incident_io").unwrap_or_default())
    }
}

/// The event for `incident` with `status` (`firing` or `resolved`).
pub fn event(incident: &Incident, status: &str) -> Value {
    let mut metadata = Map::new();
    metadata.insert(
        "versus_incident_id".into(),
        Value::from(incident.id.as_str()),
    );
    metadata.insert("source".into(), Value::from(incident.source.as_str()));
    if let Some(severity) = &incident.severity {
        metadata.insert("severity".into(), Value::from(severity.as_str()));
    }
    metadata.insert("labels".into(), Value::Object(incident.labels()));
    let mut description = incident.summary.trim().to_string();
    for link in &incident.links {
        if !description.is_empty() {
            description.push('\n');
        }
        description.push_str(&format!("{}: {}", link.text, link.url));
    }
    let mut event = json!({
        "title": versus_plugin_sdk::truncate(&incident.title, MAX_TITLE),
        "status": status,
        "deduplication_key": incident.dedup_key,
        "description": description,
        "metadata": metadata,
    });
    if let Some(source) = incident.links.iter().find(|l| l.text == "Alert source") {
        event["source_url"] = Value::from(source.url.as_str());
    }
    event
}

impl Escalator for IncidentIo {
    fn validate_config(config_json: &str) -> Result<(), Error> {
        let settings = Settings::parse("incident_io", config_json)?;
        settings.url("api_url", Some(DEFAULT_API_URL))?;
        settings.required("api_key")?;
        settings.required("alert_source_config_id")?;
        settings
            .named("other_alert_source_config_ids", "alert source config ids")
            .map(drop)
    }

    fn start(
        incident: &Incident,
        config_json: &str,
        send: &mut Send<'_>,
    ) -> Result<Receipt, Error> {
        let target = Target::of(config_json, incident)?;
        let answer = target.send(&event(incident, "firing"), send)?;
        let id = answer["deduplication_key"]
            .as_str()
            .filter(|k| !k.is_empty())
            .unwrap_or(&incident.dedup_key)
            .to_string();
        Ok(Receipt { id, url: None })
    }

    fn resolve(
        incident: &Incident,
        receipt: &Receipt,
        config_json: &str,
        send: &mut Send<'_>,
    ) -> Result<(), Error> {
        let target = Target::of(config_json, incident)?;
        let mut resolved = event(incident, "resolved");
        resolved["deduplication_key"] = Value::from(receipt.id.as_str());
        target.send(&resolved, send).map(drop)
    }
}

versus_plugin_sdk::export_escalator!(IncidentIo);

#[cfg(test)]
mod tests;
