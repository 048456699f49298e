//! On-call behind Redis Sentinel: two gateway processes find the master
//! through three sentinels. The master is killed during the wait, the
//! sentinels promote its replica, and the gateways follow without a
//! restart: every unacknowledged incident pages exactly once, and no ACK
//! that got a 200 is lost (`wait_replicas: 1`).

use std::time::Duration;

use crate::gateway::Process;
use crate::oncall_rig::{Rig, reaches};
use crate::redis_ha_rig::{acknowledge, assert_each_unacknowledged_pages_once, raise};
use crate::redis_servers::{MASTER_NAME, Sentinel, info, keys};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateways_follow_a_failover_and_page_each_unacknowledged_incident_once() {
    let mut set = Sentinel::start().await;
    let rig = Rig::new().await;
    let nodes: Vec<String> = set
        .sentinels
        .iter()
        .map(|p| format!("\"127.0.0.1:{p}\""))
        .collect();
    let yaml = rig.yaml_with(&format!(
        "  sentinel:\n    master_name: {MASTER_NAME}\n    nodes: [{}]\n  \
         wait_replicas: 1\n  wait_timeout: 500ms\n",
        nodes.join(", ")
    ));
    let a = Process::start(&rig.dir("a"), &yaml, &rig.env()).await;
    let b = Process::start(&rig.dir("b"), &yaml, &rig.env()).await;

    const WAIT_MINUTES: f64 = 0.4;
    let wait = Duration::from_secs_f64(WAIT_MINUTES * 60.0);
    let raised = raise(&[&a, &b], 40, WAIT_MINUTES).await;
    let pattern = format!("{}inc:*", rig.prefix);
    assert_eq!(keys(set.master, &pattern).await.len(), 40);

    // The ACKs start, the master dies a third of the way in, and the rest
    // are clicked (again, on a 503) while the sentinels promote the replica.
    for (n, (id, _)) in raised.iter().step_by(2).enumerate() {
        if n == 7 {
            set.kill_master();
        }
        assert!(acknowledge(&rig.slack, id).await, "{id} never acknowledged");
    }
    assert!(
        raised[0].1.elapsed() < wait,
        "the ACKs came after the first deadline: the test is too slow for its wait"
    );
    let role = info(set.replica, "INFO", Some("replication")).await;
    assert!(
        role.contains("role:master"),
        "the replica was not promoted: {role}"
    );

    let (late, within) = (Duration::from_secs(4), wait + Duration::from_secs(40));
    assert_each_unacknowledged_pages_once(&rig, &raised, wait, Some(late), within).await;
    // Both gateways write to the new master, and said so once.
    assert!(reaches(&a, &raised[1].0, "escalated", 5).await);
    assert!(reaches(&b, &raised[0].0, "acknowledged", 5).await);
    for gw in [&a, &b] {
        let log = gw.log();
        assert!(
            log.contains("Redis Sentinel: following the master"),
            "{log}"
        );
    }
}
