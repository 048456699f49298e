//! The built-in ServiceNow escalator: the Table API
//! (`{instance_url}/api/now/table/{table}`). A page opens one record (an
//! incident, by default) whose `correlation_id` is the incident's dedup
//! key; an ACK in Versus after the page moves it to In Progress with a
//! work note, and a resolved alert resolves it.
//!
//! Settings (from `oncall.servicenow`): `instance_url` (e.g.
//! `https://dev12345.service-now.com`), `username` and `password` (Basic
//! auth), `table` (default `incident`), `other_instance_urls` (chosen per
//! alert with `?servicenow_other_instance=NAME`).

use serde_json::{Value, json};
use versus_plugin_sdk::oncall::{
    self, Error, Escalator, Incident, Receipt, Request, Response, Send, Settings, Urgency, routed,
};

/// The table a page opens its record in when `table` is unset.
pub const DEFAULT_TABLE: &str = "incident";

/// How the plugin names ServiceNow in config keys and messages.
const SERVICE: &str = "servicenow";

/// The length of the `short_description` column on ServiceNow's task
/// tables, in characters.
const MAX_SHORT_DESCRIPTION: usize = 160;

/// The length of the `correlation_id` column, in characters: a longer
/// dedup key would be cut by ServiceNow and never found again.
const MAX_CORRELATION_ID: usize = 100;

/// The incident `state` of a record being worked on: In Progress.
const STATE_IN_PROGRESS: &str = "2";

/// The incident `state` of a resolved record.
const STATE_RESOLVED: &str = "6";

/// The query condition that leaves out Resolved (6), Closed (7) and
/// Canceled (8) incidents.
const OPEN_STATES: &str = "stateNOT IN6,7,8";

/// The escalator.
pub struct ServiceNow;

/// What the settings give one call.
struct Target {
    /// The instance's base URL, without a trailing `/`.
    instance: String,
    /// The table records go in.
    table: String,
    /// The `Authorization` header: `Basic base64(username:password)`.
    authorization: String,
}

impl Target {
    fn of(config_json: &str, incident: &Incident) -> Result<Self, Error> {
        let settings = Settings::parse(SERVICE, config_json)?;
        let instance = instance_url(&settings, incident)?;
        let username = settings.required("username")?;
        let password = settings.required("password")?;
        let credentials = format!("{username}:{password}");
        Ok(Self {
            instance: instance.trim_end_matches('/').to_string(),
            table: table(&settings)?,
            authorization: format!("Basic {}", base64(credentials.as_bytes())),
        })
    }

    /// `{instance}/api/now/table/{table}`.
    fn table_url(&self) -> String {
        format!("{}/api/now/table/{}", self.instance, self.table)
    }

    /// A request with the headers every Table API call carries.
    fn request(&self, method: &str, url: String) -> Request {
        Request::new(method, url)
            .header("Accept", "application/json")
            .header("Authorization", &self.authorization)
    }

    /// What the gateway keeps of the record `sys_id`: its id, and the
    /// link that opens it in ServiceNow's UI.
    fn receipt(&self, sys_id: &str) -> Receipt {
        Receipt {
            id: sys_id.to_string(),
            url: Some(format!(
                "{}/nav_to.do?uri={}.do?sys_id={sys_id}",
                self.instance, self.table
            )),
        }
    }

    /// The `sys_id` of the open record whose `correlation_id` is `key`, if
    /// there is one. A resolved incident can stay `active` until it is
    /// closed, so Resolved, Closed and Canceled are excluded by state too:
    /// a new page after a resolve gets a new record.
    fn find(&self, key: &str, send: &mut Send<'_>) -> Result<Option<String>, Error> {
        let query =
            oncall::percent_encode(&format!("correlation_id={key}^active=true^{OPEN_STATES}"));
        let url = format!(
            "{}?sysparm_query={query}&sysparm_limit=1&sysparm_fields=sys_id,number",
            self.table_url()
        );
        let answer = exchange(self.request("GET", url), send)?.json(SERVICE)?;
        Ok(answer["result"]
            .as_array()
            .and_then(|records| records.first())
            .and_then(|record| record["sys_id"].as_str())
            .filter(|id| !id.is_empty())
            .map(str::to_owned))
    }

    /// Changes the fields in `changes` on the record the receipt names.
    fn update(&self, receipt: &Receipt, changes: &Value, send: &mut Send<'_>) -> Result<(), Error> {
        let sys_id = receipt.id.trim();
        if sys_id.is_empty() {
            return Err(Error::Permanent(
                "the receipt names no ServiceNow record (its sys_id is empty)".into(),
            ));
        }
        let url = format!("{}/{}", self.table_url(), oncall::percent_encode(sys_id));
        exchange(self.request("PATCH", url).json(changes), send).map(drop)
    }
}

/// The instance URL for `incident`: `instance_url`, or the entry of
/// `other_instance_urls` its route names.
fn instance_url(settings: &Settings, incident: &Incident) -> Result<String, Error> {
    let Some(route) = incident.route.as_deref() else {
        return settings.url("instance_url", None);
    };
    let url = routed(settings, incident, "instance_url", "other_instance_urls")?;
    if !is_http(&url) {
        return Err(Error::Config(format!(
            "{SERVICE}.other_instance_urls.{route} must be an http or https URL, got {url:?}"
        )));
    }
    Ok(url)
}

fn is_http(url: &str) -> bool {
    url.starts_with("https://") || url.starts_with("http://")
}

/// The table at `table`, `incident` when unset. It goes into URL paths, so
/// only a plain name (letters, digits, `_`) is accepted.
fn table(settings: &Settings) -> Result<String, Error> {
    let table = settings
        .text("table")?
        .unwrap_or_else(|| DEFAULT_TABLE.to_string());
    if !table.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(Error::Config(format!(
            "{SERVICE}.table must be a table name of letters, digits and `_` (e.g. `incident`), \
             got {table:?}"
        )));
    }
    Ok(table)
}

/// Sends one request and reads ServiceNow's answer: a 2xx is returned; a
/// 4xx other than 408 and 429 is refused for good, quoting ServiceNow's
/// `error.message` and `error.detail`; 408, 429 and 5xx are retried, no
/// sooner than their `Retry-After`.
fn exchange(request: Request, send: &mut Send<'_>) -> Result<Response, Error> {
    let response = send(request).map_err(|e| oncall::from_http_error(SERVICE, e))?;
    if (400..=499).contains(&response.status) && !oncall::transient_status(response.status) {
        return Err(refused(&response));
    }
    oncall::check_status(SERVICE, &response)?;
    Ok(response)
}

/// The permanent error for a refused request:
/// `{"error":{"message":…,"detail":…},"status":"failure"}` quoted, or the
/// start of the body when it is not that.
fn refused(response: &Response) -> Error {
    let body = response.json(SERVICE).unwrap_or_default();
    let field = |key: &str| {
        body["error"][key]
            .as_str()
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    let why = match (field("message"), field("detail")) {
        (Some(message), Some(detail)) => format!("{message}: {detail}"),
        (Some(one), None) | (None, Some(one)) => one.to_string(),
        (None, None) => oncall::body_snippet(&response.body),
    };
    let why = if why.is_empty() {
        why
    } else {
        format!(": {why}")
    };
    let hint = match response.status {
        401 => " (check servicenow.username and servicenow.password)",
        403 => " (check the user's roles on the table)",
        _ => "",
    };
    Error::Permanent(format!(
        "servicenow refused the request (http {}){why}{hint}",
        response.status
    ))
}

/// ServiceNow's urgency (and impact) for the alert's urgency: `1` high,
/// `2` medium, `3` low.
pub fn urgency(urgency: Urgency) -> &'static str {
    match urgency {
        Urgency::Critical => "1",
        Urgency::High | Urgency::Medium => "2",
        Urgency::Low | Urgency::Info => "3",
    }
}

/// The `correlation_id` of the incident's record: its dedup key, or its
/// id when the key is longer than the column or holds a `^` (the
/// separator of ServiceNow's encoded queries, which would break the
/// lookup).
fn correlation_id(incident: &Incident) -> &str {
    match incident.key_within(MAX_CORRELATION_ID) {
        key if key.contains('^') => &incident.id,
        key => key,
    }
}

/// The record a page creates for `incident`.
pub fn record(incident: &Incident) -> Value {
    let title = incident.title.trim();
    let title = if title.is_empty() {
        format!("Versus incident {}", incident.id)
    } else {
        title.to_string()
    };
    let level = urgency(incident.urgency());
    json!({
        "short_description": versus_plugin_sdk::truncate(&title, MAX_SHORT_DESCRIPTION),
        "description": description(incident),
        "correlation_id": correlation_id(incident),
        "correlation_display": "Versus",
        "urgency": level,
        "impact": level,
    })
}

/// The summary, then one `text: url` line per link, then the incident id.
fn description(incident: &Incident) -> String {
    let mut lines = Vec::new();
    let summary = incident.summary.trim();
    if !summary.is_empty() {
        lines.push(summary.to_string());
    }
    lines.extend(
        incident
            .links
            .iter()
            .map(|l| format!("{}: {}", l.text, l.url)),
    );
    lines.push(format!("Versus incident: {}", incident.id));
    lines.join("\n")
}

impl Escalator for ServiceNow {
    /// An ACK after the page moves the record to In Progress.
    const ACKNOWLEDGES: bool = true;

    fn validate_config(config_json: &str) -> Result<(), Error> {
        let settings = Settings::parse(SERVICE, config_json)?;
        settings.url("instance_url", None)?;
        settings.required("username")?;
        settings.required("password")?;
        table(&settings)?;
        for (name, url) in settings.named("other_instance_urls", "instance URLs")? {
            if let Some(url) = url.filter(|u| !is_http(u)) {
                return Err(Error::Config(format!(
                    "{SERVICE}.other_instance_urls.{name} must be an http or https URL, got {url:?}"
                )));
            }
        }
        Ok(())
    }

    fn start(
        incident: &Incident,
        config_json: &str,
        send: &mut Send<'_>,
    ) -> Result<Receipt, Error> {
        // Strategy: the Table API has no idempotency key, so the dedup key
        // goes in the record's `correlation_id`, and a page first looks for
        // an active record that carries it. A retry after a lost answer or
        // a crash finds the record the first try opened instead of opening
        // a second one.
        let target = Target::of(config_json, incident)?;
        if let Some(sys_id) = target.find(correlation_id(incident), send)? {
            return Ok(target.receipt(&sys_id));
        }
        let request = target
            .request("POST", target.table_url())
            .json(&record(incident));
        let answer = exchange(request, send)?.json(SERVICE)?;
        let sys_id = answer["result"]["sys_id"]
            .as_str()
            .filter(|id| !id.is_empty())
            .ok_or_else(|| {
                Error::Permanent(format!(
                    "servicenow answered the create without a result.sys_id: {}",
                    oncall::body_snippet(answer.to_string().as_bytes())
                ))
            })?;
        Ok(target.receipt(sys_id))
    }

    fn acknowledge(
        incident: &Incident,
        receipt: &Receipt,
        who: Option<&str>,
        config_json: &str,
        send: &mut Send<'_>,
    ) -> Result<(), Error> {
        let target = Target::of(config_json, incident)?;
        let mut note = "Acknowledged in Versus after the page".to_string();
        if let Some(who) = who.map(str::trim).filter(|w| !w.is_empty()) {
            note = format!("{note} by {who}");
        }
        let changes = json!({ "state": STATE_IN_PROGRESS, "work_notes": note });
        target.update(receipt, &changes, send)
    }

    fn resolve(
        incident: &Incident,
        receipt: &Receipt,
        config_json: &str,
        send: &mut Send<'_>,
    ) -> Result<(), Error> {
        let target = Target::of(config_json, incident)?;
        let changes = json!({
            "state": STATE_RESOLVED,
            "close_code": "Resolved by caller",
            "close_notes": "The alert resolved (Versus)",
        });
        target.update(receipt, &changes, send)
    }
}

/// Standard base64 with padding (RFC 4648), for the Basic credentials.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let byte = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let n = (byte(0) << 16) | (byte(1) << 8) | byte(2);
        for i in 0..4 {
            if i <= chunk.len() {
                let sextet = (n >> (18 - 6 * i)) & 0x3f;
                out.push(char::from(ALPHABET[sextet as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

versus_plugin_sdk::export_escalator!(ServiceNow);

#[cfg(test)]
mod tests;
