use std::time::Duration;

use super::*;

const LEASE: Duration = Duration::from_secs(60);
const WINDOW: Duration = Duration::from_secs(600);
const CHANNELS: &[&str] = &["slack", "telegram"];

fn retry(copy: Copy) -> Earlier {
    match copy {
        Copy::Retry(e) => e,
        other => panic!("expected a retry, got {other:?}"),
    }
}

#[test]
fn the_fingerprint_covers_query_body_and_place() {
    let a = fingerprint("x=1", b"{}", 0);
    assert_eq!(a, fingerprint("x=1", b"{}", 0));
    assert_ne!(a, fingerprint("x=2", b"{}", 0));
    assert_ne!(a, fingerprint("x=1", b"{ }", 0));
    assert_ne!(a, fingerprint("x=1", b"{}", 1));
    // The query cannot run into the body.
    assert_ne!(fingerprint("a", b"b", 0), fingerprint("", b"ab", 0));
}

#[tokio::test]
async fn a_retry_goes_only_to_the_channels_that_have_not_delivered() {
    let ledger = Ledger::default();
    assert_eq!(
        ledger.begin("n", CHANNELS, LEASE, WINDOW).await,
        Copy::First
    );
    // Before the first copy is registered, a copy waits.
    assert_eq!(ledger.begin("n", CHANNELS, LEASE, WINDOW).await, Copy::Busy);
    ledger
        .registered("n", "inc-1", true, Some("http://x/ack"))
        .await;
    ledger
        .settled("n", &[("slack", true), ("telegram", false)])
        .await;

    let earlier = retry(ledger.begin("n", CHANNELS, LEASE, WINDOW).await);
    assert_eq!(earlier.incident_id, "inc-1");
    assert!(earlier.oncall);
    assert_eq!(earlier.ack_url.as_deref(), Some("http://x/ack"));
    assert_eq!(earlier.channels["slack"], Prior::Delivered);
    assert_eq!(earlier.channels["telegram"], Prior::Go);

    // That copy now has Telegram in flight: a third copy skips it.
    let third = retry(ledger.begin("n", CHANNELS, LEASE, WINDOW).await);
    assert_eq!(third.channels["telegram"], Prior::InFlight);
    ledger.settled("n", &[("telegram", true)]).await;
    let fourth = retry(ledger.begin("n", CHANNELS, LEASE, WINDOW).await);
    assert!(fourth.channels.values().all(|p| *p == Prior::Delivered));
}

#[tokio::test]
async fn claims_lapse_and_the_window_ends() {
    let ledger = Ledger::default();
    let short = Duration::from_millis(30);
    // A first copy that never registers (its process died) stops
    // blocking once its lease ends.
    assert_eq!(
        ledger.begin("a", CHANNELS, short, WINDOW).await,
        Copy::First
    );
    assert_eq!(ledger.begin("a", CHANNELS, short, WINDOW).await, Copy::Busy);
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        ledger.begin("a", CHANNELS, short, WINDOW).await,
        Copy::First
    );

    // An in-flight channel whose lease ended is free again.
    ledger.registered("a", "inc", false, None).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let earlier = retry(ledger.begin("a", CHANNELS, short, WINDOW).await);
    assert!(earlier.channels.values().all(|p| *p == Prior::Go));
    assert!(!earlier.oncall);
    assert_eq!(earlier.ack_url, None);

    // After the window, the same notification is new.
    let window = Duration::from_millis(30);
    assert_eq!(
        ledger.begin("b", CHANNELS, LEASE, window).await,
        Copy::First
    );
    ledger.registered("b", "inc-b", false, None).await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(
        ledger.begin("b", CHANNELS, LEASE, window).await,
        Copy::First
    );
}

#[tokio::test]
async fn a_forgotten_notification_starts_again() {
    let ledger = Ledger::default();
    assert_eq!(
        ledger.begin("f", CHANNELS, LEASE, WINDOW).await,
        Copy::First
    );
    ledger.forget("f").await;
    assert_eq!(
        ledger.begin("f", CHANNELS, LEASE, WINDOW).await,
        Copy::First
    );
}

/// Notifications answered with success are forgotten at once; the queue of
/// expiries must not keep naming them for the rest of their window, or the
/// gateway's memory grows with every alert for `dedup_window`.
#[test]
fn forgotten_notifications_do_not_pile_up_until_their_window_ends() {
    let mut memory = Memory::default();
    let now = 1_000;
    let lease_end = now + 60_000;
    let kept: Vec<String> = (0..10).map(|i| format!("kept-{i}")).collect();
    for fp in &kept {
        memory.begin(fp, CHANNELS, now, lease_end, WINDOW);
    }
    let mut longest = 0;
    for i in 0..20_000 {
        let fp = format!("answered-{i}");
        assert_eq!(
            memory.begin(&fp, CHANNELS, now, lease_end, WINDOW),
            Copy::First
        );
        memory.forget(&fp);
        longest = longest.max(memory.order.len());
    }
    assert_eq!(memory.entries.len(), kept.len());
    assert_eq!(longest, 2 * kept.len() + ORDER_SLACK);
    // What is still remembered still expires, and only then.
    let end = now + WINDOW.as_millis() as i64;
    memory.sweep(end - 1);
    assert_eq!(memory.entries.len(), kept.len());
    memory.sweep(end);
    assert!(memory.entries.is_empty());
    assert!(memory.order.is_empty());
}
