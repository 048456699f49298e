//! `allowed_hosts` entries: `scheme://host[:port]`, where the scheme, the
//! host or the port may be `*`, and the host may start with `*.`.

use reqwest::Url;

/// A host pattern could not be parsed.
#[derive(Debug, thiserror::Error)]
#[error(
    "allowed host `{pattern}` is invalid: {reason} (expected scheme://host[:port], e.g. https://hooks.slack.com or https://*.example.com:*)"
)]
pub struct PatternError {
    pattern: String,
    reason: &'static str,
}

/// One allow-list entry: `scheme://host[:port]`, where the scheme, the host
/// or the port may be `*`, and the host may start with `*.`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostPattern {
    scheme: Option<String>,
    host: HostMatch,
    port: Option<u16>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostMatch {
    Any,
    Exact(String),
    /// `*.example.com` matches any subdomain, not `example.com` itself.
    Suffix(String),
}

impl HostPattern {
    /// Parses one entry.
    pub fn parse(pattern: &str) -> Result<Self, PatternError> {
        let err = |reason| PatternError {
            pattern: pattern.to_string(),
            reason,
        };
        let (scheme, rest) = pattern
            .split_once("://")
            .ok_or_else(|| err("missing `scheme://`"))?;
        let scheme = match scheme {
            "*" => None,
            "http" | "https" => Some(scheme.to_string()),
            _ => return Err(err("scheme must be http, https or *")),
        };
        let rest = rest.trim_end_matches('/');
        if rest.contains('/') || rest.is_empty() {
            return Err(err("give only scheme, host and port, no path"));
        }
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, "*")) => (h, None),
            Some((h, p)) => (
                h,
                Some(
                    p.parse::<u16>()
                        .map_err(|_| err("port must be a number or *"))?,
                ),
            ),
            None => {
                let default = match scheme.as_deref() {
                    Some("http") => Some(80),
                    Some("https") => Some(443),
                    _ => None,
                };
                (rest, default)
            }
        };
        let host = host.to_ascii_lowercase();
        let host = if host == "*" {
            HostMatch::Any
        } else if let Some(suffix) = host.strip_prefix("*.") {
            HostMatch::Suffix(format!(".{suffix}"))
        } else if host.contains('*') {
            return Err(err("`*` may only be the whole host or its first label"));
        } else {
            HostMatch::Exact(host)
        };
        Ok(Self { scheme, host, port })
    }

    /// Whether `url` is covered by this entry.
    pub fn allows(&self, url: &Url) -> bool {
        let Some(host) = url.host_str() else {
            return false;
        };
        let host = host.to_ascii_lowercase();
        self.scheme.as_deref().is_none_or(|s| s == url.scheme())
            && self
                .port
                .is_none_or(|p| Some(p) == url.port_or_known_default())
            && match &self.host {
                HostMatch::Any => true,
                HostMatch::Exact(h) => *h == host,
                HostMatch::Suffix(s) => host.ends_with(s.as_str()),
            }
    }

    /// Whether this entry names one host exactly (no `*` in the host).
    pub(super) fn is_exact(&self) -> bool {
        matches!(self.host, HostMatch::Exact(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> Url {
        Url::parse(s).expect("valid url")
    }

    #[test]
    fn exact_host_uses_default_port() {
        let p = HostPattern::parse("https://slack.com").expect("parses");
        assert!(p.allows(&url("https://slack.com/api/chat.postMessage")));
        assert!(p.allows(&url("https://SLACK.com:443/x")));
        assert!(!p.allows(&url("http://slack.com/")));
        assert!(!p.allows(&url("https://slack.com:8443/")));
        assert!(!p.allows(&url("https://evil-slack.com/")));
    }

    #[test]
    fn wildcards() {
        let p = HostPattern::parse("*://*.example.com:*").expect("parses");
        assert!(p.allows(&url("http://a.example.com:81/")));
        assert!(p.allows(&url("https://b.c.example.com/")));
        assert!(!p.allows(&url("https://example.com/")));
        assert!(!p.allows(&url("https://example.com.evil.net/")));
        let any = HostPattern::parse("http://127.0.0.1:*").expect("parses");
        assert!(any.allows(&url("http://127.0.0.1:9999/x")));
        assert!(!any.allows(&url("https://127.0.0.1:9999/x")));
    }

    #[test]
    fn bad_patterns_say_why() {
        for bad in [
            "slack.com",
            "ftp://x",
            "https://a*b.com",
            "https://x.com/path",
            "https://x:port",
        ] {
            let err = HostPattern::parse(bad).expect_err(bad).to_string();
            assert!(err.contains("expected scheme://host"), "{err}");
        }
    }
}
