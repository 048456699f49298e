//! Trusting an SNS message: where its certificate may come from, fetching
//! it (cached, a few at a time), and checking the signature with it:
//! SignatureVersion 1 is SHA1withRSA, 2 is SHA256withRSA.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{
    AlgorithmIdentifier, CertificateDer, InvalidSignature, SignatureVerificationAlgorithm, alg_id,
};
use tokio::sync::Semaphore;

use crate::config::SnsConfig;

/// Certificates kept; AWS signs with one per region at a time.
const CACHE: usize = 32;

/// Certificate fetches in flight at once; more wait for a slot.
const FETCHES: usize = 4;

/// Each fetch (and a subscription's confirmation GET) must finish within.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// A certificate is refused above this size (AWS's are about 2 KiB).
const MAX_CERT_BYTES: usize = 64 * 1024;

/// Whether `url` is one SNS itself would use: `https://sns.<region>.amazonaws.com`
/// (or `.amazonaws.com.cn`), with no port, user or other host; a signing
/// certificate's path must also be `/SimpleNotificationService-….pem`. With a
/// test `prefix`, the URL must start with it instead.
pub fn trusted_url(url: &str, prefix: &str, certificate: bool) -> bool {
    if !prefix.is_empty() {
        return url.starts_with(prefix);
    }
    let Ok(parsed) = reqwest::Url::parse(url) else {
        return false;
    };
    let host = parsed.host_str().unwrap_or_default();
    let region = host.strip_prefix("sns.").and_then(|h| {
        h.strip_suffix(".amazonaws.com")
            .or_else(|| h.strip_suffix(".amazonaws.com.cn"))
    });
    let region_ok = region.is_some_and(|r| {
        !r.is_empty()
            && r.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    });
    let path_ok = !certificate || {
        let path = parsed.path();
        path.starts_with("/SimpleNotificationService-")
            && path.ends_with(".pem")
            && parsed.query().is_none()
    };
    parsed.scheme() == "https"
        && parsed.port().is_none()
        && parsed.username().is_empty()
        && parsed.password().is_none()
        && region_ok
        && path_ok
}

/// Why a message is not trusted.
#[derive(Debug)]
pub enum Refused {
    /// The message is bad: 400.
    Invalid(String),
    /// The certificate could not be fetched: 502, SNS retries.
    Unreachable(String),
}

/// Fetched certificates, by URL.
pub struct Certificates {
    /// Resolves to public addresses only: for AWS's hosts.
    public: reqwest::Client,
    /// Any address: with a test prefix (`queue.sns.cert_url_prefix`).
    any: reqwest::Client,
    cache: Mutex<HashMap<String, Arc<Vec<u8>>>>,
    slots: Semaphore,
}

impl Certificates {
    /// Neither client follows redirects.
    pub fn new() -> Self {
        let build = |resolver| {
            crate::pipeline::outbound::client_builder(resolver)
                .build()
                .unwrap_or_default()
        };
        Self {
            public: build(Some(crate::pipeline::ssrf::public_only())),
            any: build(None),
            cache: Mutex::default(),
            slots: Semaphore::new(FETCHES),
        }
    }

    /// The client for `sns`'s URLs: public addresses only, unless a test
    /// prefix is set.
    pub fn client(&self, sns: &SnsConfig) -> &reqwest::Client {
        if sns.cert_url_prefix.trim().is_empty() {
            &self.public
        } else {
            &self.any
        }
    }

    /// Checks `signature` (base64) over `text` with the certificate at
    /// `url`, for `version` `1` or `2`.
    pub async fn verify(
        &self,
        sns: &SnsConfig,
        url: &str,
        version: &str,
        text: &str,
        signature: &str,
    ) -> Result<(), Refused> {
        let algorithm: &dyn SignatureVerificationAlgorithm = match version {
            "1" => &SHA1,
            "2" => &SHA256,
            other => {
                return Err(Refused::Invalid(format!(
                    "unsupported SignatureVersion `{other}`"
                )));
            }
        };
        let signature = base64::engine::general_purpose::STANDARD
            .decode(signature.trim())
            .map_err(|_| Refused::Invalid("the Signature is not base64".to_string()))?;
        let der = self.certificate(sns, url).await?;
        let der = CertificateDer::from(der.as_slice());
        let cert = webpki::EndEntityCert::try_from(&der)
            .map_err(|e| Refused::Invalid(format!("the signing certificate is not X.509: {e}")))?;
        cert.verify_signature(algorithm, text.as_bytes(), &signature)
            .map_err(|_| Refused::Invalid("the signature does not match the message".to_string()))
    }

    async fn certificate(&self, sns: &SnsConfig, url: &str) -> Result<Arc<Vec<u8>>, Refused> {
        if let Some(der) = self.lock().get(url) {
            return Ok(der.clone());
        }
        let _slot = self
            .slots
            .acquire()
            .await
            .map_err(|_| Refused::Unreachable("closing".to_string()))?;
        // Another request may have fetched it while this one waited.
        if let Some(der) = self.lock().get(url) {
            return Ok(der.clone());
        }
        let der = Arc::new(self.fetch(sns, url).await?);
        let mut cache = self.lock();
        if cache.len() >= CACHE {
            cache.clear();
        }
        cache.insert(url.to_string(), der.clone());
        Ok(der)
    }

    async fn fetch(&self, sns: &SnsConfig, url: &str) -> Result<Vec<u8>, Refused> {
        let unreachable = |e: &dyn std::fmt::Display| {
            Refused::Unreachable(format!("cannot fetch the signing certificate {url}: {e}"))
        };
        let response = self
            .client(sns)
            .get(url)
            .timeout(FETCH_TIMEOUT)
            .send()
            .await
            .map_err(|e| unreachable(&e))?;
        if !response.status().is_success() {
            return Err(unreachable(&format!("HTTP {}", response.status())));
        }
        let mut response = response;
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| unreachable(&e))? {
            if body.len() + chunk.len() > MAX_CERT_BYTES {
                return Err(Refused::Invalid(format!(
                    "the signing certificate {url} is larger than {MAX_CERT_BYTES} bytes"
                )));
            }
            body.extend_from_slice(&chunk);
        }
        CertificateDer::from_pem_slice(&body)
            .map(|der| der.to_vec())
            .map_err(|e| Refused::Invalid(format!("the signing certificate {url} is not PEM: {e}")))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Vec<u8>>>> {
        self.cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// RSA PKCS#1 v1.5 with a digest, through ring, for the certificate's key.
#[derive(Debug)]
struct RsaPkcs1 {
    params: &'static ring::signature::RsaParameters,
    id: AlgorithmIdentifier,
}

/// sha1WithRSAEncryption (1.2.840.113549.1.1.5), with its NULL parameter.
const SHA1_WITH_RSA: AlgorithmIdentifier = AlgorithmIdentifier::from_slice(&[
    0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x05, 0x05, 0x00,
]);

static SHA1: RsaPkcs1 = RsaPkcs1 {
    params: &ring::signature::RSA_PKCS1_2048_8192_SHA1_FOR_LEGACY_USE_ONLY,
    id: SHA1_WITH_RSA,
};

static SHA256: RsaPkcs1 = RsaPkcs1 {
    params: &ring::signature::RSA_PKCS1_2048_8192_SHA256,
    id: alg_id::RSA_PKCS1_SHA256,
};

impl SignatureVerificationAlgorithm for RsaPkcs1 {
    fn verify_signature(
        &self,
        public_key: &[u8],
        message: &[u8],
        signature: &[u8],
    ) -> Result<(), InvalidSignature> {
        ring::signature::UnparsedPublicKey::new(self.params, public_key)
            .verify(message, signature)
            .map_err(|_| InvalidSignature)
    }

    fn public_key_alg_id(&self) -> AlgorithmIdentifier {
        alg_id::RSA_ENCRYPTION
    }

    fn signature_alg_id(&self) -> AlgorithmIdentifier {
        self.id
    }
}

#[cfg(test)]
mod tests {
    use super::trusted_url;

    #[test]
    fn only_aws_sns_hosts_are_trusted() {
        let cert = "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-abc.pem";
        assert!(trusted_url(cert, "", true));
        assert!(trusted_url(
            "https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-x.pem",
            "",
            true
        ));
        for bad in [
            "http://sns.eu-west-1.amazonaws.com/SimpleNotificationService-abc.pem",
            "https://sns.eu-west-1.amazonaws.com.evil.com/SimpleNotificationService-abc.pem",
            "https://evil.com/sns.eu-west-1.amazonaws.com/SimpleNotificationService-abc.pem",
            "https://sns.eu-west-1.amazonaws.com:8443/SimpleNotificationService-abc.pem",
            "https://user@sns.eu-west-1.amazonaws.com/SimpleNotificationService-abc.pem",
            "https://sns.eu-west-1.amazonaws.com/other.pem",
            "https://sns..amazonaws.com/SimpleNotificationService-abc.pem",
            "https://s3.amazonaws.com/SimpleNotificationService-abc.pem",
        ] {
            assert!(!trusted_url(bad, "", true), "{bad}");
        }
        let subscribe = "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=t";
        assert!(trusted_url(subscribe, "", false));
        assert!(!trusted_url(subscribe, "", true));
    }

    #[test]
    fn a_test_prefix_replaces_the_aws_pattern() {
        let prefix = "http://127.0.0.1:8080/";
        assert!(trusted_url("http://127.0.0.1:8080/cert.pem", prefix, true));
        assert!(!trusted_url("http://127.0.0.1:9999/cert.pem", prefix, true));
        assert!(!trusted_url(
            "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-abc.pem",
            prefix,
            true
        ));
    }
}
