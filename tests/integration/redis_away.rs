//! The gateway starts while its Redis is away: alive, not ready (and why),
//! chat-only alerts delivered, alerts that need on-call refused with 503
//! and `Retry-After` with nothing sent, and on-call available once Redis
//! comes up, without a restart. Each change is logged once. The real
//! binary, a real `redis-server` started late, the Slack and SSM
//! emulators; no ACK secret configured, so it comes from Redis too.

use std::time::Duration;

use serde_json::Value;

use crate::common::eventually;
use crate::gateway::free_port;
use crate::oncall_rig::{Rig, Setup, ack_url_of, get, payload, post};
use crate::redis_servers::start_redis;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_starts_without_redis_and_pages_once_it_answers() {
    let rig = Rig::new().await;
    let port = free_port();
    let setup = Setup {
        ack_secret: None,
        ..Setup::redis_port(port)
    };
    let gw = rig.gateway_with("gw", &setup).await;

    // Alive, not ready, and why.
    let (status, _) = get(&format!("{}/healthz", gw.base()), "*/*").await;
    assert_eq!(status, 200);
    let (status, ready) = get(&format!("{}/readyz", gw.base()), "*/*").await;
    assert_eq!(status, 503, "{ready}");
    let ready: Value = serde_json::from_str(&ready).expect("json");
    assert_eq!(
        ready["reason"],
        "not connected: Redis has not answered since the gateway started"
    );

    // An alert that needs on-call: 503, Retry-After, nothing sent.
    let refused = reqwest::Client::new()
        .post(format!("{}/api/incidents", gw.base()))
        .header("content-type", "application/json")
        .body(payload("critical", "away-refused"))
        .send()
        .await
        .expect("POST");
    assert_eq!(refused.status().as_u16(), 503);
    assert_eq!(refused.headers()["retry-after"], "5");
    assert!(rig.slack.posted().is_empty());

    // A chat-only alert is delivered, without an ACK button.
    let (status, body) = post(&gw, "oncall_enable=false", payload("critical", "away-chat")).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(rig.slack.posted().len(), 1);
    assert_eq!(ack_url_of(&rig.slack, 0), None);

    // Redis comes up: ready without a restart.
    let mut redis = start_redis(port);
    let ready = eventually(Duration::from_secs(20), async || {
        get(&format!("{}/readyz", gw.base()), "*/*").await.0 == 200
    })
    .await;
    assert!(ready, "never ready:\n{}", gw.log());

    // On-call works: a signed ACK link, and one page at the deadline.
    let (status, body) = post(
        &gw,
        "oncall_wait_minutes=0.02",
        payload("critical", "away-paged"),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().expect("id").to_string();
    assert!(ack_url_of(&rig.slack, 1).is_some_and(|u| u.contains("&sig=")));
    let paged = eventually(Duration::from_secs(10), async || {
        rig.ssm.calls_for(&id).len() == 1
    })
    .await;
    assert!(paged, "not paged:\n{}", gw.log());

    // Each change logged once, not once per attempt or per tick.
    let log = gw.log();
    let count = |text: &str| log.lines().filter(|l| l.contains(text)).count();
    assert_eq!(count("Redis does not answer"), 1, "{log}");
    assert_eq!(count("Redis answers; on-call is available"), 1, "{log}");
    assert_eq!(count("scheduler cannot reach the store"), 1, "{log}");
    assert_eq!(count("scheduler reaches the store again"), 1, "{log}");
    assert_eq!(rig.ssm.calls().len(), 1);
    let _ = redis.kill();
    let _ = redis.wait();
}
