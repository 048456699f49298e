//! Built-in console channel: writes each rendered message to the gateway's
//! log instead of a chat service.
//!
//! It needs no credentials and makes no HTTP calls, so a newcomer can see
//! the whole pipeline (transform, render, deliver, ACK, update) work before
//! configuring Slack. Its config is ignored.

use versus_plugin_sdk::chat::{Change, Channel, Error, EventInfo, Receipt, Send};
use versus_plugin_sdk::log;

/// The receipt destination of every console message.
pub const DESTINATION: &str = "console";

/// Width of the separator lines around a message.
const RULE_WIDTH: usize = 60;

/// The word used in the log line for a state change.
pub fn change_text(change: Change) -> &'static str {
    match change {
        Change::Acknowledged => "acknowledged",
        Change::Escalated => "escalated",
        Change::Resolved => "resolved",
        Change::PagingFailed => "paging failed, nobody was paged: page the on-call team by hand",
    }
}

/// The log text for a delivered message: a header line naming the incident,
/// its state and severity, the message itself, and a closing rule, so that
/// a message stands out from the log lines around it.
pub fn format_delivery(
    id: &str,
    resolved: bool,
    severity: Option<&str>,
    ack_url: Option<&str>,
    message: &str,
) -> String {
    let state = if resolved { "resolved" } else { "firing" };
    let mut head = format!("── incident {id} · {state}");
    if let Some(severity) = severity.filter(|s| !s.is_empty()) {
        head.push_str(" · ");
        head.push_str(severity);
    }
    head.push(' ');
    let pad = RULE_WIDTH.saturating_sub(head.chars().count());
    head.push_str(&"─".repeat(pad));

    let mut out = head;
    out.push('\n');
    out.push_str(message.trim_end_matches('\n'));
    out.push('\n');
    if let Some(url) = ack_url.filter(|u| !u.is_empty()) {
        out.push_str("ack: ");
        out.push_str(url);
        out.push('\n');
    }
    out.push_str(&"─".repeat(RULE_WIDTH));
    out
}

/// The log line for a state change.
pub fn format_update(id: &str, change: Change) -> String {
    format!("incident {id}: {}", change_text(change))
}

/// The channel; everything goes to the host log.
pub struct Console;

impl Channel for Console {
    fn deliver(
        message: &str,
        event: &EventInfo,
        _config: &str,
        _send: &mut Send<'_>,
    ) -> Result<Receipt, Error> {
        let text = format_delivery(
            &event.id,
            event.resolved,
            event.severity.as_deref(),
            event.ack_url.as_deref(),
            message,
        );
        log::info(&text);
        Ok(Receipt {
            destination: DESTINATION.to_owned(),
            message_id: event.id.clone(),
        })
    }

    fn update(
        _receipt: &Receipt,
        change: Change,
        _message: &str,
        event: &EventInfo,
        _config: &str,
        _send: &mut Send<'_>,
    ) -> Result<(), Error> {
        let line = format_update(&event.id, change);
        match change {
            Change::PagingFailed => log::error(&line),
            _ => log::info(&line),
        }
        Ok(())
    }

    /// Its config is ignored: anything goes.
    fn validate_config(_config: &str) -> Result<(), Error> {
        Ok(())
    }
}

versus_plugin_sdk::export_chat_channel!(Console);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delivery_is_framed_and_names_the_incident() {
        let text = format_delivery(
            "0b9f6c1e",
            false,
            Some("critical"),
            None,
            "🔥 *CRITICAL*\nline two\n\n",
        );
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 4);
        assert!(lines[0].starts_with("── incident 0b9f6c1e · firing · critical ─"));
        assert_eq!(lines[0].chars().count(), RULE_WIDTH);
        assert_eq!(lines[1], "🔥 *CRITICAL*");
        assert_eq!(lines[2], "line two");
        assert_eq!(lines[3], "─".repeat(RULE_WIDTH));
    }

    #[test]
    fn delivery_shows_resolved_and_the_ack_link() {
        let text = format_delivery("id-1", true, None, Some("https://gw/ack/id-1"), "done");
        assert_eq!(
            text,
            format!(
                "── incident id-1 · resolved {}\ndone\nack: https://gw/ack/id-1\n{}",
                "─".repeat(RULE_WIDTH - 28),
                "─".repeat(RULE_WIDTH)
            )
        );
    }

    #[test]
    fn long_ids_do_not_underflow_the_rule() {
        let id = "x".repeat(100);
        let text = format_delivery(&id, false, Some(""), None, "m");
        assert!(text.starts_with(&format!("── incident {id} · firing \n")));
    }

    #[test]
    fn update_lines() {
        assert_eq!(
            format_update("abc", Change::Acknowledged),
            "incident abc: acknowledged"
        );
        assert_eq!(
            format_update("abc", Change::Escalated),
            "incident abc: escalated"
        );
        assert_eq!(
            format_update("abc", Change::Resolved),
            "incident abc: resolved"
        );
        assert_eq!(
            format_update("abc", Change::PagingFailed),
            "incident abc: paging failed, nobody was paged: page the on-call team by hand"
        );
    }
}
