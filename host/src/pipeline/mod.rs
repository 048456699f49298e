//! The Wasm pipeline: engine, bindings, plugin loading, outbound HTTP policy,
//! the compiled-component cache and hot reload. A [`Pipeline`] is one
//! complete, immutable set of plugins and templates; reload builds a new one
//! and swaps it in.

pub mod allow_list;
pub mod bindings;
pub mod builtin;
pub mod cache;
pub mod ctx;
pub mod engine;
pub mod error;
pub mod inspect;
pub mod loader;
pub mod outbound;
pub mod plugin;
pub mod reload;
pub mod smtp;
pub mod ssrf;
pub mod warm;

use std::path::PathBuf;
use std::sync::Arc;

pub use loader::{LoadError, Loader};
pub use plugin::{ChannelPlugin, EscalatorPlugin, PluginError, RendererPlugin, TransformerPlugin};
pub use reload::Reloader;

/// One enabled channel, ready to use.
pub struct ChannelRuntime {
    /// Channel name.
    pub name: String,
    /// The plugin that delivers.
    pub plugin: Arc<ChannelPlugin>,
    /// The template text, already validated.
    pub template: Arc<str>,
    /// Where the template came from.
    pub template_path: PathBuf,
    /// The JSON settings passed to the plugin.
    pub config_json: Arc<str>,
    /// Whether templates see `AckURL`. Off for Slack with its ACK button,
    /// so the link is not shown twice.
    pub ack_in_template: bool,
    /// Whether the channel's settings say `threads: true`: a notification
    /// that belongs to an incident the channel posted before then goes in
    /// that message's thread (its settings get `reply_to`, see
    /// [`crate::incident::ReplyTo`]).
    pub threads: bool,
    /// Whether the channel's settings say `storm_digest: true`: when
    /// notifications wait in its outbound queue, each turn posts them all
    /// as one message (see [`crate::outbox`]).
    pub storm_digest: bool,
}

/// A complete set of plugins and templates. Immutable once built: requests
/// hold an `Arc` to the one they started with.
pub struct Pipeline {
    /// Increases by one with every successful (re)load.
    pub generation: u64,
    /// The renderer every channel uses.
    pub renderer: Arc<RendererPlugin>,
    /// Transforms, in order.
    pub transforms: Vec<Arc<TransformerPlugin>>,
    /// Enabled channels.
    pub channels: Vec<ChannelRuntime>,
    /// The plugins of the on-call providers that page through one.
    pub escalators: Vec<EscalatorRuntime>,
}

/// An on-call provider's plugin, ready to use.
#[derive(Clone)]
pub struct EscalatorRuntime {
    /// The provider's name (`oncall.provider`, or one of `oncall.providers`).
    pub name: String,
    /// Its plugin.
    pub plugin: Arc<EscalatorPlugin>,
    /// The JSON settings passed to each call.
    pub config_json: Arc<str>,
    /// Whether its `acknowledge` tells the provider anything.
    pub acknowledges: bool,
}

impl Pipeline {
    /// A one-line summary for logs.
    pub fn describe(&self) -> String {
        let channels: Vec<String> = self
            .channels
            .iter()
            .map(|c| {
                format!(
                    "{}({}, {})",
                    c.name,
                    c.plugin.base.source,
                    c.template_path.display()
                )
            })
            .collect();
        let transforms: Vec<&str> = self.transforms.iter().map(|t| &*t.base.name).collect();
        let escalator: String = self
            .escalators
            .iter()
            .map(|e| format!(", escalator {} ({})", e.name, e.plugin.base.source))
            .collect();
        format!(
            "generation {}: renderer {} ({}), transforms [{}], channels [{}]{escalator}",
            self.generation,
            self.renderer.base.name,
            self.renderer.base.source,
            transforms.join(", "),
            channels.join(", ")
        )
    }
}
