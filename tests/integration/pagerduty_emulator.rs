//! A local stand-in for PagerDuty's Events API v2 (`POST /v2/enqueue`),
//! reached through `oncall.pagerduty.api_url`. It checks each event
//! against the published API description and answers as PagerDuty does:
//! - `routing_key`: a string of exactly 32 characters;
//! - `event_action`: `trigger`, `acknowledge` or `resolve`;
//! - `dedup_key`: a string of at most 255 characters, required for
//!   `acknowledge` and `resolve` (PagerDuty makes one up for a trigger
//!   without it);
//! - a trigger's `payload`: `summary` (1 to 1024 characters), `source`
//!   (not empty) and `severity` (`critical`, `error`, `warning` or `info`)
//!   are required; `timestamp`, `component`, `group`, `class` are strings
//!   and `custom_details` anything;
//! - `links`: objects with a string `href` (and an optional string
//!   `text`); `images`: objects with a string `src`; `client` and
//!   `client_url` strings.
//!
//! A valid event gets 202 `{"status":"success","message":"Event
//! processed","dedup_key":…}`, an invalid one 400 `{"status":"invalid
//! event","message":"Event object is invalid","errors":[…]}`. Like
//! PagerDuty, it opens one alert per dedup key: a trigger for a key whose
//! alert is open is merged into it, and `resolve` closes it.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

/// PagerDuty's severities.
const SEVERITIES: &[&str] = &["critical", "error", "warning", "info"];

/// One valid event the emulator accepted (or failed on purpose).
#[derive(Debug, Clone)]
pub struct Event {
    /// The JSON body.
    pub body: Value,
    /// When it arrived.
    pub at: Instant,
    /// The status it got.
    pub status: u16,
}

impl Event {
    /// `event_action`.
    pub fn action(&self) -> &str {
        self.body["event_action"].as_str().unwrap_or("")
    }

    /// `dedup_key`.
    pub fn key(&self) -> &str {
        self.body["dedup_key"].as_str().unwrap_or("")
    }
}

/// One alert, as PagerDuty would show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// `triggered`, `acknowledged` or `resolved`.
    pub status: &'static str,
    /// Triggers merged into it (the first included).
    pub triggers: usize,
    /// The routing key it came in on.
    pub routing_key: String,
}

#[derive(Default)]
struct Shared {
    events: Mutex<Vec<Event>>,
    invalid: Mutex<Vec<(Value, Vec<String>)>>,
    /// Alerts by dedup key, and how many were ever opened for each key.
    alerts: Mutex<BTreeMap<String, (Alert, usize)>>,
    /// The next valid events to fail: (status, Retry-After seconds).
    failing: Mutex<Vec<(u16, Option<u64>)>>,
    /// Valid events still to answer late, and how late.
    slow: Mutex<(usize, Duration)>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A running emulator.
#[derive(Clone)]
pub struct PagerDutyEmulator {
    /// Base URL, for `oncall.pagerduty.api_url`.
    pub url: String,
    shared: Arc<Shared>,
}

impl PagerDutyEmulator {
    /// Starts on a free port.
    pub async fn start() -> Self {
        let shared: Arc<Shared> = Arc::default();
        let app = Router::new()
            .route("/v2/enqueue", post(enqueue))
            .with_state(shared.clone());
        let url = crate::common::serve(app).await;
        Self { url, shared }
    }

    /// Fails the next valid events, one per entry: `status` (429 or 5xx)
    /// with `Retry-After` seconds when given.
    pub fn fail_next(&self, failures: &[(u16, Option<u64>)]) {
        *lock(&self.shared.failing) = failures.to_vec();
    }

    /// Answers the next `n` valid events only after `delay`; they take
    /// effect when they arrive, as at PagerDuty.
    pub fn slow_next(&self, n: usize, delay: Duration) {
        *lock(&self.shared.slow) = (n, delay);
    }

    /// Every valid event so far, failed ones included.
    pub fn events(&self) -> Vec<Event> {
        lock(&self.shared.events).clone()
    }

    /// The valid events with this action, in order.
    pub fn events_of(&self, action: &str) -> Vec<Event> {
        self.events()
            .into_iter()
            .filter(|e| e.action() == action && e.status == 202)
            .collect()
    }

    /// Every refused event, with PagerDuty's errors.
    pub fn invalid(&self) -> Vec<(Value, Vec<String>)> {
        lock(&self.shared.invalid).clone()
    }

    /// The alert of a dedup key, and how many alerts were ever opened for it.
    pub fn alert(&self, key: &str) -> Option<(Alert, usize)> {
        lock(&self.shared.alerts).get(key).cloned()
    }

    /// How many alerts were opened, all keys together.
    pub fn alerts_opened(&self) -> usize {
        lock(&self.shared.alerts).values().map(|(_, n)| n).sum()
    }
}

/// The errors PagerDuty would list for `body`, empty when it is valid.
pub fn check(body: &Value) -> Vec<String> {
    let mut errors = Vec::new();
    let Some(obj) = body.as_object() else {
        return vec!["Event object must be a JSON object".into()];
    };
    match obj.get("routing_key").and_then(Value::as_str) {
        None => errors.push("'routing_key' is missing or blank".into()),
        Some(k) if k.chars().count() != 32 => {
            errors.push("Length of 'routing_key' is incorrect (should be 32 characters)".into())
        }
        Some(_) => {}
    }
    let action = obj
        .get("event_action")
        .and_then(Value::as_str)
        .unwrap_or("");
    if !["trigger", "acknowledge", "resolve"].contains(&action) {
        errors.push(
            "'event_action' is invalid (must be one of trigger, acknowledge, resolve)".into(),
        );
    }
    match obj.get("dedup_key") {
        None | Some(Value::Null) if action != "trigger" => {
            errors.push("'dedup_key' is missing or blank".into())
        }
        None | Some(Value::Null) => {}
        Some(Value::String(k)) if k.is_empty() || k.chars().count() > 255 => {
            errors.push("'dedup_key' must be 1 to 255 characters".into())
        }
        Some(Value::String(_)) => {}
        Some(_) => errors.push("'dedup_key' must be a string".into()),
    }
    for key in ["client", "client_url"] {
        if obj.get(key).is_some_and(|v| !v.is_string()) {
            errors.push(format!("'{key}' must be a string"));
        }
    }
    check_list(obj.get("links"), "links", "href", &mut errors);
    check_list(obj.get("images"), "images", "src", &mut errors);
    if action == "trigger" {
        check_payload(obj.get("payload"), &mut errors);
    }
    errors
}

fn check_payload(payload: Option<&Value>, errors: &mut Vec<String>) {
    let Some(p) = payload.and_then(Value::as_object) else {
        errors.push("'payload' is missing or not an object".into());
        return;
    };
    match p.get("summary").and_then(Value::as_str) {
        Some(s) if !s.is_empty() && s.chars().count() <= 1024 => {}
        _ => errors.push("'payload.summary' must be 1 to 1024 characters".into()),
    }
    let source = p.get("source").and_then(Value::as_str).unwrap_or("");
    if source.is_empty() {
        errors.push("'payload.source' is missing or blank".into());
    }
    if !p
        .get("severity")
        .and_then(Value::as_str)
        .is_some_and(|s| SEVERITIES.contains(&s))
    {
        errors.push(
            "'payload.severity' is invalid (must be one of critical, error, warning, info)".into(),
        );
    }
    for key in ["timestamp", "component", "group", "class"] {
        if p.get(key).is_some_and(|v| !v.is_string()) {
            errors.push(format!("'payload.{key}' must be a string"));
        }
    }
}

fn check_list(list: Option<&Value>, name: &str, required: &str, errors: &mut Vec<String>) {
    let Some(list) = list else { return };
    let Some(items) = list.as_array() else {
        errors.push(format!("'{name}' must be an array"));
        return;
    };
    for item in items {
        let ok = item.get(required).is_some_and(Value::is_string)
            && item.get("text").is_none_or(Value::is_string);
        if !ok {
            errors.push(format!("each of '{name}' needs a string '{required}'"));
        }
    }
}

async fn enqueue(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let json_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let parsed = serde_json::from_slice::<Value>(&body);
    let errors = match (&parsed, json_type) {
        (_, false) => vec!["Content-Type must be application/json".to_string()],
        (Err(_), _) => vec!["Event object is not valid JSON".to_string()],
        (Ok(v), _) => check(v),
    };
    let body = parsed.unwrap_or(Value::Null);
    if !errors.is_empty() {
        lock(&shared.invalid).push((body, errors.clone()));
        let answer = json!({
            "status": "invalid event",
            "message": "Event object is invalid",
            "errors": errors,
        });
        return (StatusCode::BAD_REQUEST, axum::Json(answer)).into_response();
    }
    let at = Instant::now();
    let failure = {
        let mut failing = lock(&shared.failing);
        (!failing.is_empty()).then(|| failing.remove(0))
    };
    if let Some((status, retry_after)) = failure {
        lock(&shared.events).push(Event { body, at, status });
        let message = if status == 429 {
            json!({"status": "throttle event", "message": "Requests for this service are arriving too quickly.  Please retry later."})
        } else {
            json!({"status": "error", "message": "Internal server error"})
        };
        let mut response = (
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            axum::Json(message),
        )
            .into_response();
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert("retry-after", secs.to_string().parse().expect("header"));
        }
        return response;
    }
    let key = body["dedup_key"]
        .as_str()
        .map_or_else(|| uuid::Uuid::new_v4().simple().to_string(), str::to_owned);
    apply(&shared, &body, &key);
    lock(&shared.events).push(Event {
        body,
        at,
        status: 202,
    });
    let delay = {
        let mut slow = lock(&shared.slow);
        (slow.0 > 0).then(|| {
            slow.0 -= 1;
            slow.1
        })
    };
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    let answer = json!({"status": "success", "message": "Event processed", "dedup_key": key});
    (StatusCode::ACCEPTED, axum::Json(answer)).into_response()
}

/// What the event does to the alert of its key, as PagerDuty: a trigger
/// opens an alert unless one is open (then it merges), acknowledge and
/// resolve act on the open alert and are ignored without one.
fn apply(shared: &Shared, body: &Value, key: &str) {
    let mut alerts = lock(&shared.alerts);
    let routing_key = body["routing_key"].as_str().unwrap_or("").to_string();
    let open = alerts.get(key).is_some_and(|(a, _)| a.status != "resolved");
    match body["event_action"].as_str() {
        Some("trigger") if open => {
            if let Some((alert, _)) = alerts.get_mut(key) {
                alert.triggers += 1;
            }
        }
        Some("trigger") => {
            let opened = alerts.get(key).map_or(0, |(_, n)| *n);
            let alert = Alert {
                status: "triggered",
                triggers: 1,
                routing_key,
            };
            alerts.insert(key.to_string(), (alert, opened + 1));
        }
        Some("acknowledge") if open => {
            if let Some((alert, _)) = alerts.get_mut(key) {
                alert.status = "acknowledged";
            }
        }
        Some("resolve") if open => {
            if let Some((alert, _)) = alerts.get_mut(key) {
                alert.status = "resolved";
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::check;

    const KEY: &str = "R0UTINGKEY0000000000000000000001";

    #[test]
    fn the_description_is_enforced() {
        let good = json!({"routing_key": KEY, "event_action": "trigger", "dedup_key": "k",
            "payload": {"summary": "s", "source": "x", "severity": "critical"},
            "links": [{"href": "http://a", "text": "t"}], "client": "c"});
        assert!(check(&good).is_empty(), "{:?}", check(&good));
        let ack = json!({"routing_key": KEY, "event_action": "acknowledge", "dedup_key": "k"});
        assert!(check(&ack).is_empty());
        for (bad, why) in [
            (
                json!({"routing_key": "short", "event_action": "resolve", "dedup_key": "k"}),
                "32 characters",
            ),
            (
                json!({"routing_key": KEY, "event_action": "resolve"}),
                "dedup_key",
            ),
            (
                json!({"routing_key": KEY, "event_action": "page", "dedup_key": "k"}),
                "event_action",
            ),
            (
                json!({"routing_key": KEY, "event_action": "trigger"}),
                "payload",
            ),
            (
                json!({"routing_key": KEY, "event_action": "trigger",
                "payload": {"summary": "s", "source": "x", "severity": "high"}}),
                "severity",
            ),
            (
                json!({"routing_key": KEY, "event_action": "trigger",
                "payload": {"summary": "", "source": "x", "severity": "info"}}),
                "summary",
            ),
            (
                json!({"routing_key": KEY, "event_action": "trigger", "links": [{"text": "t"}],
                "payload": {"summary": "s", "source": "x", "severity": "info"}}),
                "href",
            ),
        ] {
            let errors = check(&bad).join("; ");
            assert!(errors.contains(why), "{bad}: {errors}");
        }
    }
}
