//! A local stand-in for incident.io's alert events API for HTTP alert
//! sources (`POST /v2/alert_events/http/{alert_source_config_id}`),
//! reached through `oncall.incident_io.api_url`. It checks each event
//! against the published API description and answers as incident.io does:
//! - `Authorization: Bearer <the source's API key>`, else 401;
//! - a known alert source config id in the path, else 404;
//! - `title` (a non-empty string) and `status` (`firing` or `resolved`)
//!   required; `deduplication_key`, `description` and `source_url` strings,
//!   `metadata` an object, when given; else 422 with a `validation_error`
//!   naming each field.
//!
//! A valid event gets 202 `{"status":"success","message":"Event accepted
//! for processing","deduplication_key":…}`. Like incident.io, it keeps one
//! alert per deduplication key: `firing` opens it unless it is open (then
//! the event updates it), `resolved` closes it.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

/// One valid event the emulator accepted (or failed on purpose).
#[derive(Debug, Clone)]
pub struct Event {
    /// The alert source config id of the path.
    pub source: String,
    /// The JSON body.
    pub body: Value,
    /// The status it got.
    pub status: u16,
}

impl Event {
    /// `status` of the body (`firing` or `resolved`).
    pub fn state(&self) -> &str {
        self.body["status"].as_str().unwrap_or("")
    }

    /// `deduplication_key`.
    pub fn key(&self) -> &str {
        self.body["deduplication_key"].as_str().unwrap_or("")
    }
}

#[derive(Default)]
struct Shared {
    /// The alert sources: config id → API key.
    sources: BTreeMap<String, String>,
    events: Mutex<Vec<Event>>,
    refused: Mutex<Vec<(u16, Value)>>,
    /// Alerts by deduplication key: (firing?, events merged, times opened).
    alerts: Mutex<BTreeMap<String, (bool, usize, usize)>>,
    failing: Mutex<Vec<(u16, Option<u64>)>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A running emulator.
#[derive(Clone)]
pub struct IncidentIoEmulator {
    /// Base URL, for `oncall.incident_io.api_url`.
    pub url: String,
    shared: Arc<Shared>,
}

impl IncidentIoEmulator {
    /// Starts on a free port with these alert sources (config id, API key).
    pub async fn start(sources: &[(&str, &str)]) -> Self {
        let shared = Arc::new(Shared {
            sources: sources
                .iter()
                .map(|(id, key)| (id.to_string(), key.to_string()))
                .collect(),
            ..Shared::default()
        });
        let app = Router::new()
            .route("/v2/alert_events/http/{source}", post(event))
            .with_state(shared.clone());
        let url = crate::common::serve(app).await;
        Self { url, shared }
    }

    /// Fails the next valid events, one per entry: `status` with
    /// `Retry-After` seconds when given.
    pub fn fail_next(&self, failures: &[(u16, Option<u64>)]) {
        *lock(&self.shared.failing) = failures.to_vec();
    }

    /// Every valid event so far, failed ones included.
    pub fn events(&self) -> Vec<Event> {
        lock(&self.shared.events).clone()
    }

    /// Refused requests: the status and the body.
    pub fn refused(&self) -> Vec<(u16, Value)> {
        lock(&self.shared.refused).clone()
    }

    /// The alert of a key: whether it is firing, the events merged into it
    /// while open, and how many times an alert was opened for the key.
    pub fn alert(&self, key: &str) -> Option<(bool, usize, usize)> {
        lock(&self.shared.alerts).get(key).copied()
    }
}

/// The validation errors incident.io would list for `body`.
pub fn check(body: &Value) -> Vec<(String, String)> {
    let mut errors = Vec::new();
    let mut fail = |field: &str, message: &str| errors.push((field.into(), message.into()));
    match body.get("title").and_then(Value::as_str) {
        Some(t) if !t.trim().is_empty() => {}
        _ => fail("title", "must be provided and not be blank"),
    }
    match body.get("status").and_then(Value::as_str) {
        Some("firing" | "resolved") => {}
        _ => fail("status", "must be one of firing, resolved"),
    }
    for field in ["deduplication_key", "description", "source_url"] {
        if body.get(field).is_some_and(|v| !v.is_string()) {
            fail(field, "must be a string");
        }
    }
    if body.get("metadata").is_some_and(|v| !v.is_object()) {
        fail("metadata", "must be an object");
    }
    errors
}

fn refuse(shared: &Shared, status: StatusCode, kind: &str, errors: Value) -> Response {
    let body = json!({
        "type": kind,
        "status": status.as_u16(),
        "request_id": uuid::Uuid::new_v4().to_string(),
        "errors": errors,
    });
    lock(&shared.refused).push((status.as_u16(), body.clone()));
    (status, axum::Json(body)).into_response()
}

async fn event(
    State(shared): State<Arc<Shared>>,
    Path(source): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let Some(key) = shared.sources.get(&source) else {
        let errors = json!([{"code": "not_found", "message": "alert source config not found"}]);
        return refuse(&shared, StatusCode::NOT_FOUND, "not_found", errors);
    };
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if bearer != Some(key.as_str()) {
        let errors = json!([{"code": "unauthenticated", "message": "invalid API key"}]);
        return refuse(
            &shared,
            StatusCode::UNAUTHORIZED,
            "authentication_error",
            errors,
        );
    }
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        let errors = json!([{"code": "invalid_json", "message": "body is not JSON"}]);
        return refuse(
            &shared,
            StatusCode::BAD_REQUEST,
            "invalid_request_error",
            errors,
        );
    };
    let invalid = check(&body);
    if !invalid.is_empty() {
        let errors: Vec<Value> = invalid
            .iter()
            .map(|(field, message)| {
                json!({"code": "invalid", "message": message, "source": {"field": field}})
            })
            .collect();
        return refuse(
            &shared,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_error",
            Value::from(errors),
        );
    }
    let failure = {
        let mut failing = lock(&shared.failing);
        (!failing.is_empty()).then(|| failing.remove(0))
    };
    let status = failure.map_or(202, |(status, _)| status);
    lock(&shared.events).push(Event {
        source,
        body: body.clone(),
        status,
    });
    if let Some((status, retry_after)) = failure {
        let mut response = (
            StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
            axum::Json(json!({"type": "rate_limited", "status": status})),
        )
            .into_response();
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert("retry-after", secs.to_string().parse().expect("header"));
        }
        return response;
    }
    let key = body["deduplication_key"]
        .as_str()
        .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
    let firing = body["status"] == "firing";
    let mut alerts = lock(&shared.alerts);
    let entry = alerts.entry(key.clone()).or_insert((false, 0, 0));
    match (entry.0, firing) {
        (true, true) => entry.1 += 1,
        (false, true) => *entry = (true, 1, entry.2 + 1),
        (true, false) => entry.0 = false,
        (false, false) => {}
    }
    drop(alerts);
    let answer = json!({
        "status": "success",
        "message": "Event accepted for processing",
        "deduplication_key": key,
    });
    (StatusCode::ACCEPTED, axum::Json(answer)).into_response()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::check;

    #[test]
    fn the_description_is_enforced() {
        let good = json!({"title": "t", "status": "firing", "deduplication_key": "k",
            "metadata": {"a": 1}, "source_url": "http://x"});
        assert!(check(&good).is_empty());
        for (bad, field) in [
            (json!({"status": "firing"}), "title"),
            (json!({"title": " ", "status": "firing"}), "title"),
            (json!({"title": "t", "status": "acknowledged"}), "status"),
            (
                json!({"title": "t", "status": "firing", "metadata": [1]}),
                "metadata",
            ),
            (
                json!({"title": "t", "status": "firing", "deduplication_key": 3}),
                "deduplication_key",
            ),
        ] {
            let errors = check(&bad);
            assert!(errors.iter().any(|(f, _)| f == field), "{bad}: {errors:?}");
        }
    }
}
