//! A local HTTP endpoint that records every request: a generic webhook and
//! enough of Telegram's Bot API (`sendMessage`, `editMessageText`).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::extract::{Path, State};
use axum::routing::post;
use serde_json::{Value, json};

use crate::common::eventually;

/// One recorded request.
#[derive(Debug, Clone)]
pub struct Hit {
    /// The request path.
    pub path: String,
    /// The `content-type` header.
    pub content_type: String,
    /// The body, parsed as JSON (`null` when it is not JSON).
    pub body: Value,
}

/// A running receiver.
#[derive(Clone)]
pub struct Receiver {
    /// Its port on 127.0.0.1.
    pub port: u16,
    hits: Arc<Mutex<Vec<Hit>>>,
}

type Shared = Arc<Mutex<Vec<Hit>>>;

fn record(hits: &Shared, path: String, headers: &axum::http::HeaderMap, body: &[u8]) {
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let body = serde_json::from_slice(body).unwrap_or(Value::Null);
    hits.lock().expect("lock").push(Hit {
        path,
        content_type,
        body,
    });
}

async fn webhook(
    State(hits): State<Shared>,
    Path(name): Path<String>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> &'static str {
    record(&hits, format!("/hook/{name}"), &headers, &body);
    "ok"
}

/// Answers with the status in the path and `Retry-After: 7`, the way a busy
/// webhook or Telegram's flood control does.
async fn refuse(Path((code, _)): Path<(u16, String)>) -> impl axum::response::IntoResponse {
    let status =
        axum::http::StatusCode::from_u16(code).unwrap_or(axum::http::StatusCode::IM_A_TEAPOT);
    let body = json!({ "ok": false, "description": "refused", "parameters": { "retry_after": 7 } });
    (status, [("retry-after", "7")], axum::Json(body))
}

async fn telegram(
    State(hits): State<Shared>,
    Path((bot, method)): Path<(String, String)>,
    headers: axum::http::HeaderMap,
    body: axum::body::Bytes,
) -> axum::Json<Value> {
    record(&hits, format!("/{bot}/{method}"), &headers, &body);
    axum::Json(json!({ "ok": true, "result": { "message_id": 4242, "chat": { "id": -100 } } }))
}

impl Receiver {
    /// Starts the receiver on a free port.
    pub async fn start() -> Self {
        let hits: Shared = Arc::default();
        let app = Router::new()
            .route("/hook/{name}", post(webhook))
            .route("/status/{code}/{*rest}", post(refuse))
            .route("/{bot}/{method}", post(telegram))
            .with_state(hits.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { port, hits }
    }

    /// `http://127.0.0.1:{port}`.
    pub fn origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Every request so far.
    pub fn hits(&self) -> Vec<Hit> {
        self.hits.lock().expect("lock").clone()
    }

    /// Waits until `n` requests arrived; returns them all.
    pub async fn wait_for(&self, n: usize) -> Vec<Hit> {
        let arrived = eventually(Duration::from_secs(30), async || self.hits().len() >= n).await;
        assert!(arrived, "expected {n} requests, got {:?}", self.hits());
        self.hits()
    }
}
