//! A fast local stand-in for the Slack Web API: `POST /api/chat.postMessage`
//! reads the whole body and answers a fixed success, with no other work, so
//! that the benchmark measures the gateway rather than the chat server.
//!
//! Prints `listening on <addr>` on stdout once the socket is bound (useful
//! with `--addr 127.0.0.1:0`).

use std::io::Write;

use axum::Router;
use axum::body::Bytes;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::post;
use clap::Parser;

/// Slack Web API emulator for benchmarks.
#[derive(Debug, Parser)]
struct Args {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:0")]
    addr: String,
}

const REPLY: &str = r#"{"ok":true,"channel":"C1","ts":"1.0"}"#;

async fn post_message(body: Bytes) -> impl IntoResponse {
    // The extractor has already read the body to the end.
    drop(body);
    ([(header::CONTENT_TYPE, "application/json")], REPLY)
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args = Args::parse();
    let app = Router::new().route("/api/chat.postMessage", post(post_message));
    let listener = tokio::net::TcpListener::bind(&args.addr).await?;
    let addr = listener.local_addr()?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "listening on {addr}")?;
    out.flush()?;
    drop(out);
    axum::serve(listener, app).await
}
