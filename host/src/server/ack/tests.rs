//! ACK links through `app(state).oneshot(..)` with the in-memory store: a
//! GET never acknowledges, a POST does, and each outcome is told apart.

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::Value;

use crate::oncall::{Round, State, Target, TargetState};
use crate::server::rig::{Rig, answer, rig};

const HTML: &str = "text/html,application/xhtml+xml,*/*;q=0.8";
const JSON: &str = "application/json";

impl Rig {
    async fn send(&self, method: Method, uri: &str, accept: Option<&str>) -> (StatusCode, String) {
        let mut request = Request::builder().method(method).uri(uri);
        if let Some(accept) = accept {
            request = request.header(header::ACCEPT, accept);
        }
        let request = request.body(Body::empty()).expect("request");
        let (status, bytes) = answer(&self.router, request).await;
        (status, String::from_utf8_lossy(&bytes).into_owned())
    }

    async fn json(&self, method: Method, uri: &str) -> (StatusCode, Value) {
        let (status, text) = self.send(method, uri, Some(JSON)).await;
        let body = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text}"));
        (status, body)
    }
}

#[tokio::test]
async fn a_get_shows_the_incident_and_acknowledges_nothing() {
    let r = rig().await;
    let link = r.pending("i-get", "<b>HighErrorRate</b> & co").await;
    let alias = link.replace("/api/ack/", "/api/incidents/ack/");

    // A scanner's GET (no Accept), a browser's, a JSON client's, a HEAD,
    // through the link and its alias: nothing changes.
    let (status, text) = r.send(Method::GET, &link, None).await;
    assert_eq!(status, StatusCode::OK, "{text}");
    let (status, page) = r.send(Method::GET, &alias, Some(HTML)).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("Acknowledge this incident?"), "{page}");
    assert!(
        page.contains("&lt;b&gt;HighErrorRate&lt;/b&gt; &amp; co"),
        "{page}"
    );
    assert!(page.contains("<dd id=\"severity\">CRITICAL</dd>"), "{page}");
    assert!(page.contains("<form method=\"post\">"), "{page}");
    let (status, body) = r.json(Method::GET, &link).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "confirm");
    assert_eq!(body["incident"]["state"], "pending");
    assert_eq!(body["incident"]["title"], "<b>HighErrorRate</b> & co");
    assert_eq!(body["incident"]["severity"], "critical");
    assert_eq!(r.send(Method::HEAD, &link, None).await.0, StatusCode::OK);
    assert_eq!(r.state("i-get").await, State::Pending);

    // The POST acknowledges, once.
    let (status, body) = r.json(Method::POST, &link).await;
    assert_eq!(
        (status, &body["status"]),
        (StatusCode::OK, &"acknowledged".into())
    );
    assert_eq!(r.state("i-get").await, State::Acknowledged);
    let (status, body) = r.json(Method::POST, &alias).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert_eq!(body["status"], "already_acknowledged");
    // Now the page says so, without a button.
    let (status, page) = r.send(Method::GET, &link, Some(HTML)).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Already acknowledged"), "{page}");
    assert!(!page.contains("<form"), "{page}");
}

#[tokio::test]
async fn a_browser_post_gets_a_page_that_says_what_happened() {
    let r = rig().await;
    let link = r.pending("i-post", "DiskFull").await;
    let (status, page) = r.send(Method::POST, &link, Some(HTML)).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("<h1>Acknowledged</h1>"), "{page}");
    assert!(page.contains("<dd id=\"title\">DiskFull</dd>"), "{page}");
    assert!(
        page.contains("<dd id=\"state\">Acknowledged</dd>"),
        "{page}"
    );
    assert!(!page.contains("<form"), "{page}");
    let (status, page) = r.send(Method::POST, &link, Some(HTML)).await;
    assert_eq!(status, StatusCode::CONFLICT);
    assert!(page.contains("<h1>Already acknowledged</h1>"), "{page}");
}

#[tokio::test]
async fn forged_and_expired_links_reveal_nothing_on_get_or_post() {
    let r = rig().await;
    let link = r.pending("i-bad", "SecretTitle").await;
    let (head, last) = link.split_at(link.len() - 1);
    let forged = format!("{head}{}", if last == "0" { "1" } else { "0" });
    let unsigned = link.split('?').next().expect("path").to_string();
    let expired = r.oncall.signer.url("", "i-bad", 1_000);
    for method in [Method::GET, Method::POST] {
        for (uri, want) in [
            (&forged, StatusCode::UNAUTHORIZED),
            (&unsigned, StatusCode::UNAUTHORIZED),
            (&expired, StatusCode::FORBIDDEN),
        ] {
            let (status, body) = r.json(method.clone(), uri).await;
            assert_eq!(status, want, "{method} {uri}: {body}");
            assert_eq!(body["status"], "refused");
            let (status, page) = r.send(method.clone(), uri, Some(HTML)).await;
            assert_eq!(status, want);
            assert!(!page.contains("SecretTitle"), "{page}");
            assert!(!page.contains("<form"), "{page}");
        }
    }
    let unknown = r.oncall.signer.url("", "nope", 4_000_000_000);
    assert_eq!(r.json(Method::GET, &unknown).await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        r.json(Method::POST, &unknown).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(r.state("i-bad").await, State::Pending);
}

#[tokio::test]
async fn a_post_after_the_deadline_tells_each_state_apart() {
    let r = rig().await;
    let store = &r.oncall.store;
    let now = r.oncall.clock.now_ms();
    let escalated = r.pending("i-esc", "t").await;
    let failed = r.pending("i-fail", "t").await;
    let escalating = r.pending("i-escalating", "t").await;
    let far = now + 3_600_000;
    let claimed = store.claim_due(far, far + 30_000, 10).await.expect("claim");
    assert_eq!(claimed.len(), 3);
    let aws = |state| Target {
        state,
        attempts: 1,
        ..Target::new("aws_incident_manager")
    };
    for (id, target) in [
        ("i-esc", aws(TargetState::Paged)),
        ("i-fail", aws(TargetState::Failed)),
    ] {
        let round = Round {
            targets: &[target],
            calls: &[],
        };
        assert!(store.finish(id, round, far).await.expect("finish"));
    }
    // "i-escalating" is still claimed: paging is under way.
    let (status, body) = r.json(Method::POST, &escalating).await;
    assert_eq!(
        (status, &body["status"]),
        (StatusCode::CONFLICT, &"already_escalated".into())
    );
    let (_, page) = r.send(Method::POST, &escalating, Some(HTML)).await;
    assert!(page.contains("being paged now"), "{page}");

    for (link, code, heading) in [
        (
            &escalated,
            "already_escalated",
            "<h1>Already escalated</h1>",
        ),
        (&failed, "escalation_failed", "<h1>Paging failed</h1>"),
    ] {
        let (status, body) = r.json(Method::POST, link).await;
        assert_eq!(status, StatusCode::CONFLICT, "{body}");
        assert_eq!(body["status"], code);
        let (status, page) = r.send(Method::POST, link, Some(HTML)).await;
        assert_eq!(status, StatusCode::CONFLICT);
        assert!(page.contains(heading), "{page}");
        // The GET page shows the same state, and no button.
        let (status, page) = r.send(Method::GET, link, Some(HTML)).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page.contains(heading), "{page}");
        assert!(!page.contains("<form"), "{page}");
    }

    let resolved = r.pending("i-res", "t").await;
    store.resolve("dedup-i-res", now).await.expect("resolve");
    let (status, body) = r.json(Method::POST, &resolved).await;
    assert_eq!(
        (status, &body["status"]),
        (StatusCode::CONFLICT, &"already_resolved".into())
    );
    let (_, page) = r.send(Method::POST, &resolved, Some(HTML)).await;
    assert!(page.contains("<h1>Resolved</h1>"), "{page}");
}
