//! One Redis connection type for a single server and for Redis Cluster,
//! so the store and the ledger run the same commands on either.

use std::time::Duration;

use redis::aio::{ConnectionLike, ConnectionManager, ConnectionManagerConfig};
use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use redis::cluster_routing::{Route, RoutingInfo, SingleNodeRoutingInfo, SlotAddr};
use redis::{Cmd, Pipeline, RedisError, RedisFuture, RedisResult, Value};

use super::redis_sentinel::{Followed, Sentinels};

/// Connection timeout, per-command timeout: a request waiting on Redis is
/// an alert not yet sent, and the sender retries on our 503.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);

/// Where Redis is: one server, the master Sentinel names, or a cluster
/// reached through its seed nodes.
#[derive(Clone)]
pub enum Server {
    Single(Box<redis::Client>),
    Sentinel(Box<Sentinels>),
    Cluster(Box<ClusterClient>),
}

impl Server {
    /// One server at `url` (`redis://` or `rediss://`); over TLS, its
    /// certificate is checked against `ca_cert` (PEM) when given, else the
    /// system's roots.
    pub fn single(url: &str, ca_cert: Option<Vec<u8>>) -> RedisResult<Self> {
        install_tls_provider();
        let client = match ca_cert {
            Some(ca) if url.starts_with("rediss://") => {
                redis::Client::build_with_tls(url, certificates(ca))?
            }
            _ => redis::Client::open(url)?,
        };
        Ok(Self::Single(Box::new(client)))
    }

    /// A cluster known by the seed nodes `urls` (all `redis://` or all
    /// `rediss://`, with the same password). It finds the other nodes, and
    /// follows slots that move and replicas that are promoted.
    pub fn cluster(urls: &[String], ca_cert: Option<Vec<u8>>) -> RedisResult<Self> {
        install_tls_provider();
        let mut builder = ClusterClient::builder(urls.iter().map(String::as_str))
            .connection_timeout(CONNECT_TIMEOUT)
            .response_timeout(RESPONSE_TIMEOUT)
            .retries(3);
        if let Some(ca) = ca_cert {
            builder = builder.certs(certificates(ca));
        }
        Ok(Self::Cluster(Box::new(builder.build()?)))
    }

    /// One attempt to connect; the connection then reconnects by itself.
    pub async fn dial(&self) -> RedisResult<Con> {
        Ok(match self {
            Self::Single(client) => Con::Single(manage((**client).clone()).await?),
            Self::Sentinel(sentinels) => Con::Sentinel(Followed::connect(sentinels, manage).await?),
            Self::Cluster(client) => Con::Cluster(client.get_async_connection().await?),
        })
    }
}

/// Trust `ca` (PEM) instead of the system's roots.
fn certificates(ca: Vec<u8>) -> redis::TlsCertificates {
    redis::TlsCertificates {
        client_tls: None,
        root_cert: Some(ca),
    }
}

/// A rediss:// URL builds its TLS config from the process default
/// provider, which rustls cannot choose when two are linked. Ignored if one
/// is already installed.
pub fn install_tls_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A connection to one server that reconnects by itself.
fn manage(client: redis::Client) -> RedisFuture<'static, ConnectionManager> {
    let config = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(CONNECT_TIMEOUT))
        .set_response_timeout(Some(RESPONSE_TIMEOUT))
        .set_number_of_retries(2)
        .set_max_delay(Duration::from_millis(500));
    Box::pin(ConnectionManager::new_with_config(client, config))
}

/// A connection to a single server or to a cluster. Cheap to clone:
/// clones share the underlying connections.
#[derive(Clone)]
pub enum Con {
    Single(ConnectionManager),
    Sentinel(Followed),
    Cluster(ClusterConnection),
}

impl Con {
    /// `WAIT replicas timeout` on the server that holds `key`, after a
    /// write to it on this connection: how many replicas have the write.
    pub async fn wait_for_replicas(
        &mut self,
        key: &str,
        replicas: u32,
        timeout: Duration,
    ) -> RedisResult<u32> {
        let mut cmd = redis::cmd("WAIT");
        cmd.arg(replicas).arg(timeout.as_millis() as u64);
        match self {
            Self::Single(_) | Self::Sentinel(_) => cmd.query_async(self).await,
            // Left to itself the cluster client sends WAIT to every master
            // and answers the lowest count; only the key's master matters.
            Self::Cluster(con) => {
                let route = Route::with_key(key, SlotAddr::Master);
                let value = con
                    .route_command(
                        cmd,
                        RoutingInfo::SingleNode(SingleNodeRoutingInfo::SpecificNode(route)),
                    )
                    .await?;
                redis::from_redis_value(value).map_err(RedisError::from)
            }
        }
    }
}

impl ConnectionLike for Con {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        match self {
            Self::Single(con) => con.req_packed_command(cmd),
            Self::Sentinel(con) => con.req_packed_command(cmd),
            Self::Cluster(con) => con.req_packed_command(cmd),
        }
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        match self {
            Self::Single(con) => con.req_packed_commands(pipeline, offset, count),
            Self::Sentinel(con) => con.req_packed_commands(pipeline, offset, count),
            Self::Cluster(con) => con.req_packed_commands(pipeline, offset, count),
        }
    }

    fn get_db(&self) -> i64 {
        match self {
            Self::Single(con) => con.get_db(),
            Self::Sentinel(con) => con.get_db(),
            Self::Cluster(con) => con.get_db(),
        }
    }
}
