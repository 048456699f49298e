//! A local stand-in for Opsgenie's Alert API v2, reached through
//! `oncall.opsgenie.api_url`. It serves the three calls the escalator
//! makes and checks each against the published API description:
//! - every request: `Authorization: GenieKey <key>`, the key one of those
//!   given to [`OpsgenieEmulator::start`] (a key not shaped like an
//!   Opsgenie key, a UUID, gets 422 `Key format is not valid!`; an unknown
//!   one, or none, 401 `Could not authenticate`);
//! - `POST /v2/alerts` (create): `message` required, 1 to 130 characters;
//!   `alias` and `entity` at most 512; `description` at most 15000;
//!   `source` and `user` at most 100; `note` at most 25000; `priority` one
//!   of `P1`..`P5`; `details` an object of string values, at most 8000
//!   characters of keys and values; `tags` at most 20 strings of at most
//!   50 characters; `actions` at most 10 such strings;
//! - `POST /v2/alerts/{id}/acknowledge` and `POST /v2/alerts/{id}/close`:
//!   `{id}` percent-decoded, `identifierType=alias` in the query; an
//!   optional body with `user` and `source` (at most 100 characters) and
//!   `note` (at most 25000).
//!
//! A valid request gets 202 `{"result":"Request will be processed",…}`,
//! an invalid body 422 `{"message":"Request body is not processable.
//! Please check the errors.","errors":{field: why},…}`. Opsgenie acts on a
//! request after it answers, so an acknowledge or close for an alias with
//! no open alert still gets 202 and does nothing. Like Opsgenie, it keeps
//! one open alert per alias: a create for an alias whose alert is open
//! only raises its count, and close closes it (a later create opens a new
//! one).

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Map, Value, json};

mod check;

pub use check::{check, key_format_ok};

/// Opsgenie's answer to a body it refuses.
const NOT_PROCESSABLE: &str = "Request body is not processable. Please check the errors.";

/// One valid request the emulator accepted (or failed on purpose).
#[derive(Debug, Clone)]
pub struct Event {
    /// `create`, `acknowledge` or `close`.
    action: &'static str,
    /// The alias: the body's for a create, the decoded path's otherwise.
    alias: String,
    /// The API key it came with.
    pub api_key: String,
    /// The JSON body (`{}` when it had none).
    pub body: Value,
    /// When it arrived.
    pub at: Instant,
    /// The status it got.
    pub status: u16,
}

impl Event {
    /// `create`, `acknowledge` or `close`.
    pub fn action(&self) -> &str {
        self.action
    }

    /// The alert's alias: the body's for a create, the path's (decoded)
    /// for an acknowledge or close.
    pub fn alias(&self) -> &str {
        &self.alias
    }
}

/// One alert, as Opsgenie would show it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    /// `open`, `acked` or `closed` (Opsgenie itself keeps `acknowledged`
    /// apart from `open`/`closed`; an acked alert is still open).
    pub status: &'static str,
    /// Creates merged into it (the first included): Opsgenie's `count`.
    pub count: usize,
    /// `message` of the create that opened it.
    pub message: String,
    /// `priority` of the create that opened it (`P3` when it had none).
    pub priority: String,
    /// The API key that opened it.
    pub api_key: String,
}

impl Alert {
    fn is_open(&self) -> bool {
        self.status != "closed"
    }
}

#[derive(Default)]
struct Shared {
    /// The keys that authenticate.
    keys: Vec<String>,
    events: Mutex<Vec<Event>>,
    invalid: Mutex<Vec<(Value, Vec<String>)>>,
    /// Alerts by alias, and how many were ever opened for each alias.
    alerts: Mutex<BTreeMap<String, (Alert, usize)>>,
    /// The next valid requests to fail: (status, Retry-After seconds).
    failing: Mutex<Vec<(u16, Option<u64>)>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A running emulator.
#[derive(Clone)]
pub struct OpsgenieEmulator {
    /// Base URL, for `oncall.opsgenie.api_url`.
    pub url: String,
    shared: Arc<Shared>,
}

impl OpsgenieEmulator {
    /// Starts on a free port, accepting these API keys. They must look like
    /// Opsgenie's (UUIDs such as `0a1b2c3d-0000-4000-8000-000000000001`),
    /// or every request with them would get `Key format is not valid!`.
    pub async fn start(keys: &[&str]) -> Self {
        for key in keys {
            assert!(
                key_format_ok(key),
                "{key:?} is not shaped like an Opsgenie key (a UUID)"
            );
        }
        let shared = Arc::new(Shared {
            keys: keys.iter().map(|k| k.to_string()).collect(),
            ..Shared::default()
        });
        let app = Router::new()
            .route("/v2/alerts", post(create))
            .route("/v2/alerts/{id}/acknowledge", post(acknowledge))
            .route("/v2/alerts/{id}/close", post(close))
            .with_state(shared.clone());
        let url = crate::common::serve(app).await;
        Self { url, shared }
    }

    /// Fails the next valid requests, one per entry: `status` (429 or 5xx)
    /// with `Retry-After` seconds when given.
    pub fn fail_next(&self, failures: &[(u16, Option<u64>)]) {
        *lock(&self.shared.failing) = failures.to_vec();
    }

    /// Every valid request so far, failed ones included.
    pub fn events(&self) -> Vec<Event> {
        lock(&self.shared.events).clone()
    }

    /// The accepted requests with this action (`create`, `acknowledge`,
    /// `close`), in order.
    pub fn events_of(&self, action: &str) -> Vec<Event> {
        self.events()
            .into_iter()
            .filter(|e| e.action == action && e.status == 202)
            .collect()
    }

    /// Every refused request (401, 422), and every acknowledge or close
    /// that did not name the alert by alias, with what was wrong.
    pub fn invalid(&self) -> Vec<(Value, Vec<String>)> {
        lock(&self.shared.invalid).clone()
    }

    /// The alert of an alias, and how many alerts were ever opened for it.
    pub fn alert(&self, alias: &str) -> Option<(Alert, usize)> {
        lock(&self.shared.alerts).get(alias).cloned()
    }

    /// How many alerts were opened, all aliases together.
    pub fn alerts_opened(&self) -> usize {
        lock(&self.shared.alerts).values().map(|(_, n)| n).sum()
    }
}

/// A JSON answer with Opsgenie's `took` and `requestId`.
fn answer(status: StatusCode, mut body: Map<String, Value>) -> Response {
    body.insert("took".into(), json!(0.0));
    body.insert(
        "requestId".into(),
        Value::from(uuid::Uuid::new_v4().to_string()),
    );
    (status, axum::Json(Value::Object(body))).into_response()
}

fn message(text: &str) -> Map<String, Value> {
    let mut body = Map::new();
    body.insert("message".into(), Value::from(text));
    body
}

/// The key of `Authorization: GenieKey <key>`, or Opsgenie's refusal.
fn authenticate(
    shared: &Shared,
    headers: &HeaderMap,
) -> Result<String, (StatusCode, &'static str)> {
    const UNKNOWN: (StatusCode, &str) = (StatusCode::UNAUTHORIZED, "Could not authenticate");
    let Some(value) = headers.get("authorization") else {
        return Err(UNKNOWN);
    };
    let key = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("GenieKey "))
        .map(str::trim)
        .filter(|k| key_format_ok(k))
        .ok_or((StatusCode::UNPROCESSABLE_ENTITY, "Key format is not valid!"))?;
    if !shared.keys.iter().any(|k| k == key) {
        return Err(UNKNOWN);
    }
    Ok(key.to_string())
}

/// `identifierType` of the query; Opsgenie's default is `id`.
fn identifier_type(query: Option<&str>) -> String {
    query
        .unwrap_or("")
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(name, _)| *name == "identifierType")
        .map_or_else(|| "id".to_string(), |(_, value)| value.to_string())
}

async fn create(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    handle(shared, headers, body, "create", None).await
}

async fn acknowledge(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(shared, headers, body, "acknowledge", Some((id, query))).await
}

async fn close(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle(shared, headers, body, "close", Some((id, query))).await
}

/// One request: authenticate, check the body, maybe fail on purpose,
/// then act and answer 202. `target` is the path's identifier and the
/// query, for an acknowledge or close.
async fn handle(
    shared: Arc<Shared>,
    headers: HeaderMap,
    body: Bytes,
    action: &'static str,
    target: Option<(String, Option<String>)>,
) -> Response {
    let parsed = if body.is_empty() && action != "create" {
        Ok(json!({}))
    } else {
        serde_json::from_slice::<Value>(&body)
    };
    let api_key = match authenticate(&shared, &headers) {
        Ok(key) => key,
        Err((status, text)) => {
            let seen = parsed.unwrap_or(Value::Null);
            lock(&shared.invalid).push((seen, vec![format!("{}: {text}", status.as_u16())]));
            return answer(status, message(text));
        }
    };
    let json_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let errors = match (&parsed, json_type || body.is_empty()) {
        (_, false) => BTreeMap::from([(
            "Content-Type".to_string(),
            "must be application/json".to_string(),
        )]),
        (Err(e), _) => BTreeMap::from([("body".to_string(), format!("is not valid JSON: {e}"))]),
        (Ok(v), _) => check(action, v),
    };
    let body = parsed.unwrap_or(Value::Null);
    if !errors.is_empty() {
        let listed = errors.iter().map(|(k, v)| format!("{k}: {v}")).collect();
        lock(&shared.invalid).push((body, listed));
        let mut refusal = message(NOT_PROCESSABLE);
        refusal.insert("errors".into(), json!(errors));
        return answer(StatusCode::UNPROCESSABLE_ENTITY, refusal);
    }
    let (alias, by_alias) = match target {
        None => {
            let alias = body["alias"]
                .as_str()
                .filter(|a| !a.is_empty())
                .map_or_else(|| uuid::Uuid::new_v4().to_string(), str::to_owned);
            (alias, true)
        }
        Some((id, query)) => {
            let kind = identifier_type(query.as_deref());
            if kind != "alias" {
                lock(&shared.invalid).push((
                    body.clone(),
                    vec![format!(
                        "identifierType: {kind}, not alias: Opsgenie would look for an alert \
                         with that {kind} and fail after answering 202"
                    )],
                ));
            }
            (id, kind == "alias")
        }
    };
    let at = Instant::now();
    let failure = {
        let mut failing = lock(&shared.failing);
        (!failing.is_empty()).then(|| failing.remove(0))
    };
    let mut event = Event {
        action,
        alias,
        api_key,
        body,
        at,
        status: 202,
    };
    if let Some((status, retry_after)) = failure {
        event.status = status;
        lock(&shared.events).push(event);
        let text = if status == 429 {
            "You are making too many requests! To avoid errors, we recommend you limit requests."
        } else {
            "Internal Server Error"
        };
        let code = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = answer(code, message(text));
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert("retry-after", HeaderValue::from(secs));
        }
        return response;
    }
    if by_alias {
        apply(&shared, &event);
    }
    lock(&shared.events).push(event);
    let mut accepted = Map::new();
    accepted.insert("result".into(), Value::from("Request will be processed"));
    answer(StatusCode::ACCEPTED, accepted)
}

/// What the request does to the alert of its alias, as Opsgenie: a create
/// opens an alert unless one is open (then its count rises), acknowledge
/// and close act on the open alert and do nothing without one.
fn apply(shared: &Shared, event: &Event) {
    let mut alerts = lock(&shared.alerts);
    let key = event.alias.as_str();
    let open = alerts.get(key).is_some_and(|(a, _)| a.is_open());
    match event.action {
        "create" if open => {
            if let Some((alert, _)) = alerts.get_mut(key) {
                alert.count += 1;
            }
        }
        "create" => {
            let opened = alerts.get(key).map_or(0, |(_, n)| *n);
            let alert = Alert {
                status: "open",
                count: 1,
                message: event.body["message"].as_str().unwrap_or("").to_string(),
                priority: event.body["priority"].as_str().unwrap_or("P3").to_string(),
                api_key: event.api_key.clone(),
            };
            alerts.insert(key.to_string(), (alert, opened + 1));
        }
        "acknowledge" if open => {
            if let Some((alert, _)) = alerts.get_mut(key) {
                alert.status = "acked";
            }
        }
        "close" if open => {
            if let Some((alert, _)) = alerts.get_mut(key) {
                alert.status = "closed";
            }
        }
        _ => {}
    }
}
