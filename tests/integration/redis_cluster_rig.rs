//! A real Redis Cluster on 127.0.0.1 for the HA tests: `redis-server`
//! nodes with `cluster-enabled`, joined by `redis-cli --cluster create`.
//! Every node is killed when the cluster is dropped, also when a test
//! fails.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::common::eventually;

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
                let info = cluster.info(port, "CLUSTER", Some("INFO")).await;
                ok &= info.contains("cluster_state:ok");
            }
            for &port in cluster.replica_ports() {
                let info = cluster.info(port, "INFO", Some("replication")).await;
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

    /// The answer to `cmd [arg]` on the node at `port`, as text ("" when
    /// it does not answer).
    pub(crate) async fn info(&self, port: u16, cmd: &str, arg: Option<&str>) -> String {
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

    /// The keys matching `pattern` on the node at `port` (only its own).
    pub(crate) async fn keys(&self, port: u16, pattern: &str) -> Vec<String> {
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
}
