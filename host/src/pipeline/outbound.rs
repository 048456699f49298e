//! Outbound HTTP for plugins: the host side of the `http` import. Owns the
//! per-plugin allow-list, timeouts, body caps and redirect checks. Every
//! redirect hop is checked against the allow-list again, and every
//! connection against the address policy in `ssrf`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::{Method, StatusCode, Url};

use super::bindings::http;
use super::ctx::PluginCtx;
use super::inspect::Inspect;
use crate::config::ProxyConfig;

pub use super::allow_list::{HostPattern, PatternError};

/// Redirect hops followed before giving up; browsers use 20, but a webhook
/// that redirects more than a few times is misconfigured.
const MAX_REDIRECTS: usize = 5;

/// The shared clients: one whose resolver refuses non-public addresses,
/// for every plugin unless its policy allows private networks, and one per
/// outbound proxy in use.
#[derive(Debug, Clone)]
pub struct Clients {
    /// Resolves to public addresses only.
    pub public_only: reqwest::Client,
    /// Resolves to any address (`allow_private_networks`).
    pub any: reqwest::Client,
    proxied: Arc<Mutex<HashMap<ProxyConfig, reqwest::Client>>>,
}

impl Clients {
    /// Builds both clients.
    pub fn new() -> Self {
        Self {
            public_only: shared_client(Some(super::ssrf::public_only())),
            any: shared_client(None),
            proxied: Arc::default(),
        }
    }

    /// The client that sends everything through `proxy`, built once per
    /// proxy so its connections are pooled across reloads. Only the proxy's
    /// own name is resolved here; the target's is the proxy's to resolve
    /// (see [`HttpPolicy::via_proxy`] for the address check).
    pub fn proxied(&self, proxy: &ProxyConfig) -> Result<reqwest::Client, String> {
        let mut clients = self
            .proxied
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(c) = clients.get(proxy) {
            return Ok(c.clone());
        }
        let mut via = reqwest::Proxy::all(proxy.url.trim()).map_err(|e| e.to_string())?;
        if !proxy.username.trim().is_empty() {
            via = via.basic_auth(proxy.username.trim(), &proxy.password);
        }
        // This proxy only, whatever HTTPS_PROXY says.
        let client = client_builder(None)
            .no_proxy()
            .proxy(via)
            .build()
            .map_err(|e| e.to_string())?;
        clients.insert(proxy.clone(), client.clone());
        Ok(client)
    }

    /// The client for a policy.
    pub fn for_policy(&self, allow_private: bool) -> reqwest::Client {
        if allow_private {
            self.any.clone()
        } else {
            self.public_only.clone()
        }
    }
}

impl Default for Clients {
    fn default() -> Self {
        Self::new()
    }
}

/// What one plugin may do over HTTP.
#[derive(Debug, Clone)]
pub struct HttpPolicy {
    allowed: Vec<HostPattern>,
    timeout: Duration,
    max_body: usize,
    allow_private: bool,
    client: reqwest::Client,
    /// Set when `client` sends through a proxy.
    proxied: bool,
    inspect: Option<std::sync::Arc<Inspect>>,
}

impl HttpPolicy {
    /// A policy from parsed patterns. The clients are shared by every
    /// plugin so connections are pooled.
    pub fn new(
        allowed: Vec<HostPattern>,
        timeout: Duration,
        max_body: usize,
        allow_private: bool,
        clients: &Clients,
    ) -> Self {
        Self {
            allowed,
            timeout,
            max_body,
            allow_private,
            client: clients.for_policy(allow_private),
            proxied: false,
            inspect: None,
        }
    }

    /// The same policy, sending through a proxy with `client` (see
    /// [`Clients::proxied`]). The allow-list and the address policy still
    /// apply to the real target: the proxy resolves its name, so it is
    /// also resolved here, and refused when it points inside.
    pub fn via_proxy(mut self, client: reqwest::Client) -> Self {
        self.client = client;
        self.proxied = true;
        self
    }

    /// The same policy, with every exchange shown (and in a dry run,
    /// answered) by `inspect`.
    pub fn inspected(mut self, inspect: std::sync::Arc<Inspect>) -> Self {
        self.inspect = Some(inspect);
        self
    }

    /// Refuses a URL whose host is a non-public IP address, unless private
    /// networks are allowed or an exact allow-list entry names that address.
    /// Host names are checked after resolution, by the client's resolver.
    fn check_address(&self, url: &Url) -> Result<(), http::Error> {
        let host = url.host_str().unwrap_or("");
        let literal = host.trim_start_matches('[').trim_end_matches(']');
        let Ok(ip) = literal.parse::<std::net::IpAddr>() else {
            return Ok(());
        };
        if self.allow_private
            || super::ssrf::is_public(ip)
            || self.allowed.iter().any(|p| p.is_exact() && p.allows(url))
        {
            return Ok(());
        }
        Err(http::Error::Denied(format!(
            "{ip} is not a public address: allow it by its exact address in allowed_hosts, \
             or set allow_private_networks"
        )))
    }

    /// Whether any entry allows `url`.
    pub fn allows(&self, url: &Url) -> bool {
        self.allowed.iter().any(|p| p.allows(url))
    }

    /// Sends `req`, following redirects only to allowed hosts.
    pub async fn send(&self, req: http::Request) -> Result<http::Response, http::Error> {
        let Some(inspect) = &self.inspect else {
            return self.send_timed(req).await;
        };
        inspect.show_request(&req);
        let result = match &inspect.dry_run {
            Some(answer) => parse_url(&req.url)
                .and_then(|url| self.admit(&url))
                .map(|()| answer.response()),
            None => self.send_timed(req).await,
        };
        inspect.show_result(&result);
        result
    }

    /// Refuses a URL the allow-list or the address policy does not admit.
    fn admit(&self, url: &Url) -> Result<(), http::Error> {
        if !self.allows(url) {
            return Err(http::Error::Denied(format!(
                "{}://{} is not in this plugin's allowed_hosts",
                url.scheme(),
                url.host_str().unwrap_or("")
            )));
        }
        self.check_address(url)
    }

    async fn send_timed(&self, req: http::Request) -> Result<http::Response, http::Error> {
        let budget = match req.timeout_ms {
            Some(ms) => self.timeout.min(Duration::from_millis(ms.into())),
            None => self.timeout,
        };
        match tokio::time::timeout(budget, self.send_following(req)).await {
            Ok(result) => result,
            Err(_) => Err(http::Error::Timeout(format!(
                "no complete response within {budget:?}"
            ))),
        }
    }

    async fn send_following(&self, req: http::Request) -> Result<http::Response, http::Error> {
        let mut url = parse_url(&req.url)?;
        let mut method = Method::from_bytes(req.method.as_bytes())
            .map_err(|_| http::Error::InvalidRequest("bad method".into()))?;
        // Shared, not copied, by each attempt of a redirect chain.
        let mut body = Some(axum::body::Bytes::from(req.body));
        for _ in 0..=MAX_REDIRECTS {
            self.admit(&url)?;
            if self.proxied && !self.allow_private {
                super::ssrf::check_name(&url)
                    .await
                    .map_err(http::Error::Denied)?;
            }
            let mut builder = self.client.request(method.clone(), url.clone());
            for (name, value) in &req.headers {
                builder = builder.header(name.as_str(), value.as_str());
            }
            if let Some(b) = &body
                && !b.is_empty()
            {
                builder = builder.body(b.clone());
            }
            let resp = builder.send().await.map_err(transport_error)?;
            let status = resp.status();
            if status.is_redirection()
                && let Some(next) = redirect_target(&url, &resp)
            {
                // 307/308 keep the method and body; the others become a GET.
                if !matches!(
                    status,
                    StatusCode::TEMPORARY_REDIRECT | StatusCode::PERMANENT_REDIRECT
                ) {
                    method = Method::GET;
                    body = None;
                }
                url = next;
                continue;
            }
            return self.read_response(resp).await;
        }
        Err(http::Error::Transport(format!(
            "more than {MAX_REDIRECTS} redirects"
        )))
    }

    async fn read_response(&self, resp: reqwest::Response) -> Result<http::Response, http::Error> {
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect();
        if resp
            .content_length()
            .is_some_and(|n| n > self.max_body as u64)
        {
            return Err(too_large(self.max_body));
        }
        let mut body = Vec::new();
        let mut resp = resp;
        while let Some(chunk) = resp.chunk().await.map_err(transport_error)? {
            if body.len() + chunk.len() > self.max_body {
                return Err(too_large(self.max_body));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(http::Response {
            status,
            headers,
            body,
        })
    }
}

fn parse_url(url: &str) -> Result<Url, http::Error> {
    Url::parse(url).map_err(|e| http::Error::InvalidRequest(format!("bad url: {e}")))
}

fn redirect_target(base: &Url, resp: &reqwest::Response) -> Option<Url> {
    let location = resp
        .headers()
        .get(reqwest::header::LOCATION)?
        .to_str()
        .ok()?;
    base.join(location).ok()
}

fn too_large(max: usize) -> http::Error {
    http::Error::TooLarge(format!("response body larger than {max} bytes"))
}

fn transport_error(e: reqwest::Error) -> http::Error {
    // The URL may hold a secret (a Telegram bot token, a webhook key), and
    // the plugin knows which URL it asked for anyway.
    let e = e.without_url();
    if let Some(denied) = super::ssrf::private_address_cause(&e) {
        http::Error::Denied(denied)
    } else if e.is_timeout() {
        http::Error::Timeout(e.to_string())
    } else if e.is_builder() {
        http::Error::InvalidRequest(e.to_string())
    } else {
        http::Error::Transport(e.to_string())
    }
}

/// A shared client: pooled connections, a connect timeout, no automatic
/// redirects (we follow them ourselves, checking each hop), and `resolver`
/// when given.
fn shared_client(resolver: Option<std::sync::Arc<super::ssrf::PublicOnly>>) -> reqwest::Client {
    client_builder(resolver)
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}

/// The settings every outbound client shares: no automatic redirects, a
/// connect timeout, pooled connections, the gateway's user agent.
pub(crate) fn client_builder(
    resolver: Option<std::sync::Arc<super::ssrf::PublicOnly>>,
) -> reqwest::ClientBuilder {
    let builder = reqwest::Client::builder();
    let builder = match resolver {
        Some(r) => builder.dns_resolver(r),
        None => builder,
    };
    builder
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(Duration::from_secs(5))
        .pool_idle_timeout(Duration::from_secs(90))
        .user_agent(concat!("versus/", env!("CARGO_PKG_VERSION")))
}

impl http::Host for PluginCtx {
    async fn send(&mut self, request: http::Request) -> Result<http::Response, http::Error> {
        let plugin = self.plugin.clone();
        let method = request.method.clone();
        let url = request.url.clone();
        let result = self.http.send(request).await;
        match &result {
            Ok(r) => {
                tracing::debug!(plugin = &*plugin, %method, url = %redact(&url), status = r.status, "outbound http")
            }
            Err(e) => {
                tracing::warn!(plugin = &*plugin, %method, url = %redact(&url), error = ?e, "outbound http failed")
            }
        }
        result
    }
}

/// Keeps only the origin: tokens travel in the path (Telegram's
/// `/bot<token>/`, webhook keys) as well as in the query.
fn redact(url: &str) -> String {
    match Url::parse(url) {
        Ok(u) => {
            let port = u.port().map(|p| format!(":{p}")).unwrap_or_default();
            format!("{}://{}{port}/…", u.scheme(), u.host_str().unwrap_or(""))
        }
        Err(_) => "<unparsable url>".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logged_urls_keep_only_the_origin() {
        assert_eq!(
            redact("https://api.telegram.org/bot123:abc/sendMessage?x=1"),
            "https://api.telegram.org/…"
        );
        assert_eq!(
            redact("http://127.0.0.1:8080/hook/KEY"),
            "http://127.0.0.1:8080/…"
        );
        assert_eq!(redact("not a url"), "<unparsable url>");
    }
}
