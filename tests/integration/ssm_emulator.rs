//! A local stand-in for AWS SSM Incidents' `StartIncident`,
//! `CreateTimelineEvent` and `UpdateIncidentRecord`, reached by the real
//! `aws-sdk-ssmincidents` client through `AWS_ENDPOINT_URL_SSM_INCIDENTS`.
//! It checks the JSON bodies against the API's required fields and shapes
//! (a StartIncident's `relatedItems` and `triggerDetails` too) and that
//! each request is SigV4-signed, and can fail the next N StartIncident
//! calls on purpose ([`SsmEmulator::fail_next`]).

use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::post;
use serde_json::{Value, json};

/// One StartIncident call.
#[derive(Debug, Clone)]
pub struct Call {
    /// The JSON body.
    pub body: Value,
    /// When it arrived.
    pub at: Instant,
}

/// How a failed StartIncident call is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// HTTP 500 `InternalServerException`.
    ServerError,
    /// HTTP 429 `ThrottlingException`.
    Throttling,
    /// HTTP 403 `AccessDeniedException`: the caller lacks
    /// `ssm-incidents:StartIncident`.
    AccessDenied,
}

/// One valid StartIncident request, answered or failed on purpose.
#[derive(Debug, Clone)]
pub struct Attempt {
    /// The JSON body.
    pub body: Value,
    /// When it arrived.
    pub at: Instant,
    /// The HTTP status it got.
    pub status: u16,
}

/// The failures still to serve, and how.
#[derive(Default)]
struct Failing {
    left: usize,
    how: Option<Failure>,
}

#[derive(Default)]
struct Shared {
    calls: Mutex<Vec<Call>>,
    /// CreateTimelineEvent and UpdateIncidentRecord calls: (operation, body).
    updates: Mutex<Vec<(&'static str, Value)>>,
    attempts: Mutex<Vec<Attempt>>,
    failing: Mutex<Failing>,
    /// Successful calls still to answer late, and how late.
    slow: Mutex<(usize, std::time::Duration)>,
}

/// A running emulator.
#[derive(Clone)]
pub struct SsmEmulator {
    /// Base URL, for `AWS_ENDPOINT_URL_SSM_INCIDENTS`.
    pub url: String,
    shared: Arc<Shared>,
}

impl SsmEmulator {
    /// Starts on a free port.
    pub async fn start() -> Self {
        let shared: Arc<Shared> = Arc::default();
        let app = Router::new()
            .route("/startIncident", post(start_incident))
            .route("/createTimelineEvent", post(create_timeline_event))
            .route("/updateIncidentRecord", post(update_incident_record))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let url = format!(
            "http://127.0.0.1:{}",
            listener.local_addr().expect("addr").port()
        );
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { url, shared }
    }

    /// Fails the next `n` valid StartIncident calls as `how`, then succeeds
    /// again (`usize::MAX`: always fail).
    pub fn fail_next(&self, n: usize, how: Failure) {
        if let Ok(mut f) = self.shared.failing.lock() {
            *f = Failing {
                left: n,
                how: Some(how),
            };
        }
    }

    /// Answers the next `n` successful calls only after `delay`; they are
    /// recorded (and count as started, as AWS would) when they arrive.
    pub fn slow_next(&self, n: usize, delay: std::time::Duration) {
        if let Ok(mut s) = self.shared.slow.lock() {
            *s = (n, delay);
        }
    }

    /// Successful calls so far.
    pub fn calls(&self) -> Vec<Call> {
        self.shared
            .calls
            .lock()
            .map(|c| c.clone())
            .unwrap_or_default()
    }

    /// Every valid call so far, failed ones included.
    pub fn attempts(&self) -> Vec<Attempt> {
        self.shared
            .attempts
            .lock()
            .map(|c| c.clone())
            .unwrap_or_default()
    }

    /// Valid CreateTimelineEvent (`"timeline"`) and UpdateIncidentRecord
    /// (`"update"`) calls so far, in order.
    pub fn updates(&self) -> Vec<(&'static str, Value)> {
        self.shared
            .updates
            .lock()
            .map(|u| u.clone())
            .unwrap_or_default()
    }

    /// Calls whose clientToken is `id`.
    pub fn calls_for(&self, id: &str) -> Vec<Call> {
        self.calls()
            .into_iter()
            .filter(|c| c.body["clientToken"] == id)
            .collect()
    }

    /// The environment a gateway needs to reach this emulator with fake
    /// credentials and no other AWS source (no profile, no IMDS).
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ENDPOINT_URL_SSM_INCIDENTS", self.url.clone()),
            ("AWS_ACCESS_KEY_ID", "AKIDTEST".into()),
            ("AWS_SECRET_ACCESS_KEY", "secret-test".into()),
            ("AWS_REGION", "us-east-1".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
            ("AWS_CONFIG_FILE", "/nonexistent".into()),
            ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent".into()),
        ]
    }
}

async fn start_incident(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "not json").into_response();
    };
    let valid = signed(&headers)
        && body["responsePlanArn"]
            .as_str()
            .is_some_and(|a| a.starts_with("arn:"))
        && body["title"]
            .as_str()
            .is_some_and(|t| !t.is_empty() && t.chars().count() <= 200)
        && body["clientToken"].as_str().is_some_and(|t| !t.is_empty())
        && related_items_ok(&body["relatedItems"])
        && trigger_details_ok(&body["triggerDetails"]);
    if !valid {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"message": "invalid request"})),
        )
            .into_response();
    }
    let at = Instant::now();
    let failure = shared.failing.lock().ok().and_then(|mut f| {
        let how = f.how.filter(|_| f.left > 0)?;
        f.left -= 1;
        Some(how)
    });
    let (status, error) = match failure {
        None => (StatusCode::OK, None),
        Some(Failure::ServerError) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Some("InternalServerException"),
        ),
        Some(Failure::Throttling) => (StatusCode::TOO_MANY_REQUESTS, Some("ThrottlingException")),
        Some(Failure::AccessDenied) => (StatusCode::FORBIDDEN, Some("AccessDeniedException")),
    };
    if let Ok(mut a) = shared.attempts.lock() {
        a.push(Attempt {
            body: body.clone(),
            at,
            status: status.as_u16(),
        });
    }
    if let Some(error) = error {
        return (
            status,
            [("x-amzn-errortype", error)],
            axum::Json(json!({
                "message": format!("emulated {error}"),
                "serviceCode": "ssm-incidents",
                "quotaCode": "emulated",
            })),
        )
            .into_response();
    }
    let token = body["clientToken"].as_str().unwrap_or_default().to_string();
    if let Ok(mut c) = shared.calls.lock() {
        c.push(Call { body, at });
    }
    let delay = shared.slow.lock().ok().and_then(|mut s| {
        (s.0 > 0).then(|| {
            s.0 -= 1;
            s.1
        })
    });
    if let Some(delay) = delay {
        tokio::time::sleep(delay).await;
    }
    axum::Json(json!({ "incidentRecordArn": format!("arn:aws:ssm-incidents::111122223333:incident-record/plan/{token}") }))
        .into_response()
}

/// `relatedItems`, when given: each with an `identifier` of a known `type`
/// and a `value` of exactly one kind (an `url` for type `OTHER`), and an
/// optional `title` of at most 200 characters.
fn related_items_ok(items: &Value) -> bool {
    let Some(items) = items.as_array() else {
        return items.is_null();
    };
    let types = [
        "ANALYSIS",
        "INCIDENT",
        "METRIC",
        "PARENT",
        "ATTACHMENT",
        "OTHER",
        "AUTOMATION",
        "INVOLVED_RESOURCE",
        "TASK",
    ];
    items.len() <= 100
        && items.iter().all(|item| {
            let id = &item["identifier"];
            let kind = id["type"].as_str().unwrap_or("");
            let values = id["value"].as_object().map_or(0, |v| v.len());
            let url_ok =
                kind != "OTHER" || id["value"]["url"].as_str().is_some_and(|u| !u.is_empty());
            types.contains(&kind)
                && values == 1
                && url_ok
                && item["title"]
                    .as_str()
                    .is_none_or(|t| t.chars().count() <= 200)
        })
}

/// `triggerDetails`, when given: a `source` (not starting `aws.`, which
/// AWS keeps for its services) and a `timestamp`.
fn trigger_details_ok(details: &Value) -> bool {
    if details.is_null() {
        return true;
    }
    details["source"]
        .as_str()
        .is_some_and(|s| !s.is_empty() && !s.starts_with("aws."))
        && details["timestamp"].is_number()
}

fn signed(headers: &HeaderMap) -> bool {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("AWS4-HMAC-SHA256 Credential=AKIDTEST/"))
}

fn invalid() -> axum::response::Response {
    (
        StatusCode::BAD_REQUEST,
        [("x-amzn-errortype", "ValidationException")],
        axum::Json(json!({"message": "invalid request"})),
    )
        .into_response()
}

/// CreateTimelineEvent: `incidentRecordArn`, `eventTime`, `eventType` and
/// `eventData` (at most 12000 characters) required.
async fn create_timeline_event(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> axum::response::Response {
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return invalid();
    };
    let valid = signed(&headers)
        && body["incidentRecordArn"]
            .as_str()
            .is_some_and(|a| a.starts_with("arn:"))
        && body["eventTime"].is_number()
        && body["eventType"].as_str().is_some_and(|t| !t.is_empty())
        && body["eventData"]
            .as_str()
            .is_some_and(|d| !d.is_empty() && d.chars().count() <= 12_000);
    if !valid {
        return invalid();
    }
    if let Ok(mut u) = shared.updates.lock() {
        u.push(("timeline", body.clone()));
    }
    let arn = body["incidentRecordArn"].clone();
    axum::Json(json!({"incidentRecordArn": arn, "eventId": uuid::Uuid::new_v4().to_string()}))
        .into_response()
}

/// UpdateIncidentRecord: `arn` required; `status`, when given, `OPEN` or
/// `RESOLVED`.
async fn update_incident_record(
    State(shared): State<Arc<Shared>>,
    headers: HeaderMap,
    body: Bytes,
) -> axum::response::Response {
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return invalid();
    };
    let valid = signed(&headers)
        && body["arn"].as_str().is_some_and(|a| a.starts_with("arn:"))
        && body["status"]
            .as_str()
            .is_none_or(|s| s == "OPEN" || s == "RESOLVED");
    if !valid {
        return invalid();
    }
    if let Ok(mut u) = shared.updates.lock() {
        u.push(("update", body));
    }
    axum::Json(json!({})).into_response()
}
