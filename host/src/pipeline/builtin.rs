//! Built-in plugins, compiled from `plugins/` by `build.rs` and embedded so
//! the gateway runs with no plugin directory: the renderer, the transform,
//! the generic webhook channel, each built-in channel's plugin (see
//! `channel`) and each built-in on-call provider's (see `escalator`).

/// Names of the built-in plugins.
pub fn names() -> Vec<&'static str> {
    others::EMBEDDED
        .iter()
        .chain(crate::channel::NAMES)
        .chain(crate::escalator::NAMES)
        .copied()
        .collect()
}

/// Declares `pub fn wasm(name) -> Option<&'static [u8]>` over the
/// components `build.rs` built from `plugins/<name>`, embedded in the
/// binary, and their names as `EMBEDDED`. The registries of channels and
/// escalators use it too.
macro_rules! embedded {
    ($($name:ident),* $(,)?) => {
        /// The names of the components embedded here.
        pub const EMBEDDED: &[&str] = &[$(stringify!($name)),*];

        /// The component of built-in plugin `name`, if there is one here.
        pub fn wasm(name: &str) -> Option<&'static [u8]> {
            match name {
                $(stringify!($name) => Some(include_bytes!(concat!(
                    env!("VERSUS_PLUGIN_OUT_DIR"), "/", stringify!($name), ".wasm"
                )).as_slice()),)*
                _ => None,
            }
        }
    };
}
pub(crate) use embedded;

/// The built-in plugins that are not a built-in channel's or escalator's.
mod others {
    super::embedded!(gotemplate, alertmanager, webhook);
}

/// The wasm of built-in plugin `name`, if there is one.
pub fn wasm(name: &str) -> Option<&'static [u8]> {
    others::wasm(name)
        .or_else(|| crate::channel::wasm(name))
        .or_else(|| crate::escalator::wasm(name))
}
