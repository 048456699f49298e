//! Real replicated Redis on 127.0.0.1 for the HA tests, and what those
//! tests share: a Redis Cluster (`redis-server` nodes with
//! `cluster-enabled`, joined by `redis-cli --cluster create`), a master
//! with a replica watched by three `redis-sentinel`s, and alerts raised,
//! acknowledged and paged as a user meets them. Every server is killed
//! when its set-up is dropped, also when a test fails.

use std::collections::HashMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures::future::join_all;

use crate::common::eventually;
use crate::gateway::Process;
use crate::oncall_rig::{Rig, ack, payload, post};
use crate::slack_emulator::SlackEmulator;

/// How long a master may be silent before its replica takes over. Short,
/// so a failover takes about two seconds.
const NODE_TIMEOUT_MS: u64 = 1000;

pub(crate) struct Cluster {
    /// Node ports, masters first, then replicas.
    pub(crate) ports: Vec<u16>,
    /// How many of `ports` are masters.
    masters: usize,
    nodes: Vec<Option<Child>>,
    _dir: tempfile::TempDir,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for child in self.nodes.iter_mut().flatten() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A free port whose cluster bus port (+10000) is free too.
fn cluster_port() -> u16 {
    loop {
        let port = crate::gateway::free_port();
        if port < 55_000 && std::net::TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok() {
            return port;
        }
    }
}

fn start_node(dir: &Path, port: u16) -> Child {
    Command::new("redis-server")
        .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"])
        .args(["--cluster-enabled", "yes"])
        .arg("--cluster-config-file")
        .arg(dir.join(format!("nodes-{port}.conf")))
        .args(["--cluster-node-timeout", &NODE_TIMEOUT_MS.to_string()])
        .arg("--dir")
        .arg(dir)
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-server must be installed (scripts/test installs it)")
}

impl Cluster {
    /// `masters` masters with `replicas` replicas each, every slot
    /// covered and every replica in sync.
    pub(crate) async fn start(masters: usize, replicas: usize) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let ports: Vec<u16> = (0..masters * (1 + replicas))
            .map(|_| cluster_port())
            .collect();
        let nodes = ports
            .iter()
            .map(|&p| Some(start_node(dir.path(), p)))
            .collect();
        let cluster = Self {
            ports,
            masters,
            nodes,
            _dir: dir,
        };
        for &port in &cluster.ports {
            let up = eventually(Duration::from_secs(10), async || {
                std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
            })
            .await;
            assert!(up, "redis node {port} never listened");
        }
        // Masters first: redis-cli makes the first `masters` nodes masters.
        let out = Command::new("redis-cli")
            .arg("--cluster")
            .arg("create")
            .args(cluster.ports.iter().map(|p| format!("127.0.0.1:{p}")))
            .args(["--cluster-replicas", &replicas.to_string(), "--cluster-yes"])
            .output()
            .expect("redis-cli must be installed");
        assert!(
            out.status.success(),
            "redis-cli --cluster create failed: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let ready = eventually(Duration::from_secs(30), async || {
            let mut ok = true;
            for &port in &cluster.ports {
                let info = info(port, "CLUSTER", Some("INFO")).await;
                ok &= info.contains("cluster_state:ok");
            }
            for &port in cluster.replica_ports() {
                let info = info(port, "INFO", Some("replication")).await;
                ok &= info.contains("master_link_status:up");
            }
            ok
        })
        .await;
        assert!(ready, "the cluster never became ready");
        cluster
    }

    /// The ports of the nodes started as masters.
    pub(crate) fn master_ports(&self) -> &[u16] {
        &self.ports[..self.masters]
    }

    /// The ports of the nodes started as replicas.
    pub(crate) fn replica_ports(&self) -> &[u16] {
        &self.ports[self.masters..]
    }

    /// Kills the node on `port` at once (SIGKILL), as a crash would.
    pub(crate) fn kill(&mut self, port: u16) {
        let i = self.ports.iter().position(|&p| p == port).expect("a node");
        if let Some(mut child) = self.nodes[i].take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The answer to `cmd [arg]` on the server at `port`, as text ("" when it
/// does not answer).
pub(crate) async fn info(port: u16, cmd: &str, arg: Option<&str>) -> String {
    let Ok(client) = redis::Client::open(format!("redis://127.0.0.1:{port}/0")) else {
        return String::new();
    };
    let Ok(mut con) = client.get_multiplexed_async_connection().await else {
        return String::new();
    };
    let mut c = redis::cmd(cmd);
    if let Some(arg) = arg {
        c.arg(arg);
    }
    c.query_async::<String>(&mut con).await.unwrap_or_default()
}

/// The keys matching `pattern` on the server at `port` (only its own).
pub(crate) async fn keys(port: u16, pattern: &str) -> Vec<String> {
    let client = redis::Client::open(format!("redis://127.0.0.1:{port}/0")).expect("url");
    let mut con = client
        .get_multiplexed_async_connection()
        .await
        .expect("connect");
    redis::cmd("KEYS")
        .arg(pattern)
        .query_async(&mut con)
        .await
        .expect("KEYS")
}

/// The name the sentinels monitor the master under.
pub(crate) const MASTER_NAME: &str = "mymaster";

/// A master and its replica, watched by three sentinels with a quorum of 2
/// that fail over after 1 s of silence.
pub(crate) struct Sentinel {
    pub(crate) master: u16,
    pub(crate) replica: u16,
    pub(crate) sentinels: Vec<u16>,
    /// The master, the replica, then the sentinels.
    servers: Vec<Option<Child>>,
    _dir: tempfile::TempDir,
}

impl Drop for Sentinel {
    fn drop(&mut self) {
        for child in self.servers.iter_mut().flatten() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn redis_server(port: u16, replica_of: Option<u16>) -> Child {
    let mut cmd = Command::new("redis-server");
    cmd.args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
        .args(["--save", "", "--appendonly", "no"]);
    if let Some(master) = replica_of {
        cmd.args(["--replicaof", "127.0.0.1", &master.to_string()]);
    }
    cmd.stdout(Stdio::null())
        .spawn()
        .expect("redis-server must be installed (scripts/test installs it)")
}

fn sentinel(dir: &Path, port: u16, master: u16) -> Child {
    // Sentinel rewrites its config file, so each gets its own.
    let conf = dir.join(format!("sentinel-{port}.conf"));
    let text = format!(
        "port {port}\nbind 127.0.0.1\ndir {dir}\n\
         sentinel monitor {MASTER_NAME} 127.0.0.1 {master} 2\n\
         sentinel down-after-milliseconds {MASTER_NAME} 1000\n\
         sentinel failover-timeout {MASTER_NAME} 3000\n",
        dir = dir.display()
    );
    std::fs::write(&conf, text).expect("write sentinel.conf");
    Command::new("redis-sentinel")
        .arg(&conf)
        .stdout(Stdio::null())
        .spawn()
        .expect("redis-sentinel must be installed (scripts/test installs it)")
}

impl Sentinel {
    /// Starts everything and waits until each sentinel knows the replica
    /// and the two other sentinels, so a failover can be agreed.
    pub(crate) async fn start() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let free = crate::gateway::free_port;
        let (master, replica) = (free(), free());
        let sentinels: Vec<u16> = (0..3).map(|_| free()).collect();
        let mut servers = vec![
            Some(redis_server(master, None)),
            Some(redis_server(replica, Some(master))),
        ];
        servers.extend(
            sentinels
                .iter()
                .map(|&p| Some(sentinel(dir.path(), p, master))),
        );
        let set = Self {
            master,
            replica,
            sentinels,
            servers,
            _dir: dir,
        };
        let ready = eventually(Duration::from_secs(30), async || {
            let mut ok = info(replica, "INFO", Some("replication"))
                .await
                .contains("master_link_status:up");
            for &port in &set.sentinels {
                let state = info(port, "INFO", Some("sentinel")).await;
                ok &= state.contains("slaves=1,sentinels=3");
            }
            ok
        })
        .await;
        assert!(ready, "the sentinels never saw the replica and each other");
        set
    }

    /// Kills the master at once (SIGKILL), as a crash would.
    pub(crate) fn kill_master(&mut self) {
        if let Some(mut child) = self.servers[0].take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// The ACK link of the Slack message about incident `id`.
pub(crate) fn ack_url_for(slack: &SlackEmulator, id: &str) -> Option<String> {
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

/// Posts `count` critical alerts, each its own group, alternating between
/// the gateways, 20 at a time; each is retried on 503 as Alertmanager
/// would. Returns each incident id with when it was answered.
pub(crate) async fn raise(
    gws: &[&Process],
    count: usize,
    wait_minutes: f64,
) -> Vec<(String, Instant)> {
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
pub(crate) async fn acknowledge(slack: &SlackEmulator, id: &str) -> bool {
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

/// Waits for the pages of `raised` (each incident with when its 201
/// came), whose even-numbered ones were acknowledged, then 3 s more (a
/// second page would come by then), and asserts: no acknowledged incident
/// paged; every other paged exactly once, not before its `wait` and, with
/// `late`, at most that long after it; nothing else paged.
pub(crate) async fn assert_each_unacknowledged_pages_once(
    rig: &Rig,
    raised: &[(String, Instant)],
    wait: Duration,
    late: Option<Duration>,
    within: Duration,
) {
    let expected = raised.len() / 2;
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
    for (i, (id, answered)) in raised.iter().enumerate() {
        let calls = by_id.get(id).map_or(&[][..], Vec::as_slice);
        if i % 2 == 0 {
            assert!(calls.is_empty(), "{id} was acknowledged and still paged");
            continue;
        }
        assert_eq!(calls.len(), 1, "{id} paged {} times", calls.len());
        let after = calls[0].saturating_duration_since(*answered);
        assert!(
            after + Duration::from_millis(500) >= wait,
            "{id} paged {after:?} after its 201, before its wait of {wait:?}"
        );
        if let Some(late) = late {
            assert!(after <= wait + late, "{id} paged {after:?} after its 201");
        }
    }
    assert_eq!(by_id.len(), expected, "pages for unknown incidents");
}
