//! The built-in Opsgenie escalator: the Alert API v2. A page creates an
//! alert (`POST {api_url}/v2/alerts`) whose `alias` is the incident's
//! dedup key, so retries, repeats and replicas only raise the open alert's
//! count; an ACK in Versus after the page acknowledges it, and a resolved
//! alert closes it, both addressed by alias.
//!
//! Opsgenie queues every request and answers 202 before it acts, so no
//! alert id comes back: the receipt is the alias.
//!
//! Settings (from `oncall.opsgenie`): `api_key` (the key of an API
//! integration), `other_api_keys` (other integrations, chosen per alert with
//! `?opsgenie_other_api_key=NAME`), `api_url` (default
//! `https://api.opsgenie.com`; accounts in the EU instance use
//! [`EU_API_URL`]).

use serde_json::{Map, Value, json};
use versus_plugin_sdk::oncall::{
    self, Error, Escalator, Incident, Receipt, Request, Response, Send, Settings, Urgency, routed,
};
use versus_plugin_sdk::truncate;

/// The Alert API's own host (the US instance).
pub const DEFAULT_API_URL: &str = "https://api.opsgenie.com";

/// The Alert API of the EU instance, for `api_url`.
pub const EU_API_URL: &str = "https://api.eu.opsgenie.com";

/// The name errors give the remote side.
const SERVICE: &str = "opsgenie";

/// Opsgenie's limit on `message`, in characters.
const MAX_MESSAGE: usize = 130;

/// Opsgenie's limit on `alias`, in characters.
const MAX_ALIAS: usize = 512;

/// Opsgenie's limit on `description`, in characters.
const MAX_DESCRIPTION: usize = 15_000;

/// Opsgenie's limit on `source` and on `user`, in characters.
const MAX_SOURCE: usize = 100;

/// Opsgenie's limit on one tag, in characters.
const MAX_TAG: usize = 50;

/// Opsgenie's limit on `details`, in characters of keys and values
/// together: labels past it are left out rather than have the page refused.
const MAX_DETAILS: usize = 8_000;

/// Who the follow-up requests say made them.
const VERSUS: &str = "Versus";

/// The escalator.
pub struct Opsgenie;

/// What the settings give one call.
struct Target {
    base: String,
    api_key: String,
}

impl Target {
    fn of(config_json: &str, incident: &Incident) -> Result<Self, Error> {
        let settings = Settings::parse(SERVICE, config_json)?;
        let base = settings.url("api_url", Some(DEFAULT_API_URL))?;
        Ok(Self {
            base: base.trim_end_matches('/').to_string(),
            api_key: routed(&settings, incident, "api_key", "other_api_keys")?,
        })
    }

    /// Posts `body` to `path` and reads Opsgenie's answer: 202 accepted,
    /// 400 and 422 refused for good (its `message` and `errors` quoted),
    /// 408, 429 and 5xx retried, anything else refused for good.
    fn post(&self, path: &str, body: &Value, send: &mut Send<'_>) -> Result<(), Error> {
        let request = Request::post_json(format!("{}{path}", self.base), body)
            .header("Authorization", &format!("GenieKey {}", self.api_key));
        let response = send(request).map_err(|e| oncall::from_http_error(SERVICE, e))?;
        if matches!(response.status, 400 | 422) {
            return Err(refused(&response));
        }
        oncall::check_status(SERVICE, &response)
    }
}

/// The permanent error for a 400 or 422: Opsgenie's `message`, then each
/// of its `errors` as `field: why`.
fn refused(response: &Response) -> Error {
    let body = response.json(SERVICE).unwrap_or_default();
    let message = body["message"].as_str().map(str::trim).unwrap_or("");
    let errors = body["errors"]
        .as_object()
        .map(|errors| {
            errors
                .iter()
                .map(|(field, why)| {
                    let why = why.as_str().map_or_else(|| why.to_string(), str::to_owned);
                    format!("{field}: {why}")
                })
                .collect::<Vec<_>>()
                .join("; ")
        })
        .unwrap_or_default();
    let detail = match (message.is_empty(), errors.is_empty()) {
        (true, true) => oncall::body_snippet(&response.body),
        (false, true) => message.to_string(),
        (true, false) => errors,
        (false, false) => format!("{message} ({errors})"),
    };
    Error::Permanent(format!(
        "opsgenie refused the request (http {}): {detail}",
        response.status
    ))
}

/// Opsgenie's priority for the alert's urgency, `P1` (highest) to `P5`.
pub fn priority(urgency: Urgency) -> &'static str {
    match urgency {
        Urgency::Critical => "P1",
        Urgency::High => "P2",
        Urgency::Medium => "P3",
        Urgency::Low => "P4",
        Urgency::Info => "P5",
    }
}

/// `text` with every byte but the unreserved ones (`A-Z a-z 0-9 - _ . ~`)
/// written `%XX`, for one segment of a URL path. An alias of dots only
/// has its dots encoded too: `.` and `..` as a segment would move the path.
pub fn percent_encode(text: &str) -> String {
    if text.bytes().all(|b| b == b'.') {
        return "%2E".repeat(text.len());
    }
    oncall::percent_encode(text)
}

/// The alert's description: the summary, then a line `text: url` per link.
/// The summary gives way first, so the ACK link survives a long one.
fn description(incident: &Incident) -> String {
    let links = incident
        .links
        .iter()
        .map(|l| match l.text.trim() {
            "" => l.url.clone(),
            text => format!("{text}: {}", l.url),
        })
        .collect::<Vec<_>>()
        .join("\n");
    let summary = incident.summary.trim();
    let text = match (summary.is_empty(), links.is_empty()) {
        (true, _) => links,
        (false, true) => summary.to_string(),
        (false, false) => {
            let room = MAX_DESCRIPTION.saturating_sub(links.chars().count() + 2);
            format!("{}\n\n{links}", truncate(summary, room))
        }
    };
    truncate(&text, MAX_DESCRIPTION)
}

/// The alert's details: `versus_incident_id`, then each label as a string
/// while they fit in Opsgenie's limit.
fn details(incident: &Incident) -> Map<String, Value> {
    let mut details = Map::new();
    let id_key = "versus_incident_id";
    let mut used = id_key.len() + incident.id.chars().count();
    details.insert(id_key.into(), Value::from(incident.id.as_str()));
    for (name, value) in incident.labels() {
        if name == id_key {
            continue;
        }
        let value = match value {
            Value::String(s) => s,
            other => other.to_string(),
        };
        let size = name.chars().count() + value.chars().count();
        if used + size > MAX_DETAILS {
            continue;
        }
        used += size;
        details.insert(name, Value::String(value));
    }
    details
}

/// The alert's tags: `versus`, and `severity:<severity>` when it is known.
fn tags(incident: &Incident) -> Vec<String> {
    let mut tags = vec!["versus".to_string()];
    let severity = incident
        .severity
        .as_deref()
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty());
    if let Some(severity) = severity {
        tags.push(truncate(&format!("severity:{severity}"), MAX_TAG));
    }
    tags
}

/// The create-alert request for `incident`.
pub fn create(incident: &Incident) -> Value {
    let title = incident.title.trim();
    let message = if title.is_empty() {
        format!("Versus incident {}", incident.id)
    } else {
        title.to_string()
    };
    let source = match incident.source.trim() {
        "" => "versus",
        source => source,
    };
    let mut body = json!({
        "message": truncate(&message, MAX_MESSAGE),
        "alias": incident.key_within(MAX_ALIAS),
        "source": truncate(source, MAX_SOURCE),
        "priority": priority(incident.urgency()),
        "details": Value::Object(details(incident)),
        "tags": tags(incident),
    });
    let description = description(incident);
    if !description.is_empty() {
        body["description"] = Value::String(description);
    }
    body
}

/// The path of an action on the alert `alias` names.
fn action_path(alias: &str, action: &str) -> String {
    format!(
        "/v2/alerts/{}/{action}?identifierType=alias",
        percent_encode(alias)
    )
}

impl Escalator for Opsgenie {
    const ACKNOWLEDGES: bool = true;

    fn validate_config(config_json: &str) -> Result<(), Error> {
        let settings = Settings::parse(SERVICE, config_json)?;
        settings.url("api_url", Some(DEFAULT_API_URL))?;
        settings.required("api_key")?;
        settings.named("other_api_keys", "API keys").map(drop)
    }

    fn start(
        incident: &Incident,
        config_json: &str,
        send: &mut Send<'_>,
    ) -> Result<Receipt, Error> {
        let target = Target::of(config_json, incident)?;
        target.post("/v2/alerts", &create(incident), send)?;
        Ok(Receipt {
            id: incident.key_within(MAX_ALIAS).to_string(),
            url: None,
        })
    }

    fn acknowledge(
        incident: &Incident,
        receipt: &Receipt,
        who: Option<&str>,
        config_json: &str,
        send: &mut Send<'_>,
    ) -> Result<(), Error> {
        let target = Target::of(config_json, incident)?;
        let who = who.map(str::trim).filter(|w| !w.is_empty());
        let note = match who {
            Some(who) => format!("Acknowledged in Versus by {who} after the page"),
            None => "Acknowledged in Versus after the page".to_string(),
        };
        let body = json!({
            "source": VERSUS,
            "user": truncate(who.unwrap_or(VERSUS), MAX_SOURCE),
            "note": note,
        });
        target.post(&action_path(&receipt.id, "acknowledge"), &body, send)
    }

    fn resolve(
        incident: &Incident,
        receipt: &Receipt,
        config_json: &str,
        send: &mut Send<'_>,
    ) -> Result<(), Error> {
        let target = Target::of(config_json, incident)?;
        let body = json!({"source": VERSUS, "user": VERSUS, "note": "The alert resolved"});
        target.post(&action_path(&receipt.id, "close"), &body, send)
    }
}

versus_plugin_sdk::export_escalator!(Opsgenie);

#[cfg(test)]
mod tests;
