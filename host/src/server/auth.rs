//! Ingest authentication for `POST /api/incidents`: a bearer token or an
//! HMAC-SHA256 signature per source (`ingest.sources`), compared in constant
//! time, and the allow-list of query overrides each source may use. The
//! same sources may read `GET /api/incidents/{id}`, with a bearer token.
//!
//! Off while `ingest.sources` is empty, as upstream.

use axum::http::{HeaderMap, header};
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

use super::error::ApiError;
use crate::config::{IngestConfig, IngestSource};
use crate::incident::Overrides;

/// Header carrying `sha256=<hex>` of HMAC-SHA256(secret, "{timestamp}.{body}").
pub const SIGNATURE_HEADER: &str = "x-versus-signature";

/// Header carrying the signing time in Unix seconds.
pub const TIMESTAMP_HEADER: &str = "x-versus-timestamp";

/// How far a signature's timestamp may be from our clock: long enough for a
/// sender's retries and clock drift, short enough that a captured request
/// cannot be replayed later to page again.
pub const MAX_SKEW_SECS: u64 = 300;

/// Where a request stands after its headers were checked.
pub enum Pending<'a> {
    /// Authentication is off.
    Open,
    /// The bearer token identified this source.
    Source(&'a IngestSource),
    /// A signature was sent: it is checked once the body is read.
    Signed,
}

/// Checks the credentials that need no body, before the body is read, so an
/// unauthenticated sender cannot make the gateway read a large body.
pub fn check_headers<'a>(
    ingest: &'a IngestConfig,
    headers: &HeaderMap,
) -> Result<Pending<'a>, ApiError> {
    if !ingest.auth_required() {
        return Ok(Pending::Open);
    }
    if let Some(value) = headers.get(header::AUTHORIZATION) {
        let token = value
            .to_str()
            .ok()
            .and_then(|v| {
                let (scheme, token) = v.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .ok_or_else(|| {
                unauthorized("the Authorization header must be `Bearer <token>`".into())
            })?;
        // Every token source is compared, so the time taken does not say
        // which one (if any) came close.
        let mut found = None;
        for source in ingest.sources.iter().filter(|s| s.token.is_set()) {
            if constant_time_eq(token.as_bytes(), source.token.expose().as_bytes()) {
                found = Some(source);
            }
        }
        return found
            .map(Pending::Source)
            .ok_or_else(|| unauthorized("the bearer token is not valid".into()));
    }
    if headers.contains_key(SIGNATURE_HEADER) {
        return Ok(Pending::Signed);
    }
    Err(unauthorized(format!(
        "authentication required: send `Authorization: Bearer <token>`, or sign the body \
         (`{SIGNATURE_HEADER}: sha256=<hex>` with `{TIMESTAMP_HEADER}`)"
    )))
}

/// Authenticates a read of an incident (`GET /api/incidents/{id}`), which
/// shows alert titles and where messages went: any source's bearer token.
///
/// Strategy: a signature covers a timestamp and a body, and a GET has no
/// body; a signature over an empty body would not be bound to the incident
/// asked for, so within its 300 s it could read any incident. Signing
/// sources therefore cannot read; a reader gets a token source of its own.
pub fn check_read(ingest: &IngestConfig, headers: &HeaderMap) -> Result<(), ApiError> {
    if !ingest.auth_required() {
        return Ok(());
    }
    if !headers.contains_key(header::AUTHORIZATION) {
        return Err(unauthorized(
            "authentication required: send `Authorization: Bearer <token>` of an \
             ingest.sources entry (signatures cover a body, so they do not apply to a GET)"
                .into(),
        ));
    }
    check_headers(ingest, headers).map(drop)
}

impl<'a> Pending<'a> {
    /// Finishes authentication with the body, then checks every query
    /// override the request uses (as parsed, see [`Overrides::used`])
    /// against what its source may use.
    pub fn finish(
        self,
        ingest: &'a IngestConfig,
        headers: &HeaderMap,
        body: &[u8],
        overrides: &Overrides,
        now_secs: u64,
    ) -> Result<(), ApiError> {
        let source = match self {
            Self::Open => return Ok(()),
            Self::Source(s) => s,
            Self::Signed => verify_signature(ingest, headers, body, now_secs)?,
        };
        tracing::debug!(source = %source.name, "alert sender authenticated");
        for key in overrides.used() {
            if !source.allowed_overrides.iter().any(|k| k == key) {
                tracing::warn!(source = %source.name, key, "query override refused");
                return Err(ApiError::Forbidden(format!(
                    "source `{}` may not use the query override `{key}` \
                     (allow it in ingest.sources[].allowed_overrides)",
                    source.name
                )));
            }
        }
        Ok(())
    }
}

fn verify_signature<'a>(
    ingest: &'a IngestConfig,
    headers: &HeaderMap,
    body: &[u8],
    now_secs: u64,
) -> Result<&'a IngestSource, ApiError> {
    let header_text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let signature = header_text(SIGNATURE_HEADER)
        .and_then(|v| v.trim().strip_prefix("sha256="))
        .and_then(|h| hex::decode(h).ok())
        .ok_or_else(|| unauthorized(format!("{SIGNATURE_HEADER} must be `sha256=<hex>`")))?;
    let timestamp = header_text(TIMESTAMP_HEADER).unwrap_or("").trim();
    let signed_at: u64 = timestamp.parse().map_err(|_| {
        unauthorized(format!(
            "{TIMESTAMP_HEADER} must be the signing time in Unix seconds"
        ))
    })?;
    if signed_at.abs_diff(now_secs) > MAX_SKEW_SECS {
        return Err(unauthorized(format!(
            "{TIMESTAMP_HEADER} is more than {MAX_SKEW_SECS} s away from the gateway's clock: \
             sign each request when it is sent"
        )));
    }
    for source in ingest.sources.iter().filter(|s| s.hmac_secret.is_set()) {
        if sign(source.hmac_secret.expose().as_bytes(), timestamp, body)
            .is_some_and(|mac| mac.verify_slice(&signature).is_ok())
        {
            return Ok(source);
        }
    }
    Err(unauthorized(
        "the signature does not match the body and timestamp".into(),
    ))
}

/// The MAC over `"{timestamp}.{body}"`; `verify_slice` compares in constant
/// time. HMAC takes keys of any length, so this is never `None`; if it were,
/// the request is refused (it fails closed, it never panics).
fn sign(secret: &[u8], timestamp: &str, body: &[u8]) -> Option<Hmac<Sha256>> {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret).ok()?;
    mac.update(timestamp.as_bytes());
    mac.update(b".");
    mac.update(body);
    Some(mac)
}

/// `sha256=<hex>` for `body` signed at `timestamp`: what a sender puts in
/// [`SIGNATURE_HEADER`].
pub fn signature_header(secret: &str, timestamp: &str, body: &[u8]) -> String {
    let tag = sign(secret.as_bytes(), timestamp, body)
        .map(|mac| hex::encode(mac.finalize().into_bytes()))
        .unwrap_or_default();
    format!("sha256={tag}")
}

/// Compares digests of both sides, so neither the content nor the length of
/// the expected token shows in the time taken.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let (da, db) = (Sha256::digest(a), Sha256::digest(b));
    da.iter()
        .zip(db.iter())
        .fold(0u8, |acc, (x, y)| acc | (x ^ y))
        == 0
}

fn unauthorized(message: String) -> ApiError {
    tracing::warn!(reason = %message, "alert refused: not authenticated");
    ApiError::Unauthorized(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_time_eq_is_equality() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(!constant_time_eq(b"", b"a"));
        assert!(constant_time_eq(b"", b""));
    }

    #[test]
    fn signature_covers_timestamp_and_body() {
        let a = signature_header("k", "100", b"{}");
        assert!(a.starts_with("sha256=") && a.len() == 7 + 64, "{a}");
        assert_ne!(a, signature_header("k", "101", b"{}"));
        assert_ne!(a, signature_header("k", "100", b"{ }"));
        assert_ne!(a, signature_header("j", "100", b"{}"));
    }
}
