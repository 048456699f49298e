//! `PluginCtx`: the state owned by each plugin call's `Store`, and the host
//! side of the `log` import.

use std::sync::Arc;

use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::bindings::{log, types};
use super::outbound::HttpPolicy;
use super::smtp::SmtpSender;

/// The state of one instance's `Store`. It lives as long as the instance:
/// one call, or several when the plugin's instances are reused.
pub struct PluginCtx {
    /// Plugin name, for logs.
    pub plugin: Arc<str>,
    /// WASI p2 with nothing granted: no preopens, no env, no sockets.
    wasi: WasiCtx,
    table: ResourceTable,
    /// Memory cap for this instance.
    pub limiter: MemoryCap,
    /// What the plugin may reach over HTTP.
    pub http: Arc<HttpPolicy>,
    /// The SMTP server it may send through (the email channel only).
    pub smtp: Option<Arc<SmtpSender>>,
}

impl PluginCtx {
    /// A context for one instance of `plugin`.
    pub fn new(
        plugin: Arc<str>,
        max_memory: usize,
        http: Arc<HttpPolicy>,
        smtp: Option<Arc<SmtpSender>>,
    ) -> Self {
        Self {
            plugin,
            // Built with no grants: the guest sees an empty environment, no
            // arguments, no directories and no network. Its stdout/stderr go
            // nowhere; plugins log through the `log` import.
            wasi: WasiCtx::builder().build(),
            table: ResourceTable::new(),
            limiter: MemoryCap::new(max_memory),
            http,
            smtp,
        }
    }
}

impl WasiView for PluginCtx {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// Caps linear memory growth and remembers whether the cap was hit, so a
/// trap that follows an allocation failure is reported as a memory limit.
pub struct MemoryCap {
    max: usize,
    /// Set when a growth request was refused; cleared before each call.
    pub hit: bool,
    /// The linear memory's size in bytes, as last granted.
    pub size: usize,
}

impl MemoryCap {
    fn new(max: usize) -> Self {
        Self {
            max,
            hit: false,
            size: 0,
        }
    }
}

impl ResourceLimiter for MemoryCap {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let ok = desired <= self.max;
        if ok {
            self.size = desired;
        } else {
            self.hit = true;
        }
        Ok(ok)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        // Tables hold function references; 100k entries is far beyond any
        // real plugin and keeps a table bomb cheap.
        Ok(desired <= 100_000)
    }
}

impl types::Host for PluginCtx {}

impl super::bindings::channel_v2::versus::gateway0_2_0::status::Host for PluginCtx {}

impl super::bindings::oncall_types::Host for PluginCtx {}

impl log::Host for PluginCtx {
    async fn log(&mut self, level: log::Level, message: String) {
        let plugin = &*self.plugin;
        match level {
            log::Level::Trace => tracing::trace!(plugin, "{message}"),
            log::Level::Debug => tracing::debug!(plugin, "{message}"),
            log::Level::Info => tracing::info!(plugin, "{message}"),
            log::Level::Warn => tracing::warn!(plugin, "{message}"),
            log::Level::Error => tracing::error!(plugin, "{message}"),
        }
    }
}
