//! On-call on a real Redis Cluster: two gateway processes share a
//! 3-master cluster, incidents spread over every master, and each one
//! that nobody acknowledges pages exactly once, on time; then the same
//! with a master killed during the wait and its replica promoted.

use std::time::Duration;

use crate::gateway::Process;
use crate::oncall_rig::{Rig, reaches};
use crate::redis_ha_rig::{acknowledge, assert_each_unacknowledged_pages_once, raise};
use crate::redis_servers::{Cluster, info, keys};

/// The rig's config on the cluster whose seed node is `seed` (and, with
/// `extra`, a second seed), with `more` indented lines in `redis:`.
fn cluster_yaml(rig: &Rig, seed: u16, extra: u16, more: &str) -> String {
    rig.yaml_with(&format!(
        "  host: 127.0.0.1\n  port: {seed}\n  cluster: true\n  nodes: [\"127.0.0.1:{extra}\"]\n{more}"
    ))
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
        let here = keys(port, &pattern).await.len();
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

    // Not early; late by at most the scheduler's tick and a busy
    // machine's slack.
    let (late, within) = (Duration::from_secs(4), wait + Duration::from_secs(30));
    assert_each_unacknowledged_pages_once(&rig, &raised, wait, Some(late), within).await;
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

    let within = wait + Duration::from_secs(40);
    assert_each_unacknowledged_pages_once(&rig, &raised, wait, None, within).await;
    assert_eq!(acked.len(), 30);
    // The victim's replica is a master now and holds its incidents.
    let mut promoted = None;
    for &port in cluster.replica_ports() {
        let role = info(port, "INFO", Some("replication")).await;
        if role.contains("role:master") {
            promoted = Some(port);
        }
    }
    let promoted = promoted.expect("no replica was promoted");
    let held = keys(promoted, &format!("{}*inc:*", rig.prefix)).await;
    assert!(!held.is_empty(), "the promoted replica holds no incident");
}
