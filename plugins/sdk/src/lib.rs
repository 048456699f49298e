//! The Rust SDK for Versus plugins: every plugin of this repository that
//! calls out over HTTP is built on it, and so can yours.
//!
//! - [`chat`]: a channel in plain Rust. Implement [`chat::Channel`] against
//!   a [`chat::Send`] function (the host's HTTP in the component, a fake in
//!   `cargo test`), read the config with [`chat::Settings`] (errors name
//!   the key), build requests with [`chat::Request`], and let
//!   [`chat::send_checked`] classify the answer the way the host expects
//!   (408, 429 and 5xx transient with `Retry-After` kept, other 4xx
//!   permanent). Export it with [`export_chat_channel!`] as
//!   `versus:gateway/channel@0.2.0`: it is told when paging failed and
//!   checks its config when the gateway loads it.
//! - [`transformer`], [`renderer`]: the other worlds, each with its `Guest`
//!   trait, exported with [`export_transformer!`] or [`export_renderer!`]
//!   (the built-in `alertmanager` and `gotemplate` are);
//! - [`oncall`]: an on-call escalation target in plain Rust, the same
//!   way: implement [`oncall::Escalator`] and export it with
//!   [`export_escalator!`] as `versus:oncall/escalator@0.1.0`;
//! - [`channel`]: the 0.1.0 channel world, exported with
//!   [`export_channel!`], for a gateway older than 0.2.0.
//! - the shared WIT types ([`Event`], [`PluginError`], ...), with
//!   constructors such as [`PluginError::transient`];
//! - [`log`]: lines in the gateway's log under the plugin's name.
//!
//! A channel (the same as in `docs/plugins.md`):
//!
//! ```no_run
//! // src/lib.rs
//! use serde_json::json;
//! use versus_plugin_sdk::chat::{self, Channel, Error, EventInfo, Receipt, Request, Send, Settings};
//!
//! pub struct Hook;
//!
//! impl Channel for Hook {
//!     fn deliver(message: &str, event: &EventInfo, config: &str, send: &mut Send<'_>)
//!         -> Result<Receipt, Error> {
//!         let settings = Settings::parse("hook", config)?;
//!         let url = settings.url("url", None)?; // a Config error naming `url` if missing
//!         let request = Request::post(url)
//!             .bearer(&settings.required("token")?)
//!             .json(&json!({ "text": message, "incident": event.id }));
//!         // 408/429/5xx: transient (Retry-After kept); other 4xx: permanent
//!         chat::send_checked(send, "hook", request)?;
//!         Ok(Receipt { destination: "hook".into(), message_id: event.id.clone() })
//!     }
//!
//!     // Called at startup, on reload and by `versus check`: refuse a bad
//!     // config then, naming the key, not at the first alert.
//!     fn validate_config(config: &str) -> Result<(), Error> {
//!         let settings = Settings::parse("hook", config)?;
//!         settings.url("url", None)?;
//!         settings.required("token").map(drop)
//!     }
//! }
//!
//! versus_plugin_sdk::export_chat_channel!(Hook);
//! ```
//!
//! Build with `cargo build --target wasm32-wasip2 --release`. The crate also
//! builds for the host target, so a plugin's logic is unit-tested with
//! `cargo test`, passing a fake `Send`; calling a host import there panics.

// The code `generate!` emits passes every WIT parameter as its own argument.
#![allow(clippy::too_many_arguments)]

pub mod chat;
mod error;
pub mod oncall;

pub use renderer::export_renderer;
pub use transformer::export_transformer;

/// The `channel` world of `versus:gateway@0.1.0`, whose records and
/// imports every other world shares. A new channel is written with
/// [`chat`] and exported on 0.2.0; `export_channel!` exports a 0.1.0
/// `Guest`, for a gateway older than 0.2.0.
pub mod channel {
    wit_bindgen::generate!({
        world: "channel",
        path: "../../wit",
        pub_export_macro: true,
        export_macro_name: "export_channel",
        default_bindings_module: "versus_plugin_sdk::channel",
    });
}

/// The `transformer` world: keep, rewrite or drop an event.
pub mod transformer {
    wit_bindgen::generate!({
        world: "transformer",
        path: "../../wit",
        pub_export_macro: true,
        export_macro_name: "export_transformer",
        default_bindings_module: "versus_plugin_sdk::transformer",
        with: {
            "versus:gateway/types@0.1.0": crate::channel::versus::gateway::types,
            "versus:gateway/log@0.1.0": crate::channel::versus::gateway::log,
            "versus:gateway/http@0.1.0": crate::channel::versus::gateway::http,
        },
    });
}

/// The `renderer` world: turn a template and the alert data into text.
pub mod renderer {
    wit_bindgen::generate!({
        world: "renderer",
        path: "../../wit",
        pub_export_macro: true,
        export_macro_name: "export_renderer",
        default_bindings_module: "versus_plugin_sdk::renderer",
        with: {
            "versus:gateway/types@0.1.0": crate::channel::versus::gateway::types,
            "versus:gateway/log@0.1.0": crate::channel::versus::gateway::log,
        },
    });
}

/// The `channel` world of `versus:gateway@0.2.0`: `update` is also told
/// that paging failed, and `validate-config` checks the config at load.
/// Its records and imports are 0.1.0's. Implement
/// [`chat::Channel`] and export it with [`export_chat_channel!`].
pub mod channel_v2 {
    wit_bindgen::generate!({
        world: "versus:sdk/chat-channel@0.2.0",
        path: ["../../wit", "../../wit-0.2", "wit"],
        pub_export_macro: true,
        export_macro_name: "export_channel_v2",
        default_bindings_module: "versus_plugin_sdk::channel_v2",
        with: {
            "versus:gateway/types@0.1.0": crate::channel::versus::gateway::types,
            "versus:gateway/log@0.1.0": crate::channel::versus::gateway::log,
            "versus:gateway/http@0.1.0": crate::channel::versus::gateway::http,
            "versus:gateway/status@0.2.0": generate,
        },
    });
}

/// The `escalator` world of `versus:oncall@0.1.0`: an on-call target.
/// Implement [`oncall::Escalator`] and export it with
/// [`export_escalator!`]. Its imports are `versus:gateway@0.1.0`'s.
pub mod escalator {
    wit_bindgen::generate!({
        world: "versus:oncall/escalator@0.1.0",
        path: ["../../wit", "../../wit-oncall"],
        pub_export_macro: true,
        export_macro_name: "export_escalator_world",
        default_bindings_module: "versus_plugin_sdk::escalator",
        with: {
            "versus:gateway/types@0.1.0": crate::channel::versus::gateway::types,
            "versus:gateway/log@0.1.0": crate::channel::versus::gateway::log,
            "versus:gateway/http@0.1.0": crate::channel::versus::gateway::http,
            "versus:oncall/types@0.1.0": generate,
        },
    });
}

pub use channel::export_channel;
pub use channel::versus::gateway::http;
pub use channel::versus::gateway::types::{Event, PluginError, Retryable, TransformOutcome};

/// A bump arena, then the system allocator: see `versus-plugin-arena`.
#[cfg(all(target_arch = "wasm32", feature = "arena"))]
#[global_allocator]
static ALLOC: versus_plugin_arena::Arena = versus_plugin_arena::Arena::new();

/// Lines in the gateway's log, tagged with the plugin's name.
pub mod log {
    use crate::channel::versus::gateway::log::{Level, log};

    /// Logs at debug level.
    pub fn debug(message: &str) {
        log(Level::Debug, message);
    }

    /// Logs at info level.
    pub fn info(message: &str) {
        log(Level::Info, message);
    }

    /// Logs at warn level.
    pub fn warn(message: &str) {
        log(Level::Warn, message);
    }

    /// Logs at error level.
    pub fn error(message: &str) {
        log(Level::Error, message);
    }
}

/// The alert body of `event` as JSON; an [`PluginError::InvalidInput`] when
/// it does not parse (the host always sends JSON, so this means a transform
/// upstream wrote something else).
pub fn payload(event: &Event) -> Result<serde_json::Value, PluginError> {
    serde_json::from_str(&event.payload)
        .map_err(|e| PluginError::invalid_input(format!("the alert payload is not JSON: {e}")))
}

/// The string at JSON `pointer` (e.g. `/alerts/0/labels/severity`) in
/// `value`; numbers and booleans are given as text, anything else is `None`.
pub fn text_at(value: &serde_json::Value, pointer: &str) -> Option<String> {
    match value.pointer(pointer)? {
        serde_json::Value::String(s) => Some(s.clone()),
        v @ (serde_json::Value::Number(_) | serde_json::Value::Bool(_)) => Some(v.to_string()),
        _ => None,
    }
}

/// `message` cut to at most `max` characters, ending with `…` when cut:
/// chat services refuse an over-long message, and a cut alert still pages.
pub fn truncate(message: &str, max: usize) -> String {
    if message.chars().count() <= max {
        return message.to_string();
    }
    if max == 0 {
        return String::new();
    }
    let mut out: String = message.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Whether `a` and `b` are the same text, compared eight bytes at a time.
/// In a guest, `==` on strings is libc's `memcmp`, which goes byte by byte;
/// a plugin that recognises the text it was given last time (its config,
/// see [`chat::parsed_once`]) compares a few hundred bytes on every call.
pub fn same_text(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let (wa, wb) = (a.chunks_exact(8), b.chunks_exact(8));
    let tails_match = wa.remainder() == wb.remainder();
    tails_match && wa.zip(wb).all(|(x, y)| word(x) == word(y))
}

/// Eight bytes as one number.
fn word(bytes: &[u8]) -> u64 {
    u64::from_ne_bytes(<[u8; 8]>::try_from(bytes).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn same_text_agrees_with_equality() {
        let base = "héllo, wörld: the quick brown fox jumps over the lazy dog";
        for len in 0..base.len() {
            let Some(a) = base.get(..len) else { continue };
            assert!(super::same_text(a, a));
            for (i, _) in a.char_indices() {
                let mut changed = a.to_owned().into_bytes();
                changed[i] ^= 1;
                let changed = String::from_utf8_lossy(&changed).into_owned();
                assert_eq!(super::same_text(a, &changed), a == changed, "{a:?} at {i}");
            }
            let longer = format!("{a}!");
            assert!(!super::same_text(a, &longer));
        }
    }

    #[test]
    fn text_at_reads_strings_and_scalars() {
        let v =
            json!({"alerts": [{"labels": {"severity": "critical", "n": 3, "ok": true, "l": []}}]});
        assert_eq!(
            super::text_at(&v, "/alerts/0/labels/severity").as_deref(),
            Some("critical")
        );
        assert_eq!(
            super::text_at(&v, "/alerts/0/labels/n").as_deref(),
            Some("3")
        );
        assert_eq!(
            super::text_at(&v, "/alerts/0/labels/ok").as_deref(),
            Some("true")
        );
        assert_eq!(super::text_at(&v, "/alerts/0/labels/l"), None);
        assert_eq!(super::text_at(&v, "/missing"), None);
    }

    #[test]
    fn truncate_counts_characters() {
        assert_eq!(super::truncate("héllo", 5), "héllo");
        assert_eq!(super::truncate("héllo wörld", 6), "héllo…");
        assert_eq!(super::truncate("abc", 1), "…");
        assert_eq!(super::truncate("abc", 0), "");
    }

    #[test]
    fn payload_must_be_json() {
        let mut event = super::Event {
            id: "i".into(),
            payload: "{\"a\":1}".into(),
            resolved: false,
            severity: None,
            ack_url: None,
            dedup_key: None,
        };
        assert_eq!(super::payload(&event).ok(), Some(json!({"a": 1})));
        event.payload = "not json".into();
        assert!(matches!(
            super::payload(&event),
            Err(super::PluginError::InvalidInput(m)) if m.contains("not JSON")
        ));
    }
}
