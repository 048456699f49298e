//! Ephemeral replies through a click's `response_url`: seen only by the
//! person who clicked, e.g. "Too late: the incident was already escalated".
//!
//! The URL comes from a signed request, and is still only used when it is
//! Slack's (`https://hooks.slack.com/…`, or GovSlack's), or on the host of
//! `alert.slack.api_url` when that points elsewhere (a local Slack stand-in).

use std::time::Duration;

use serde_json::json;

/// Whole-call timeout of a reply.
const TIMEOUT: Duration = Duration::from_secs(10);
/// Attempts per reply; Slack allows five uses of a `response_url`.
const ATTEMPTS: u32 = 3;

/// Where a reply goes, if anywhere.
pub struct Replier {
    url: Option<String>,
}

impl Replier {
    /// A replier to `response_url`, when it is Slack's (see the module
    /// docs); `api_url` is `alert.slack.api_url`.
    pub fn new(response_url: Option<String>, api_url: &str) -> Self {
        let url = response_url.filter(|u| {
            let ok = trusted(u, api_url);
            if !ok {
                tracing::warn!(
                    "Slack response_url is not on hooks.slack.com nor on alert.slack.api_url's host; no reply sent"
                );
            }
            ok
        });
        Self { url }
    }

    /// Posts `text` as an ephemeral reply; retried with backoff on a
    /// transport error, 429 or 5xx, and logged when it cannot be sent.
    pub async fn ephemeral(&self, text: &str) {
        let Some(url) = &self.url else { return };
        let body = json!({
            "response_type": "ephemeral",
            "replace_original": false,
            "text": text,
        });
        let client = client();
        let body = body.to_string();
        let mut wait = Duration::from_millis(500);
        for attempt in 1..=ATTEMPTS {
            let sent = client
                .post(url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body.clone())
                .send()
                .await;
            match sent {
                Ok(r) if r.status().is_success() => return,
                Ok(r) if r.status().as_u16() != 429 && !r.status().is_server_error() => {
                    tracing::warn!(
                        status = r.status().as_u16(),
                        "Slack refused the ephemeral reply"
                    );
                    return;
                }
                Ok(r) => tracing::debug!(
                    attempt,
                    status = r.status().as_u16(),
                    "Slack reply failed; retrying"
                ),
                Err(e) => tracing::debug!(attempt, error = %e, "Slack reply failed; retrying"),
            }
            if attempt < ATTEMPTS {
                tokio::time::sleep(wait).await;
                wait *= 2;
            }
        }
        tracing::warn!("the ephemeral reply could not be sent to Slack");
    }
}

/// One client for every reply: the outbound clients' settings (no
/// redirects, a connect timeout), and a whole-call timeout.
fn client() -> reqwest::Client {
    static CLIENT: std::sync::OnceLock<reqwest::Client> = std::sync::OnceLock::new();
    CLIENT
        .get_or_init(|| {
            crate::pipeline::outbound::client_builder(None)
                .timeout(TIMEOUT)
                .build()
                .unwrap_or_else(|_| reqwest::Client::new())
        })
        .clone()
}

/// Whether `url` is Slack's response host, or on `api_url`'s origin.
fn trusted(url: &str, api_url: &str) -> bool {
    let Ok(url) = reqwest::Url::parse(url) else {
        return false;
    };
    let slack = url.scheme() == "https"
        && matches!(
            url.host_str(),
            Some("hooks.slack.com" | "hooks.slack-gov.com")
        )
        && url.port().is_none();
    let same_origin = reqwest::Url::parse(api_url)
        .is_ok_and(|api| api.host_str() != Some("slack.com") && api.origin() == url.origin());
    slack || same_origin
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_slack_or_the_configured_api_host_is_trusted() {
        let api = "https://slack.com/api/";
        assert!(super::trusted(
            "https://hooks.slack.com/actions/T1/2/abc",
            api
        ));
        assert!(super::trusted(
            "https://hooks.slack-gov.com/actions/T1/2/abc",
            api
        ));
        assert!(!super::trusted(
            "http://hooks.slack.com/actions/T1/2/abc",
            api
        ));
        assert!(!super::trusted(
            "https://hooks.slack.com.evil.example/x",
            api
        ));
        assert!(!super::trusted("https://slack.com/api/x", api));
        assert!(!super::trusted("http://169.254.169.254/latest", api));
        let local = "http://127.0.0.1:4010/api/";
        assert!(super::trusted("http://127.0.0.1:4010/respond/1", local));
        assert!(!super::trusted("http://127.0.0.1:4011/respond/1", local));
    }
}
