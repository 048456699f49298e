//! The accept loop: the router on hyper's HTTP/1 connections, with a header
//! read timeout, and graceful shutdown.
//!
//! `axum::serve` sets no timer on its connections, so a client that opens a
//! connection and sends its request head a byte at a time (slowloris) holds
//! a task and a descriptor for as long as it likes. Here every connection
//! must deliver a complete request head within `ingest.header_read_timeout`
//! (30 s by default) of opening, and of finishing the previous response on
//! a kept-alive connection.

use std::future::Future;
use std::pin::pin;
use std::time::Duration;

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::task::JoinSet;

/// Pause after a failed `accept` (e.g. out of descriptors), so the loop does
/// not spin while the condition lasts.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Serves `app` on `listener` until `signal` completes, then stops
/// accepting, lets each connection finish the request it is serving, and
/// returns once every connection has closed. An idle kept-alive connection
/// is closed after `header_timeout` too, which HTTP clients expect.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    header_timeout: Duration,
    signal: impl Future<Output = ()>,
) {
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut connections = JoinSet::new();
    let mut signal = pin!(signal);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot accept a connection");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
            () = &mut signal => break,
        };
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(app.clone());
        let mut stopped = stopped.clone();
        connections.spawn(async move {
            let mut builder = http1::Builder::new();
            builder
                .timer(TokioTimer::new())
                .header_read_timeout(header_timeout);
            let mut conn = pin!(builder.serve_connection(TokioIo::new(stream), service));
            let result = tokio::select! {
                result = conn.as_mut() => result,
                _ = stopped.changed() => {
                    conn.as_mut().graceful_shutdown();
                    conn.await
                }
            };
            if let Err(e) = result {
                tracing::debug!(error = %e, "connection closed with an error");
            }
        });
        // Reap the connections that have ended, so the set stays small.
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    let _ = stop.send(true);
    while connections.join_next().await.is_some() {}
}
