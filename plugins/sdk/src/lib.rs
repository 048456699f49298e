//! The Rust SDK for Versus plugins.
//!
//! It holds the generated bindings of every world of `versus:gateway@0.1.0`
//! and a few helpers, so a plugin crate needs this one dependency:
//!
//! - [`channel`], [`transformer`], [`renderer`]: one module per world, each
//!   with its `Guest` trait; export an implementation (a type name, not a
//!   path) with [`export_channel!`], [`export_transformer!`] or
//!   [`export_renderer!`] at the crate root;
//! - the shared WIT types ([`Event`], [`Receipt`], [`PluginError`], ...),
//!   with constructors such as [`PluginError::transient`];
//! - [`Settings`]: the channel's `config:` read key by key, with errors that
//!   name the key;
//! - [`Request`]: an HTTP request builder that sends through the host and
//!   maps every failure to the right [`PluginError`] case, and
//!   [`http::Response`] helpers to read the answer;
//! - [`log`]: lines in the gateway's log under the plugin's name.
//!
//! A channel (the same as in `docs/plugins.md`):
//!
//! ```no_run
//! // src/lib.rs
//! use serde_json::json;
//! use versus_plugin_sdk::{Event, PluginError, Receipt, Request, Settings, StatusChange};
//!
//! struct Hook;
//!
//! impl versus_plugin_sdk::channel::Guest for Hook {
//!     fn deliver(message: String, event: Event, config: String) -> Result<Receipt, PluginError> {
//!         let settings = Settings::parse(&config)?;
//!         let url = settings.url("url")?; // a Config error naming `url` if missing
//!         Request::post(&url)
//!             .bearer(&settings.require("token")?)
//!             .json(&json!({ "text": message, "incident": event.id }))
//!             .send_ok()?; // 408/429/5xx: transient (Retry-After kept); other 4xx: permanent
//!         Ok(Receipt { destination: "hook".into(), message_id: event.id })
//!     }
//!
//!     fn update(_: Receipt, _: StatusChange, _: String, _: Event, _: String) -> Result<(), PluginError> {
//!         Ok(())
//!     }
//! }
//!
//! versus_plugin_sdk::export_channel!(Hook);
//! ```
//!
//! Build with `cargo build --target wasm32-wasip2 --release`. The crate also
//! builds for the host target, so a plugin's logic can be unit-tested with
//! `cargo test`; calling a host import there panics.

// The code `generate!` emits passes every WIT parameter as its own argument.
#![allow(clippy::too_many_arguments)]

mod error;
mod request;
mod settings;

pub use renderer::export_renderer;
pub use request::{Request, from_http_error};
pub use settings::Settings;
pub use transformer::export_transformer;

/// The `channel` world: deliver a rendered message, update it later.
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

pub use channel::export_channel;
pub use channel::versus::gateway::http;
pub use channel::versus::gateway::types::{
    Event, PluginError, Receipt, Retryable, StatusChange, TransformOutcome,
};

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

#[cfg(test)]
mod tests {
    use serde_json::json;

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
