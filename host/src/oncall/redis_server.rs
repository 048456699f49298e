//! Where Redis is, from the `redis:` section: one server, the master
//! Sentinel names, or a cluster.

use redis::IntoConnectionInfo;
use redis::sentinel::SentinelNodeConnectionInfo;

use super::redis_con::Server;
use super::redis_sentinel::Sentinels;
use crate::config::RedisConfig;

/// The server the section names, and how the log names it (no password).
pub fn server(r: &RedisConfig) -> anyhow::Result<(Server, String)> {
    let unusable = |e: redis::RedisError| anyhow::anyhow!("{e} (check the redis: section)");
    if r.sentinel.is_set() {
        let sentinels = sentinels(r).map_err(unusable)?;
        let place = format!(
            "master {} of sentinels {}",
            r.sentinel.master_name.trim(),
            r.sentinel.nodes.join(", ")
        );
        return Ok((Server::Sentinel(Box::new(sentinels)), place));
    }
    let url = redis_url(r)?;
    if r.cluster {
        let place = format!("cluster {}", redact(&url));
        let server = Server::cluster(&redis_nodes(r, &url)).map_err(unusable)?;
        return Ok((server, place));
    }
    Ok((Server::single(&url).map_err(unusable)?, redact(&url)))
}

/// The sentinels (with `redis.sentinel.password`, over TLS with
/// `redis.tls`) and the master's settings (`redis.password`, `redis.db`,
/// `redis.tls`).
fn sentinels(r: &RedisConfig) -> redis::RedisResult<Sentinels> {
    let scheme = if r.tls { "rediss" } else { "redis" };
    let auth = |password: &str| {
        if password.is_empty() {
            String::new()
        } else {
            format!(":{}@", urlencode(password))
        }
    };
    let insecure = if r.tls && r.insecure_skip_verify {
        "#insecure"
    } else {
        ""
    };
    let urls = r
        .sentinel
        .nodes
        .iter()
        .map(|n| {
            format!(
                "{scheme}://{}{}{insecure}",
                auth(&r.sentinel.password),
                n.trim()
            )
        })
        .collect();
    // The master's address comes from the sentinels; only its settings
    // come from here.
    let settings = format!("redis://{}localhost/{}", auth(&r.password), r.db)
        .into_connection_info()?
        .redis_settings()
        .clone();
    let mut master = SentinelNodeConnectionInfo::default().set_redis_connection_info(settings);
    if r.tls {
        master = master.set_tls_mode(if r.insecure_skip_verify {
            redis::TlsMode::Insecure
        } else {
            redis::TlsMode::Secure
        });
    }
    Ok(Sentinels {
        urls,
        master_name: r.sentinel.master_name.trim().to_string(),
        master,
    })
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
                format!(":{}@", urlencode(&r.password))
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

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
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
            r.sentinel.master_name = " mymaster ".into();
            r.sentinel.nodes = vec!["s1:26379".into(), "s2:26380".into()];
            r.sentinel.password = "s pw".into();
        });
        let s = super::sentinels(&r).unwrap();
        assert_eq!(
            s.urls,
            ["redis://:s%20pw@s1:26379", "redis://:s%20pw@s2:26380"]
        );
        assert_eq!(s.master_name, "mymaster");
        let (_, place) = super::server(&r).unwrap();
        assert_eq!(place, "master mymaster of sentinels s1:26379, s2:26380");
        assert!(!place.contains("pw"));
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
