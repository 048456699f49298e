//! A local stand-in for the Slack Web API: `chat.postMessage` and
//! `chat.update` on 127.0.0.1, recording every request and answering the way
//! each test asks (success, a Slack error code, rate limits, 5xx, no answer);
//! and a `response_url` for interaction replies, which records them.
//!
//! It checks what Slack documents: a bearer token on Web API calls, JSON
//! bodies with `channel` (and `ts` for `chat.update`), and replies posted
//! as JSON with a `text`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

/// The `ts` of the first message posted; each later one's is one more
/// (see [`ts_of`]).
pub const TS: &str = "1700000000.000100";

/// The `ts` of the `n`th message posted (from 1), as Slack gives each
/// message its own.
pub fn ts_of(n: usize) -> String {
    format!("1700000000.{:06}", 99 + n)
}

/// How the emulator answers.
#[derive(Debug, Clone)]
pub enum Mode {
    /// 200 `{"ok":true,"channel":<from the body>,"ts":…}`: a new `ts` for
    /// each message posted, the updated one's for `chat.update`.
    Ok,
    /// 200 `{"ok":false,"error":<code>}`.
    SlackError(&'static str),
    /// The first call gets 429 with `Retry-After`, later calls succeed.
    RateLimitedOnce {
        /// The `Retry-After` value, in seconds.
        retry_after_secs: u64,
    },
    /// The first call gets 500, later calls succeed.
    ServerErrorOnce,
    /// Every call gets 500.
    AlwaysServerError,
    /// Every call is recorded, then left unanswered for [`HANG`].
    AlwaysHang,
    /// Every call succeeds after this delay.
    Slow(std::time::Duration),
    /// Call `n` (from 1) is answered as `script[n - 1]` says; calls past the
    /// end of the script succeed.
    Scripted(Arc<Vec<Fault>>),
    /// Slack's limit on `chat.postMessage`, per channel and token: about
    /// one message a second, with short bursts. Each (channel, token) has
    /// a bucket of `burst` messages that refills at one a second; a post
    /// that finds it empty gets 429 `ratelimited` with `Retry-After`, the
    /// whole seconds until the next one is allowed. Other calls succeed.
    RateLimit {
        /// Messages allowed at once.
        burst: u32,
    },
}

/// One scripted answer.
#[derive(Debug, Clone, Copy)]
pub enum Fault {
    /// Answered normally, as [`Mode::Ok`] does.
    Pass,
    /// HTTP 500.
    ServerError,
    /// HTTP 429 `ratelimited` with `Retry-After` in seconds.
    RateLimited(u64),
    /// No answer for this long, then HTTP 500 (the caller has given up).
    Hang(std::time::Duration),
}

/// How long [`Mode::AlwaysHang`] keeps a call waiting: far longer than any
/// timeout a test configures, so the caller always gives up first.
pub const HANG: std::time::Duration = std::time::Duration::from_secs(300);

/// One request the emulator received.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// Request path, e.g. `/api/chat.postMessage`.
    pub path: String,
    /// Request headers.
    pub headers: HeaderMap,
    /// The JSON body (`Value::Null` if it was not JSON).
    pub body: Value,
    /// When it arrived.
    pub at: Instant,
}

impl Recorded {
    /// A header's value as text, or `""`.
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

struct Shared {
    mode: Mode,
    requests: Mutex<Vec<Recorded>>,
    /// Bodies of the `chat.postMessage` calls answered with success.
    posted: Mutex<Vec<Value>>,
    /// Bodies posted to the `response_url`.
    replies: Mutex<Vec<Value>>,
    /// [`Mode::RateLimit`]'s buckets by (channel, token): messages left,
    /// and when that was counted.
    buckets: Mutex<HashMap<(String, String), (f64, Instant)>>,
}

impl Shared {
    fn requests(&self) -> MutexGuard<'_, Vec<Recorded>> {
        // A panicking test thread must not hide the requests from the others.
        self.requests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A running emulator; it serves until the test's runtime shuts down.
pub struct SlackEmulator {
    base: String,
    shared: Arc<Shared>,
}

impl SlackEmulator {
    /// Starts an emulator on a free loopback port.
    pub async fn start(mode: Mode) -> Self {
        let shared = Arc::new(Shared {
            mode,
            requests: Mutex::new(Vec::new()),
            posted: Mutex::new(Vec::new()),
            replies: Mutex::new(Vec::new()),
            buckets: Mutex::default(),
        });
        let app = Router::new()
            .route("/api/chat.postMessage", post(answer))
            .route("/api/chat.update", post(answer))
            .route("/respond", post(respond))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the slack emulator");
        let port = listener.local_addr().expect("emulator address").port();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            base: format!("http://127.0.0.1:{port}/api/"),
            shared,
        }
    }

    /// The value for `alert.slack.api_url`: `http://127.0.0.1:PORT/api/`.
    pub fn api_url(&self) -> &str {
        &self.base
    }

    /// The messages posted successfully (answered `ok`), in answer order:
    /// what a Slack channel would show.
    pub fn posted(&self) -> Vec<Value> {
        self.shared
            .posted
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// A `response_url` for interaction payloads, on this emulator.
    pub fn response_url(&self) -> String {
        self.base.replace("/api/", "/respond")
    }

    /// The replies posted to [`Self::response_url`], in arrival order.
    pub fn replies(&self) -> Vec<Value> {
        self.shared
            .replies
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.requests().clone()
    }

    /// The bodies of the calls to `method` (e.g. `chat.update`), in
    /// arrival order, whatever they were answered.
    pub fn calls(&self, method: &str) -> Vec<Value> {
        let path = format!("/{method}");
        self.shared
            .requests()
            .iter()
            .filter(|r| r.path.ends_with(&path))
            .map(|r| r.body.clone())
            .collect()
    }
}

async fn answer(
    State(shared): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let channel = body.get("channel").cloned().unwrap_or(Value::Null);
    let is_post = uri.path().ends_with("chat.postMessage");
    let authed = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.len() > "Bearer ".len() && v.starts_with("Bearer "));
    let text_field = |k: &str| {
        body.get(k)
            .and_then(Value::as_str)
            .is_some_and(|v| !v.is_empty())
    };
    let refusal = if !authed {
        Some("not_authed")
    } else if !text_field("channel") {
        Some("channel_not_found")
    } else if !is_post && !text_field("ts") {
        Some("message_not_found")
    } else {
        None
    };
    let posted_body = body.clone();
    let bucket = (
        channel.as_str().unwrap_or_default().to_string(),
        header_text(&headers, header::AUTHORIZATION),
    );
    let call = {
        let mut requests = shared.requests();
        requests.push(Recorded {
            path: uri.path().to_owned(),
            headers,
            body,
            at: Instant::now(),
        });
        requests.len()
    };
    // Faults and delays come first, as Slack's rate limits do; a request
    // that gets through is then checked.
    let ok = || {
        if let Some(code) = refusal {
            return axum::Json(json!({ "ok": false, "error": code })).into_response();
        }
        let ts = if is_post {
            let mut posted = shared
                .posted
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            posted.push(posted_body.clone());
            ts_of(posted.len())
        } else {
            // chat.update answers with the message it updated.
            posted_body["ts"].as_str().unwrap_or(TS).to_string()
        };
        axum::Json(json!({ "ok": true, "channel": channel, "ts": ts })).into_response()
    };
    match &shared.mode {
        Mode::Ok => ok(),
        Mode::SlackError(code) => axum::Json(json!({ "ok": false, "error": code })).into_response(),
        Mode::RateLimitedOnce { retry_after_secs } if call == 1 => rate_limited(*retry_after_secs),
        Mode::ServerErrorOnce if call == 1 => server_error(),
        Mode::AlwaysServerError => server_error(),
        Mode::AlwaysHang => {
            tokio::time::sleep(HANG).await;
            server_error()
        }
        Mode::Slow(delay) => {
            tokio::time::sleep(*delay).await;
            ok()
        }
        Mode::Scripted(script) => match script.get(call - 1) {
            None | Some(Fault::Pass) => ok(),
            Some(Fault::ServerError) => server_error(),
            Some(Fault::RateLimited(secs)) => rate_limited(*secs),
            Some(Fault::Hang(d)) => {
                tokio::time::sleep(*d).await;
                server_error()
            }
        },
        Mode::RateLimit { burst } if is_post => match take(&shared, bucket, *burst) {
            Ok(()) => ok(),
            Err(secs) => rate_limited(secs),
        },
        Mode::RateLimitedOnce { .. } | Mode::ServerErrorOnce | Mode::RateLimit { .. } => ok(),
    }
}

/// Takes one message from `key`'s bucket, or answers the whole seconds
/// until one is there.
fn take(shared: &Shared, key: (String, String), burst: u32) -> Result<(), u64> {
    let mut buckets = shared
        .buckets
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let now = Instant::now();
    let (left, at) = buckets.entry(key).or_insert((f64::from(burst), now));
    *left = (*left + now.duration_since(*at).as_secs_f64()).min(f64::from(burst));
    *at = now;
    if *left >= 1.0 {
        *left -= 1.0;
        return Ok(());
    }
    Err((1.0 - *left).ceil().max(1.0) as u64)
}

fn header_text(headers: &HeaderMap, name: header::HeaderName) -> String {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

/// A reply to a `response_url`: JSON with a `text`, `response_type` (when
/// given) `ephemeral` or `in_channel`.
async fn respond(State(shared): State<Arc<Shared>>, headers: HeaderMap, body: Bytes) -> Response {
    let json_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let Ok(body) = serde_json::from_slice::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, "invalid_payload").into_response();
    };
    let typed = matches!(
        body.get("response_type").and_then(Value::as_str),
        None | Some("ephemeral" | "in_channel")
    );
    if !json_type || !typed || body.get("text").and_then(Value::as_str).is_none() {
        return (StatusCode::BAD_REQUEST, "invalid_payload").into_response();
    }
    shared
        .replies
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .push(body);
    (StatusCode::OK, "ok").into_response()
}

fn rate_limited(retry_after_secs: u64) -> Response {
    (
        StatusCode::TOO_MANY_REQUESTS,
        [(header::RETRY_AFTER, retry_after_secs.to_string())],
        axum::Json(json!({ "ok": false, "error": "ratelimited" })),
    )
        .into_response()
}

fn server_error() -> Response {
    (StatusCode::INTERNAL_SERVER_ERROR, "upstream hiccup").into_response()
}
