//! `PluginCtx`: the state owned by each plugin call's `Store`, and the host
//! side of the `log` import.

use std::sync::Arc;

use wasmtime::ResourceLimiter;
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::bindings::{log, types};
use super::engine::Busy;
use super::outbound::HttpPolicy;
use super::smtp::SmtpSender;

/// Per-call store state. A fresh one is built for every call.
pub struct PluginCtx {
    /// Plugin name, for logs.
    pub plugin: Arc<str>,
    /// WASI p2 with nothing granted: no preopens, no env, no sockets.
    wasi: WasiCtx,
    table: ResourceTable,
    /// Memory cap for this call.
    pub limiter: MemoryCap,
    /// What the plugin may reach over HTTP.
    pub http: Arc<HttpPolicy>,
    /// The SMTP server it may send through (the email channel only).
    pub smtp: Option<Arc<SmtpSender>>,
    /// Keeps the epoch ticking while this call's store lives.
    _busy: Busy,
}

impl PluginCtx {
    /// A context for one call of `plugin`.
    pub fn new(
        plugin: Arc<str>,
        max_memory: usize,
        http: Arc<HttpPolicy>,
        smtp: Option<Arc<SmtpSender>>,
        busy: Busy,
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
            _busy: busy,
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
    /// Set when a growth request was refused.
    pub hit: bool,
}

impl MemoryCap {
    fn new(max: usize) -> Self {
        Self { max, hit: false }
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
        if !ok {
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
