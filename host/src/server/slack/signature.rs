//! Slack's request signature: `X-Slack-Signature` is `v0=` and the hex
//! HMAC-SHA256 of `v0:{X-Slack-Request-Timestamp}:{raw body}` under the
//! app's signing secret. A request is trusted only when that matches
//! (compared in constant time) and its timestamp is within five minutes
//! of now; the caller then accepts each signature once.

use axum::http::HeaderMap;
use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// How far a request's timestamp may be from now, either way, in seconds.
pub const MAX_SKEW_SECS: i64 = 5 * 60;

/// Why a request is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// A header is missing or not in Slack's form.
    Malformed,
    /// The timestamp is more than [`MAX_SKEW_SECS`] from now.
    Stale,
    /// The HMAC does not match: a forged or altered request, or another
    /// app's secret.
    BadSignature,
}

impl Refused {
    /// The `reason` label of `versus_slack_interactions_total` and the log.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::Stale => "stale",
            Self::BadSignature => "bad_signature",
        }
    }
}

/// The signature of a request whose HMAC and timestamp check out, to be
/// remembered so that it is accepted once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed(pub String);

/// Checks `body`'s signature headers against `secret` at `now_secs`.
pub fn verify(
    secret: &[u8],
    headers: &HeaderMap,
    body: &[u8],
    now_secs: i64,
) -> Result<Signed, Refused> {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
            .ok_or(Refused::Malformed)
    };
    let timestamp = header("x-slack-request-timestamp")?;
    let signature = header("x-slack-signature")?;
    let at: i64 = timestamp.parse().map_err(|_| Refused::Malformed)?;
    let hex_mac = signature.strip_prefix("v0=").ok_or(Refused::Malformed)?;
    let mac_bytes = hex::decode(hex_mac).map_err(|_| Refused::BadSignature)?;
    let mut mac = HmacSha256::new_from_slice(secret).map_err(|_| Refused::BadSignature)?;
    mac.update(b"v0:");
    mac.update(timestamp.as_bytes());
    mac.update(b":");
    mac.update(body);
    mac.verify_slice(&mac_bytes)
        .map_err(|_| Refused::BadSignature)?;
    // Checked after the HMAC, so a forged request learns nothing about
    // the clock.
    if (now_secs - at).abs() > MAX_SKEW_SECS {
        return Err(Refused::Stale);
    }
    Ok(Signed(hex_mac.to_ascii_lowercase()))
}

/// The `X-Slack-Signature` value Slack would send for `body` at
/// `timestamp` (for tests).
#[cfg(test)]
pub fn sign(secret: &[u8], timestamp: i64, body: &[u8]) -> String {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes any key length");
    mac.update(format!("v0:{timestamp}:").as_bytes());
    mac.update(body);
    format!("v0={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"8f742231b10e8888abcd99yyyzzz85a5";

    fn headers(ts: &str, sig: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-slack-request-timestamp", ts.parse().unwrap());
        h.insert("x-slack-signature", sig.parse().unwrap());
        h
    }

    #[test]
    fn a_signature_made_as_slack_makes_it_is_accepted() {
        let body = b"payload=%7B%22type%22%3A%22block_actions%22%7D";
        let sig = sign(SECRET, 1_531_420_618, body);
        assert_eq!(
            verify(
                SECRET,
                &headers("1531420618", &sig),
                body,
                1_531_420_618 + 299
            ),
            Ok(Signed(sig[3..].to_string()))
        );
    }

    #[test]
    fn slacks_published_example_verifies() {
        let body = b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
        let sig = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";
        assert_eq!(sign(SECRET, 1_531_420_618, body), sig);
        assert!(verify(SECRET, &headers("1531420618", sig), body, 1_531_420_618).is_ok());
    }

    #[test]
    fn known_vector() {
        // HMAC-SHA256("key", "v0:1:x"), computed independently with
        // `printf 'v0:1:x' | openssl dgst -sha256 -hmac key`.
        assert_eq!(
            sign(b"key", 1, b"x"),
            "v0=4cb20cc4ad62fbdd34ab2d263c63a0e7dd37b98139233ad0ebf28e09d12f4230"
        );
    }

    #[test]
    fn everything_else_is_refused() {
        let body = b"payload=x";
        let now = 1_700_000_000;
        let sig = sign(SECRET, now, body);
        let ts = now.to_string();
        let cases = [
            (
                headers(&ts, &sign(b"another secret", now, body)),
                &body[..],
                Refused::BadSignature,
            ),
            (headers(&ts, &sig), &b"payload=y"[..], Refused::BadSignature),
            (
                headers(&(now + 1).to_string(), &sig),
                &body[..],
                Refused::BadSignature,
            ),
            (headers(&ts, "v1=00"), &body[..], Refused::Malformed),
            (headers(&ts, "v0=zz"), &body[..], Refused::BadSignature),
            (headers("soon", &sig), &body[..], Refused::Malformed),
            (HeaderMap::new(), &body[..], Refused::Malformed),
        ];
        for (h, b, want) in cases {
            assert_eq!(verify(SECRET, &h, b, now), Err(want), "{h:?}");
        }
        let old = now - MAX_SKEW_SECS - 1;
        let stale = headers(&old.to_string(), &sign(SECRET, old, body));
        assert_eq!(verify(SECRET, &stale, body, now), Err(Refused::Stale));
        let future = now + MAX_SKEW_SECS + 1;
        let ahead = headers(&future.to_string(), &sign(SECRET, future, body));
        assert_eq!(verify(SECRET, &ahead, body, now), Err(Refused::Stale));
    }
}
