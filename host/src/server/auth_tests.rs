//! Router tests of ingest authentication: the allow-list of query
//! overrides covers every override the parser accepts, and reading an
//! incident needs a source's token when authentication is on.

use axum::body::Body;
use axum::http::{Request, StatusCode, header};

use super::tests::{alert, post, router_with, send};
use crate::incident::Overrides;

const NARROW: &str = "narrow-token-0123456789abcdef";
const WIDE: &str = "wide-token-0123456789abcdef";

/// Two token sources: `narrow` may use no override, `wide` every one.
fn sources() -> String {
    format!(
        "ingest:\n  sources:\n    - name: narrow\n      token: {NARROW}\n    \
         - name: wide\n      token: {WIDE}\n      allowed_overrides: [{}]\n",
        Overrides::keys().join(", ")
    )
}

fn with_bearer(uri: &str, token: &str) -> Request<Body> {
    let mut request = post(uri, Some("application/json"), alert());
    request.headers_mut().insert(
        header::AUTHORIZATION,
        format!("Bearer {token}").parse().expect("header"),
    );
    request
}

/// Strategy: the keys come from [`Overrides::keys`], which the parser is
/// declared from (and `incident::overrides` tests that each key parses and
/// counts as used), so an override added later is covered here unasked.
#[tokio::test]
async fn every_override_is_refused_to_a_source_not_allowed_it() {
    // Every override is sent as `=1`, so `1` must be a plan name too.
    let plans = "oncall:\n  aws_incident_manager:\n    other_response_plan_arns:\n      \
                 '1': arn:aws:ssm-incidents::111122223333:response-plan/one\n";
    let (router, _dir) = router_with(&format!("{}{plans}", sources())).await;
    for key in Overrides::keys() {
        let uri = format!("/api/incidents?{key}=1");
        let (status, body) = send(&router, with_bearer(&uri, NARROW)).await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{key}: {body}");
        let error = body["error"].as_str().unwrap_or_default();
        assert!(
            error.contains(&format!("`{key}`")) && error.contains("`narrow`"),
            "{key}: {body}"
        );
        let (status, body) = send(&router, with_bearer(&uri, WIDE)).await;
        // A provider's route is refused while another provider pages.
        let expected = if crate::escalator::route_keys().any(|k| k == key) {
            StatusCode::BAD_REQUEST
        } else {
            StatusCode::CREATED
        };
        assert_eq!(status, expected, "{key}: {body}");
    }
    // A blank value is no use of the override.
    let (status, body) = send(
        &router,
        with_bearer("/api/incidents?email_to=&oncall_enable=", NARROW),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

/// On-call in memory, with a response plan so that alerts register.
const ONCALL: &str = "oncall:\n  enable: true\n  aws_incident_manager:\n    \
     response_plan_arn: arn:aws:ssm-incidents::111122223333:response-plan/read\n";

fn get(uri: &str, headers: &[(&str, String)]) -> Request<Body> {
    let mut request = Request::get(uri);
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    request.body(Body::empty()).expect("request")
}

#[tokio::test]
async fn reading_an_incident_takes_a_token_when_ingest_auth_is_on() {
    let (router, _dir) = router_with(&format!("{}{ONCALL}", sources())).await;
    let (status, body) = send(&router, with_bearer("/api/incidents", NARROW)).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let uri = format!("/api/incidents/{}", body["id"].as_str().expect("id"));

    let bearer = |token: &str| vec![("authorization", format!("Bearer {token}"))];
    let ts = "1700000000".to_string();
    let signed = vec![
        (
            super::auth::SIGNATURE_HEADER,
            super::auth::signature_header(NARROW, &ts, b""),
        ),
        (super::auth::TIMESTAMP_HEADER, ts),
    ];
    for (what, headers, says) in [
        ("no credentials", vec![], "authentication required"),
        (
            "a wrong token",
            bearer("not-a-token-0123456789"),
            "not valid",
        ),
        ("a signature", signed, "do not apply to a GET"),
    ] {
        let (status, body) = send(&router, get(&uri, &headers)).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{what}: {body}");
        let error = body["error"].as_str().unwrap_or_default();
        assert!(error.contains(says), "{what}: {body}");
        assert!(body.get("state").is_none(), "{what}: {body}");
    }
    // Any source's token reads, whatever overrides it may use.
    for token in [NARROW, WIDE] {
        let (status, body) = send(&router, get(&uri, &bearer(token))).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["state"], "pending", "{body}");
    }
    let (status, body) = send(&router, get("/api/incidents/nope", &bearer(WIDE))).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}

#[tokio::test]
async fn reading_an_incident_is_open_while_ingest_auth_is_off() {
    let (router, _dir) = router_with(ONCALL).await;
    let (status, body) = send(&router, post("/api/incidents", None, alert())).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let uri = format!("/api/incidents/{}", body["id"].as_str().expect("id"));
    let (status, body) = send(&router, get(&uri, &[])).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["state"], "pending", "{body}");
}
