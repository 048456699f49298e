//! The upstream `proxy:` section: one outbound proxy, used by the chat
//! channels whose section says `use_proxy: true` (Telegram, Viber, Lark).

use serde::Deserialize;

use super::{ConfigError, lenient};

/// `proxy:`: where the channels with `use_proxy` send their requests.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Deserialize)]
#[serde(default)]
pub struct ProxyConfig {
    /// `http://host:port` or `https://host:port`. HTTPS targets are reached
    /// through it with `CONNECT`, plain HTTP ones by absolute URL.
    #[serde(deserialize_with = "lenient::string")]
    pub url: String,
    /// Basic authentication towards the proxy, if it needs it.
    #[serde(deserialize_with = "lenient::string")]
    pub username: String,
    /// The password that goes with `username`.
    #[serde(deserialize_with = "lenient::string")]
    pub password: String,
}

impl ProxyConfig {
    /// The proxy for a channel whose section sets `use_proxy` to `on`.
    pub(crate) fn for_channel(&self, on: bool) -> Option<Self> {
        on.then(|| self.clone())
    }

    /// Checks that the proxy can be used by `channel`, which asked for it.
    pub(super) fn validate_for(&self, channel: &str) -> Result<(), ConfigError> {
        let invalid = |message: String| ConfigError::Invalid {
            key: "proxy.url".into(),
            message,
        };
        let url = self.url.trim();
        if url.is_empty() {
            return Err(invalid(format!(
                "is empty, but alert.{channel}.use_proxy is true: set the proxy's URL \
                 (or PROXY_URL), or turn use_proxy off"
            )));
        }
        let parsed = reqwest::Url::parse(url)
            .map_err(|e| invalid(format!("`{url}` is not a URL ({e}): use http://host:port")))?;
        match parsed.scheme() {
            "http" | "https" => {}
            "socks5" | "socks5h" | "socks4" => {
                return Err(invalid(
                    "SOCKS proxies are not supported: use an HTTP proxy (http://host:port), \
                     which reaches HTTPS targets with CONNECT"
                        .into(),
                ));
            }
            other => {
                return Err(invalid(format!(
                    "scheme `{other}` is not a proxy scheme: use http://host:port"
                )));
            }
        }
        if parsed.host_str().is_none_or(str::is_empty) {
            return Err(invalid(format!("`{url}` names no host")));
        }
        if self.username.trim().is_empty() && !self.password.trim().is_empty() {
            return Err(ConfigError::Invalid {
                key: "proxy.username".into(),
                message: "is empty but proxy.password is set: set the user name too".into(),
            });
        }
        Ok(())
    }
}
