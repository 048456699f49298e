//! Built-in plugins, compiled from `plugins/` by `build.rs` and embedded so
//! the gateway runs with no plugin directory.

/// Names of the built-in plugins.
pub const NAMES: &[&str] = &[
    "gotemplate",
    "alertmanager",
    "slack",
    "console",
    "telegram",
    "webhook",
    "msteams",
    "lark",
    "viber",
    "email",
];

/// The wasm of built-in plugin `name`, if there is one.
pub fn wasm(name: &str) -> Option<&'static [u8]> {
    Some(match name {
        "gotemplate" => include_bytes!(concat!(env!("VERSUS_PLUGIN_OUT_DIR"), "/gotemplate.wasm")),
        "alertmanager" => {
            include_bytes!(concat!(env!("VERSUS_PLUGIN_OUT_DIR"), "/alertmanager.wasm"))
        }
        "slack" => include_bytes!(concat!(env!("VERSUS_PLUGIN_OUT_DIR"), "/slack.wasm")),
        "console" => include_bytes!(concat!(env!("VERSUS_PLUGIN_OUT_DIR"), "/console.wasm")),
        "telegram" => include_bytes!(concat!(env!("VERSUS_PLUGIN_OUT_DIR"), "/telegram.wasm")),
        "webhook" => include_bytes!(concat!(env!("VERSUS_PLUGIN_OUT_DIR"), "/webhook.wasm")),
        "msteams" => include_bytes!(concat!(env!("VERSUS_PLUGIN_OUT_DIR"), "/msteams.wasm")),
        "lark" => include_bytes!(concat!(env!("VERSUS_PLUGIN_OUT_DIR"), "/lark.wasm")),
        "viber" => include_bytes!(concat!(env!("VERSUS_PLUGIN_OUT_DIR"), "/viber.wasm")),
        "email" => include_bytes!(concat!(env!("VERSUS_PLUGIN_OUT_DIR"), "/email.wasm")),
        _ => return None,
    })
}
