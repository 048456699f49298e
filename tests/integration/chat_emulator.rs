//! A local stand-in for the HTTP APIs of the chat channels other than Slack
//! (Telegram, Teams, Lark, Viber, webhooks): one server on 127.0.0.1 that
//! records every request on any path and answers as the test asks.

use std::sync::{Arc, Mutex, MutexGuard};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// How the emulator answers.
#[derive(Debug, Clone)]
pub enum Mode {
    /// Every call gets 200 with this body (`application/json`).
    Ok(&'static str),
    /// The first call gets `status` with `body` (and `Retry-After` if
    /// given); later calls get 200 with `ok`.
    FailOnce {
        /// Status of the first answer.
        status: u16,
        /// Body of the first answer.
        body: &'static str,
        /// `Retry-After` seconds of the first answer.
        retry_after: Option<u64>,
        /// Body of the later answers.
        ok: &'static str,
    },
    /// Every call gets `status` with `body`.
    Always(u16, &'static str),
}

/// One request the emulator received.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// Method.
    pub method: Method,
    /// Path and query, e.g. `/bot1:x/sendMessage`.
    pub path: String,
    /// Request headers.
    pub headers: HeaderMap,
    /// The raw body.
    pub body: Bytes,
}

impl Recorded {
    /// A header's value as text, or `""`.
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    /// The body as JSON; panics when it is not.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "request body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }
}

struct Shared {
    mode: Mode,
    requests: Mutex<Vec<Recorded>>,
}

impl Shared {
    fn requests(&self) -> MutexGuard<'_, Vec<Recorded>> {
        self.requests
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A running emulator; it serves until the test's runtime shuts down.
pub struct ChatEmulator {
    base: String,
    shared: Arc<Shared>,
}

impl ChatEmulator {
    /// Starts an emulator on a free loopback port.
    pub async fn start(mode: Mode) -> Self {
        let shared = Arc::new(Shared {
            mode,
            requests: Mutex::new(Vec::new()),
        });
        let app = Router::new().fallback(answer).with_state(shared.clone());
        Self {
            base: crate::common::serve(app).await,
            shared,
        }
    }

    /// [`Self::start`] over TLS, with the certificate and key in PEM files:
    /// the base is then `https://127.0.0.1:PORT`.
    pub async fn start_tls(mode: Mode, cert: &std::path::Path, key: &std::path::Path) -> Self {
        let shared = Arc::new(Shared {
            mode,
            requests: Mutex::new(Vec::new()),
        });
        let app = Router::new().fallback(answer).with_state(shared.clone());
        let acceptor = crate::smtp_server::tls_acceptor(cert, key);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the chat emulator");
        let port = listener.local_addr().expect("emulator address").port();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (acceptor, app) = (acceptor.clone(), app.clone());
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(stream).await else {
                        return;
                    };
                    let service = hyper_util::service::TowerToHyperService::new(app);
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(tls), service)
                        .await;
                });
            }
        });
        Self {
            base: format!("https://127.0.0.1:{port}"),
            shared,
        }
    }

    /// `http://127.0.0.1:PORT` (no trailing slash).
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.requests().clone()
    }
}

async fn answer(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let call = {
        let mut requests = shared.requests();
        requests.push(Recorded {
            method,
            path: uri
                .path_and_query()
                .map_or_else(|| uri.path().to_owned(), |p| p.as_str().to_owned()),
            headers,
            body,
        });
        requests.len()
    };
    let reply = |status: u16, body: &'static str, retry_after: Option<u64>| {
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut response = (
            status,
            [(axum::http::header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response();
        if let Some(secs) = retry_after {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                secs.to_string().parse().expect("header value"),
            );
        }
        response
    };
    match &shared.mode {
        Mode::Ok(body) => reply(200, body, None),
        Mode::FailOnce {
            status,
            body,
            retry_after,
            ..
        } if call == 1 => reply(*status, body, *retry_after),
        Mode::FailOnce { ok, .. } => reply(200, ok, None),
        Mode::Always(status, body) => reply(*status, body, None),
    }
}
