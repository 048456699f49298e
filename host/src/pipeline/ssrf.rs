//! Which IP addresses plugin HTTP may reach. Loopback, private, link-local
//! (cloud metadata at 169.254.169.254 included) and other non-public
//! addresses are refused after DNS resolution, so neither a wildcard
//! allow-list entry nor a DNS record pointing inside (DNS rebinding) can
//! reach internal services. Allowed: a policy with `allow_private_networks`,
//! or an allow-list entry that names the private IP address itself.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Whether `ip` is a public unicast address.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => is_public_v6(v6),
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(a == 0                                  // "this network"; 0.0.0.0 reaches localhost
        || a == 10
        || a == 127
        || (a == 100 && (64..128).contains(&b)) // carrier-grade NAT
        || (a == 169 && b == 254)             // link-local, cloud metadata
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 168)
        || (a == 192 && b == 0 && c == 0)     // IETF protocol assignments
        || (a == 192 && b == 0 && c == 2)     // documentation
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || (a == 198 && b == 51 && c == 100)
        || (a == 203 && b == 0 && c == 113)
        || a >= 224) // multicast, reserved, broadcast
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = embedded_v4(ip) {
        return is_public_v4(v4);
    }
    let s = ip.segments();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || (s[0] & 0xfe00) == 0xfc00 // unique local
        || (s[0] & 0xffc0) == 0xfe80 // link-local
        || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated)
        || (s[0] & 0xff00) == 0xff00 // multicast
        || (s[0] == 0x2001 && s[1] == 0x0db8)) // documentation
}

/// The IPv4 address inside an IPv4-mapped (`::ffff:a.b.c.d`), NAT64
/// (`64:ff9b::a.b.c.d`) or 6to4 (`2002:aabb:ccdd::`) address.
fn embedded_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let v4 = |hi: u16, lo: u16| {
        let [a, b] = hi.to_be_bytes();
        let [c, d] = lo.to_be_bytes();
        Ipv4Addr::new(a, b, c, d)
    };
    if let Some(v4) = ip.to_ipv4_mapped() {
        return Some(v4);
    }
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        return Some(v4(s[6], s[7]));
    }
    if s[0] == 0x2002 {
        return Some(v4(s[1], s[2]));
    }
    None
}

/// The error a refused resolution carries; `outbound` turns it into a
/// `denied` answer for the plugin.
#[derive(Debug, thiserror::Error)]
#[error(
    "{host} resolves only to non-public addresses ({addr}); set allow_private_networks for this \
     plugin or channel, or allow the address itself"
)]
pub struct PrivateAddress {
    host: String,
    addr: String,
}

/// A resolver that drops non-public addresses, and fails when none is left.
/// The connection uses exactly the addresses checked here, so a DNS answer
/// cannot change between the check and the connect.
#[derive(Debug, Default)]
pub struct PublicOnly;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_string();
        Box::pin(resolve_public(host))
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

async fn resolve_public(host: String) -> Result<Addrs, BoxError> {
    let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
    let public: Vec<SocketAddr> = found
        .iter()
        .copied()
        .filter(|a| is_public(a.ip()))
        .collect();
    if public.is_empty() {
        let addr = found
            .first()
            .map_or_else(|| "none".to_string(), |a| a.ip().to_string());
        let err: BoxError = Box::new(PrivateAddress { host, addr });
        return Err(err);
    }
    Ok(Box::new(public.into_iter()))
}

/// The resolver for clients that must not reach private networks.
pub fn public_only() -> Arc<PublicOnly> {
    Arc::new(PublicOnly)
}

/// How long [`check_name`] waits for an answer.
const NAME_CHECK_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(2);

/// For a request sent through a proxy, which resolves the target's name
/// itself: resolves it here too, and refuses it when any address is not
/// public. A name that does not resolve here (behind an egress proxy,
/// outside names often resolve only at the proxy) is left to the proxy.
/// IP literals are checked before, with the allow-list.
pub async fn check_name(url: &reqwest::Url) -> Result<(), String> {
    let Some(host) = url.host_str() else {
        return Ok(());
    };
    if host.starts_with('[') || host.parse::<IpAddr>().is_ok() {
        return Ok(());
    }
    let port = url.port_or_known_default().unwrap_or(443);
    let lookup = tokio::net::lookup_host((host, port));
    let Ok(Ok(found)) = tokio::time::timeout(NAME_CHECK_TIMEOUT, lookup).await else {
        return Ok(());
    };
    match found.map(|a| a.ip()).find(|ip| !is_public(*ip)) {
        Some(ip) => Err(PrivateAddress {
            host: host.to_string(),
            addr: ip.to_string(),
        }
        .to_string()),
        None => Ok(()),
    }
}

/// The refused-resolution message inside a reqwest error, if that is why it
/// failed.
pub fn private_address_cause(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut next = Some(e);
    while let Some(err) = next {
        if let Some(p) = err.downcast_ref::<PrivateAddress>() {
            return Some(p.to_string());
        }
        next = err.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn public(s: &str) -> bool {
        is_public(s.parse().expect("ip"))
    }

    #[test]
    fn private_loopback_and_link_local_are_not_public() {
        for ip in [
            "127.0.0.1",
            "127.8.9.10",
            "0.0.0.0",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "224.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "fd00::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
            "2002:7f00:1::",
        ] {
            assert!(!public(ip), "{ip} should not be public");
        }
    }

    #[test]
    fn public_addresses_are() {
        for ip in [
            "1.1.1.1",
            "8.8.8.8",
            "172.15.0.1",
            "172.32.0.1",
            "100.63.0.1",
            "52.95.110.1",
            "2606:4700:4700::1111",
            "::ffff:8.8.8.8",
            "2002:808:808::",
        ] {
            assert!(public(ip), "{ip} should be public");
        }
    }

    #[tokio::test]
    async fn the_resolver_refuses_names_that_resolve_inside() {
        let err = PublicOnly
            .resolve("localhost".parse().expect("name"))
            .await
            .err()
            .expect("localhost is loopback");
        let message = private_address_cause(&*err).expect("our error");
        assert!(
            message.contains("localhost resolves only to non-public"),
            "{message}"
        );
    }
}
