//! A local stand-in for ServiceNow's Table API, reached through
//! `oncall.servicenow.instance_url`. It serves the three calls the
//! ServiceNow escalator makes and answers as ServiceNow does:
//! - every call: `Authorization: Basic base64(user:password)` for the user
//!   it was started with, else 401 `User Not Authenticated`;
//! - `GET /api/now/table/{table}?sysparm_query=correlation_id=X^active=true^stateNOT IN6,7,8`
//!   (percent-encoded, with optional `sysparm_limit` and `sysparm_fields`):
//!   the table's active records (state not Resolved) whose
//!   `correlation_id` is X, as `{"result":[…]}`. Any other query is
//!   refused (400): ServiceNow may instead drop a condition it cannot
//!   read and answer with too many records, which a test should not miss;
//! - `POST /api/now/table/{table}`: a JSON object with `short_description`
//!   (1 to 160 characters), `correlation_id` (1 to 100) and `urgency` and
//!   `impact` (`"1"`, `"2"` or `"3"`); 201 `{"result":{…}}` with a new
//!   `sys_id` (32 hex digits) and `number` (`INC0010001`, `INC0010002`, …);
//! - `PATCH /api/now/table/{table}/{sys_id}`: a JSON object whose `state`,
//!   when given, is `"2"` (In Progress) or `"6"` (Resolved, which needs
//!   `close_code` and `close_notes`); 200 `{"result":{…}}`, or 404 `No
//!   Record found` for a record it does not have.
//!
//! POST and PATCH need `Content-Type: application/json`, and every field
//! of their body is a single value. A refused call gets
//! `{"error":{"message":…,"detail":…},"status":"failure"}`.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch};
use serde_json::{Value, json};

mod check;

pub use check::{Lookup, check_create, check_update, lookup};
use check::{base64, percent_decode, text};

/// The `state` of a new record: New.
const STATE_NEW: &str = "1";

/// The `state` values a PATCH may set: In Progress and Resolved.
const STATE_IN_PROGRESS: &str = "2";
const STATE_RESOLVED: &str = "6";

/// The length of ServiceNow's `short_description` column. ServiceNow
/// would cut a longer one; the emulator refuses it, so the bug shows.
const MAX_SHORT_DESCRIPTION: usize = 160;

/// The length of ServiceNow's `correlation_id` column: a longer key would
/// be cut and never found again by the lookup.
const MAX_CORRELATION_ID: usize = 100;

/// One call the emulator answered, refused ones included.
#[derive(Debug, Clone)]
pub struct Request {
    /// `GET`, `POST` or `PATCH`.
    pub method: &'static str,
    /// The path and query, as sent.
    pub path: String,
    /// The JSON body; `null` for a GET or a body that is not JSON.
    pub body: Value,
    /// When it arrived.
    pub at: Instant,
    /// The status it got.
    pub status: u16,
}

/// One refused call, with what ServiceNow would say.
#[derive(Debug, Clone)]
pub struct Refusal {
    /// `GET`, `POST` or `PATCH`.
    pub method: &'static str,
    /// The path and query, as sent.
    pub path: String,
    /// The JSON body; `null` for a GET or a body that is not JSON.
    pub body: Value,
    /// 400, 401 or 404.
    pub status: u16,
    /// `error.message`.
    pub message: String,
    /// `error.detail`.
    pub detail: String,
}

/// One record, as ServiceNow would keep it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// 32 hex digits.
    pub sys_id: String,
    /// `INC0010001`, `INC0010002`, … in order of creation.
    pub number: String,
    /// The table it was created in.
    pub table: String,
    /// The key the escalator finds it again by.
    pub correlation_id: String,
    /// `correlation_display`, empty when not given.
    pub correlation_display: String,
    /// `short_description`.
    pub short_description: String,
    /// `description`, empty when not given.
    pub description: String,
    /// `"1"` to `"3"`.
    pub urgency: String,
    /// `"1"` to `"3"`.
    pub impact: String,
    /// `"1"` New, `"2"` In Progress, `"6"` Resolved.
    pub state: String,
    /// Every non-empty work note added, in order.
    pub work_notes: Vec<String>,
    /// `close_code`, empty until resolved.
    pub close_code: String,
    /// `close_notes`, empty until resolved.
    pub close_notes: String,
}

impl Record {
    /// Whether it is still open: not Resolved (nor Closed or Canceled).
    pub fn active(&self) -> bool {
        !matches!(self.state.as_str(), STATE_RESOLVED | "7" | "8")
    }

    /// The record as the Table API shows it: every value a string.
    fn to_json(&self) -> Value {
        // ServiceNow's default priority matrix: 1/1 is 1 Critical, down
        // to 3/3, 5 Planning.
        let level = |v: &str| v.parse::<u8>().unwrap_or(3).clamp(1, 3);
        let priority = level(&self.urgency) + level(&self.impact) - 1;
        json!({
            "sys_id": self.sys_id,
            "number": self.number,
            "sys_class_name": self.table,
            "state": self.state,
            "active": self.active().to_string(),
            "short_description": self.short_description,
            "description": self.description,
            "correlation_id": self.correlation_id,
            "correlation_display": self.correlation_display,
            "urgency": self.urgency,
            "impact": self.impact,
            "priority": priority.to_string(),
            // A journal field reads back empty, as at ServiceNow.
            "work_notes": "",
            "close_code": self.close_code,
            "close_notes": self.close_notes,
        })
    }
}

#[derive(Default)]
struct Shared {
    /// `base64(user:password)` of the one user.
    credentials: String,
    requests: Mutex<Vec<Request>>,
    invalid: Mutex<Vec<Refusal>>,
    records: Mutex<Vec<Record>>,
    /// The next valid calls to fail: (status, Retry-After seconds).
    failing: Mutex<Vec<(u16, Option<u64>)>>,
    /// Valid calls still to answer late, and how late.
    slow: Mutex<(usize, Duration)>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A running emulator.
#[derive(Clone)]
pub struct ServiceNowEmulator {
    /// Base URL, for `oncall.servicenow.instance_url`.
    pub url: String,
    shared: Arc<Shared>,
}

impl ServiceNowEmulator {
    /// Starts on a free port, accepting `user` with `password`.
    pub async fn start(user: &str, password: &str) -> Self {
        let shared = Arc::new(Shared {
            credentials: base64(format!("{user}:{password}").as_bytes()),
            ..Shared::default()
        });
        let app = Router::new()
            .route("/api/now/table/{table}", get(list).post(create))
            .route("/api/now/table/{table}/{sys_id}", patch(update))
            .with_state(shared.clone());
        let url = crate::common::serve(app).await;
        Self { url, shared }
    }

    /// Fails the next valid calls, one per entry: `status` (429 or 5xx)
    /// with `Retry-After` seconds when given. A failed call changes nothing.
    pub fn fail_next(&self, failures: &[(u16, Option<u64>)]) {
        *lock(&self.shared.failing) = failures.to_vec();
    }

    /// Answers the next `n` valid creates (`POST`s) only after `delay`;
    /// they take effect when they arrive, as at ServiceNow.
    pub fn slow_creates(&self, n: usize, delay: Duration) {
        *lock(&self.shared.slow) = (n, delay);
    }

    /// Every call so far, refused and failed ones included.
    pub fn requests(&self) -> Vec<Request> {
        lock(&self.shared.requests).clone()
    }

    /// Every refused call, with ServiceNow's error.
    pub fn invalid(&self) -> Vec<Refusal> {
        lock(&self.shared.invalid).clone()
    }

    /// Every record, in order of creation.
    pub fn records(&self) -> Vec<Record> {
        lock(&self.shared.records).clone()
    }

    /// How many records were created.
    pub fn created(&self) -> usize {
        lock(&self.shared.records).len()
    }
}

/// A refusal's status and body.
fn failure(status: StatusCode, message: &str, detail: &str) -> (StatusCode, Value) {
    let body = json!({"error": {"message": message, "detail": detail}, "status": "failure"});
    (status, body)
}

/// A call as it arrived, before it is answered.
struct Call {
    method: &'static str,
    path: String,
    body: Value,
    at: Instant,
}

impl Call {
    fn new(method: &'static str, uri: &Uri, body: &[u8]) -> Self {
        Self {
            method,
            path: uri
                .path_and_query()
                .map_or_else(|| uri.path().to_string(), |p| p.as_str().to_string()),
            body: serde_json::from_slice(body).unwrap_or(Value::Null),
            at: Instant::now(),
        }
    }
}

impl Shared {
    /// Checks what every call needs: the user's credentials, a plain
    /// table name, and for a POST or PATCH a JSON body.
    fn admit(
        &self,
        headers: &HeaderMap,
        table: &str,
        call: &Call,
    ) -> Result<(), (StatusCode, Value)> {
        let authorized = headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split_once(' '))
            .is_some_and(|(scheme, credentials)| {
                scheme.eq_ignore_ascii_case("basic") && credentials.trim() == self.credentials
            });
        if !authorized {
            return Err(failure(
                StatusCode::UNAUTHORIZED,
                "User Not Authenticated",
                "Required to provide Auth information",
            ));
        }
        if table.is_empty() || !table.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(failure(
                StatusCode::BAD_REQUEST,
                &format!("Invalid table {table}"),
                "",
            ));
        }
        if call.method == "GET" {
            return Ok(());
        }
        let json_type = headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/json"));
        if !json_type {
            return Err(failure(
                StatusCode::BAD_REQUEST,
                "Invalid Content-Type",
                "POST and PATCH need Content-Type: application/json",
            ));
        }
        if !call.body.is_object() {
            return Err(failure(
                StatusCode::BAD_REQUEST,
                "Exception while reading request",
                "The payload is not a JSON object",
            ));
        }
        Ok(())
    }

    /// Answers `call` with a refusal, and notes it.
    fn refuse(&self, call: Call, (status, body): (StatusCode, Value)) -> Response {
        let field = |k: &str| body["error"][k].as_str().unwrap_or("").to_string();
        lock(&self.invalid).push(Refusal {
            method: call.method,
            path: call.path.clone(),
            body: call.body.clone(),
            status: status.as_u16(),
            message: field("message"),
            detail: field("detail"),
        });
        self.note(call, status);
        (status, axum::Json(body)).into_response()
    }

    /// The failure [`ServiceNowEmulator::fail_next`] asked for next, if any.
    fn next_failure(&self) -> Option<(u16, Option<u64>)> {
        let mut failing = lock(&self.failing);
        (!failing.is_empty()).then(|| failing.remove(0))
    }

    /// Fails a valid call on purpose: `status` with `Retry-After` seconds
    /// when given.
    fn fail(&self, call: Call, (status, retry_after): (u16, Option<u64>)) -> Response {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        self.note(call, status);
        let (message, detail) = if status == StatusCode::TOO_MANY_REQUESTS {
            ("Too Many Requests", "Rate limit exceeded; retry later")
        } else {
            (
                "Internal Server Error",
                "The instance could not handle the request",
            )
        };
        let mut response = failure_response(status, message, detail);
        if let Some(secs) = retry_after {
            response
                .headers_mut()
                .insert("retry-after", HeaderValue::from(secs));
        }
        response
    }

    /// Answers a valid call that took effect, late when it is a create and
    /// [`ServiceNowEmulator::slow_creates`] asked for it.
    async fn answer(&self, call: Call, status: StatusCode, body: Value) -> Response {
        let create = call.method == "POST";
        self.note(call, status);
        let delay = {
            let mut slow = lock(&self.slow);
            (create && slow.0 > 0).then(|| {
                slow.0 -= 1;
                slow.1
            })
        };
        if let Some(delay) = delay {
            tokio::time::sleep(delay).await;
        }
        (status, axum::Json(body)).into_response()
    }

    fn note(&self, call: Call, status: StatusCode) {
        lock(&self.requests).push(Request {
            method: call.method,
            path: call.path,
            body: call.body,
            at: call.at,
            status: status.as_u16(),
        });
    }
}

fn failure_response(status: StatusCode, message: &str, detail: &str) -> Response {
    let (status, body) = failure(status, message, detail);
    (status, axum::Json(body)).into_response()
}

async fn list(
    State(shared): State<Arc<Shared>>,
    Path(table): Path<String>,
    RawQuery(query): RawQuery,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let call = Call::new("GET", &uri, &[]);
    if let Err(refusal) = shared.admit(&headers, &table, &call) {
        return shared.refuse(call, refusal);
    }
    let lookup = match lookup(query.as_deref()) {
        Ok(lookup) => lookup,
        Err(why) => {
            return shared.refuse(
                call,
                failure(StatusCode::BAD_REQUEST, "Unsupported query", &why),
            );
        }
    };
    if let Some(failure) = shared.next_failure() {
        return shared.fail(call, failure);
    }
    let found: Vec<Value> = lock(&shared.records)
        .iter()
        .filter(|r| r.table == table && r.correlation_id == lookup.correlation_id && r.active())
        .take(lookup.limit.unwrap_or(usize::MAX))
        .map(|r| project(r.to_json(), lookup.fields.as_deref()))
        .collect();
    shared
        .answer(call, StatusCode::OK, json!({ "result": found }))
        .await
}

/// Only `fields` of a record, when given.
fn project(record: Value, fields: Option<&[String]>) -> Value {
    match (record, fields) {
        (Value::Object(mut all), Some(fields)) => {
            all.retain(|k, _| fields.contains(k));
            Value::Object(all)
        }
        (record, _) => record,
    }
}

async fn create(
    State(shared): State<Arc<Shared>>,
    Path(table): Path<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let call = Call::new("POST", &uri, &body);
    if let Err(refusal) = shared.admit(&headers, &table, &call) {
        return shared.refuse(call, refusal);
    }
    let errors = check_create(&call.body);
    if !errors.is_empty() {
        let refusal = failure(
            StatusCode::BAD_REQUEST,
            "Mandatory or invalid fields",
            &errors.join("; "),
        );
        return shared.refuse(call, refusal);
    }
    if let Some(failure) = shared.next_failure() {
        return shared.fail(call, failure);
    }
    let record = {
        let mut records = lock(&shared.records);
        let body = &call.body;
        let note = text(body, "work_notes");
        let record = Record {
            sys_id: uuid::Uuid::new_v4().simple().to_string(),
            number: format!("INC{:07}", 10_001 + records.len()),
            table,
            correlation_id: text(body, "correlation_id"),
            correlation_display: text(body, "correlation_display"),
            short_description: text(body, "short_description"),
            description: text(body, "description"),
            urgency: text(body, "urgency"),
            impact: text(body, "impact"),
            state: STATE_NEW.into(),
            work_notes: (!note.trim().is_empty())
                .then_some(note)
                .into_iter()
                .collect(),
            close_code: String::new(),
            close_notes: String::new(),
        };
        records.push(record.clone());
        record
    };
    shared
        .answer(
            call,
            StatusCode::CREATED,
            json!({ "result": record.to_json() }),
        )
        .await
}

async fn update(
    State(shared): State<Arc<Shared>>,
    Path((table, sys_id)): Path<(String, String)>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let call = Call::new("PATCH", &uri, &body);
    if let Err(refusal) = shared.admit(&headers, &table, &call) {
        return shared.refuse(call, refusal);
    }
    let known = lock(&shared.records)
        .iter()
        .any(|r| r.table == table && r.sys_id == sys_id);
    if !known {
        let refusal = failure(
            StatusCode::NOT_FOUND,
            "No Record found",
            "Record doesn't exist or ACL restricts the record retrieval",
        );
        return shared.refuse(call, refusal);
    }
    let errors = check_update(&call.body);
    if !errors.is_empty() {
        let refusal = failure(
            StatusCode::BAD_REQUEST,
            "Invalid update",
            &errors.join("; "),
        );
        return shared.refuse(call, refusal);
    }
    if let Some(failure) = shared.next_failure() {
        return shared.fail(call, failure);
    }
    let updated = {
        let mut records = lock(&shared.records);
        let record = records
            .iter_mut()
            .find(|r| r.table == table && r.sys_id == sys_id);
        record.map(|r| {
            let body = &call.body;
            let state = text(body, "state");
            if !state.is_empty() {
                r.state = state;
            }
            let note = text(body, "work_notes");
            if !note.trim().is_empty() {
                r.work_notes.push(note);
            }
            for (key, field) in [
                ("close_code", &mut r.close_code),
                ("close_notes", &mut r.close_notes),
            ] {
                if body.get(key).is_some() {
                    *field = text(body, key);
                }
            }
            r.to_json()
        })
    };
    match updated {
        Some(record) => {
            shared
                .answer(call, StatusCode::OK, json!({ "result": record }))
                .await
        }
        None => failure_response(StatusCode::NOT_FOUND, "No Record found", ""),
    }
}

#[cfg(test)]
mod tests;
