//! What plays AWS in the SNS tests: a key pair and certificate made with
//! `openssl`, messages signed as SNS signs them (AWS's documented text to
//! sign; SignatureVersion 1 = SHA1withRSA, 2 = SHA256withRSA), and a local
//! HTTP server that serves the certificate and answers subscription
//! confirmations, recording every request it gets.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::Uri;
use base64::Engine;
use serde_json::{Map, Value, json};

/// The topic the gateway is configured with.
pub const TOPIC: &str = "arn:aws:sns:eu-west-1:123456789012:versus-alerts";

/// A signing key and its self-signed certificate, made by `openssl`.
pub struct Signer {
    dir: tempfile::TempDir,
}

impl Signer {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let out = Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            ])
            .args([
                "-subj",
                "/CN=sns.test",
                "-keyout",
                "key.pem",
                "-out",
                "cert.pem",
            ])
            .current_dir(dir.path())
            .output()
            .expect("run openssl (scripts/test installs it)");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        Self { dir }
    }

    /// The certificate, PEM.
    pub fn certificate(&self) -> Vec<u8> {
        std::fs::read(self.dir.path().join("cert.pem")).expect("the certificate")
    }

    /// The base64 signature of `text` (`1`: SHA1, `2`: SHA256).
    pub fn sign(&self, version: &str, text: &str) -> String {
        let digest = if version == "1" { "-sha1" } else { "-sha256" };
        let raw = openssl_sign(self.dir.path(), digest, text);
        base64::engine::general_purpose::STANDARD.encode(raw)
    }

    /// `message` with its `Signature`, over the fields its `Type` signs.
    pub fn signed(&self, mut message: Map<String, Value>) -> Value {
        let version = message["SignatureVersion"]
            .as_str()
            .unwrap_or("1")
            .to_string();
        let signature = self.sign(&version, &string_to_sign(&message));
        message.insert("Signature".into(), signature.into());
        Value::Object(message)
    }
}

fn openssl_sign(dir: &Path, digest: &str, text: &str) -> Vec<u8> {
    let mut child = Command::new("openssl")
        .args(["dgst", digest, "-sign", "key.pem"])
        .current_dir(dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("run openssl");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(text.as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("openssl ends");
    assert!(out.status.success());
    out.stdout
}

/// AWS's text to sign: each signed field present, `Name\nvalue\n`, in order.
pub fn string_to_sign(message: &Map<String, Value>) -> String {
    let fields: &[&str] = if message["Type"] == "Notification" {
        &[
            "Message",
            "MessageId",
            "Subject",
            "Timestamp",
            "TopicArn",
            "Type",
        ]
    } else {
        &[
            "Message",
            "MessageId",
            "SubscribeURL",
            "Timestamp",
            "Token",
            "TopicArn",
            "Type",
        ]
    };
    let mut text = String::new();
    for name in fields {
        if let Some(value) = message.get(*name).and_then(Value::as_str) {
            text += &format!("{name}\n{value}\n");
        }
    }
    text
}

/// An SNS timestamp `seconds_ago` seconds in the past.
pub fn timestamp(seconds_ago: u64) -> String {
    let at = std::time::SystemTime::now() - std::time::Duration::from_secs(seconds_ago);
    humantime::format_rfc3339_millis(at).to_string()
}

/// A notification of `TOPIC` carrying `text`, to be signed.
pub fn notification(text: &str, version: &str, cert_url: &str) -> Map<String, Value> {
    let value = json!({
        "Type": "Notification",
        "MessageId": uuid::Uuid::new_v4().to_string(),
        "TopicArn": TOPIC,
        "Subject": "ALARM",
        "Message": text,
        "Timestamp": timestamp(5),
        "SignatureVersion": version,
        "SigningCertURL": cert_url,
        "UnsubscribeURL": "https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe",
    });
    value.as_object().cloned().unwrap_or_default()
}

/// A subscription confirmation of `topic`, to be signed.
pub fn confirmation(topic: &str, subscribe_url: &str, cert_url: &str) -> Map<String, Value> {
    let value = json!({
        "Type": "SubscriptionConfirmation",
        "MessageId": uuid::Uuid::new_v4().to_string(),
        "Token": "token-1",
        "TopicArn": topic,
        "Message": "You have chosen to subscribe to the topic.",
        "SubscribeURL": subscribe_url,
        "Timestamp": timestamp(5),
        "SignatureVersion": "2",
        "SigningCertURL": cert_url,
    });
    value.as_object().cloned().unwrap_or_default()
}

/// What the local SNS host shares with its handler: the requests seen and
/// the certificate.
type HostState = (Arc<Mutex<Vec<String>>>, Arc<Vec<u8>>);

/// A local HTTP server playing the SNS host: `GET /cert.pem` serves the
/// certificate, any other GET answers 200; every request is recorded.
pub struct AwsHost {
    base: String,
    hits: Arc<Mutex<Vec<String>>>,
}

impl AwsHost {
    pub async fn start(certificate: Vec<u8>) -> Self {
        let hits = Arc::new(Mutex::new(Vec::new()));
        let state = (hits.clone(), Arc::new(certificate));
        let app = Router::new()
            .fallback(
                |State((hits, cert)): State<HostState>, uri: Uri| async move {
                    hits.lock().expect("hits").push(uri.to_string());
                    if uri.path() == "/cert.pem" {
                        cert.as_ref().clone()
                    } else {
                        b"<ConfirmSubscriptionResponse/>".to_vec()
                    }
                },
            )
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("address").port();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            base: format!("http://127.0.0.1:{port}/"),
            hits,
        }
    }

    /// `http://127.0.0.1:PORT/`: the gateway's `cert_url_prefix`.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// The requests received (path and query), in order.
    pub fn hits(&self) -> Vec<String> {
        self.hits.lock().expect("hits").clone()
    }
}
