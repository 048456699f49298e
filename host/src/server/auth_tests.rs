//! Router tests of ingest authentication: the allow-list of query
//! overrides covers every override the parser accepts.

use axum::http::{StatusCode, header};

use super::tests::{alert, post, router_with, send};
use crate::incident::Overrides;

const NARROW: &str = "narrow-token-0123456789abcdef";
const WIDE: &str = "wide-token-0123456789abcdef";

/// Two token sources: `narrow` may use no override, `wide` every one.
fn sources() -> String {
    format!(
        "ingest:\n  sources:\n    - name: narrow\n      token: {NARROW}\n    \
         - name: wide\n      token: {WIDE}\n      allowed_overrides: [{}]\n",
        Overrides::KEYS.join(", ")
    )
}

fn with_bearer(uri: &str, token: &str) -> axum::http::Request<axum::body::Body> {
    let mut request = post(uri, Some("application/json"), alert());
    request.headers_mut().insert(
        header::AUTHORIZATION,
        format!("Bearer {token}").parse().expect("header"),
    );
    request
}

/// Strategy: the keys come from [`Overrides::KEYS`], which the parser is
/// declared from (and `incident::overrides` tests that each key parses and
/// counts as used), so an override added later is covered here unasked.
#[tokio::test]
async fn every_override_is_refused_to_a_source_not_allowed_it() {
    let (router, _dir) = router_with(&sources()).await;
    for key in Overrides::KEYS {
        let uri = format!("/api/incidents?{key}=1");
        let (status, body) = send(&router, with_bearer(&uri, NARROW)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{key}: {body}");
        let error = body["error"].as_str().unwrap_or_default();
        assert!(
            error.contains(&format!("`{key}`")) && error.contains("`narrow`"),
            "{key}: {body}"
        );
        let (status, body) = send(&router, with_bearer(&uri, WIDE)).await;
        assert_eq!(status, StatusCode::CREATED, "{key}: {body}");
    }
    // A blank value is no use of the override.
    let (status, body) = send(
        &router,
        with_bearer("/api/incidents?email_to=&oncall_enable=", NARROW),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}
