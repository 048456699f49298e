//! A connection to the master that Redis Sentinel names, which follows a
//! failover without a restart.
//!
//! Strategy: the sentinels are asked for the master's address, and the
//! answer is checked with `ROLE` before it is used. Commands go to that
//! master over a [`ConnectionManager`], which reconnects to the same
//! address by itself. After a failover that address is either gone
//! (connection errors) or a replica (writes answer `READONLY`). Either
//! sign starts one lookup in the background; the command that saw it fails
//! (the request gets 503 with `Retry-After`, the scheduler tries again
//! within a second), and the commands after the lookup go to the new
//! master. A lookup made before the sentinels have promoted a replica
//! finds no master, and the next failing command starts another.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use redis::aio::{ConnectionLike, ConnectionManager};
use redis::sentinel::{SentinelClient, SentinelClientBuilder, SentinelServerType};
use redis::{
    Cmd, ConnectionAddr, ErrorKind, Pipeline, RedisError, RedisFuture, RedisResult,
    ServerErrorKind, TlsCertificates, TlsMode, Value,
};

/// How to reach the sentinels and the master they name.
#[derive(Clone, Debug, PartialEq)]
pub struct Sentinels {
    /// The sentinels, as host and port.
    pub nodes: Vec<(String, u16)>,
    /// The name they monitor the master under.
    pub master_name: String,
    /// The sentinels' password ("" for none).
    pub sentinel_password: String,
    /// The master's password ("" for none).
    pub password: String,
    /// The master's database.
    pub db: i64,
    /// TLS to the sentinels and the master: `None` for none, else whether
    /// the certificate goes unverified.
    pub tls: Option<bool>,
    /// The CA that signs their certificates (PEM), instead of the system's.
    pub ca_cert: Option<Vec<u8>>,
}

impl Sentinels {
    fn client(&self) -> RedisResult<SentinelClient> {
        super::redis_con::install_tls_provider();
        let addrs = self.nodes.iter().map(|(host, port)| match self.tls {
            None => ConnectionAddr::Tcp(host.clone(), *port),
            Some(insecure) => ConnectionAddr::TcpTls {
                host: host.clone(),
                port: *port,
                insecure,
                tls_params: None,
            },
        });
        let mut builder =
            SentinelClientBuilder::new(addrs, &self.master_name, SentinelServerType::Master)?
                .set_client_to_redis_db(self.db);
        if !self.password.is_empty() {
            builder = builder.set_client_to_redis_password(&self.password);
        }
        if !self.sentinel_password.is_empty() {
            builder = builder.set_client_to_sentinel_password(&self.sentinel_password);
        }
        if let Some(insecure) = self.tls {
            let mode = if insecure {
                TlsMode::Insecure
            } else {
                TlsMode::Secure
            };
            builder = builder
                .set_client_to_redis_tls_mode(mode)
                .set_client_to_sentinel_tls_mode(mode);
            if let Some(ca) = &self.ca_cert {
                let certs = || TlsCertificates {
                    client_tls: None,
                    root_cert: Some(ca.clone()),
                };
                builder = builder
                    .set_client_to_redis_certificates(certs())
                    .set_client_to_sentinel_certificates(certs());
            }
        }
        builder.build()
    }
}

/// A connection to the current master. Cheap to clone: clones share the
/// connection and its lookups.
#[derive(Clone)]
pub struct Followed {
    inner: Arc<Inner>,
}

struct Inner {
    sentinels: tokio::sync::Mutex<SentinelClient>,
    /// The master's address and the connection to it.
    current: RwLock<(String, ConnectionManager)>,
    /// Whether a lookup is running.
    looking: AtomicBool,
    /// Builds a connection from the master's client (the store's timeouts).
    dial: fn(redis::Client) -> RedisFuture<'static, ConnectionManager>,
}

impl Followed {
    /// Asks the sentinels for the master and connects to it.
    pub async fn connect(
        sentinels: &Sentinels,
        dial: fn(redis::Client) -> RedisFuture<'static, ConnectionManager>,
    ) -> RedisResult<Self> {
        let mut client = sentinels.client()?;
        let master = client.async_get_client().await?;
        let addr = master.get_connection_info().addr().to_string();
        let con = dial(master).await?;
        Ok(Self {
            inner: Arc::new(Inner {
                sentinels: tokio::sync::Mutex::new(client),
                current: RwLock::new((addr, con)),
                looking: AtomicBool::new(false),
                dial,
            }),
        })
    }

    fn current(&self) -> ConnectionManager {
        match self.inner.current.read() {
            Ok(current) => current.1.clone(),
            Err(poisoned) => poisoned.into_inner().1.clone(),
        }
    }

    /// After an error: when it may mean the master moved, looks it up
    /// again in the background (one lookup at a time).
    fn notice(&self, e: &RedisError) {
        if !moved(e) || self.inner.looking.swap(true, Ordering::AcqRel) {
            return;
        }
        let inner = self.inner.clone();
        tokio::spawn(async move {
            let found = async {
                let master = inner.sentinels.lock().await.async_get_client().await?;
                let addr = master.get_connection_info().addr().to_string();
                let same = inner.current.read().is_ok_and(|c| c.0 == addr);
                // The same master (it was only slow, or restarted): its
                // connection reconnects by itself.
                if same {
                    return Ok(None);
                }
                Ok::<_, RedisError>(Some((addr, (inner.dial)(master).await?)))
            }
            .await;
            match found {
                Ok(None) => {}
                Ok(Some((addr, con))) => {
                    if let Ok(mut current) = inner.current.write() {
                        *current = (addr.clone(), con);
                    }
                    tracing::info!(master = %addr, "Redis Sentinel: following the master the sentinels name");
                }
                Err(e) => {
                    tracing::debug!(error = %e, "Redis Sentinel: no master found yet; looking again at the next failure");
                }
            }
            inner.looking.store(false, Ordering::Release);
        });
    }
}

/// Whether `e` may mean the master is no longer where it was: it does not
/// answer, or it is a replica now.
fn moved(e: &RedisError) -> bool {
    e.is_io_error()
        || e.is_connection_refusal()
        || e.is_connection_dropped()
        || e.is_timeout()
        || e.kind() == ErrorKind::Server(ServerErrorKind::ReadOnly)
        // A write inside a script on a replica.
        || e.to_string().contains("READONLY")
}

impl ConnectionLike for Followed {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        Box::pin(async move {
            let result = self.current().req_packed_command(cmd).await;
            if let Err(e) = &result {
                self.notice(e);
            }
            result
        })
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        Box::pin(async move {
            let result = self
                .current()
                .req_packed_commands(pipeline, offset, count)
                .await;
            if let Err(e) = &result {
                self.notice(e);
            }
            result
        })
    }

    fn get_db(&self) -> i64 {
        self.current().get_db()
    }
}
