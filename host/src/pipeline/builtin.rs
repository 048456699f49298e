//! Built-in plugins, compiled from `plugins/` by `build.rs` and embedded so
//! the gateway runs with no plugin directory: the renderer, the transform,
//! the generic webhook channel, and each built-in channel's plugin (see
//! `channel`).

/// The built-in plugins that are not a built-in channel's.
const OTHERS: &[&str] = &["gotemplate", "alertmanager", "webhook"];

/// Names of the built-in plugins.
pub fn names() -> Vec<&'static str> {
    OTHERS
        .iter()
        .chain(crate::channel::NAMES)
        .copied()
        .collect()
}

/// The wasm of built-in plugin `name`, if there is one.
pub fn wasm(name: &str) -> Option<&'static [u8]> {
    Some(match name {
        "gotemplate" => include_bytes!(concat!(env!("VERSUS_PLUGIN_OUT_DIR"), "/gotemplate.wasm")),
        "alertmanager" => {
            include_bytes!(concat!(env!("VERSUS_PLUGIN_OUT_DIR"), "/alertmanager.wasm"))
        }
        "webhook" => include_bytes!(concat!(env!("VERSUS_PLUGIN_OUT_DIR"), "/webhook.wasm")),
        _ => return crate::channel::wasm(name),
    })
}
