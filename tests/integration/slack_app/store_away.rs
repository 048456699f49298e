//! A click while the on-call store does not answer: Slack gets a clear 503
//! within its 3 s, the click is counted and changes nothing, and the next
//! click, once Redis answers again, acknowledges. Redis hangs here (the
//! process is stopped, its data kept) rather than going away.

use std::process::Child;
use std::time::Duration;

use super::{SIGNING_SECRET, click, raise, signed};
use crate::common::eventually;
use crate::gateway::{Process, free_port, send_signal};
use crate::metrics::{sample, scrape};
use crate::oncall_rig::{Rig, get, incident_json, reaches};
use crate::redis_servers::start_redis;

/// A private `redis-server`, killed when the test ends, however it ends.
struct Redis(Child);

impl Redis {
    /// Sends `signal` (`-STOP` or `-CONT`) to the server.
    fn signal(&self, signal: &str) {
        send_signal(self.0.id(), signal);
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_click_while_redis_hangs_gets_a_503_in_time_and_the_next_one_acknowledges() {
    let rig = Rig::new().await;
    let port = free_port();
    let redis = Redis(start_redis(port));
    let mut env = rig.env();
    env.push(("SLACK_SIGNING_SECRET", SIGNING_SECRET.into()));
    let yaml = rig.yaml_with(&format!("  host: 127.0.0.1\n  port: {port}\n"));
    let gw = Process::start(&rig.dir("a"), &yaml, &env).await;
    let id = raise(&gw, "slack-app-store-away", 3.0).await;

    redis.signal("-STOP");
    let (status, answer, took) = signed(&gw, click(&rig.slack, "ack_incident", &id)).await;
    redis.signal("-CONT");
    assert_eq!(status, 503, "{answer}\n{}", gw.log());
    assert_eq!(answer["status"], "unavailable");
    assert_eq!(
        answer["message"],
        "on-call state store unavailable; retry later"
    );
    assert!(took < Duration::from_secs(3), "Slack waits 3 s: {took:?}");

    // Nothing changed: still pending, no message update, no reply.
    let ready = eventually(Duration::from_secs(20), async || {
        get(&format!("{}/readyz", gw.base()), "*/*").await.0 == 200
    })
    .await;
    assert!(ready, "not ready again:\n{}", gw.log());
    assert_eq!(incident_json(&gw, &id).await["state"], "pending");
    assert!(rig.slack.calls("chat.update").is_empty());
    assert!(rig.slack.replies().is_empty(), "{:?}", rig.slack.replies());
    let (_, metrics) = scrape(&gw).await;
    let unavailable = r#"versus_slack_interactions_total{action="none",outcome="unavailable"}"#;
    assert_eq!(sample(&metrics, unavailable), Some(1.0), "{metrics}");

    // The person clicks again (Slack signs each request anew): it works.
    let (status, answer, _) = signed(&gw, click(&rig.slack, "ack_incident", &id)).await;
    assert_eq!(status, 200, "{answer}");
    assert!(reaches(&gw, &id, "acknowledged", 10).await, "{}", gw.log());
    let (_, metrics) = scrape(&gw).await;
    let acked = r#"versus_slack_interactions_total{action="acknowledge",outcome="acknowledged"}"#;
    assert_eq!(sample(&metrics, acked), Some(1.0), "{metrics}");
}
