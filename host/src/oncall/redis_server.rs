//! Where Redis is, from the `redis:` section: one server, the master
//! Sentinel names, or a cluster.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;

use super::redis_con::{Server, install_tls_provider};
use super::redis_sentinel::Sentinels;
use crate::config::{RedisConfig, split_node};
use crate::logging::redact::url_encode;

/// The server the section names, and how the log names it (no password).
pub fn server(r: &RedisConfig) -> anyhow::Result<(Server, String)> {
    let unusable = |e: redis::RedisError| anyhow::anyhow!("{e} (check the redis: section)");
    let ca_cert = ca_cert(r)?;
    if r.sentinel.is_set() {
        let sentinels = sentinels(r, ca_cert);
        let place = format!(
            "master {} of sentinels {}",
            sentinels.master_name,
            r.sentinel.nodes.join(", ")
        );
        return Ok((Server::Sentinel(Box::new(sentinels)), place));
    }
    let url = redis_url(r)?;
    if r.cluster {
        let place = format!("cluster {}", redact(&url));
        let server = Server::cluster(&redis_nodes(r, &url), ca_cert).map_err(unusable)?;
        return Ok((server, place));
    }
    let server = Server::single(&url, ca_cert).map_err(unusable)?;
    Ok((server, redact(&url)))
}

/// `redis.ca_cert` (env `REDIS_CA_CERT`): PEM text, or the path of a PEM
/// file. `None` when unset.
fn ca_cert(r: &RedisConfig) -> anyhow::Result<Option<Vec<u8>>> {
    let given = r.ca_cert.trim();
    if given.is_empty() {
        return Ok(None);
    }
    let pem = if given.starts_with("-----BEGIN") {
        given.as_bytes().to_vec()
    } else {
        std::fs::read(given)
            .with_context(|| format!("redis.ca_cert (REDIS_CA_CERT): cannot read {given}"))?
    };
    if !String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE-----") {
        anyhow::bail!("redis.ca_cert (REDIS_CA_CERT) holds no PEM certificate");
    }
    Ok(Some(pem))
}

/// The sentinels (with `redis.sentinel.password`) and the master's
/// settings (`redis.password`, `redis.db`); TLS to both with `redis.tls`.
fn sentinels(r: &RedisConfig, ca_cert: Option<Vec<u8>>) -> Sentinels {
    Sentinels {
        nodes: r
            .sentinel
            .nodes
            .iter()
            .filter_map(|n| split_node(n).map(|(h, p)| (h.to_string(), p)))
            .collect(),
        master_name: r.sentinel.master_name.trim().to_string(),
        sentinel_password: r.sentinel.password.clone(),
        password: r.password.clone(),
        db: r.db,
        tls: r.tls.then_some(r.insecure_skip_verify),
        ca_cert,
    }
}

/// When a plain connection failed: whether the server at the configured
/// address answers a TLS handshake instead, so the error can name
/// `redis.tls` rather than wait for a Redis that is there. Only for a
/// plain single server or cluster seed.
pub async fn speaks_tls_instead(r: &RedisConfig) -> Option<String> {
    if r.tls || r.sentinel.is_set() {
        return None;
    }
    let url = redis_url(r).ok()?;
    if url.starts_with("rediss://") {
        return None;
    }
    let rest = url.split_once("://")?.1;
    let host_port = rest[rest.rfind('@').map_or(0, |at| at + 1)..]
        .split('/')
        .next()?
        .to_string();
    let (host, port) = split_node(&host_port).map(|(h, p)| (h.to_string(), p))?;
    let tls = tokio::task::spawn_blocking(move || handshakes(&host, port))
        .await
        .unwrap_or(false);
    tls.then_some(host_port)
}

/// Whether `host:port` answers a TLS ClientHello with a certificate (no
/// root is trusted, so the handshake fails there: that failure is the
/// proof).
fn handshakes(host: &str, port: u16) -> bool {
    use std::net::{TcpStream, ToSocketAddrs};
    install_tls_provider();
    let timeout = Duration::from_secs(2);
    let Ok(name) = rustls::pki_types::ServerName::try_from(host.to_string()) else {
        return false;
    };
    let config = rustls::ClientConfig::builder()
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    let Ok(mut tls) = rustls::ClientConnection::new(Arc::new(config), name) else {
        return false;
    };
    let Some(addr) = (host, port)
        .to_socket_addrs()
        .ok()
        .and_then(|mut a| a.next())
    else {
        return false;
    };
    let Ok(mut sock) = TcpStream::connect_timeout(&addr, timeout) else {
        return false;
    };
    let _ = sock.set_read_timeout(Some(timeout));
    let _ = sock.set_write_timeout(Some(timeout));
    match tls.complete_io(&mut sock) {
        Ok(_) => true,
        Err(e) => matches!(
            e.get_ref()
                .and_then(|inner| inner.downcast_ref::<rustls::Error>()),
            Some(rustls::Error::InvalidCertificate(_))
        ),
    }
}

/// `redis.url`, or one built from host/port/password/db. With `redis.tls`
/// (or a `rediss://` URL) the connection uses TLS, verified against the
/// system's trusted roots (`SSL_CERT_FILE`/`SSL_CERT_DIR` add a private CA);
/// `redis.insecure_skip_verify` turns verification off.
pub fn redis_url(r: &RedisConfig) -> anyhow::Result<String> {
    let url = match r.url.as_deref().map(str::trim).filter(|u| !u.is_empty()) {
        Some(url) => url.to_string(),
        None => {
            let scheme = if r.tls { "rediss" } else { "redis" };
            let auth = if r.password.is_empty() {
                String::new()
            } else {
                format!(":{}@", url_encode(&r.password))
            };
            format!("{scheme}://{auth}{}:{}/{}", r.host.trim(), r.port, r.db)
        }
    };
    let tls = url.starts_with("rediss://");
    if !tls && !url.starts_with("redis://") {
        anyhow::bail!(
            "redis.url must start with redis:// or rediss:// (got {})",
            redact(&url)
        );
    }
    if r.tls && !tls {
        anyhow::bail!("redis.tls is on but redis.url starts with redis://: use rediss://");
    }
    // The Redis client reads "#insecure" on a rediss:// URL as "do not
    // verify the certificate". On a plain connection the upstream key has
    // nothing to skip.
    if tls && r.insecure_skip_verify && !url.ends_with("#insecure") {
        return Ok(format!("{url}#insecure"));
    }
    Ok(url)
}

/// The seed nodes of a cluster: the one at `url` (from [`redis_url`]),
/// then each of `redis.nodes`, with the same scheme and credentials.
pub fn redis_nodes(r: &RedisConfig, url: &str) -> Vec<String> {
    let (scheme, rest) = url.split_once("://").unwrap_or(("redis", url));
    let auth = rest.rfind('@').map_or("", |at| &rest[..=at]);
    let mut nodes = vec![url.to_string()];
    nodes.extend(
        r.nodes
            .iter()
            .map(|n| format!("{scheme}://{auth}{}", n.trim())),
    );
    nodes
}

/// Hides the password in a Redis URL for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://***@{}", &url[..s], &url[at + 1..]),
        _ => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::redis_url;
    use crate::config::RedisConfig;

    fn redis(f: impl FnOnce(&mut RedisConfig)) -> RedisConfig {
        let mut r = RedisConfig {
            host: "cache.internal".into(),
            ..RedisConfig::default()
        };
        f(&mut r);
        r
    }

    #[test]
    fn plain_url_from_the_upstream_fields() {
        let r = redis(|r| {
            r.password = "p@ss word".into();
            r.db = 2;
            // Upstream configs carry this with a plain Redis: nothing to skip.
            r.insecure_skip_verify = true;
        });
        assert_eq!(
            redis_url(&r).unwrap(),
            "redis://:p%40ss%20word@cache.internal:6379/2"
        );
    }

    #[test]
    fn tls_uses_rediss_and_verifies_unless_told_not_to() {
        let r = redis(|r| r.tls = true);
        assert_eq!(redis_url(&r).unwrap(), "rediss://cache.internal:6379/0");
        let r = redis(|r| {
            r.tls = true;
            r.insecure_skip_verify = true;
        });
        assert_eq!(
            redis_url(&r).unwrap(),
            "rediss://cache.internal:6379/0#insecure"
        );
    }

    #[test]
    fn sentinels_get_their_password_and_the_master_its_own() {
        let r = redis(|r| {
            r.host.clear();
            r.password = "master-pw".into();
            r.db = 3;
            r.tls = true;
            r.sentinel.master_name = " mymaster ".into();
            r.sentinel.nodes = vec!["s1:26379".into(), "s2:26380".into()];
            r.sentinel.password = "s pw".into();
        });
        let s = super::sentinels(&r, None);
        assert_eq!(s.nodes, [("s1".into(), 26379), ("s2".into(), 26380)]);
        assert_eq!(s.master_name, "mymaster");
        assert_eq!(
            (s.sentinel_password.as_str(), s.password.as_str()),
            ("s pw", "master-pw")
        );
        assert_eq!((s.db, s.tls), (3, Some(false)));
        let (_, place) = super::server(&r).unwrap();
        assert_eq!(place, "master mymaster of sentinels s1:26379, s2:26380");
        assert!(!place.contains("pw"));
    }

    #[test]
    fn a_ca_cert_is_pem_text_or_a_file() {
        let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
        let r = redis(|r| r.ca_cert = pem.into());
        assert_eq!(
            super::ca_cert(&r).unwrap(),
            Some(pem.trim().as_bytes().to_vec())
        );
        let err = super::ca_cert(&redis(|r| r.ca_cert = "/nonexistent/ca.pem".into()))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("redis.ca_cert (REDIS_CA_CERT): cannot read"),
            "{err}"
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("ca.pem");
        std::fs::write(&file, "not a certificate").unwrap();
        let err = super::ca_cert(&redis(|r| r.ca_cert = file.display().to_string()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("holds no PEM certificate"), "{err}");
    }

    #[test]
    fn cluster_nodes_share_the_seeds_scheme_and_password() {
        let r = redis(|r| {
            r.tls = true;
            r.password = "pw".into();
            r.nodes = vec!["b.internal:7001".into(), " c.internal:7002 ".into()];
        });
        let url = redis_url(&r).unwrap();
        assert_eq!(
            super::redis_nodes(&r, &url),
            [
                "rediss://:pw@cache.internal:6379/0",
                "rediss://:pw@b.internal:7001",
                "rediss://:pw@c.internal:7002",
            ]
        );
    }

    #[test]
    fn url_wins_and_is_checked() {
        let r = redis(|r| r.url = Some("rediss://u:p@other:6380/1".into()));
        assert_eq!(redis_url(&r).unwrap(), "rediss://u:p@other:6380/1");
        let r = redis(|r| {
            r.url = Some("redis://other:6380".into());
            r.tls = true;
        });
        let err = redis_url(&r).unwrap_err().to_string();
        assert!(err.contains("use rediss://"), "{err}");
        let r = redis(|r| r.url = Some("http://u:secret@other".into()));
        let err = redis_url(&r).unwrap_err().to_string();
        assert!(err.contains("redis:// or rediss://"), "{err}");
        assert!(!err.contains("secret"), "{err}");
    }
}
