//! Why a pipeline could not be built.

use std::path::PathBuf;

use crate::config::ConfigError;
use crate::pipeline::outbound::PatternError;

/// Why a pipeline could not be built. Each message names the thing to fix.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The config itself is wrong.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// No such plugin.
    #[error(
        "plugin `{name}` is not built in and {looked} does not exist: add the file or fix the name (built-ins: {builtins})"
    )]
    NotFound {
        /// Plugin name.
        name: String,
        /// Where we looked.
        looked: String,
        /// The built-in names.
        builtins: String,
    },
    /// A plugin file could not be read.
    #[error("cannot read plugin file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Not a valid component for this engine.
    #[error("plugin `{name}` ({source_desc}) is not a valid WebAssembly component: {cause}")]
    Compile {
        /// Plugin name.
        name: String,
        /// Where it came from.
        source_desc: String,
        /// Wasmtime's message.
        cause: String,
    },
    /// The component does not implement the world it is used as.
    #[error("plugin `{name}` ({source_desc}) does not implement the `{world}` world: {cause}")]
    World {
        /// Plugin name.
        name: String,
        /// Where it came from.
        source_desc: String,
        /// The expected world.
        world: &'static str,
        /// Wasmtime's message.
        cause: String,
    },
    /// A bad `allowed_hosts` entry.
    #[error("allowed_hosts for plugin `{name}`: {source}")]
    HostPattern {
        /// Plugin name.
        name: String,
        /// The parse error.
        source: PatternError,
    },
    /// A template file could not be read.
    #[error("cannot read template {path}: {source} (check the channel's template_path)")]
    TemplateRead {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A channel plugin refused its configuration.
    #[error("channel `{channel}`: its plugin `{plugin}` refused the configuration: {cause}")]
    ChannelConfig {
        /// Channel name.
        channel: String,
        /// Plugin name.
        plugin: String,
        /// The plugin's message, naming the key.
        cause: String,
    },
    /// The on-call provider's plugin refused its configuration.
    #[error("on-call provider `{provider}`: its plugin refused the configuration: {cause}")]
    EscalatorConfig {
        /// Provider name.
        provider: String,
        /// The plugin's message, naming the key.
        cause: String,
    },
    /// A template did not parse.
    #[error("template {path} does not parse: {cause}")]
    Template {
        /// The file.
        path: PathBuf,
        /// The renderer's message.
        cause: String,
    },
    /// Compilation was cancelled (the runtime shut down).
    #[error("plugin loading was interrupted")]
    Interrupted,
}
