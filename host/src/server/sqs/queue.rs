//! The SQS calls the poller makes, with the real `aws-sdk-sqs` client.
//! Credentials come from the standard AWS chain; the region from the
//! config or the queue URL; `endpoint_url` (or `AWS_ENDPOINT_URL_SQS`)
//! redirects it, e.g. to a local SQS-compatible server in tests.

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_sqs::Client;
use aws_sdk_sqs::error::{DisplayErrorContext, SdkError};
use aws_sdk_sqs::types::MessageSystemAttributeName;

use crate::config::SqsConfig;

/// One received message.
pub struct Received {
    /// SQS's id for it, for the log.
    pub id: String,
    /// The body, as sent.
    pub body: String,
    /// What deletes it or extends its visibility.
    pub receipt: String,
    /// How many times SQS has handed it out, this time included.
    pub receive_count: u32,
}

/// The queue and the client that reaches it.
pub struct Queue {
    client: Client,
    url: String,
    config: SqsConfig,
}

impl Queue {
    /// A client from the AWS chain plus our overrides.
    ///
    /// Strategy: the SDK's standard retries stay on (three attempts with
    /// backoff): every call here is safe to repeat. A receive may take the
    /// whole long poll, so its attempt timeout is the wait plus 10 s.
    pub async fn new(config: &SqsConfig) -> Self {
        let mut loader = aws_config::defaults(BehaviorVersion::latest()).timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(3))
                .operation_attempt_timeout(config.wait_time + Duration::from_secs(10))
                .operation_timeout(config.wait_time + Duration::from_secs(40))
                .build(),
        );
        if let Some(region) = config.region() {
            loader = loader.region(aws_config::Region::new(region));
        }
        if let Some(url) = config.endpoint_url.as_deref().filter(|u| !u.is_empty()) {
            loader = loader.endpoint_url(url);
        }
        let sdk = loader.load().await;
        Self {
            client: Client::new(&sdk),
            url: config.queue_url.trim().to_string(),
            config: config.clone(),
        }
    }

    /// The queue URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Waits up to `wait_time` for up to `max_messages` messages, hidden
    /// from other consumers for `visibility_timeout`.
    pub async fn receive(&self) -> Result<Vec<Received>, String> {
        let out = self
            .client
            .receive_message()
            .queue_url(&self.url)
            .max_number_of_messages(self.config.max_messages as i32)
            .wait_time_seconds(self.config.wait_time.as_secs() as i32)
            .visibility_timeout(self.visibility_secs())
            .message_system_attribute_names(MessageSystemAttributeName::ApproximateReceiveCount)
            .send()
            .await
            .map_err(explain)?;
        Ok(out
            .messages
            .unwrap_or_default()
            .into_iter()
            .filter_map(|m| {
                let receive_count = m
                    .attributes()
                    .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(1);
                Some(Received {
                    id: m.message_id.unwrap_or_default(),
                    body: m.body.unwrap_or_default(),
                    receipt: m.receipt_handle?,
                    receive_count,
                })
            })
            .collect())
    }

    /// Deletes a handled message.
    pub async fn delete(&self, receipt: &str) -> Result<(), String> {
        self.client
            .delete_message()
            .queue_url(&self.url)
            .receipt_handle(receipt)
            .send()
            .await
            .map(|_| ())
            .map_err(explain)
    }

    /// Hides a message being handled for another `visibility_timeout`.
    pub async fn extend(&self, receipt: &str) -> Result<(), String> {
        self.client
            .change_message_visibility()
            .queue_url(&self.url)
            .receipt_handle(receipt)
            .visibility_timeout(self.visibility_secs())
            .send()
            .await
            .map(|_| ())
            .map_err(explain)
    }

    /// How often a message being handled gets its visibility extended: a
    /// third of the timeout, so two extensions can fail before it shows.
    pub fn renew_every(&self) -> Duration {
        (self.config.visibility_timeout / 3).max(Duration::from_millis(500))
    }

    fn visibility_secs(&self) -> i32 {
        i32::try_from(self.config.visibility_timeout.as_secs()).unwrap_or(i32::MAX)
    }
}

fn explain<E, R>(e: SdkError<E, R>) -> String
where
    E: std::error::Error + 'static,
    R: std::fmt::Debug,
{
    DisplayErrorContext(&e).to_string()
}
