use super::store::Store;
use super::*;

fn overrides(query: &str) -> Overrides {
    let uri: axum::http::Uri = format!("/api/incidents?{query}").parse().expect("uri");
    axum::extract::Query::<Overrides>::try_from_uri(&uri)
        .expect("query")
        .0
}

#[test]
fn a_destination_is_the_channel_and_the_overrides_that_pick_its_target() {
    assert_eq!(Outbox::destination("slack", &overrides("")), "slack");
    assert_eq!(
        Outbox::destination(
            "slack",
            &overrides("slack_channel_id=C2&oncall_enable=true")
        ),
        "slack|slack_channel_id=C2"
    );
    // Another channel's override does not split this channel's queue.
    assert_eq!(
        Outbox::destination("slack", &overrides("telegram_chat_id=42")),
        "slack"
    );
}

#[tokio::test]
async fn a_queue_keeps_order_and_removes_only_the_head_it_posted() {
    let store = Store::memory();
    for item in ["a", "b", "c"] {
        store.push("d", item, None).await.expect("push");
    }
    assert_eq!(store.head("d").await.unwrap().as_deref(), Some("a"));
    // Not the head: nothing is removed.
    assert_eq!(store.pop("d", "b").await.unwrap(), 3);
    assert_eq!(store.pop("d", "a").await.unwrap(), 2);
    assert_eq!(store.head("d").await.unwrap().as_deref(), Some("b"));
    store.pop("d", "b").await.unwrap();
    assert_eq!(store.pop("d", "c").await.unwrap(), 0);
    assert!(store.destinations().await.unwrap().is_empty());
}

#[tokio::test]
async fn a_full_queue_refuses_more() {
    let store = Store::memory();
    for i in 0..MAX_QUEUED {
        store.push("d", &i.to_string(), None).await.expect("push");
    }
    let refused = store.push("d", "one more", None).await.unwrap_err();
    assert!(refused.contains("is full"), "{refused}");
    // Other destinations are not affected.
    store.push("e", "x", None).await.expect("push");
}

#[tokio::test]
async fn congestion_is_known_once_queued_and_only_for_that_destination() {
    let outbox = Outbox::default();
    assert!(!outbox.congested("slack", &overrides("slack_channel_id=C1")));
    outbox.mark("slack|slack_channel_id=C1", true);
    assert!(outbox.congested("slack", &overrides("slack_channel_id=C1")));
    assert!(!outbox.congested("slack", &overrides("slack_channel_id=C2")));
    assert!(!outbox.congested("slack", &overrides("")));
    outbox.mark("slack|slack_channel_id=C1", false);
    assert!(!outbox.congested("slack", &overrides("slack_channel_id=C1")));
}
