//! Router tests through `app(state).oneshot(..)`, no socket: every kind of
//! bad input gets its exact status and a JSON message, and the router keeps
//! serving good requests afterwards.

use std::path::Path;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use serde_json::{Value, json};
use tower::ServiceExt;

use super::{AppState, app};
use crate::pipeline::{Loader, Reloader};

/// Small enough to test cheaply, large enough for the 10,000-bracket body.
const MAX_BODY_BYTES: usize = 16 * 1024;

/// A router whose only channel is the console, with a small body limit.
/// The temp dir holds the config and must outlive the router.
async fn router() -> (axum::Router, tempfile::TempDir) {
    router_with("").await
}

/// [`router`] with `extra` (top-level YAML sections) added to its config;
/// on-call is set up when `extra` turns it on (in memory).
pub(super) async fn router_with(extra: &str) -> (axum::Router, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let template = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/templates/slack_message.tmpl");
    let config = dir.path().join("config.yaml");
    let yaml = format!(
        "alert:\n  max_body_bytes: {MAX_BODY_BYTES}\n  console:\n    enable: true\n    template_path: {}\nplugins:\n  watch: false\n{extra}",
        template.display()
    );
    std::fs::write(&config, yaml).expect("write config");
    let loader = Arc::new(Loader::new(None).expect("engine"));
    let reloader = Reloader::start(config, loader)
        .await
        .expect("start pipeline");
    let oncall = crate::oncall::setup::build(&reloader.config(), reloader.clone())
        .await
        .expect("on-call");
    let mut state = AppState::new(reloader);
    state.oncall = oncall;
    (app(state), dir)
}

/// Sends one request and returns its status and JSON body.
pub(super) async fn send(router: &axum::Router, request: Request<Body>) -> (StatusCode, Value) {
    let (status, bytes) = super::rig::answer(router, request).await;
    let body = serde_json::from_slice(&bytes).unwrap_or_else(|e| {
        panic!(
            "{status}: body is not JSON ({e}): {}",
            String::from_utf8_lossy(&bytes)
        )
    });
    (status, body)
}

pub(super) fn post(uri: &str, content_type: Option<&str>, body: impl Into<Body>) -> Request<Body> {
    let mut request = Request::post(uri);
    if let Some(ct) = content_type {
        request = request.header(header::CONTENT_TYPE, ct);
    }
    request.body(body.into()).expect("request")
}

fn post_json(body: impl Into<Body>) -> Request<Body> {
    post("/api/incidents", Some("application/json"), body)
}

pub(super) fn alert() -> Vec<u8> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/alertmanager/critical.json");
    std::fs::read(path).expect("fixture")
}

/// Asserts a good request still gets through.
async fn still_serves(router: &axum::Router, after: &str) {
    let (status, body) = send(router, post_json(alert())).await;
    assert_eq!(status, StatusCode::CREATED, "after {after}: {body}");
}

#[tokio::test]
async fn bad_input_gets_a_clear_error_and_the_router_keeps_serving() {
    let (router, _dir) = router().await;
    let nested = "[".repeat(10_000);
    let oversized = format!(r#"{{"pad":"{}"}}"#, "x".repeat(MAX_BODY_BYTES));
    let cases: Vec<(&str, Request<Body>, StatusCode, &str)> = vec![
        (
            "malformed JSON",
            post_json(r#"{"status": "#),
            StatusCode::BAD_REQUEST,
            "malformed JSON",
        ),
        (
            "empty body",
            post_json(""),
            StatusCode::BAD_REQUEST,
            "request body is empty",
        ),
        (
            "blank body",
            post_json(" \n\t "),
            StatusCode::BAD_REQUEST,
            "request body is empty",
        ),
        (
            "oversized body",
            post_json(oversized),
            StatusCode::PAYLOAD_TOO_LARGE,
            "16384-byte limit",
        ),
        (
            "a number",
            post_json("42"),
            StatusCode::BAD_REQUEST,
            "got a number",
        ),
        (
            "a string",
            post_json(r#""x""#),
            StatusCode::BAD_REQUEST,
            "got a string",
        ),
        (
            "null",
            post_json("null"),
            StatusCode::BAD_REQUEST,
            "got null",
        ),
        (
            "array of numbers",
            post_json("[1]"),
            StatusCode::BAD_REQUEST,
            "element 0 of the array is a number",
        ),
        (
            "empty array",
            post_json("[]"),
            StatusCode::BAD_REQUEST,
            "the JSON array is empty",
        ),
        (
            "deep nesting",
            post_json(nested),
            StatusCode::BAD_REQUEST,
            "nested more than 64 levels deep (ingest.max_json_depth)",
        ),
        (
            "invalid UTF-8",
            post_json(&b"{\"status\": \"\xff\xfe\"}"[..]),
            StatusCode::BAD_REQUEST,
            "malformed JSON",
        ),
        (
            "bare invalid bytes",
            post_json(&b"\xff\xfe\xfd"[..]),
            StatusCode::BAD_REQUEST,
            "malformed JSON",
        ),
        (
            "XML content type",
            post("/api/incidents", Some("application/xml"), "<alert/>"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "content type `application/xml` is not supported",
        ),
        (
            "bad query value",
            post(
                "/api/incidents?oncall_wait_minutes=abc",
                Some("application/json"),
                alert(),
            ),
            StatusCode::BAD_REQUEST,
            "bad query string",
        ),
    ];
    for (what, request, want_status, want_message) in cases {
        let (status, body) = send(&router, request).await;
        assert_eq!(status, want_status, "{what}: {body}");
        assert_eq!(body["status"], "error", "{what}: {body}");
        let message = body["error"].as_str().unwrap_or_default();
        assert!(
            message.contains(want_message),
            "{what}: want {want_message:?} in {body}"
        );
        still_serves(&router, what).await;
    }
}

#[tokio::test]
async fn a_valid_object_creates_an_incident() {
    let (router, _dir) = router().await;
    let (status, body) = send(&router, post_json(alert())).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["status"], "Incident created", "{body}");
    let id = body["id"].as_str().unwrap_or_default();
    assert!(
        uuid::Uuid::parse_str(id).is_ok(),
        "id is not a UUID: {body}"
    );
    assert_eq!(
        body["channels"],
        json!([{ "channel": "console", "status": "delivered", "attempts": 1 }]),
        "{body}"
    );

    // No content type at all is accepted as JSON too.
    let (status, body) = send(&router, post("/api/incidents", None, alert())).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[tokio::test]
async fn an_array_creates_one_incident_per_element() {
    let (router, _dir) = router().await;
    let one: Value = serde_json::from_slice(&alert()).expect("fixture JSON");
    let three = Value::Array(vec![one.clone(), one.clone(), one]).to_string();
    let (status, body) = send(&router, post_json(three)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body, json!({ "status": "Incidents created", "count": 3 }));
}

#[tokio::test]
async fn health_endpoints_answer() {
    let (router, _dir) = router().await;
    let get = |uri: &str| Request::get(uri).body(Body::empty()).expect("request");
    let (status, body) = send(&router, get("/healthz")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, json!({ "status": "ok" }));
    let (status, body) = send(&router, get("/readyz")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "ready", "{body}");
    assert_eq!(body["channels"], json!(["console"]), "{body}");
}

#[tokio::test]
async fn unknown_routes_and_wrong_methods_answer_json() {
    let (router, _dir) = router().await;
    let request = |method: &str, uri: &str| {
        Request::builder()
            .method(method)
            .uri(uri)
            .body(Body::empty())
            .expect("request")
    };
    let (status, body) = send(&router, request("GET", "/nope")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["status"], "error", "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap_or_default()
            .contains("`/nope`"),
        "{body}"
    );

    let response = router
        .clone()
        .oneshot(request("GET", "/api/incidents"))
        .await
        .expect("infallible");
    assert_eq!(
        response.headers().get(header::ALLOW).map(|v| v.as_bytes()),
        Some(&b"POST"[..]),
        "the Allow header survives the JSON fallback"
    );
    let (status, body) = send(&router, request("GET", "/api/incidents")).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{body}");
    assert_eq!(body["status"], "error", "{body}");
    let message = body["error"].as_str().unwrap_or_default();
    assert!(
        message.contains("method GET is not allowed on `/api/incidents`"),
        "{body}"
    );

    let (status, body) = send(&router, request("DELETE", "/healthz")).await;
    assert_eq!(status, StatusCode::METHOD_NOT_ALLOWED, "{body}");
    still_serves(&router, "404 and 405").await;
}

#[tokio::test]
async fn oncall_asked_for_where_it_is_off_is_delivered_and_said_so() {
    let (router, _dir) = router().await;
    let counted = || crate::metrics::get().oncall_not_configured.get();
    let before = counted();
    let (status, body) = send(
        &router,
        post(
            "/api/incidents?oncall_enable=true",
            Some("application/json"),
            alert(),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["status"], "Incident created", "{body}");
    assert_eq!(body["oncall"], "not configured", "{body}");
    assert_eq!(body["channels"][0]["status"], "delivered", "{body}");
    assert!(counted() > before);

    let one: Value = serde_json::from_slice(&alert()).expect("fixture JSON");
    let two = Value::Array(vec![one.clone(), one]).to_string();
    let (status, body) = send(
        &router,
        post(
            "/api/incidents?oncall_enable=1",
            Some("application/json"),
            two,
        ),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["oncall"], "not configured", "{body}");

    // Not asked for, or asked off: nothing to say.
    for uri in ["/api/incidents", "/api/incidents?oncall_enable=false"] {
        let (status, body) = send(&router, post(uri, Some("application/json"), alert())).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        assert!(body.get("oncall").is_none(), "{uri}: {body}");
    }
}
