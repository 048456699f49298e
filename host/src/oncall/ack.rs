//! Signed ACK links: `{public_host}/api/ack/{id}?exp=…&sig=…`, where `sig`
//! is HMAC-SHA256 over the id and the expiry, so links cannot be forged or
//! stretched, and every replica that shares the key accepts them.

use std::sync::{Arc, OnceLock};

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Why an ACK link was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AckLinkError {
    /// `exp` or `sig` is missing or malformed.
    #[error("the ACK link is missing its signature or expiry")]
    Missing,
    /// The signature does not match.
    #[error("the ACK link's signature is not valid")]
    BadSignature,
    /// The link is past its expiry.
    #[error("the ACK link has expired")]
    Expired,
}

/// Signs and verifies ACK links. Its key may come later ([`Self::pending`]):
/// the key shared through Redis is read once Redis answers.
#[derive(Clone)]
pub struct AckSigner {
    key: Arc<OnceLock<Vec<u8>>>,
}

impl std::fmt::Debug for AckSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AckSigner(<secret>)")
    }
}

impl AckSigner {
    /// A signer with `key` (at least 16 bytes is sensible; the key never
    /// leaves the process except to the shared store).
    pub fn new(key: impl Into<Vec<u8>>) -> Self {
        let signer = Self::pending();
        signer.set_key(key);
        signer
    }

    /// A signer whose key is not known yet: it signs nothing and accepts
    /// no link until [`Self::set_key`].
    pub fn pending() -> Self {
        Self {
            key: Arc::default(),
        }
    }

    /// Sets the key; a key already set is kept.
    pub fn set_key(&self, key: impl Into<Vec<u8>>) {
        let _ = self.key.set(key.into());
    }

    /// Whether the key is known.
    pub fn ready(&self) -> bool {
        self.key.get().is_some()
    }

    /// The MAC over the id and expiry. HMAC takes keys of any length, so
    /// this is `None` only while the key is not known; signing then gives
    /// an empty signature and verifying refuses: it fails closed, it never
    /// panics.
    fn mac(&self, id: &str, exp: i64) -> Option<HmacSha256> {
        let mut mac = HmacSha256::new_from_slice(self.key.get()?).ok()?;
        mac.update(id.as_bytes());
        mac.update(b"\n");
        mac.update(exp.to_string().as_bytes());
        Some(mac)
    }

    /// The hex signature for `id` expiring at `exp` (Unix seconds).
    pub fn sign(&self, id: &str, exp: i64) -> String {
        self.mac(id, exp)
            .map(|mac| hex::encode(mac.finalize().into_bytes()))
            .unwrap_or_default()
    }

    /// The full link.
    pub fn url(&self, public_host: &str, id: &str, exp: i64) -> String {
        format!(
            "{}/api/ack/{id}?exp={exp}&sig={}",
            public_host.trim_end_matches('/'),
            self.sign(id, exp)
        )
    }

    /// Checks a link's parts at time `now` (Unix seconds). The signature is
    /// compared in constant time.
    pub fn verify(
        &self,
        id: &str,
        exp: Option<&str>,
        sig: Option<&str>,
        now: i64,
    ) -> Result<(), AckLinkError> {
        let (Some(exp), Some(sig)) = (exp, sig) else {
            return Err(AckLinkError::Missing);
        };
        let exp: i64 = exp.parse().map_err(|_| AckLinkError::Missing)?;
        let sig = hex::decode(sig).map_err(|_| AckLinkError::BadSignature)?;
        self.mac(id, exp)
            .ok_or(AckLinkError::BadSignature)?
            .verify_slice(&sig)
            .map_err(|_| AckLinkError::BadSignature)?;
        if now > exp {
            return Err(AckLinkError::Expired);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_failures() {
        let s = AckSigner::new(b"0123456789abcdef".to_vec());
        let sig = s.sign("inc-1", 1000);
        assert_eq!(s.verify("inc-1", Some("1000"), Some(&sig), 999), Ok(()));
        assert_eq!(
            s.verify("inc-1", Some("1000"), Some(&sig), 1001),
            Err(AckLinkError::Expired)
        );
        assert_eq!(
            s.verify("inc-2", Some("1000"), Some(&sig), 999),
            Err(AckLinkError::BadSignature)
        );
        assert_eq!(
            s.verify("inc-1", Some("2000"), Some(&sig), 999),
            Err(AckLinkError::BadSignature)
        );
        assert_eq!(
            s.verify("inc-1", None, Some(&sig), 999),
            Err(AckLinkError::Missing)
        );
        assert_eq!(
            s.verify("inc-1", Some("x"), Some(&sig), 999),
            Err(AckLinkError::Missing)
        );
        assert_eq!(
            s.verify("inc-1", Some("1000"), Some("zz"), 999),
            Err(AckLinkError::BadSignature)
        );
        let pending = AckSigner::pending();
        assert!(!pending.ready());
        assert_eq!(
            pending.verify("inc-1", Some("1000"), Some(&sig), 999),
            Err(AckLinkError::BadSignature)
        );
        pending.set_key(b"0123456789abcdef".to_vec());
        assert_eq!(
            pending.verify("inc-1", Some("1000"), Some(&sig), 999),
            Ok(())
        );
        let other = AckSigner::new(b"another key here".to_vec());
        assert_eq!(
            other.verify("inc-1", Some("1000"), Some(&sig), 999),
            Err(AckLinkError::BadSignature)
        );
        assert_eq!(
            s.url("https://h.example/", "inc-1", 1000),
            format!("https://h.example/api/ack/inc-1?exp=1000&sig={sig}")
        );
    }
}

#[cfg(test)]
mod fuzz {
    //! Property tests: links made by `url` verify until they expire, any
    //! change to one is refused, and no input panics.

    use proptest::prelude::*;

    use super::*;
    use crate::testing::proptest_config;

    fn signer() -> AckSigner {
        AckSigner::new(b"fuzz-key-0123456789abcdef".to_vec())
    }

    proptest! {
        #![proptest_config(proptest_config())]

        #[test]
        fn fuzz_signed_links_verify_until_expiry(id in ".{0,40}", exp in any::<i64>(), now in any::<i64>()) {
            let s = signer();
            let sig = s.sign(&id, exp);
            let got = s.verify(&id, Some(&exp.to_string()), Some(&sig), now);
            prop_assert_eq!(got, if now > exp { Err(AckLinkError::Expired) } else { Ok(()) });
        }

        #[test]
        fn fuzz_changed_links_are_refused(id in "[a-z0-9-]{1,36}", exp in 0i64..i64::MAX, pos in 0usize..64, other in "[a-z0-9-]{1,36}") {
            let s = signer();
            let sig = s.sign(&id, exp);
            // One hex digit changed.
            let mut bytes = sig.clone().into_bytes();
            bytes[pos] = if bytes[pos] == b'0' { b'1' } else { b'0' };
            let flipped = String::from_utf8(bytes).expect("hex");
            prop_assert_eq!(s.verify(&id, Some(&exp.to_string()), Some(&flipped), 0), Err(AckLinkError::BadSignature));
            // Another id or a later expiry with the same signature.
            if other != id {
                prop_assert_eq!(s.verify(&other, Some(&exp.to_string()), Some(&sig), 0), Err(AckLinkError::BadSignature));
            }
            if exp < i64::MAX {
                prop_assert_eq!(s.verify(&id, Some(&(exp + 1).to_string()), Some(&sig), 0), Err(AckLinkError::BadSignature));
            }
        }

        #[test]
        fn fuzz_any_query_values_are_refused_cleanly(
            id in ".{0,40}",
            exp in prop::option::of(".{0,24}"),
            sig in prop::option::of(prop_oneof![".{0,80}", "[0-9a-f]{64}"]),
            now in any::<i64>(),
        ) {
            // Random text never verifies (a 2^-256 chance aside), and never panics.
            let got = signer().verify(&id, exp.as_deref(), sig.as_deref(), now);
            prop_assert!(got.is_err());
        }
    }
}
