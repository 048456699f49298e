//! On-call on a real Redis Cluster: two gateway processes share a
//! 3-master cluster, incidents spread over every master, and each one
//! that nobody acknowledges pages exactly once, on time; then the same
//! with a master killed during the wait and its replica promoted.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures::future::join_all;

use crate::gateway::Process;
use crate::oncall_rig::{Rig, ack, payload, post, reaches};
use crate::redis_cluster_rig::Cluster;
use crate::slack_emulator::SlackEmulator;

/// The ACK link of the Slack message about incident `id`.
fn ack_url_for(slack: &SlackEmulator, id: &str) -> Option<String> {
    slack
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("chat.postMessage"))
        .flat_map(|r| {
            r.body["attachments"][0]["blocks"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter(|b| b["type"] == "actions")
        .filter_map(|b| b["elements"][0]["url"].as_str().map(str::to_string))
        .find(|url| url.contains(id))
}

/// The rig's config on the cluster whose seed node is `seed` (and, with
/// `extra`, a second seed), with `more` indented lines in `redis:`.
fn cluster_yaml(rig: &Rig, seed: u16, extra: u16, more: &str) -> String {
    rig.yaml_with(&format!(
        "  host: 127.0.0.1\n  port: {seed}\n  cluster: true\n  nodes: [\"127.0.0.1:{extra}\"]\n{more}"
    ))
}

/// Posts `count` critical alerts, each its own group, alternating between
/// the gateways, 20 at a time; each is retried on 503 as Alertmanager
/// would. Returns each incident id with when it was answered.
async fn raise(gws: &[&Process], count: usize, wait_minutes: f64) -> Vec<(String, Instant)> {
    let mut out = Vec::new();
    let query = format!("oncall_wait_minutes={wait_minutes}");
    for chunk in (0..count).collect::<Vec<_>>().chunks(20) {
        let posts = chunk.iter().map(|&i| {
            let gw = gws[i % gws.len()];
            let query = query.clone();
            async move {
                for _ in 0..40 {
                    let (status, body) =
                        post(gw, &query, payload("critical", &format!("c{i}"))).await;
                    if status == 201 {
                        let id = body["id"].as_str().expect("id").to_string();
                        return (id, Instant::now());
                    }
                    assert_eq!(status, 503, "alert {i}: {body}");
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                panic!("alert {i} never got a 201\n{}", gw.log());
            }
        });
        out.extend(join_all(posts).await);
    }
    out
}

/// Acknowledges `id` through its Slack link, clicking again on a 503 as a
/// person would; true once a click got 200, or "already acknowledged"
/// after a 503 (the first click stood but was not yet on a replica).
async fn acknowledge(slack: &SlackEmulator, id: &str) -> bool {
    let link = ack_url_for(slack, id).unwrap_or_else(|| panic!("no ACK link for {id}"));
    let mut refused = false;
    for _ in 0..60 {
        let (status, text) = ack(&link, "application/json").await;
        match status {
            200 => return true,
            409 if refused && text.contains("already_acknowledged") => return true,
            503 => {
                refused = true;
                tokio::time::sleep(Duration::from_millis(200)).await
            }
            _ => panic!("ACK of {id}: {status} {text}"),
        }
    }
    false
}

/// Waits until the SSM emulator has `expected` calls and then 3 s more
/// (a second page would come by then), and returns the calls per
/// incident with when each came.
async fn pages(rig: &Rig, expected: usize, within: Duration) -> HashMap<String, Vec<Instant>> {
    let start = Instant::now();
    while rig.ssm.calls().len() < expected && start.elapsed() < within {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut by_id: HashMap<String, Vec<Instant>> = HashMap::new();
    for call in rig.ssm.calls() {
        let id = call.body["clientToken"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        by_id.entry(id).or_default().push(call.at);
    }
    by_id
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_gateways_on_three_masters_page_each_unacknowledged_incident_once() {
    let cluster = Cluster::start(3, 0).await;
    let rig = Rig::new().await;
    let masters = cluster.master_ports();
    let yaml = cluster_yaml(&rig, masters[0], masters[1], "");
    let a = Process::start(&rig.dir("a"), &yaml, &rig.env()).await;
    let b = Process::start(&rig.dir("b"), &yaml, &rig.env()).await;

    const WAIT_MINUTES: f64 = 0.3;
    let wait = Duration::from_secs_f64(WAIT_MINUTES * 60.0);
    let raised = raise(&[&a, &b], 200, WAIT_MINUTES).await;
    let ids: Vec<&str> = raised.iter().map(|(id, _)| id.as_str()).collect();

    // Every master holds some of them, and together they hold all.
    let pattern = format!("{}*inc:*", rig.prefix);
    let mut held = 0;
    for &port in masters {
        let here = cluster.keys(port, &pattern).await.len();
        assert!(here > 0, "master {port} holds no incident");
        held += here;
    }
    assert_eq!(held, 200);

    // Half are acknowledged, in time.
    for id in ids.iter().step_by(2) {
        assert!(acknowledge(&rig.slack, id).await, "{id} never acknowledged");
    }
    assert!(
        raised[0].1.elapsed() < wait,
        "the ACKs came after the first deadline: the test is too slow for its wait"
    );

    let by_id = pages(&rig, 100, wait + Duration::from_secs(30)).await;
    for (i, (id, answered)) in raised.iter().enumerate() {
        let calls = by_id.get(id).map_or(&[][..], Vec::as_slice);
        if i % 2 == 0 {
            assert!(calls.is_empty(), "acknowledged {id} paged");
            continue;
        }
        assert_eq!(calls.len(), 1, "{id} paged {} times", calls.len());
        // Not early; late by at most the scheduler's tick and a busy
        // machine's slack.
        let after = calls[0].saturating_duration_since(*answered);
        assert!(
            after + Duration::from_millis(500) >= wait,
            "{id} paged {after:?} after its 201, before its wait of {wait:?}"
        );
        assert!(
            after <= wait + Duration::from_secs(4),
            "{id} paged {after:?} after its 201"
        );
    }
    assert_eq!(by_id.len(), 100, "pages for unknown incidents");
    assert!(reaches(&a, ids[1], "escalated", 5).await);
    assert!(reaches(&b, ids[0], "acknowledged", 5).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_master_killed_during_the_wait_loses_no_page_and_no_ack() {
    let mut cluster = Cluster::start(3, 1).await;
    let rig = Rig::new().await;
    let masters = cluster.master_ports().to_vec();
    let yaml = cluster_yaml(
        &rig,
        masters[0],
        masters[1],
        "  wait_replicas: 1\n  wait_timeout: 500ms\n",
    );
    let a = Process::start(&rig.dir("a"), &yaml, &rig.env()).await;
    let b = Process::start(&rig.dir("b"), &yaml, &rig.env()).await;

    const WAIT_MINUTES: f64 = 0.4;
    let wait = Duration::from_secs_f64(WAIT_MINUTES * 60.0);
    let raised = raise(&[&a, &b], 60, WAIT_MINUTES).await;

    // The ACKs start, a master dies a third of the way in, and the rest
    // are clicked (again, on a 503) while its replica takes over.
    let victim = masters[2];
    let mut acked = Vec::new();
    for (n, (id, _)) in raised.iter().step_by(2).enumerate() {
        if n == 10 {
            cluster.kill(victim);
        }
        assert!(acknowledge(&rig.slack, id).await, "{id} never acknowledged");
        acked.push(id.clone());
    }
    assert!(
        raised[0].1.elapsed() < wait,
        "the ACKs came after the first deadline: the test is too slow for its wait"
    );

    let by_id = pages(&rig, 30, wait + Duration::from_secs(40)).await;
    for (i, (id, answered)) in raised.iter().enumerate() {
        let calls = by_id.get(id).map_or(&[][..], Vec::as_slice);
        if i % 2 == 0 {
            assert!(calls.is_empty(), "{id} got an ACK's 200 and still paged");
            continue;
        }
        assert_eq!(calls.len(), 1, "{id} paged {} times", calls.len());
        let after = calls[0].saturating_duration_since(*answered);
        assert!(
            after + Duration::from_millis(500) >= wait,
            "{id} paged {after:?} after its 201, before its wait of {wait:?}"
        );
    }
    assert_eq!(by_id.len(), 30, "pages for unknown incidents");
    assert_eq!(acked.len(), 30);
    // The victim's replica is a master now and holds its incidents.
    let mut promoted = None;
    for &port in cluster.replica_ports() {
        let role = cluster.info(port, "INFO", Some("replication")).await;
        if role.contains("role:master") {
            promoted = Some(port);
        }
    }
    let promoted = promoted.expect("no replica was promoted");
    let held = cluster
        .keys(promoted, &format!("{}*inc:*", rig.prefix))
        .await;
    assert!(!held.is_empty(), "the promoted replica holds no incident");
}
