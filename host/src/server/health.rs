//! Liveness, readiness and Prometheus metrics.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use serde_json::{Value, json};

use super::AppState;
use crate::oncall::{Store, StoreError};

/// How long readiness waits for Redis to answer PING. Under Kubernetes'
/// default probe timeout (1 s), so the probe gets our 503 and its reason
/// rather than timing out itself.
const STORE_PING_TIMEOUT: Duration = Duration::from_millis(800);

/// Liveness: the process answers. Always cheap.
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// Content type of the OpenMetrics text format, which the metrics are
/// encoded in (it ends with `# EOF`).
const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// How long a scrape waits for the due-set count. A scrape must not hang
/// on Redis: the gauge keeps its last value and the failure is counted.
const DUE_COUNT_TIMEOUT: Duration = Duration::from_millis(500);

/// `GET /metrics`: this process's counters, for Prometheus to scrape. The
/// pending-escalations gauge is read here, one `ZCARD`, so it costs nothing
/// between scrapes.
pub async fn metrics(
    State(state): State<Arc<AppState>>,
) -> ([(header::HeaderName, &'static str); 1], String) {
    let metrics = crate::metrics::get();
    if let Some(oncall) = &state.oncall {
        match tokio::time::timeout(DUE_COUNT_TIMEOUT, oncall.store.due_count()).await {
            Ok(Ok(n)) => {
                metrics
                    .escalations_pending
                    .set(i64::try_from(n).unwrap_or(i64::MAX));
            }
            Ok(Err(e)) => tracing::warn!(error = %e, "cannot count pending escalations"),
            Err(_) => {
                metrics.redis_error("due_count");
                tracing::warn!("counting pending escalations timed out");
            }
        }
    }
    ([(header::CONTENT_TYPE, OPENMETRICS)], metrics.encode())
}

/// Readiness: a pipeline is loaded (it always is once the server listens),
/// with its generation and channels; when on-call is on, its store answers,
/// and the escalation counters of this process. 503 when on-call uses Redis
/// and Redis does not answer: alerts needing on-call would get 503 too.
pub async fn readyz(State(state): State<Arc<AppState>>) -> (StatusCode, Json<Value>) {
    let pipeline = state.reloader.pipeline();
    let channels: Vec<&str> = pipeline.channels.iter().map(|c| c.name.as_str()).collect();
    let mut body = json!({
        "status": "ready",
        "generation": pipeline.generation,
        "channels": channels,
    });
    let Some(oncall) = &state.oncall else {
        return (StatusCode::OK, Json(body));
    };
    let kind = match &oncall.store {
        Store::Redis(_) => "redis",
        Store::Memory(_) => "memory",
    };
    let reachable = match tokio::time::timeout(STORE_PING_TIMEOUT, oncall.store.ping()).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(StoreError::NotConnected(_))) => {
            Err("not connected: Redis has not answered since the gateway started".to_string())
        }
        Ok(Err(_)) => Err("Redis does not answer".to_string()),
        Err(_) => Err(format!(
            "no answer within {} ms",
            STORE_PING_TIMEOUT.as_millis()
        )),
    };
    body["oncall"] = json!({
        "store": kind,
        "store_reachable": reachable.is_ok(),
        "escalations": oncall.stats.snapshot(),
    });
    match reachable {
        Ok(()) => (StatusCode::OK, Json(body)),
        Err(reason) => {
            // The store logs when Redis stops and starts answering; a
            // probe every few seconds would repeat it.
            tracing::debug!(reason, "not ready: the on-call store does not answer");
            body["status"] = json!("unavailable");
            // Only Redis can fail a ping.
            body["error"] =
                json!("Redis is unreachable: alerts that need on-call get 503 until it answers");
            // Why, without addresses or Redis's words (those are logged).
            body["reason"] = json!(reason);
            (StatusCode::SERVICE_UNAVAILABLE, Json(body))
        }
    }
}
