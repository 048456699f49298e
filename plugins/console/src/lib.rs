//! Built-in console channel: writes each rendered message to the gateway's
//! log instead of a chat service.
//!
//! It needs no credentials and makes no HTTP calls, so a newcomer can see
//! the whole pipeline (transform, render, deliver, ACK, update) work before
//! configuring Slack. Its config is ignored.

/// The receipt destination of every console message.
pub const DESTINATION: &str = "console";

/// Width of the separator lines around a message.
const RULE_WIDTH: usize = 60;

/// A state change shown on a delivered message; mirrors the WIT `status-change`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// Acknowledged; escalation cancelled.
    Acknowledged,
    /// Escalated to the on-call response plan.
    Escalated,
    /// The alert resolved.
    Resolved,
    /// Starting the response plan failed: nobody was paged.
    PagingFailed,
}

impl Change {
    /// The word used in the log line.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Acknowledged => "acknowledged",
            Self::Escalated => "escalated",
            Self::Resolved => "resolved",
            Self::PagingFailed => "paging failed, nobody was paged: page the on-call team by hand",
        }
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
    format!("incident {id}: {}", change.as_str())
}

#[cfg(target_arch = "wasm32")]
mod component {
    //! The component glue: everything goes to the host log at info level.

    // The code `generate!` emits passes every WIT parameter (lowered) as
    // its own argument.
    #![allow(clippy::too_many_arguments)]

    wit_bindgen::generate!({
        world: "versus:gateway/channel@0.2.0",
        path: ["../../wit", "../../wit-0.2"],
        generate_all,
    });

    /// A bump arena, then the system allocator: see `versus_plugin_arena`.
    #[global_allocator]
    static ALLOC: versus_plugin_arena::Arena = versus_plugin_arena::Arena::new();

    use versus::gateway0_1_0::log::{Level, log};

    struct Console;

    impl Guest for Console {
        fn deliver(
            message: String,
            event: Event,
            _config_json: String,
        ) -> Result<Receipt, PluginError> {
            let text = crate::format_delivery(
                &event.id,
                event.resolved,
                event.severity.as_deref(),
                event.ack_url.as_deref(),
                &message,
            );
            log(Level::Info, &text);
            Ok(Receipt {
                destination: crate::DESTINATION.to_owned(),
                message_id: event.id,
            })
        }

        fn update(
            _receipt: Receipt,
            change: StatusChange,
            _message: String,
            event: Event,
            _config_json: String,
        ) -> Result<(), PluginError> {
            let change = match change {
                StatusChange::Acknowledged => crate::Change::Acknowledged,
                StatusChange::Escalated => crate::Change::Escalated,
                StatusChange::Resolved => crate::Change::Resolved,
                StatusChange::PagingFailed => crate::Change::PagingFailed,
            };
            let level = match change {
                crate::Change::PagingFailed => Level::Error,
                _ => Level::Info,
            };
            log(level, &crate::format_update(&event.id, change));
            Ok(())
        }

        /// Its config is ignored: anything goes.
        fn validate_config(_config_json: String) -> Result<(), PluginError> {
            Ok(())
        }
    }

    export!(Console);
}

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
