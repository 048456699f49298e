//! Loaded plugins, one type per world, and the sandboxed call path: an
//! instance from the plugin's warm pool or a fresh one from its cached
//! `*Pre`, a memory cap, a wall-clock deadline and an output cap. Whatever
//! the guest does, the caller gets a `PluginError` for that call, and an
//! instance that trapped, timed out or hit its memory cap is dropped, so
//! the next call starts on a fresh one (see `warm`).

use std::sync::Arc;
use std::time::{Duration, Instant};

use tracing::Instrument;
use wasmtime::component::Component;
use wasmtime::{Store, Trap, UpdateDeadline};

use super::bindings::{Renderer, RendererPre, Transformer, TransformerPre, types};
use super::ctx::PluginCtx;
use super::engine::{Busy, PluginEngine};
use super::outbound::HttpPolicy;
use super::smtp::SmtpSender;
use super::warm::{Instance, Warm};
use crate::config::PluginLimits;

pub use super::error::PluginError;
pub use channel::ChannelPlugin;
pub use escalator::EscalatorPlugin;

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

/// An instance lent to one call. Fields drop in order: the store before
/// the epoch guard and the slot.
struct Lease<I> {
    instance: Instance<I>,
    _busy: Busy,
    _slot: tokio::sync::OwnedSemaphorePermit,
}

/// Whether a call ended normally, with a value or a plugin error.
fn ended<R>(result: &CallResult<R>) -> bool {
    matches!(result, Ok(Ok(_)))
}

/// One call of `$plugin` (a plugin type with `base`, `warm` and an
/// `instantiate` method): leases an instance, instantiates it if it is new,
/// evaluates `$call` with the instance as `$i` and its store as `$store`
/// within the call's budget, then reports the result and releases the
/// instance. Evaluates to the call's `Result<_, PluginError>`.
macro_rules! call {
    ($plugin:ident, $op:literal, |$i:ident, $store:ident| $call:expr) => {{
        let started = Instant::now();
        let mut lease = $plugin.base.lease(&$plugin.warm).await?;
        let Instance {
            store: $store,
            bound,
            ..
        } = &mut lease.instance;
        let result = tokio::time::timeout($plugin.base.budget(), async {
            let $i = match bound.take() {
                Some(i) => i,
                None => $plugin.instantiate($store).await?,
            };
            let result = $call;
            *bound = Some($i);
            result
        })
        .instrument($plugin.base.span($op))
        .await;
        let ended = $crate::pipeline::plugin::ended(&result);
        let value = $plugin.base.finish($op, started, result, $store);
        $plugin.base.release(&$plugin.warm, lease, ended);
        value
    }};
}

// Declared after `call!`, which they use.
mod channel;
mod escalator;

impl PluginBase {
    /// An instance for one call: a parked one, or a new store. Waits for a
    /// free slot first, up to the call's time limit.
    async fn lease<I>(&self, warm: &Warm<I>) -> Result<Lease<I>, PluginError> {
        let slot = self.slot().await?;
        let busy = self.engine.busy();
        let mut instance = warm.take().unwrap_or_else(|| Instance::new(self.store()));
        self.arm(&mut instance.store);
        Ok(Lease {
            instance,
            _busy: busy,
            _slot: slot,
        })
    }

    /// Ends a call: parks its instance for the next one when it ended
    /// normally and may serve again, drops it otherwise.
    fn release<I>(&self, warm: &Warm<I>, lease: Lease<I>, ended: bool) {
        let mut instance = lease.instance;
        instance.calls += 1;
        if instance.reusable(ended, self.limits.calls_per_instance) {
            warm.park(instance, self.engine.idle_token());
        }
    }

    /// A free instance slot, waiting for one up to the call's time limit.
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
        );
        let mut store = Store::new(self.engine.engine(), ctx);
        store.limiter(|c| &mut c.limiter);
        store
    }

    /// Sets up `store` for one call: a fresh wall-clock deadline and a
    /// cleared memory-limit flag.
    fn arm(&self, store: &mut Store<PluginCtx>) {
        store.data_mut().limiter.hit = false;
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
    warm: Warm<Renderer>,
}

impl RendererPlugin {
    /// Links `parts` against the renderer world; fails if the component does
    /// not match it.
    pub fn new(engine: &PluginEngine, parts: PluginParts) -> wasmtime::Result<Self> {
        let (base, component) = parts.into_base(engine);
        let pre = RendererPre::new(engine.renderer_linker().instantiate_pre(&component)?)?;
        Ok(Self {
            base,
            pre,
            warm: Warm::default(),
        })
    }

    async fn instantiate(&self, store: &mut Store<PluginCtx>) -> wasmtime::Result<Renderer> {
        self.pre.instantiate_async(store).await
    }

    /// Renders `template` with `data_json`.
    pub async fn render(&self, template: &str, data_json: &str) -> Result<String, PluginError> {
        let text = call!(self, "render", |r, store| {
            r.call_render(&mut *store, template, data_json).await
        })?;
        self.base.check_output(text.len())?;
        Ok(text)
    }

    /// Checks that `template` parses.
    pub async fn validate(&self, template: &str) -> Result<(), PluginError> {
        call!(self, "validate", |r, store| {
            r.call_validate(&mut *store, template).await
        })
    }

    /// Instances parked for the next call.
    pub fn parked(&self) -> usize {
        self.warm.parked()
    }
}

/// A `transformer` plugin.
pub struct TransformerPlugin {
    /// Shared plugin data.
    pub base: PluginBase,
    pre: TransformerPre<PluginCtx>,
    warm: Warm<Transformer>,
}

impl TransformerPlugin {
    /// Links `parts` against the transformer world.
    pub fn new(engine: &PluginEngine, parts: PluginParts) -> wasmtime::Result<Self> {
        let (base, component) = parts.into_base(engine);
        let pre = TransformerPre::new(engine.transformer_linker().instantiate_pre(&component)?)?;
        Ok(Self {
            base,
            pre,
            warm: Warm::default(),
        })
    }

    async fn instantiate(&self, store: &mut Store<PluginCtx>) -> wasmtime::Result<Transformer> {
        self.pre.instantiate_async(store).await
    }

    /// Runs the transform on `event`.
    pub async fn transform(
        &self,
        event: &types::Event,
    ) -> Result<types::TransformOutcome, PluginError> {
        let outcome = call!(self, "transform", |t, store| {
            t.call_transform(&mut *store, event).await
        })?;
        if let types::TransformOutcome::Keep(e) = &outcome {
            self.base.check_output(e.payload.len())?;
        }
        Ok(outcome)
    }
}
