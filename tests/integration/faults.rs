//! Fault tests, scripted and bounded, loopback only. Slack failing for a
//! while runs in the normal suite; the slower ones (SIGKILL under load,
//! Redis restarted, a replica killed mid-escalation) are `#[ignore]`d and
//! run with `scripts/faults` (`cargo test -p versus --test integration --
//! --ignored faults::`).

use std::collections::{BTreeSet, HashMap};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use crate::harden_rig::{Gw, alert};
use crate::oncall_rig::{Rig, Setup, ack_url_of, payload, post, wait_for};
use crate::slack_emulator::{Fault, Mode, SlackEmulator};

/// The alert name inside a posted Slack message's text.
fn alert_name(body: &Value) -> String {
    let text = body["text"].as_str().unwrap_or("");
    text.rsplit("Alert: ")
        .next()
        .unwrap_or("")
        .trim_end_matches('*')
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slack_failing_then_recovering_delivers_every_alert_once() {
    use Fault::{Hang, RateLimited, ServerError};
    // 500s, rate limits and calls that time out (the gateway gives up after
    // 1 s; the emulator answers 500 later), then Slack recovers.
    let script = vec![
        ServerError,
        Hang(Duration::from_secs(3)),
        RateLimited(1),
        ServerError,
        Hang(Duration::from_secs(3)),
        ServerError,
        RateLimited(1),
        ServerError,
        ServerError,
        Hang(Duration::from_secs(3)),
        ServerError,
        ServerError,
    ];
    let slack = SlackEmulator::start(Mode::Scripted(Arc::new(script))).await;
    let extra = "plugins:\n  watch: false\n  overrides:\n    slack:\n      http_timeout: 1s\n";
    let gw = Arc::new(Gw::start_with_budget(&slack, "40s", extra, &[]).await);
    let names: Vec<String> = (0..10).map(|i| format!("Flaky{i}")).collect();
    let posts = names.iter().map(|name| {
        let gw = gw.clone();
        let body = alert(name);
        tokio::spawn(async move { gw.post("", &[], &body).await })
    });
    for answer in futures::future::join_all(posts).await {
        let answer = answer.expect("POST task");
        assert_eq!(answer.status, 201, "{}\n{}", answer.text, gw.process.log());
    }
    let posted = slack.posted();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for body in &posted {
        *seen.entry(alert_name(body)).or_default() += 1;
    }
    for name in &names {
        assert_eq!(seen.get(name), Some(&1), "{name}: {seen:?}");
    }
    assert_eq!(posted.len(), names.len(), "{seen:?}");
    assert!(
        slack.requests().len() > names.len(),
        "the script never failed a call"
    );
}

/// The incident id of an ACK URL.
fn id_of(ack_url: &str) -> String {
    ack_url
        .split("/api/ack/")
        .nth(1)
        .and_then(|rest| rest.split('?').next())
        .unwrap_or("")
        .to_string()
}

/// Every successful StartIncident call's clientToken, with its count.
fn pages(rig: &Rig) -> HashMap<String, usize> {
    let mut out = HashMap::new();
    for call in rig.ssm.calls() {
        let token = call.body["clientToken"].as_str().unwrap_or("").to_string();
        *out.entry(token).or_default() += 1;
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "slow fault test: scripts/faults"]
async fn faults_sigkill_under_load_pages_every_unacked_once_and_no_acked() {
    let rig = Rig::new().await;
    let mut first = rig.gateway("first", 6379).await;
    // 20 pending escalations due in 15 s.
    let mut ids = Vec::new();
    for i in 0..20 {
        let (status, body) = post(
            &first,
            "oncall_wait_minutes=0.25",
            payload("critical", &format!("kill{i}")),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        ids.push(body["id"].as_str().expect("id").to_string());
    }
    // ACK the first 8 through their Slack buttons.
    let mut acked = BTreeSet::new();
    for n in 0..8 {
        let url = ack_url_of(&rig.slack, n).expect("ACK button");
        let resp = reqwest::Client::new()
            .post(&url)
            .header("accept", "application/json")
            .send()
            .await
            .expect("ACK");
        assert_eq!(resp.status().as_u16(), 200, "{url}");
        acked.insert(id_of(&url));
    }
    // More alerts in flight while the gateway is killed.
    let base = first.base();
    let load: Vec<_> = (0..10)
        .map(|i| {
            let url = format!("{base}/api/incidents?oncall_wait_minutes=0.25");
            tokio::spawn(async move {
                reqwest::Client::new()
                    .post(url)
                    .header("content-type", "application/json")
                    .body(payload("critical", &format!("inflight{i}")))
                    .timeout(Duration::from_secs(10))
                    .send()
                    .await
                    .ok()
                    .map(|r| r.status().as_u16())
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(100)).await;
    first.kill9();
    for task in load {
        let _ = task.await;
    }
    let second = rig.gateway("second", 6379).await;
    let unacked: Vec<&String> = ids.iter().filter(|id| !acked.contains(*id)).collect();
    let all = wait_for(Duration::from_secs(60), || {
        let p = pages(&rig);
        unacked.iter().all(|id| p.contains_key(*id))
    })
    .await;
    assert!(
        all,
        "not every unacked incident was paged:\n{}",
        second.log()
    );
    // Past every deadline and a scheduler tick: nothing more arrives.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let p = pages(&rig);
    for id in &unacked {
        assert_eq!(p.get(*id), Some(&1), "incident {id}");
    }
    for id in &acked {
        assert_eq!(p.get(id), None, "acknowledged incident {id} was paged");
    }
    // Alerts that were in flight at the kill: paged at most once each.
    assert!(p.values().all(|&n| n == 1), "{p:?}");
}

/// A private `redis-server` with an append-only file fsynced on every
/// write, so a restart keeps every acknowledged write.
fn persistent_redis(port: u16, dir: &Path) -> Child {
    let child = Command::new("redis-server")
        .args([
            "--port",
            &port.to_string(),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
        ])
        .args(["--appendonly", "yes", "--appendfsync", "always"])
        .arg("--dir")
        .arg(dir)
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server must be installed (scripts/test installs it)");
    for _ in 0..250 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "slow fault test: scripts/faults"]
async fn faults_redis_restart_during_pending_escalations_pages_each_once() {
    let rig = Rig::new().await;
    let port = crate::gateway::free_port();
    let data = tempfile::tempdir().expect("tempdir");
    let mut redis = persistent_redis(port, data.path());
    let gw = rig.gateway_with("gw", &Setup::redis_port(port)).await;
    let mut ids = Vec::new();
    for i in 0..10 {
        let (status, body) = post(
            &gw,
            "oncall_wait_minutes=0.15",
            payload("critical", &format!("redis{i}")),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        ids.push(body["id"].as_str().expect("id").to_string());
    }
    // Redis crashes and is back 3 s later, before the 9 s deadlines.
    let _ = redis.kill();
    let _ = redis.wait();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut redis = persistent_redis(port, data.path());
    let all = wait_for(Duration::from_secs(40), || {
        let p = pages(&rig);
        ids.iter().all(|id| p.contains_key(id))
    })
    .await;
    assert!(all, "not every incident was paged:\n{}", gw.log());
    tokio::time::sleep(Duration::from_secs(3)).await;
    let p = pages(&rig);
    for id in &ids {
        assert_eq!(p.get(id), Some(&1), "incident {id}");
    }
    let _ = redis.kill();
    let _ = redis.wait();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "slow fault test: scripts/faults"]
async fn faults_a_replica_killed_mid_escalation_is_taken_over_once() {
    let rig = Rig::new().await;
    let mut a = rig.gateway("a", 6379).await;
    let b = rig.gateway("b", 6379).await;
    // Only replica `a` is told about the alert, and wakes at once.
    rig.ssm.slow_next(1, Duration::from_secs(20));
    let (status, body) = post(&a, "oncall_wait_minutes=0", payload("critical", "midway")).await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().expect("id").to_string();
    // The call is in flight (AWS may have started the incident); kill `a`.
    assert!(
        wait_for(Duration::from_secs(20), || !rig
            .ssm
            .calls_for(&id)
            .is_empty())
        .await
    );
    a.kill9();
    // `b` takes the claim over once the lease (30 s) runs out, with the same
    // clientToken, so AWS starts one incident.
    let taken = wait_for(Duration::from_secs(60), || {
        rig.ssm.calls_for(&id).len() >= 2
    })
    .await;
    assert!(taken, "no replica took the escalation over:\n{}", b.log());
    let url = format!("{}/api/incidents/{id}", b.base());
    let mut text = String::new();
    for _ in 0..100 {
        text = crate::oncall_rig::get(&url, "application/json").await.1;
        if text.contains("\"state\":\"escalated\"") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(text.contains("\"state\":\"escalated\""), "{text}");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let calls = rig.ssm.calls_for(&id);
    assert_eq!(calls.len(), 2, "one call per replica, no more");
    assert!(calls.iter().all(|c| c.body["clientToken"] == id.as_str()));
    assert_eq!(
        pages(&rig).len(),
        1,
        "one distinct clientToken: one AWS incident"
    );
}
