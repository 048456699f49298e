//! moto's server mode, a local SQS-compatible server (from PyPI, installed
//! by scripts/install-moto), and the real `aws-sdk-sqs` client the test
//! sends with.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_sqs::Client;
use aws_sdk_sqs::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_sqs::types::{QueueAttributeName, SendMessageBatchRequestEntry};

/// A running moto server, killed on drop.
pub struct Moto {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// A client for it.
    pub client: Client,
}

impl Moto {
    /// Starts `moto_server` on a free port: `VERSUS_MOTO_SERVER` (set by
    /// scripts/test), else the one on `PATH`.
    pub async fn start() -> Self {
        let program = std::env::var("VERSUS_MOTO_SERVER").unwrap_or_else(|_| "moto_server".into());
        let port = crate::gateway::free_port();
        let child = Command::new(&program)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                panic!("cannot run `{program}` ({e}): run the tests with scripts/test, which installs moto (scripts/install-moto)")
            });
        let url = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "moto did not start"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let config = aws_sdk_sqs::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new(
                "AKIDTEST",
                "secret-test",
                None,
                None,
                "test",
            ))
            .endpoint_url(&url)
            .build();
        Self {
            child,
            url,
            client: Client::from_conf(config),
        }
    }

    /// Creates a queue; its URL.
    pub async fn queue(&self, name: &str) -> String {
        self.client
            .create_queue()
            .queue_name(name)
            .send()
            .await
            .expect("create the queue")
            .queue_url
            .expect("queue url")
    }

    /// Sends `bodies`, ten to a batch, as a producer would.
    pub async fn send(&self, queue: &str, bodies: &[String]) {
        for (b, chunk) in bodies.chunks(10).enumerate() {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(i, body)| {
                    SendMessageBatchRequestEntry::builder()
                        .id(format!("m{b}-{i}"))
                        .message_body(body)
                        .build()
                        .expect("entry")
                })
                .collect();
            let out = self
                .client
                .send_message_batch()
                .queue_url(queue)
                .set_entries(Some(entries))
                .send()
                .await
                .expect("send a batch");
            assert!(out.failed.is_empty(), "{:?}", out.failed);
        }
    }

    /// Messages still on the queue: waiting, and received but not deleted.
    pub async fn left(&self, queue: &str) -> (u64, u64) {
        let out = self
            .client
            .get_queue_attributes()
            .queue_url(queue)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .expect("queue attributes");
        let attrs = out.attributes.unwrap_or_default();
        let count = |name| {
            attrs
                .get(&name)
                .and_then(|n| n.parse().ok())
                .unwrap_or(u64::MAX)
        };
        (
            count(QueueAttributeName::ApproximateNumberOfMessages),
            count(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
        )
    }

    /// The environment a gateway needs to reach it: credentials, and no
    /// look-ups of AWS's own config or instance metadata.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID", "AKIDTEST".into()),
            ("AWS_SECRET_ACCESS_KEY", "secret-test".into()),
            ("AWS_EC2_METADATA_DISABLED", "true".into()),
            ("AWS_CONFIG_FILE", "/nonexistent".into()),
            ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent".into()),
        ]
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
