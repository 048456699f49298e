//! Threads: with `threads`, each change but the resolve adds a note in
//! the incident's thread, under its first message.

use serde_json::json;

use crate::message::{PAGING_FAILED_NOTE, acknowledged_note, request};
use crate::{Change, Config, EventInfo, Receipt, Request};

/// With threads, the reply that tells the thread about `change` (the
/// resolve needs none: the resolved notification itself is posted there).
pub fn build_thread_note(
    receipt: &Receipt,
    change: Change,
    event: &EventInfo,
    config: &Config,
) -> Option<Request> {
    if !config.threads || receipt.message_id.is_empty() {
        return None;
    }
    let mut text = match change {
        Change::Acknowledged => acknowledged_note(event),
        Change::Escalated => "🚨 Escalated to on-call".to_string(),
        Change::PagingFailed => PAGING_FAILED_NOTE.to_string(),
        Change::Resolved => return None,
    };
    if let Some(targets) = event.oncall_targets() {
        text.push_str(&format!("\nOn-call: {targets}"));
    }
    let channel = if receipt.destination.is_empty() {
        &config.channel_id
    } else {
        &receipt.destination
    };
    let body = json!({
        "channel": channel,
        "thread_ts": receipt.message_id,
        "text": text,
        "unfurl_links": false,
    });
    Some(request(config, "chat.postMessage", &body))
}
