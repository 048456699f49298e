//! Ingest authentication against the real binary: bearer tokens and HMAC
//! signatures per source (secrets from `${VAR}`), 401 answers that never
//! echo a secret, the per-source allow-list of query overrides (403), and
//! no secret in the log.

use std::time::{SystemTime, UNIX_EPOCH};

use versus::server::auth::{SIGNATURE_HEADER, TIMESTAMP_HEADER, signature_header};

use crate::harden_rig::{Answer, Gw, SLACK_TOKEN, alert};
use crate::slack_emulator::{Mode, SlackEmulator};

const AM_TOKEN: &str = "am-token-5f1c9e0b7a3d4c2e";
const CW_SECRET: &str = "cw-hmac-secret-0b7a3d4c2e5f1c9e";

const SOURCES: &str = "ingest:\n  sources:\n    - name: alertmanager\n      token: ${AM_TOKEN}\n      \
     allowed_overrides: [slack_channel_id]\n    - name: cloudwatch\n      \
     hmac_secret: ${CW_SECRET}\n";

async fn gateway(slack: &SlackEmulator) -> Gw {
    let env = [
        ("AM_TOKEN", AM_TOKEN.to_string()),
        ("CW_SECRET", CW_SECRET.to_string()),
    ];
    Gw::start(slack, SOURCES, &env).await
}

fn bearer(token: &str) -> Vec<(&'static str, String)> {
    vec![("authorization", format!("Bearer {token}"))]
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .expect("clock")
}

fn signed(secret: &str, at: u64, body: &[u8]) -> Vec<(&'static str, String)> {
    let ts = at.to_string();
    vec![
        (SIGNATURE_HEADER, signature_header(secret, &ts, body)),
        (TIMESTAMP_HEADER, ts),
    ]
}

/// A 401 in JSON that names the problem and shows no secret.
fn assert_unauthorized(a: &Answer, says: &str) {
    assert_eq!(a.status, 401, "{}", a.text);
    assert_eq!(a.json()["status"], "error", "{}", a.text);
    assert!(a.error().contains(says), "{}", a.text);
    assert!(a.header("www-authenticate").starts_with("Bearer"));
    for secret in [AM_TOKEN, CW_SECRET, SLACK_TOKEN] {
        assert!(
            !a.text.contains(secret),
            "answer shows a secret: {}",
            a.text
        );
    }
}

#[tokio::test]
async fn bearer_tokens_and_signatures_per_source() {
    let slack = SlackEmulator::start(Mode::Ok).await;
    let gw = gateway(&slack).await;
    let body = alert("AuthCheck");

    // No credentials, a wrong token, a malformed header: 401, nothing sent.
    assert_unauthorized(&gw.post("", &[], &body).await, "authentication required");
    assert_unauthorized(
        &gw.post("", &bearer("am-token-wrong-but-long"), &body).await,
        "bearer token is not valid",
    );
    let basic = vec![("authorization", "Basic YTpi".to_string())];
    assert_unauthorized(&gw.post("", &basic, &body).await, "Bearer <token>");
    // The configured token of the HMAC source is not a bearer token.
    assert_unauthorized(
        &gw.post("", &bearer(CW_SECRET), &body).await,
        "bearer token is not valid",
    );
    assert!(
        slack.requests().is_empty(),
        "an unauthenticated alert was sent"
    );

    // The right token: delivered.
    let ok = gw.post("", &bearer(AM_TOKEN), &body).await;
    assert_eq!(ok.status, 201, "{}", ok.text);

    // A correct signature: delivered.
    let ok = gw.post("", &signed(CW_SECRET, now(), &body), &body).await;
    assert_eq!(ok.status, 201, "{}", ok.text);

    // The body changed after signing, a wrong key, an old timestamp, no
    // timestamp: 401.
    let mut tampered = signed(CW_SECRET, now(), &body);
    let other = alert("AuthCheck2");
    assert_unauthorized(&gw.post("", &tampered, &other).await, "does not match");
    assert_unauthorized(
        &gw.post("", &signed("some-other-secret-value", now(), &body), &body)
            .await,
        "does not match",
    );
    assert_unauthorized(
        &gw.post("", &signed(CW_SECRET, now() - 3600, &body), &body)
            .await,
        "away from the gateway's clock",
    );
    tampered.retain(|(k, _)| *k != TIMESTAMP_HEADER);
    assert_unauthorized(&gw.post("", &tampered, &body).await, "Unix seconds");

    assert_eq!(slack.requests().len(), 2, "exactly the two good alerts");
    let log = gw.process.log();
    for secret in [AM_TOKEN, CW_SECRET, SLACK_TOKEN] {
        assert!(!log.contains(secret), "the log shows a secret");
    }
    assert!(gw.healthy().await);
}

#[tokio::test]
async fn each_source_may_use_only_its_allowed_overrides() {
    let slack = SlackEmulator::start(Mode::Ok).await;
    let gw = gateway(&slack).await;
    let body = alert("OverrideCheck");

    // Allowed for alertmanager: used.
    let ok = gw
        .post("slack_channel_id=C999", &bearer(AM_TOKEN), &body)
        .await;
    assert_eq!(ok.status, 201, "{}", ok.text);
    assert_eq!(slack.requests()[0].body["channel"], "C999");

    // Not allowed: 403 naming the key, nothing sent. (Every override is
    // checked this way in `server::auth_tests`.)
    for query in [
        "oncall_enable=true",
        "oncall_wait_minutes=0",
        "awsim_response_plan_arn=arn:aws:x",
        "email_to=someone@example.com",
        "telegram_chat_id=-100",
        "lark_other_webhook_url=dev",
    ] {
        let a = gw.post(query, &bearer(AM_TOKEN), &body).await;
        assert_eq!(a.status, 403, "{query}: {}", a.text);
        let key = query.split('=').next().expect("key");
        assert!(a.error().contains(&format!("`{key}`")), "{}", a.text);
        assert!(a.error().contains("alertmanager"), "{}", a.text);
    }
    // The HMAC source has none.
    let a = gw
        .post(
            "slack_channel_id=C1",
            &signed(CW_SECRET, now(), &body),
            &body,
        )
        .await;
    assert_eq!(a.status, 403, "{}", a.text);
    assert!(a.error().contains("`slack_channel_id`"), "{}", a.text);
    // An empty override is not a use; an unknown key is ignored, as before.
    let ok = gw
        .post("oncall_enable=&foo=bar", &bearer(AM_TOKEN), &body)
        .await;
    assert_eq!(ok.status, 201, "{}", ok.text);
    assert_eq!(slack.requests().len(), 2);
}

#[tokio::test]
async fn without_sources_anyone_may_post_as_upstream() {
    let slack = SlackEmulator::start(Mode::Ok).await;
    let gw = Gw::start(&slack, "", &[]).await;
    let a = gw.post("oncall_enable=false", &[], &alert("Open")).await;
    assert_eq!(a.status, 201, "{}", a.text);
}

#[tokio::test]
async fn a_rejected_slack_token_is_not_echoed() {
    let slack = SlackEmulator::start(Mode::SlackError("invalid_auth")).await;
    let gw = Gw::start(&slack, "", &[]).await;
    let a = gw.post("", &[], &alert("BadToken")).await;
    assert_eq!(a.status, 502, "{}", a.text);
    assert!(a.text.contains("invalid_auth"), "{}", a.text);
    assert!(
        !a.text.contains(SLACK_TOKEN),
        "answer shows the token: {}",
        a.text
    );
    assert!(
        !gw.process.log().contains(SLACK_TOKEN),
        "the log shows the token"
    );
}
