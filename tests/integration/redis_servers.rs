//! Throwaway Redis servers on 127.0.0.1 for the tests and benches: a
//! plain `redis-server`, a Redis Cluster (`redis-server` nodes with
//! `cluster-enabled`, joined by `redis-cli --cluster create`) and a master
//! with a replica watched by three `redis-sentinel`s. Nothing is saved to
//! disk, and every server is killed when its guard is dropped, also when
//! a test fails.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::common::eventually;

/// A server process, killed when dropped.
pub(crate) struct Server(pub(crate) Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A throwaway `redis-server` on 127.0.0.1:`port`, listening when this
/// returns.
pub(crate) fn start_redis(port: u16) -> Child {
    let child = redis_server(port, None);
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child
}

/// How long a master may be silent before its replica takes over. Short,
/// so a failover takes about two seconds.
const NODE_TIMEOUT_MS: u64 = 1000;

pub(crate) struct Cluster {
    /// Node ports, masters first, then replicas.
    pub(crate) ports: Vec<u16>,
    /// How many of `ports` are masters.
    masters: usize,
    nodes: Servers,
    _dir: tempfile::TempDir,
}

/// Server processes, each killed when dropped or by [`Servers::kill`].
struct Servers(Vec<Option<Child>>);

impl Servers {
    /// Kills server `i` at once (SIGKILL), as a crash would.
    fn kill(&mut self, i: usize) {
        if let Some(mut child) = self.0[i].take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Servers {
    fn drop(&mut self) {
        for i in 0..self.0.len() {
            self.kill(i);
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
        let nodes = Servers(
            ports
                .iter()
                .map(|&p| Some(start_node(dir.path(), p)))
                .collect(),
        );
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
        self.nodes.kill(i);
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
    servers: Servers,
    _dir: tempfile::TempDir,
}

/// A `redis-server` on `port`, replicating `replica_of` when given.
pub(crate) fn redis_server(port: u16, replica_of: Option<u16>) -> Child {
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
            servers: Servers(servers),
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
        self.servers.kill(0);
    }
}
