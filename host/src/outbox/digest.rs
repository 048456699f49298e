//! `storm_digest`: the notifications waiting for one destination, posted
//! as one message at its turn, so a storm takes a few messages instead of
//! one a second for minutes.
//!
//! The merged message says how many alerts it holds and why, then gives
//! each alert's rendered message in the order accepted, with its ACK link
//! as text (one button could acknowledge only one of them). It is not
//! updated later: an update would show one incident's state over all of
//! them. A reply in a thread is never merged: it belongs under its
//! incident's message.

use super::Item;
use crate::pipeline::bindings::types::Event;

/// The most notifications one merged message holds.
pub const MOST: usize = 50;

/// Whether `item` may be merged with others.
pub fn mergeable(item: &Item) -> bool {
    !item.in_thread
}

/// The message and event to post for `items` (at least two).
pub fn merge(items: &[&Item]) -> (String, Event) {
    let mut message = format!(
        "{} alerts arrived faster than this channel's rate limit allows; they are merged into this message.",
        items.len()
    );
    for item in items {
        message.push_str("\n\n———\n");
        message.push_str(item.message.trim_end());
        if let Some(url) = &item.event.ack_url {
            message.push_str("\nAcknowledge: ");
            message.push_str(url);
        }
    }
    let mut event = Event::from(items[0].event.clone());
    // No button: it would acknowledge only the first of them.
    event.ack_url = None;
    event.resolved = items.iter().all(|i| i.event.resolved);
    (message, event)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbox::QueuedEvent;

    fn item(message: &str, ack: Option<&str>, resolved: bool) -> Item {
        let event = Event {
            id: message.into(),
            payload: "{}".into(),
            resolved,
            severity: None,
            ack_url: ack.map(str::to_string),
            dedup_key: None,
        };
        Item {
            key: message.into(),
            channel: "slack".into(),
            message: format!("{message}\n"),
            config: "{}".into(),
            event: QueuedEvent::from(&event),
            oncall_id: None,
            in_thread: false,
            first: true,
            queued_ms: 0,
            not_before_ms: 0,
        }
    }

    #[test]
    fn a_digest_counts_its_alerts_keeps_their_order_and_their_ack_links() {
        let (message, event) = merge(&[
            &item("disk full", Some("http://gw/api/ack/1"), false),
            &item("cpu high", None, true),
        ]);
        assert_eq!(
            message,
            "2 alerts arrived faster than this channel's rate limit allows; they are merged into this message.\
             \n\n———\ndisk full\nAcknowledge: http://gw/api/ack/1\
             \n\n———\ncpu high"
        );
        assert_eq!(event.id, "disk full");
        assert_eq!(event.ack_url, None);
        assert!(!event.resolved, "one of them still fires");
    }
}
