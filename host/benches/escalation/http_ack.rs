//! ACK over HTTP: the gateway's real router on a local socket, on-call state
//! in the bench's Redis, and links signed by the real signer, clicked through
//! one keep-alive connection. A sample is the whole round trip as a client
//! sees it: request out, signature check, Lua transition, JSON answer read.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::serve::ListenerExt;
use reqwest::StatusCode;
use reqwest::header::ACCEPT;
use versus::oncall::{OnCall, State};
use versus::{AppState, app};

use crate::support::incident;

/// Deadlines and link expiries lie this far ahead, so nothing escalates
/// during the phase, no link expires, and every click is a first ACK.
const FAR: Duration = Duration::from_secs(3_600);

/// Connections a run may open before it counts as not keeping alive; see
/// [`measure`] for why it is not 1.
const MAX_CONNECTIONS: usize = 3;

/// Long enough for the server to close one idle connection; longer means
/// it is stuck.
const DRAIN: Duration = Duration::from_secs(5);

/// What the HTTP phase measured.
pub struct HttpAcks {
    /// Round-trip time of each ACK in µs, sorted.
    pub rtts: Vec<i64>,
    /// TCP connections the server accepted, the warm-up's included.
    pub connections: usize,
}

/// Creates `n` pending incidents, ACKs each with `POST /api/ack/{id}` and
/// times every round trip.
///
/// Strategy: links are signed before any clock starts, and a `/healthz`
/// call opens the connection first, so a sample is one request on a warm
/// keep-alive connection. The server counts the connections it accepts.
/// Expect one, sometimes two: hyper's pool hands a finished HTTP/1
/// connection back from a spawned task and, when the next checkout finds
/// the pool empty, races it against a fresh connect, which then stays
/// pooled too. More than a few means keep-alive is broken, and the run
/// fails. Afterwards every incident must read back as acknowledged.
pub async fn measure(oncall: &Arc<OnCall>, n: usize) -> anyhow::Result<HttpAcks> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let accepted = Arc::new(AtomicUsize::new(0));
    let counter = accepted.clone();
    let listener = listener.tap_io(move |_| {
        counter.fetch_add(1, Ordering::Relaxed);
    });
    let mut state = AppState::new(oncall.reloader.clone());
    state.oncall = Some(oncall.clone());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let serve = axum::serve(listener, app(state)).with_graceful_shutdown(async {
        let _ = stopped.await;
    });
    let server = tokio::spawn(async move { serve.await });

    let far = oncall.clock.now_ms() + FAR.as_millis() as i64;
    let exp = far / 1000 + FAR.as_secs() as i64;
    let mut links = Vec::with_capacity(n);
    for i in 0..n {
        let id = format!("http-ack-{i}");
        oncall.store.create(&incident(id.clone(), far, far)).await?;
        let url = oncall.signer.url(&base, &id, exp);
        links.push((id, url));
    }

    let client = reqwest::Client::new();
    client
        .get(format!("{base}/healthz"))
        .send()
        .await?
        .error_for_status()?
        // Read to the end: a connection whose body is left unread is not
        // returned to the pool.
        .bytes()
        .await?;
    let mut rtts = Vec::with_capacity(n);
    for (id, url) in &links {
        let t = Instant::now();
        let resp = client
            .post(url)
            .header(ACCEPT, "application/json")
            .send()
            .await?;
        let status = resp.status();
        let body = resp.bytes().await?;
        rtts.push(t.elapsed().as_micros() as i64);
        let reply: serde_json::Value = serde_json::from_slice(&body)
            .with_context(|| format!("ACK of {id}: {status}, body is not JSON"))?;
        anyhow::ensure!(
            status == StatusCode::OK && reply["status"] == "acknowledged",
            "ACK of {id}: {status} {reply}"
        );
    }
    rtts.sort_unstable();

    // Dropping the client closes its idle connection, so the drain is quick.
    drop(client);
    let _ = stop.send(());
    tokio::time::timeout(DRAIN, server)
        .await
        .context("the ACK server did not shut down")??
        .context("the ACK server failed")?;
    let connections = accepted.load(Ordering::Relaxed);
    anyhow::ensure!(
        connections <= MAX_CONNECTIONS,
        "{connections} connections for {n} ACKs: keep-alive is not working"
    );
    for (id, _) in &links {
        let state = oncall.store.get(id).await?.map(|v| v.state);
        anyhow::ensure!(
            state == Some(State::Acknowledged),
            "{id} is {state:?} after a 200 ACK"
        );
    }
    Ok(HttpAcks { rtts, connections })
}
