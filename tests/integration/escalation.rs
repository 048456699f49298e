//! StartIncident retries end to end: the SSM emulator fails on purpose, the
//! gateway retries with the configured backoff up to `max_attempts`, the
//! incident's timeline shows every attempt, and `/readyz` counts them and
//! checks Redis.

use std::time::Duration;

use serde_json::Value;

use crate::common::eventually;
use crate::gateway::Process;
use crate::oncall_rig::{Rig, get, payload, post};
use crate::redis_servers::start_redis;
use crate::ssm_emulator::Failure;

/// The redis: section for the shared test server.
const SHARED_REDIS: &str = "  host: 127.0.0.1\n  port: 6379\n";

/// The rig's config, with `redis` as the redis: section and these retry
/// settings in `oncall.aws_incident_manager`.
fn config(rig: &Rig, redis: &str, max_attempts: u32, initial: &str, max: &str) -> String {
    let yaml = rig.yaml_with(redis);
    let anchor = "    response_plan_arn: ";
    assert!(
        yaml.contains(anchor),
        "the rig's config changed shape:\n{yaml}"
    );
    yaml.replacen(
        anchor,
        &format!(
            "    max_attempts: {max_attempts}\n    initial_backoff: {initial}\n    \
             max_backoff: {max}\n{anchor}"
        ),
        1,
    )
}

/// `GET /api/incidents/{id}` as JSON.
async fn incident(gw: &Process, id: &str) -> Value {
    let (status, text) = get(
        &format!("{}/api/incidents/{id}", gw.base()),
        "application/json",
    )
    .await;
    assert_eq!(status, 200, "{text}");
    serde_json::from_str(&text).expect("incident JSON")
}

/// `GET /readyz`: status and JSON body.
async fn readyz(gw: &Process) -> (u16, Value) {
    let (status, text) = get(&format!("{}/readyz", gw.base()), "application/json").await;
    (
        status,
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}")),
    )
}

/// Asserts `/readyz`'s escalation counters: started, failed, attempt errors.
fn assert_counts(ready: &Value, started: u64, failed: u64, attempt_errors: u64) {
    let counts = &ready["oncall"]["escalations"];
    assert_eq!(
        (
            counts["started"].as_u64(),
            counts["failed"].as_u64(),
            counts["attempt_errors"].as_u64()
        ),
        (Some(started), Some(failed), Some(attempt_errors)),
        "{ready}"
    );
}

/// The timeline's events, and checks that it is in time order with an
/// RFC 3339 time on each entry.
fn events(view: &Value) -> Vec<String> {
    let timeline = view["timeline"].as_array().expect("timeline array");
    let times: Vec<i64> = timeline
        .iter()
        .map(|e| e["at_ms"].as_i64().expect("at_ms"))
        .collect();
    assert!(times.is_sorted(), "timeline out of order: {view}");
    for e in timeline {
        let at = e["at"].as_str().expect("at");
        assert!(
            at.len() == 24 && at.ends_with('Z') && at.as_bytes()[10] == b'T',
            "{at}"
        );
    }
    timeline
        .iter()
        .map(|e| e["event"].as_str().expect("event").to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_failures_then_one_page_with_the_same_client_token() {
    let rig = Rig::new().await;
    rig.ssm.fail_next(2, Failure::Throttling);
    let yaml = config(&rig, SHARED_REDIS, 5, "300ms", "2s");
    let gw = Process::start(&rig.dir("gw"), &yaml, &rig.env()).await;
    let (status, body) = post(&gw, "oncall_wait_minutes=0", payload("critical", "retry1")).await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().expect("id").to_string();

    let paged = eventually(Duration::from_secs(15), async || {
        rig.ssm.calls_for(&id).len() == 1
    })
    .await;
    assert!(paged, "not paged after retries:\n{}", gw.log());
    tokio::time::sleep(Duration::from_millis(1500)).await;

    // Three calls: two throttled, one page; every one with the same token
    // and body, and the backoff kept between them (300 ms, then 600 ms).
    let attempts = rig.ssm.attempts();
    let statuses: Vec<u16> = attempts.iter().map(|a| a.status).collect();
    assert_eq!(statuses, [429, 429, 200], "{:?}", rig.ssm.attempts());
    for a in &attempts {
        assert_eq!(a.body["clientToken"], id.as_str());
        assert_eq!(a.body, attempts[0].body);
    }
    assert!(attempts[1].at - attempts[0].at >= Duration::from_millis(300));
    assert!(attempts[2].at - attempts[1].at >= Duration::from_millis(600));
    assert_eq!(rig.ssm.calls().len(), 1);

    let view = incident(&gw, &id).await;
    assert_eq!(view["state"], "escalated", "{view}");
    assert_eq!(view["attempts"], 3, "{view}");
    assert_eq!(
        events(&view),
        [
            "created",
            "escalation_attempt",
            "escalation_attempt",
            "escalation_attempt",
            "escalated"
        ],
        "{view}"
    );
    let timeline = view["timeline"].as_array().expect("timeline");
    for (entry, n) in timeline[1..4].iter().zip(1..) {
        assert_eq!(entry["attempt"], n, "{view}");
    }
    for failed in &timeline[1..3] {
        let error = failed["error"].as_str().unwrap_or_default();
        assert!(error.contains("ThrottlingException"), "{view}");
    }
    assert!(timeline[3].get("error").is_none(), "{view}");

    let (status, ready) = readyz(&gw).await;
    assert_eq!(status, 200, "{ready}");
    assert_eq!(ready["oncall"]["store"], "redis", "{ready}");
    assert_counts(&ready, 1, 0, 2);
    let (_, metrics) = crate::metrics::scrape(&gw).await;
    let value = |series| crate::metrics::sample(&metrics, series);
    assert_eq!(
        value("versus_escalations_started_total"),
        Some(1.0),
        "{metrics}"
    );
    assert_eq!(
        value("versus_escalation_attempt_errors_total"),
        Some(2.0),
        "{metrics}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn always_failing_gives_up_after_max_attempts_loudly() {
    let rig = Rig::new().await;
    rig.ssm.fail_next(usize::MAX, Failure::ServerError);
    let yaml = config(&rig, SHARED_REDIS, 3, "100ms", "200ms");
    let gw = Process::start(&rig.dir("gw"), &yaml, &rig.env()).await;
    let (status, body) = post(&gw, "oncall_wait_minutes=0", payload("critical", "fail1")).await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().expect("id").to_string();

    let failed = eventually(Duration::from_secs(15), async || {
        incident(&gw, &id).await["state"] == "escalation_failed"
    })
    .await;
    assert!(failed, "not marked escalation_failed:\n{}", gw.log());
    // Well past any further backoff: still exactly max_attempts calls.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let attempts = rig.ssm.attempts();
    assert_eq!(attempts.len(), 3, "{attempts:?}");
    assert!(attempts.iter().all(|a| a.status == 500));
    assert!(
        attempts
            .iter()
            .all(|a| a.body["clientToken"] == id.as_str())
    );
    assert!(rig.ssm.calls().is_empty());
    assert!(
        gw.log().contains("ESCALATION FAILED"),
        "not logged loudly:\n{}",
        gw.log()
    );

    let view = incident(&gw, &id).await;
    assert_eq!(view["attempts"], 3, "{view}");
    assert!(
        view["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("InternalServerException")),
        "{view}"
    );
    assert_eq!(
        events(&view),
        [
            "created",
            "escalation_attempt",
            "escalation_attempt",
            "escalation_attempt",
            "escalation_failed"
        ],
        "{view}"
    );

    let (_, ready) = readyz(&gw).await;
    assert_counts(&ready, 0, 1, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readyz_is_503_while_redis_is_down_and_healthz_stays_200() {
    let rig = Rig::new().await;
    let port = crate::gateway::free_port();
    let mut redis = start_redis(port);
    let yaml = config(
        &rig,
        &format!("  host: 127.0.0.1\n  port: {port}\n"),
        5,
        "2s",
        "60s",
    );
    let gw = Process::start(&rig.dir("gw"), &yaml, &rig.env()).await;
    let (status, ready) = readyz(&gw).await;
    assert_eq!(status, 200, "{ready}");
    assert_eq!(ready["oncall"]["store_reachable"], true, "{ready}");

    let _ = redis.kill();
    let _ = redis.wait();
    let (status, ready) = readyz(&gw).await;
    assert_eq!(status, 503, "{ready}");
    assert_eq!(ready["status"], "unavailable", "{ready}");
    assert_eq!(ready["oncall"]["store_reachable"], false, "{ready}");
    assert!(
        ready["error"]
            .as_str()
            .is_some_and(|e| e.contains("Redis is unreachable")),
        "{ready}"
    );
    let (status, health) = get(&format!("{}/healthz", gw.base()), "application/json").await;
    assert_eq!((status, health.as_str()), (200, r#"{"status":"ok"}"#));

    // Back again: ready again.
    let mut redis = start_redis(port);
    let back = eventually(Duration::from_secs(10), async || readyz(&gw).await.0 == 200).await;
    let _ = redis.kill();
    let _ = redis.wait();
    assert!(back, "not ready after Redis came back:\n{}", gw.log());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permission_error_fails_at_once_without_retries() {
    let rig = Rig::new().await;
    rig.ssm.fail_next(usize::MAX, Failure::AccessDenied);
    // Five attempts a second apart would take four seconds to give up.
    let yaml = config(&rig, SHARED_REDIS, 5, "1s", "1s");
    let gw = Process::start(&rig.dir("gw"), &yaml, &rig.env()).await;
    let (status, body) = post(&gw, "oncall_wait_minutes=0", payload("critical", "denied")).await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().expect("id").to_string();

    let failed = eventually(Duration::from_secs(3), async || {
        incident(&gw, &id).await["state"] == "escalation_failed"
    })
    .await;
    assert!(failed, "not failed at once:\n{}", gw.log());
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let attempts = rig.ssm.attempts();
    assert_eq!(attempts.len(), 1, "{attempts:?}");
    assert_eq!(attempts[0].status, 403);
    let view = incident(&gw, &id).await;
    assert!(
        view["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("AccessDeniedException")),
        "{view}"
    );
    assert!(gw.log().contains("no retry can fix"), "{}", gw.log());
}
