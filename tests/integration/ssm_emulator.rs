//! A local stand-in for AWS SSM Incidents' `StartIncident`, reached by the
//! real `aws-sdk-ssmincidents` client through `AWS_ENDPOINT_URL_SSM_INCIDENTS`.
//! It checks the JSON body and that the request is SigV4-signed, and can
//! fail the next N calls on purpose ([`SsmEmulator::fail_next`]).

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
    let signed = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("AWS4-HMAC-SHA256 Credential=AKIDTEST/"));
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "not json").into_response();
    };
    let valid = signed
        && body["responsePlanArn"]
            .as_str()
            .is_some_and(|a| a.starts_with("arn:"))
        && body["title"]
            .as_str()
            .is_some_and(|t| !t.is_empty() && t.chars().count() <= 200)
        && body["clientToken"].as_str().is_some_and(|t| !t.is_empty());
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
