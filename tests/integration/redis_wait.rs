//! `redis.wait_replicas`: a 201 and an ACK's 200 mean the replica has the
//! record; with the replica gone, a new alert gets 503 with `Retry-After`,
//! nothing is sent and nothing is left to page. The real binary against a
//! real master and replica (`redis-server --replicaof`), the Slack and SSM
//! emulators.

use std::time::Duration;

use crate::common::eventually;
use crate::gateway::free_port;
use crate::oncall_rig::{Rig, Setup, ack, ack_url_of, payload, post};
use crate::redis_servers::{Server, redis_server, start_redis};

async fn connection(port: u16) -> redis::aio::MultiplexedConnection {
    redis::Client::open(format!("redis://127.0.0.1:{port}/0"))
        .expect("url")
        .get_multiplexed_async_connection()
        .await
        .expect("connect")
}

/// `HGET key field` on the server at `port`.
async fn hget(port: u16, key: &str, field: &str) -> Option<String> {
    let mut con = connection(port).await;
    redis::cmd("HGET")
        .arg(key)
        .arg(field)
        .query_async(&mut con)
        .await
        .expect("HGET")
}

/// The incidents, dedup keys and due entries under `prefix` on the server
/// at `port`.
async fn incidents(port: u16, prefix: &str) -> (usize, usize, usize) {
    let mut con = connection(port).await;
    let mut count = async |pattern: String| {
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(pattern)
            .query_async(&mut con)
            .await
            .expect("KEYS");
        keys.len()
    };
    let inc = count(format!("{prefix}inc:*")).await;
    let dedup = count(format!("{prefix}dedup:*")).await;
    let due: usize = redis::cmd("ZCARD")
        .arg(format!("{prefix}due"))
        .query_async(&mut con)
        .await
        .expect("ZCARD");
    (inc, dedup, due)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_201_and_an_acks_200_mean_the_replica_has_it() {
    let rig = Rig::new().await;
    let (master_port, replica_port) = (free_port(), free_port());
    let _master = Server(start_redis(master_port));
    let mut replica = Server(redis_server(replica_port, Some(master_port)));
    let synced = eventually(Duration::from_secs(20), async || {
        let client = redis::Client::open(format!("redis://127.0.0.1:{replica_port}/0"));
        let Ok(mut con) = client
            .expect("url")
            .get_multiplexed_async_connection()
            .await
        else {
            return false;
        };
        let info: String = redis::cmd("INFO")
            .arg("replication")
            .query_async(&mut con)
            .await
            .unwrap_or_default();
        info.contains("master_link_status:up")
    })
    .await;
    assert!(synced, "the replica never synced");

    let yaml = rig.yaml(&Setup::redis_port(master_port));
    let redis = format!("  port: {master_port}\n");
    assert!(yaml.contains(&redis), "the rig's config changed shape");
    let yaml = yaml.replacen(
        &redis,
        &format!("{redis}  wait_replicas: 1\n  wait_timeout: 300ms\n"),
        1,
    );
    let gw = crate::gateway::Process::start(&rig.dir("gw"), &yaml, &rig.env()).await;

    // A 201: the replica has the incident; the ACK's 200: it has the ACK.
    let (status, body) = post(&gw, "oncall_wait_minutes=1", payload("critical", "w1")).await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().expect("id").to_string();
    let key = format!("{}inc:{id}", rig.prefix);
    assert_eq!(
        hget(replica_port, &key, "state").await.as_deref(),
        Some("pending")
    );
    let link = ack_url_of(&rig.slack, 0).expect("ACK button");
    let (status, text) = ack(&link, "application/json").await;
    assert_eq!(status, 200, "{text}");
    assert_eq!(
        hget(replica_port, &key, "state").await.as_deref(),
        Some("acknowledged")
    );

    // No replica: 503 with Retry-After, nothing posted, nothing left.
    let _ = replica.0.kill();
    let _ = replica.0.wait();
    let before = incidents(master_port, &rig.prefix).await;
    let posted = rig.slack.posted().len();
    let refused = reqwest::Client::new()
        .post(format!(
            "{}/api/incidents?oncall_wait_minutes=0.02",
            gw.base()
        ))
        .header("content-type", "application/json")
        .body(payload("critical", "w2"))
        .send()
        .await
        .expect("POST");
    assert_eq!(refused.status().as_u16(), 503);
    assert_eq!(refused.headers()["retry-after"], "5");
    assert_eq!(rig.slack.posted().len(), posted);
    assert_eq!(incidents(master_port, &rig.prefix).await, before);
    let log = gw.log();
    assert!(
        log.contains("reached 0 of the 1 Redis replicas asked for"),
        "{log}"
    );
    // Its deadline passes: nobody is paged.
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(rig.ssm.calls().is_empty(), "{:?}", rig.ssm.calls());
}
