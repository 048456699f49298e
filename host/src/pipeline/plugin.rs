//! Loaded plugins, one type per world, and the sandboxed call path: a fresh
//! `Store` per call from a cached `*Pre`, a memory cap, a wall-clock
//! deadline and an output cap. Whatever the guest does, the caller gets a
//! `PluginError` for that call and the next call starts clean.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tracing::Instrument;
use wasmtime::component::Component;
use wasmtime::{Store, Trap, UpdateDeadline};

use super::bindings::{ChannelPre, EmailChannelPre, RendererPre, TransformerPre, types};
use super::ctx::PluginCtx;
use super::engine::PluginEngine;
use super::outbound::HttpPolicy;
use super::smtp::SmtpSender;
use crate::config::PluginLimits;

pub use super::error::PluginError;

/// Where a plugin's wasm came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginSource {
    /// Embedded in the binary.
    Builtin,
    /// A file in the plugin directory (or given on the command line).
    File(std::path::PathBuf),
}

impl std::fmt::Display for PluginSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Builtin => f.write_str("built-in"),
            Self::File(p) => write!(f, "{}", p.display()),
        }
    }
}

/// What every plugin has, whatever its world.
pub struct PluginBase {
    /// Plugin name.
    pub name: Arc<str>,
    /// Where it came from.
    pub source: PluginSource,
    /// Its limits.
    pub limits: PluginLimits,
    http: Arc<HttpPolicy>,
    smtp: Option<Arc<SmtpSender>>,
    engine: PluginEngine,
}

type CallResult<R> =
    Result<wasmtime::Result<Result<R, types::PluginError>>, tokio::time::error::Elapsed>;

impl PluginBase {
    /// A free instance slot, waiting for one up to the call's time limit.
    /// Take it before [`Self::store`] so that it is dropped after the store.
    async fn slot(&self) -> Result<tokio::sync::OwnedSemaphorePermit, PluginError> {
        match self.engine.slot(self.limits.timeout).await {
            Some(permit) => Ok(permit),
            None => {
                let err = PluginError::Busy(self.limits.timeout);
                crate::metrics::get().plugin_error(&self.name, err.kind());
                tracing::warn!(plugin = &*self.name, kind = err.kind(), error = %err, "plugin call failed");
                Err(err)
            }
        }
    }

    fn store(&self) -> Store<PluginCtx> {
        let max_memory = (self.limits.memory_mb as usize) << 20;
        let ctx = PluginCtx::new(
            self.name.clone(),
            max_memory,
            self.http.clone(),
            self.smtp.clone(),
            self.engine.busy(),
        );
        let mut store = Store::new(self.engine.engine(), ctx);
        store.limiter(|c| &mut c.limiter);
        // Yield to tokio at every epoch tick, so a busy guest never holds a
        // worker thread for long, and trap once the wall-clock budget is gone.
        let deadline = Instant::now() + self.limits.timeout;
        store.set_epoch_deadline(1);
        store.epoch_deadline_callback(move |_| {
            if Instant::now() >= deadline {
                Ok(UpdateDeadline::Interrupt)
            } else {
                Ok(UpdateDeadline::Yield(1))
            }
        });
        store
    }

    /// The span of one call: its log lines carry the plugin and stage.
    fn span(&self, stage: &'static str) -> tracing::Span {
        tracing::info_span!("plugin", plugin = &*self.name, stage)
    }

    /// The tokio-side budget: the epoch deadline cannot fire while the
    /// guest waits in a host import, so this one bounds that wait.
    fn budget(&self) -> Duration {
        self.limits.timeout + super::engine::EPOCH_TICK * 2
    }

    /// Turns the layered result of a call into the caller's answer, logging
    /// host-side failures with the plugin name and cause.
    fn finish<R>(
        &self,
        op: &'static str,
        started: Instant,
        result: CallResult<R>,
        store: &Store<PluginCtx>,
    ) -> Result<R, PluginError> {
        // Template checks run at load time, not per alert.
        if op != "validate" {
            crate::metrics::get().plugin_call(&self.name, op, started.elapsed());
        }
        let err = match result {
            Ok(Ok(Ok(value))) => return Ok(value),
            Ok(Ok(Err(guest))) => {
                let err = PluginError::from(guest);
                crate::metrics::get().plugin_error(&self.name, err.kind());
                return Err(err);
            }
            Err(_) => PluginError::Timeout(self.limits.timeout),
            Ok(Err(trap)) if store.data().limiter.hit => {
                tracing::debug!(plugin = &*self.name, cause = %trap, "trap after refused memory growth");
                PluginError::MemoryLimit(self.limits.memory_mb)
            }
            Ok(Err(trap)) if trap.downcast_ref::<Trap>() == Some(&Trap::Interrupt) => {
                PluginError::Timeout(self.limits.timeout)
            }
            Ok(Err(trap)) => PluginError::Trap(root_cause(&trap)),
        };
        crate::metrics::get().plugin_error(&self.name, err.kind());
        tracing::warn!(plugin = &*self.name, op, kind = err.kind(), error = %err, "plugin call failed");
        Err(err)
    }

    fn check_output(&self, len: usize) -> Result<(), PluginError> {
        if len > self.limits.max_output_bytes {
            let err = PluginError::OutputTooLarge {
                size: len,
                limit: self.limits.max_output_bytes,
            };
            crate::metrics::get().plugin_error(&self.name, err.kind());
            tracing::warn!(plugin = &*self.name, kind = err.kind(), error = %err, "plugin call failed");
            return Err(err);
        }
        Ok(())
    }
}

fn root_cause(e: &wasmtime::Error) -> String {
    match e.downcast_ref::<Trap>() {
        Some(trap) => trap.to_string(),
        None => e.root_cause().to_string(),
    }
}

/// Everything needed to instantiate a plugin of any world.
pub struct PluginParts {
    /// Plugin name.
    pub name: Arc<str>,
    /// Where it came from.
    pub source: PluginSource,
    /// Its limits.
    pub limits: PluginLimits,
    /// Its HTTP policy.
    pub http: Arc<HttpPolicy>,
    /// The SMTP server it may send through (the email channel only).
    pub smtp: Option<Arc<SmtpSender>>,
    /// The compiled component.
    pub component: Component,
}

impl PluginParts {
    fn into_base(self, engine: &PluginEngine) -> (PluginBase, Component) {
        let base = PluginBase {
            name: self.name,
            source: self.source,
            limits: self.limits,
            http: self.http,
            smtp: self.smtp,
            engine: engine.clone(),
        };
        (base, self.component)
    }
}

/// A `renderer` plugin.
pub struct RendererPlugin {
    /// Shared plugin data.
    pub base: PluginBase,
    pre: RendererPre<PluginCtx>,
}

impl RendererPlugin {
    /// Links `parts` against the renderer world; fails if the component does
    /// not match it.
    pub fn new(engine: &PluginEngine, parts: PluginParts) -> wasmtime::Result<Self> {
        let (base, component) = parts.into_base(engine);
        let pre = RendererPre::new(engine.renderer_linker().instantiate_pre(&component)?)?;
        Ok(Self { base, pre })
    }

    /// Renders `template` with `data_json`.
    pub async fn render(&self, template: &str, data_json: &str) -> Result<String, PluginError> {
        let started = Instant::now();
        let _slot = self.base.slot().await?;
        let mut store = self.base.store();
        let result = tokio::time::timeout(self.base.budget(), async {
            let instance = self.pre.instantiate_async(&mut store).await?;
            instance.call_render(&mut store, template, data_json).await
        })
        .instrument(self.base.span("render"))
        .await;
        let text = self.base.finish("render", started, result, &store)?;
        self.base.check_output(text.len())?;
        Ok(text)
    }

    /// Checks that `template` parses.
    pub async fn validate(&self, template: &str) -> Result<(), PluginError> {
        let started = Instant::now();
        let _slot = self.base.slot().await?;
        let mut store = self.base.store();
        let result = tokio::time::timeout(self.base.budget(), async {
            let instance = self.pre.instantiate_async(&mut store).await?;
            instance.call_validate(&mut store, template).await
        })
        .instrument(self.base.span("validate"))
        .await;
        self.base.finish("validate", started, result, &store)
    }
}

/// A `transformer` plugin.
pub struct TransformerPlugin {
    /// Shared plugin data.
    pub base: PluginBase,
    pre: TransformerPre<PluginCtx>,
}

impl TransformerPlugin {
    /// Links `parts` against the transformer world.
    pub fn new(engine: &PluginEngine, parts: PluginParts) -> wasmtime::Result<Self> {
        let (base, component) = parts.into_base(engine);
        let pre = TransformerPre::new(engine.transformer_linker().instantiate_pre(&component)?)?;
        Ok(Self { base, pre })
    }

    /// Runs the transform on `event`.
    pub async fn transform(
        &self,
        event: &types::Event,
    ) -> Result<types::TransformOutcome, PluginError> {
        let started = Instant::now();
        let _slot = self.base.slot().await?;
        let mut store = self.base.store();
        let result = tokio::time::timeout(self.base.budget(), async {
            let instance = self.pre.instantiate_async(&mut store).await?;
            instance.call_transform(&mut store, event).await
        })
        .instrument(self.base.span("transform"))
        .await;
        let outcome = self.base.finish("transform", started, result, &store)?;
        if let types::TransformOutcome::Keep(e) = &outcome {
            self.base.check_output(e.payload.len())?;
        }
        Ok(outcome)
    }
}

/// A `channel` plugin: the `channel` world, or `versus:mail/email-channel`
/// for a channel that sends mail.
pub struct ChannelPlugin {
    /// Shared plugin data.
    pub base: PluginBase,
    pre: ChannelWorld,
}

/// The world a channel plugin was linked against.
enum ChannelWorld {
    Chat(ChannelPre<PluginCtx>),
    Email(EmailChannelPre<PluginCtx>),
}

impl ChannelPlugin {
    /// Links `parts` against the channel world.
    pub fn new(engine: &PluginEngine, parts: PluginParts) -> wasmtime::Result<Self> {
        let (base, component) = parts.into_base(engine);
        let pre = ChannelPre::new(engine.channel_linker().instantiate_pre(&component)?)?;
        Ok(Self {
            base,
            pre: ChannelWorld::Chat(pre),
        })
    }

    /// Links `parts` against `versus:mail/email-channel`, which adds the
    /// `smtp` import to the channel world.
    pub fn new_email(engine: &PluginEngine, parts: PluginParts) -> wasmtime::Result<Self> {
        let (base, component) = parts.into_base(engine);
        let pre = EmailChannelPre::new(engine.email_channel_linker().instantiate_pre(&component)?)?;
        Ok(Self {
            base,
            pre: ChannelWorld::Email(pre),
        })
    }

    /// Delivers `message` for `event`.
    pub async fn deliver(
        &self,
        message: &str,
        event: &types::Event,
        config_json: &str,
    ) -> Result<types::Receipt, PluginError> {
        let started = Instant::now();
        let _slot = self.base.slot().await?;
        let mut store = self.base.store();
        let result = tokio::time::timeout(self.base.budget(), async {
            match &self.pre {
                ChannelWorld::Chat(pre) => {
                    let instance = pre.instantiate_async(&mut store).await?;
                    instance
                        .call_deliver(&mut store, message, event, config_json)
                        .await
                }
                ChannelWorld::Email(pre) => {
                    let instance = pre.instantiate_async(&mut store).await?;
                    instance
                        .call_deliver(&mut store, message, event, config_json)
                        .await
                }
            }
        })
        .instrument(self.base.span("deliver"))
        .await;
        let receipt = self.base.finish("deliver", started, result, &store)?;
        self.base
            .check_output(receipt.destination.len() + receipt.message_id.len())?;
        Ok(receipt)
    }

    /// Shows `change` on a message delivered earlier.
    pub async fn update(
        &self,
        receipt: &types::Receipt,
        change: types::StatusChange,
        message: &str,
        event: &types::Event,
        config_json: &str,
    ) -> Result<(), PluginError> {
        let started = Instant::now();
        let _slot = self.base.slot().await?;
        let mut store = self.base.store();
        let result = tokio::time::timeout(self.base.budget(), async {
            match &self.pre {
                ChannelWorld::Chat(pre) => {
                    let instance = pre.instantiate_async(&mut store).await?;
                    instance
                        .call_update(&mut store, receipt, change, message, event, config_json)
                        .await
                }
                ChannelWorld::Email(pre) => {
                    let instance = pre.instantiate_async(&mut store).await?;
                    instance
                        .call_update(&mut store, receipt, change, message, event, config_json)
                        .await
                }
            }
        })
        .instrument(self.base.span("update"))
        .await;
        self.base.finish("update", started, result, &store)
    }
}
