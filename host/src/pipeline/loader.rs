//! Builds a complete [`Pipeline`] from a [`Config`]: finds each plugin (the
//! plugin directory first, then the built-ins), compiles it through the
//! cache, links it against its world, and reads and validates templates.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::cache::ComponentCache;
use super::engine::PluginEngine;
use super::inspect::Inspect;
use super::outbound::{Clients, HostPattern, HttpPolicy};
use super::plugin::{
    ChannelPlugin, EscalatorPlugin, PluginParts, PluginSource, RendererPlugin, TransformerPlugin,
};
use super::smtp::SmtpSender;
use super::{ChannelRuntime, EscalatorRuntime, Pipeline, builtin};
use crate::config::{Config, ConfigError, PluginsConfig};

mod error;
pub use error::LoadError;

/// Loads plugins. One per process: it owns the engine and the cache.
pub struct Loader {
    engine: PluginEngine,
    cache: Arc<ComponentCache>,
    clients: Clients,
    inspect: Option<Arc<Inspect>>,
}

impl Loader {
    /// A loader with its own engine, caching compiled components in `cache_dir`.
    pub fn new(cache_dir: Option<PathBuf>) -> anyhow::Result<Self> {
        Ok(Self::with_engine(PluginEngine::new()?, cache_dir))
    }

    /// A loader on `engine` (tests: an engine with a small instance pool).
    pub fn with_engine(engine: PluginEngine, cache_dir: Option<PathBuf>) -> Self {
        let cache = Arc::new(ComponentCache::new(engine.engine(), cache_dir));
        Self {
            engine,
            cache,
            clients: Clients::new(),
            inspect: None,
        }
    }

    /// The same loader, with the HTTP of every plugin it loads shown (and
    /// in a dry run, answered) by `inspect`: for `versus plugin test`.
    pub fn inspecting(mut self, inspect: Inspect) -> Self {
        self.inspect = Some(Arc::new(inspect));
        self
    }

    /// The compiled-component cache (for its counters).
    pub fn cache(&self) -> &ComponentCache {
        &self.cache
    }

    /// Builds every plugin and template the config refers to.
    pub async fn build(&self, config: &Config, generation: u64) -> Result<Pipeline, LoadError> {
        let plugins = &config.plugins;
        let renderer = Arc::new(self.renderer(plugins, &plugins.renderer, None).await?);
        let mut transforms = Vec::new();
        for name in &plugins.transforms {
            let parts = self.parts(plugins, name, None).await?;
            let desc = parts.source.to_string();
            let t = TransformerPlugin::new(&self.engine, parts)
                .map_err(|e| world_error(name, desc, "transformer", e))?;
            transforms.push(Arc::new(t));
        }
        let mut channels = Vec::new();
        for spec in config.channels() {
            let mut parts = self
                .parts_with(
                    plugins,
                    &spec.plugin,
                    None,
                    spec.limits.clone(),
                    spec.proxy.as_ref(),
                )
                .await?;
            let desc = parts.source.to_string();
            let plugin = match &spec.smtp {
                None => ChannelPlugin::new(&self.engine, parts)
                    .map_err(|e| world_error(&spec.plugin, desc, "channel", e))?,
                Some(server) => {
                    parts.smtp =
                        Some(
                            SmtpSender::new(server).map_err(|message| ConfigError::Invalid {
                                key: "alert.email".into(),
                                message,
                            })?,
                        );
                    ChannelPlugin::new_email(&self.engine, parts)
                        .map_err(|e| world_error(&spec.plugin, desc, "email-channel", e))?
                }
            };
            plugin
                .validate_config(&spec.config_json)
                .await
                .map_err(|e| LoadError::ChannelConfig {
                    channel: spec.name.clone(),
                    plugin: spec.plugin.clone(),
                    cause: e.to_string(),
                })?;
            let template = read_template(&renderer, &spec.template_path).await?;
            channels.push(ChannelRuntime {
                name: spec.name.clone(),
                plugin: Arc::new(plugin),
                template,
                template_path: spec.template_path.clone(),
                config_json: spec.config_json.clone().into(),
                ack_in_template: !shows_ack_button(&spec.plugin, &spec.config_json),
                threads: flag(&spec.config_json, "threads"),
                storm_digest: flag(&spec.config_json, "storm_digest"),
            });
        }
        let mut escalators = Vec::new();
        for spec in config.escalators() {
            escalators.push(self.escalator(plugins, &spec).await?);
        }
        Ok(Pipeline {
            generation,
            renderer,
            transforms,
            channels,
            escalators,
        })
    }

    /// Loads the on-call provider's plugin and has it check its settings.
    async fn escalator(
        &self,
        plugins: &PluginsConfig,
        spec: &crate::escalator::EscalatorSpec,
    ) -> Result<EscalatorRuntime, LoadError> {
        let parts = self
            .parts_with(plugins, &spec.name, None, spec.limits.clone(), None)
            .await?;
        let plugin = self.escalator_from(&spec.name, parts)?;
        plugin
            .validate_config(&spec.config_json)
            .await
            .map_err(|e| LoadError::EscalatorConfig {
                provider: spec.name.clone(),
                cause: e.to_string(),
            })?;
        let acknowledges = plugin
            .acknowledges()
            .await
            .map_err(|e| LoadError::EscalatorConfig {
                provider: spec.name.clone(),
                cause: e.to_string(),
            })?;
        Ok(EscalatorRuntime {
            name: spec.name.clone(),
            plugin: Arc::new(plugin),
            config_json: spec.config_json.clone().into(),
            acknowledges,
        })
    }

    /// Loads an escalator plugin, from `file` when given, else by name,
    /// without checking any settings (`versus plugin test`).
    pub async fn escalator_plugin(
        &self,
        plugins: &PluginsConfig,
        name: &str,
        file: Option<&Path>,
    ) -> Result<EscalatorPlugin, LoadError> {
        let parts = self.parts(plugins, name, file).await?;
        self.escalator_from(name, parts)
    }

    fn escalator_from(&self, name: &str, parts: PluginParts) -> Result<EscalatorPlugin, LoadError> {
        let desc = parts.source.to_string();
        EscalatorPlugin::new(&self.engine, parts)
            .map_err(|e| world_error(name, desc, "escalator", e))
    }

    /// Loads a renderer, from `file` when given, else by name.
    pub async fn renderer(
        &self,
        plugins: &PluginsConfig,
        name: &str,
        file: Option<&Path>,
    ) -> Result<RendererPlugin, LoadError> {
        let parts = self.parts(plugins, name, file).await?;
        let desc = parts.source.to_string();
        RendererPlugin::new(&self.engine, parts).map_err(|e| world_error(name, desc, "renderer", e))
    }

    /// Loads a transformer from an explicit file (tests).
    pub async fn transformer_file(
        &self,
        plugins: &PluginsConfig,
        file: &Path,
    ) -> Result<TransformerPlugin, LoadError> {
        self.transformer(plugins, &file_stem(file), Some(file))
            .await
    }

    /// Loads a transformer, from `file` when given, else by name.
    pub async fn transformer(
        &self,
        plugins: &PluginsConfig,
        name: &str,
        file: Option<&Path>,
    ) -> Result<TransformerPlugin, LoadError> {
        let parts = self.parts(plugins, name, file).await?;
        let desc = parts.source.to_string();
        TransformerPlugin::new(&self.engine, parts)
            .map_err(|e| world_error(name, desc, "transformer", e))
    }

    /// Loads a channel from an explicit file (tests).
    pub async fn channel_file(
        &self,
        plugins: &PluginsConfig,
        file: &Path,
    ) -> Result<ChannelPlugin, LoadError> {
        self.channel(plugins, &file_stem(file), Some(file)).await
    }

    /// Loads a channel (the `channel` world), from `file` when given, else
    /// by name.
    pub async fn channel(
        &self,
        plugins: &PluginsConfig,
        name: &str,
        file: Option<&Path>,
    ) -> Result<ChannelPlugin, LoadError> {
        let parts = self.parts(plugins, name, file).await?;
        let desc = parts.source.to_string();
        ChannelPlugin::new(&self.engine, parts).map_err(|e| world_error(name, desc, "channel", e))
    }

    /// Finds, reads and compiles plugin `name` (compilation runs on the
    /// blocking pool: it takes ~200 ms for a cache miss).
    async fn parts(
        &self,
        plugins: &PluginsConfig,
        name: &str,
        file: Option<&Path>,
    ) -> Result<PluginParts, LoadError> {
        self.parts_with(plugins, name, file, plugins.limits_for(name), None)
            .await
    }

    /// [`Self::parts`] with explicit limits (a channel's own), and the
    /// proxy its HTTP goes through, if any.
    async fn parts_with(
        &self,
        plugins: &PluginsConfig,
        name: &str,
        file: Option<&Path>,
        limits: crate::config::PluginLimits,
        proxy: Option<&crate::config::ProxyConfig>,
    ) -> Result<PluginParts, LoadError> {
        let (wasm, source) = locate(plugins.dir.as_deref(), name, file)?;
        let allowed = limits
            .allowed_hosts
            .iter()
            .map(|p| HostPattern::parse(p))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|source| LoadError::HostPattern {
                name: name.to_string(),
                source,
            })?;
        let mut http = HttpPolicy::new(
            allowed,
            limits.http_timeout,
            limits.http_max_body_bytes,
            limits.allow_private_networks,
            &self.clients,
        );
        if let Some(proxy) = proxy {
            let client = self
                .clients
                .proxied(proxy)
                .map_err(|message| ConfigError::Invalid {
                    key: "proxy.url".into(),
                    message,
                })?;
            http = http.via_proxy(client);
        }
        if let Some(inspect) = &self.inspect {
            http = http.inspected(inspect.clone());
        }
        let http = Arc::new(http);
        let (cache, engine, owned_name) =
            (self.cache.clone(), self.engine.clone(), name.to_string());
        let component =
            tokio::task::spawn_blocking(move || cache.get(engine.engine(), &owned_name, &wasm))
                .await
                .map_err(|_| LoadError::Interrupted)?
                .map_err(|e| LoadError::Compile {
                    name: name.to_string(),
                    source_desc: source.to_string(),
                    cause: format!("{e:#}"),
                })?;
        Ok(PluginParts {
            name: name.into(),
            source,
            limits,
            http,
            smtp: None,
            component,
        })
    }
}

/// The plugin directory's `<name>.wasm` wins over a built-in of that name.
fn locate(
    dir: Option<&Path>,
    name: &str,
    file: Option<&Path>,
) -> Result<(Vec<u8>, PluginSource), LoadError> {
    let candidate = file
        .map(Path::to_path_buf)
        .or_else(|| dir.map(|d| d.join(format!("{name}.wasm"))));
    if let Some(path) = &candidate
        && (file.is_some() || path.exists())
    {
        let bytes = std::fs::read(path).map_err(|source| LoadError::Read {
            path: path.clone(),
            source,
        })?;
        return Ok((bytes, PluginSource::File(path.clone())));
    }
    match builtin::wasm(name) {
        Some(bytes) => Ok((bytes.to_vec(), PluginSource::Builtin)),
        None => Err(LoadError::NotFound {
            name: name.to_string(),
            looked: candidate.map_or_else(
                || "no plugins.dir is set, so nothing".into(),
                |p| p.display().to_string(),
            ),
            builtins: builtin::names().join(", "),
        }),
    }
}

/// The Slack plugin shows the ACK link as a button unless
/// `message_properties.disable_button` is set.
fn shows_ack_button(plugin: &str, config_json: &str) -> bool {
    plugin == "slack"
        && !serde_json::from_str::<serde_json::Value>(config_json)
            .ok()
            .and_then(|c| c["message_properties"]["disable_button"].as_bool())
            .unwrap_or(false)
}

/// Whether a channel's settings turn `key` on (`threads: true`, …).
fn flag(config_json: &str, key: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(config_json)
        .ok()
        .and_then(|c| c[key].as_bool())
        .unwrap_or(false)
}

/// A plugin's name from its file name: `plugins/hook.wasm` is `hook`.
pub fn file_stem(path: &Path) -> String {
    path.file_stem()
        .map_or_else(|| "plugin".into(), |s| s.to_string_lossy().into_owned())
}

fn world_error(
    name: &str,
    source_desc: String,
    world: &'static str,
    e: wasmtime::Error,
) -> LoadError {
    LoadError::World {
        name: name.to_string(),
        source_desc,
        world,
        cause: format!("{e:#}"),
    }
}

/// Reads a template and has the renderer check that it parses.
async fn read_template(renderer: &RendererPlugin, path: &Path) -> Result<Arc<str>, LoadError> {
    let text = tokio::fs::read_to_string(path)
        .await
        .map_err(|source| LoadError::TemplateRead {
            path: path.to_path_buf(),
            source,
        })?;
    renderer
        .validate(&text)
        .await
        .map_err(|e| LoadError::Template {
            path: path.to_path_buf(),
            cause: e.to_string(),
        })?;
    Ok(text.into())
}
