//! The ceiling for the end-to-end benchmark: a plain axum (hyper) handler for
//! `POST /api/incidents` that parses the JSON body with serde_json and
//! forwards one `chat.postMessage` per alert to the Slack emulator over one
//! shared, pooled reqwest client. No Wasm, no templates, no retries: what is
//! left is the HTTP and JSON work every gateway has to do.
//!
//! Answers 201 when every forward got a 200 with `"ok": true`, 502 otherwise.
//! Prints `listening on <addr>` on stdout once the socket is bound.

use std::io::Write;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use clap::Parser;
use futures::future::join_all;
use serde_json::{Value, json};

/// Plain forwarder: the ceiling the gateway is compared with.
#[derive(Debug, Parser)]
struct Args {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    addr: String,
    /// Base URL of the Slack emulator's Web API, e.g. `http://127.0.0.1:9000/api/`.
    #[arg(long)]
    slack_api: String,
    /// Slack channel to post to.
    #[arg(long, default_value = "C1")]
    channel: String,
    /// Bot token sent as the bearer token.
    #[arg(long, default_value = "xoxb-bench")]
    token: String,
}

struct Forwarder {
    client: reqwest::Client,
    post_url: String,
    auth: String,
    channel: String,
}

/// A short text from one alert, the way a minimal template would build it.
fn text_of(alert: &Value, group: &Value) -> String {
    let label = |k: &str| {
        alert["labels"][k]
            .as_str()
            .or_else(|| group["commonLabels"][k].as_str())
            .unwrap_or("")
            .to_string()
    };
    let description = alert["annotations"]["description"].as_str().unwrap_or("");
    format!(
        "*{} Alert: {}*\nInstance: `{}`\nStatus: `{}`\n{}",
        label("severity").to_uppercase(),
        label("alertname"),
        label("instance"),
        alert["status"].as_str().unwrap_or(""),
        description
    )
}

impl Forwarder {
    async fn forward(&self, text: String) -> bool {
        let body = json!({ "channel": self.channel, "text": text }).to_string();
        let sent = self
            .client
            .post(&self.post_url)
            .header(header::AUTHORIZATION, &self.auth)
            .header(header::CONTENT_TYPE, "application/json; charset=utf-8")
            .body(body)
            .send()
            .await;
        let Ok(response) = sent else {
            return false;
        };
        if response.status() != StatusCode::OK {
            return false;
        }
        match response.bytes().await {
            Ok(bytes) => serde_json::from_slice::<Value>(&bytes)
                .is_ok_and(|v| v["ok"].as_bool() == Some(true)),
            Err(_) => false,
        }
    }
}

async fn incidents(State(fwd): State<Arc<Forwarder>>, body: Bytes) -> Response {
    let payload: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => {
            return (
                StatusCode::BAD_REQUEST,
                axum::Json(json!({ "error": format!("malformed JSON: {e}") })),
            )
                .into_response();
        }
    };
    let texts: Vec<String> = match payload["alerts"].as_array() {
        Some(alerts) if !alerts.is_empty() => alerts.iter().map(|a| text_of(a, &payload)).collect(),
        _ => vec![text_of(&payload, &payload)],
    };
    let count = texts.len();
    let results = join_all(texts.into_iter().map(|t| fwd.forward(t))).await;
    if results.iter().all(|ok| *ok) {
        (
            StatusCode::CREATED,
            axum::Json(json!({ "status": "Incident created", "count": count })),
        )
            .into_response()
    } else {
        (
            StatusCode::BAD_GATEWAY,
            axum::Json(json!({ "status": "Delivery failed", "count": count })),
        )
            .into_response()
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let mut base = args.slack_api.clone();
    if !base.ends_with('/') {
        base.push('/');
    }
    let forwarder = Arc::new(Forwarder {
        client: reqwest::Client::builder().build()?,
        post_url: format!("{base}chat.postMessage"),
        auth: format!("Bearer {}", args.token),
        channel: args.channel,
    });
    let app = Router::new()
        .route("/api/incidents", post(incidents))
        .with_state(forwarder);
    let listener = tokio::net::TcpListener::bind(&args.addr).await?;
    let addr = listener.local_addr()?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "listening on {addr}")?;
    out.flush()?;
    drop(out);
    axum::serve(listener, app).await?;
    Ok(())
}
