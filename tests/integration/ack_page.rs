//! ACK links against machines that open every URL: a person acknowledges
//! through the confirmation page in a real headless Chromium, while a link
//! scanner's GET (or a preview that renders the page) acknowledges nothing
//! and the incident pages on time. The real binary, real Redis, the Slack
//! and SSM Incidents emulators.

use std::time::{Duration, Instant};

use crate::oncall_rig::{Rig, ack, ack_url_of, payload, post, state_of, wait_for};
use crate::webdriver::Browser;

/// What a browser sends on a navigation.
const BROWSER_ACCEPT: &str =
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";

/// 30 s: time to drive the browser through the page well before the
/// deadline, even on a busy machine whose Chromium renders its first
/// pages slowly.
const BROWSER_WAIT: &str = "oncall_wait_minutes=0.5";
const BROWSER_WAIT_MS: u64 = 30_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_acknowledges_in_a_real_browser_and_nobody_is_paged() {
    // The browser first: its start is the slow part, and it must not eat
    // into the wait.
    let browser = Browser::start().await;
    let rig = Rig::new().await;
    let gw = rig.gateway("gw", 6379).await;
    // A first page load before the clock starts: Chromium's first render
    // (profile, fonts) is slow on a cold machine.
    browser.goto(&format!("{}/healthz", gw.base())).await;

    // Two alerts with the same wait. A is acknowledged in the browser; B
    // is only opened, as a chat preview would render it, and pages.
    let (status, body) = post(&gw, BROWSER_WAIT, payload("critical", "browser-a")).await;
    assert_eq!(status, 201, "{body}");
    let a = body["id"].as_str().expect("id").to_string();
    let a_link = ack_url_of(&rig.slack, 0).expect("ACK button");
    let b_posted = Instant::now();
    let (status, body) = post(&gw, BROWSER_WAIT, payload("critical", "browser-b")).await;
    assert_eq!(status, 201, "{body}");
    let b = body["id"].as_str().expect("id").to_string();
    let b_link = ack_url_of(&rig.slack, 1).expect("ACK button");

    // Opening the link shows the incident and one button; nothing changes.
    browser.goto(&a_link).await;
    let text = async |css| browser.text(css).await.unwrap_or_default();
    assert_eq!(
        text("h1").await,
        "Acknowledge this incident?",
        "{}",
        browser.source().await
    );
    assert_eq!(
        text("#title").await,
        "[CRITICAL] HighErrorRate on web-1:9100"
    );
    assert_eq!(text("#severity").await, "CRITICAL");
    assert_eq!(text("#state").await, "Waiting for acknowledgement");
    let left = text("#time-left").await;
    assert!(left.starts_with("in ") && left.ends_with(" s"), "{left}");
    let message = text("#message").await;
    assert!(
        message.contains("CRITICAL Alert: HighErrorRate"),
        "{message}"
    );
    assert!(!message.contains("/api/ack/"), "{message}");
    assert_eq!(browser.count("form[method=post] button").await, 1);
    assert_eq!(browser.count("script").await, 0);
    assert_eq!(state_of(&gw, &a).await, "pending");

    // The button acknowledges, and the answer says so.
    browser.click("form button").await;
    let heading = browser
        .wait_text("h1", "Acknowledged", Duration::from_secs(10))
        .await;
    assert_eq!(
        heading.as_deref(),
        Some("Acknowledged"),
        "{}",
        browser.source().await
    );
    assert_eq!(text("#state").await, "Acknowledged");
    assert_eq!(browser.count("form").await, 0);
    assert_eq!(state_of(&gw, &a).await, "acknowledged");

    // B, rendered but never clicked, still waits.
    browser.goto(&b_link).await;
    assert_eq!(text("h1").await, "Acknowledge this incident?");
    assert_eq!(state_of(&gw, &b).await, "pending");

    // B pages at its deadline; A's deadline was earlier, and A was not paged.
    let paged = wait_for(Duration::from_secs(45), || {
        !rig.ssm.calls_for(&b).is_empty()
    })
    .await;
    assert!(paged, "B was not paged:\n{}", gw.log());
    let late = rig.ssm.calls_for(&b)[0].at.duration_since(b_posted);
    let wait = Duration::from_millis(BROWSER_WAIT_MS);
    assert!(
        late >= wait - Duration::from_millis(100) && late < wait + Duration::from_secs(5),
        "B paged after {late:?}"
    );
    assert!(rig.ssm.calls_for(&a).is_empty(), "{:?}", rig.ssm.calls());
    assert_eq!(state_of(&gw, &a).await, "acknowledged");
    assert_eq!(rig.ssm.calls().len(), 1, "{:?}", rig.ssm.calls());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_link_scanner_acknowledges_nothing_and_the_page_goes_out_on_time() {
    let rig = Rig::new().await;
    let gw = rig.gateway("gw", 6379).await;
    let posted = Instant::now();
    let (status, body) = post(&gw, "oncall_wait_minutes=0.05", payload("critical", "scan")).await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().expect("id").to_string();
    let link = ack_url_of(&rig.slack, 0).expect("ACK button");
    let alias = link.replace("/api/ack/", "/api/incidents/ack/");

    // What mail scanners and chat previews send: plain GETs, browser-like
    // GETs, HEADs, through the link and its alias.
    let client = reqwest::Client::new();
    for request in [
        client.get(&link),
        client.get(&link).header("accept", BROWSER_ACCEPT),
        client
            .get(&alias)
            .header("accept", BROWSER_ACCEPT)
            .header("user-agent", "Mozilla/5.0 (compatible; LinkPreview/1.0)"),
        client.get(&alias).header("accept", "application/json"),
        client.head(&link),
    ] {
        let resp = request.send().await.expect("GET");
        assert_eq!(resp.status().as_u16(), 200, "{}", gw.log());
    }
    assert_eq!(state_of(&gw, &id).await, "pending");

    // The deadline passes: exactly one page, on time.
    let paged = wait_for(Duration::from_secs(8), || {
        !rig.ssm.calls_for(&id).is_empty()
    })
    .await;
    assert!(paged, "never paged:\n{}", gw.log());
    let late = rig.ssm.calls_for(&id)[0].at.duration_since(posted);
    assert!(
        late >= Duration::from_millis(2900) && late < Duration::from_secs(5),
        "paged after {late:?}"
    );
    assert_eq!(rig.ssm.calls_for(&id).len(), 1);

    // A person pressing the button afterwards is told it is too late.
    let (status, page) = ack(&link, BROWSER_ACCEPT).await;
    assert_eq!(status, 409, "{page}");
    assert!(page.contains("<h1>Already escalated</h1>"), "{page}");
}
