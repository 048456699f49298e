//! The Wasmtime engine: configuration (pooling allocator, epochs), the epoch
//! ticker, and the linkers for each plugin world.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::Thread;
use std::time::Duration;

use wasmtime::component::{HasSelf, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use super::bindings::{ChannelV2, EmailChannelV2, Escalator, Renderer, Transformer};
use super::ctx::PluginCtx;

/// How often the epoch advances while a plugin call runs. Deadlines are
/// whole ticks, so this is the precision of the per-call timeout.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// How long the idle epoch thread sleeps between checks that the engine
/// still exists (a call wakes it at once).
const IDLE_PARK: Duration = Duration::from_secs(1);

/// Set to `1` to write a perf map of every plugin's compiled code, so that
/// `perf record` / `perf report` name the guest functions a profile spends
/// its time in (docs/plugins.md, "Profiling a plugin").
pub const PERF_MAP_ENV: &str = "VERSUS_PERF_MAP";

/// Largest linear memory any plugin may be configured for. Sizes the pooling
/// allocator's slots; per-plugin caps are enforced below it by `MemoryCap`.
pub const MAX_PLUGIN_MEMORY: usize = 512 << 20;

/// Plugin calls that can run at once, each on an instance of its own; 1000
/// covers a burst of concurrent alerts times channels on a small box. A
/// call beyond it waits for a free slot (see [`PluginEngine::slot`]).
const POOL_INSTANCES: u32 = 1000;

/// Instances kept warm between calls, engine-wide, on top of the in-flight
/// ones (see `warm`). Each plugin keeps at most `warm::IDLE_PER_PLUGIN`.
const IDLE_INSTANCES: u32 = 256;

/// A configured engine plus the linkers built from it. Cheap to clone.
#[derive(Clone)]
pub struct PluginEngine {
    inner: Arc<Inner>,
}

struct Inner {
    engine: Engine,
    ticker: Arc<Ticker>,
    /// One permit per instance in a call.
    slots: Arc<tokio::sync::Semaphore>,
    /// Instances kept warm between calls, engine-wide.
    idle: Arc<AtomicUsize>,
    renderer: Linker<PluginCtx>,
    transformer: Linker<PluginCtx>,
    channel: Linker<PluginCtx>,
    email_channel: Linker<PluginCtx>,
    escalator: Linker<PluginCtx>,
}

impl PluginEngine {
    /// Builds the engine and starts the epoch ticker thread.
    pub fn new() -> anyhow::Result<Self> {
        Self::with_instances(POOL_INSTANCES)
    }

    /// [`Self::new`] with room for `instances` calls at once, plus the warm
    /// instances (tests use a small pool to show that calls queue for a
    /// slot).
    pub fn with_instances(instances: u32) -> anyhow::Result<Self> {
        let engine = Engine::new(&engine_config(instances + IDLE_INSTANCES))?;
        let ticker = start_ticker(&engine);
        Ok(Self {
            inner: Arc::new(Inner {
                ticker,
                slots: Arc::new(tokio::sync::Semaphore::new(instances as usize)),
                idle: Arc::new(AtomicUsize::new(0)),
                renderer: renderer_linker(&engine)?,
                transformer: transformer_linker(&engine)?,
                channel: channel_linker(&engine)?,
                email_channel: email_channel_linker(&engine)?,
                escalator: escalator_linker(&engine)?,
                engine,
            }),
        })
    }

    /// The Wasmtime engine.
    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    /// Waits up to `wait` for a free call slot, so that a burst of calls
    /// beyond the pool queues instead of failing to instantiate. Hold the
    /// permit until the call's instance is dropped or parked.
    pub async fn slot(&self, wait: Duration) -> Option<tokio::sync::OwnedSemaphorePermit> {
        // A free permit is taken at once: `timeout` polls the acquire before
        // its timer.
        let acquire = self.inner.slots.clone().acquire_owned();
        tokio::time::timeout(wait, acquire).await.ok()?.ok()
    }

    /// Room for one more warm instance, if the engine-wide cap allows it.
    /// The instance keeps the token while it waits for its next call.
    pub fn idle_token(&self) -> Option<IdleToken> {
        let idle = &self.inner.idle;
        idle.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
            (n < IDLE_INSTANCES as usize).then_some(n + 1)
        })
        .ok()?;
        Some(IdleToken(idle.clone()))
    }

    /// Marks a plugin call as running until the guard is dropped: the epoch
    /// only advances (and deadlines only fire) while one runs, so an idle
    /// gateway does not wake up 100 times a second.
    pub fn busy(&self) -> Busy {
        let ticker = &self.inner.ticker;
        if ticker.active.fetch_add(1, Ordering::AcqRel) == 0
            && let Some(thread) = ticker.thread.get()
        {
            thread.unpark();
        }
        Busy(ticker.clone())
    }

    /// Linker for the `renderer` world.
    pub fn renderer_linker(&self) -> &Linker<PluginCtx> {
        &self.inner.renderer
    }

    /// Linker for the `transformer` world.
    pub fn transformer_linker(&self) -> &Linker<PluginCtx> {
        &self.inner.transformer
    }

    /// Linker for the `channel` world, either version.
    pub fn channel_linker(&self) -> &Linker<PluginCtx> {
        &self.inner.channel
    }

    /// Linker for `versus:mail/email-channel`: the channel imports plus `smtp`.
    pub fn email_channel_linker(&self) -> &Linker<PluginCtx> {
        &self.inner.email_channel
    }

    /// Linker for `versus:oncall/escalator`.
    pub fn escalator_linker(&self) -> &Linker<PluginCtx> {
        &self.inner.escalator
    }
}

fn engine_config(instances: u32) -> Config {
    let mut pool = PoolingAllocationConfig::new();
    pool.total_component_instances(instances)
        .total_core_instances(instances * 4)
        .total_memories(instances)
        .total_tables(instances * 4)
        .total_stacks(instances)
        .max_memory_size(MAX_PLUGIN_MEMORY)
        // Keep the first pages of each slot resident and reset them with
        // memset instead of madvise: measured to cut a render call from
        // ~100 µs to ~70 µs.
        .linear_memory_keep_resident(1 << 20)
        .table_keep_resident(64 << 10)
        .async_stack_keep_resident(64 << 10)
        .pagemap_scan(wasmtime::Enabled::Auto);

    let mut config = Config::new();
    config
        .wasm_component_model(true)
        .epoch_interruption(true)
        .allocation_strategy(InstanceAllocationStrategy::Pooling(pool))
        // Keep Wasmtime's default 4 GiB reservation + guard per memory: with
        // it, 32-bit loads and stores need no explicit bounds checks. With a 512
        // MiB reservation a render measured 170 µs instead of 147 µs. The cost is virtual
        // address space only (POOL_INSTANCES × ~4 GiB, of 128 TiB).
        .max_wasm_stack(1 << 20)
        .async_stack_size(2 << 20);
    if std::env::var_os(PERF_MAP_ENV).is_some_and(|v| v == "1") {
        // Names guest functions in `perf report`: Wasmtime writes
        // /tmp/perf-<pid>.map as it loads each plugin's code.
        config.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    config
}

/// Plugin calls in flight, and the epoch thread to wake when one starts.
#[derive(Default)]
struct Ticker {
    active: AtomicUsize,
    thread: OnceLock<Thread>,
}

/// One warm instance's place under the engine-wide cap; see
/// [`PluginEngine::idle_token`].
pub struct IdleToken(Arc<AtomicUsize>);

impl Drop for IdleToken {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// One running plugin call; see [`PluginEngine::busy`].
pub struct Busy(Arc<Ticker>);

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::AcqRel);
    }
}

/// Advances the engine's epoch every [`EPOCH_TICK`] while a call runs, on a
/// plain thread, so deadlines fire even when every tokio worker is busy
/// running a guest. With no call running the thread parks.
fn start_ticker(engine: &Engine) -> Arc<Ticker> {
    let ticker = Arc::new(Ticker::default());
    let weak = engine.weak();
    let state = ticker.clone();
    let spawned = std::thread::Builder::new()
        .name("versus-epoch".into())
        .spawn(move || {
            while let Some(engine) = weak.upgrade() {
                if state.active.load(Ordering::Acquire) == 0 {
                    drop(engine);
                    // An unpark between the check and here is not lost: it
                    // makes this return at once.
                    std::thread::park_timeout(IDLE_PARK);
                    continue;
                }
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        });
    match spawned {
        Ok(handle) => {
            let _ = ticker.thread.set(handle.thread().clone());
        }
        Err(e) => {
            tracing::error!(error = %e, "cannot start the epoch thread: plugin timeouts will not fire");
        }
    }
    ticker
}

fn base_linker(engine: &Engine) -> anyhow::Result<Linker<PluginCtx>> {
    let mut linker = Linker::new(engine);
    wasmtime_wasi::p2::add_to_linker_async(&mut linker)?;
    Ok(linker)
}

fn renderer_linker(engine: &Engine) -> anyhow::Result<Linker<PluginCtx>> {
    let mut linker = base_linker(engine)?;
    Renderer::add_to_linker::<_, HasSelf<PluginCtx>>(&mut linker, |c| c)?;
    Ok(linker)
}

fn transformer_linker(engine: &Engine) -> anyhow::Result<Linker<PluginCtx>> {
    let mut linker = base_linker(engine)?;
    Transformer::add_to_linker::<_, HasSelf<PluginCtx>>(&mut linker, |c| c)?;
    Ok(linker)
}

/// Serves channels of `versus:gateway@0.1.0` and `@0.2.0` alike: 0.2.0
/// imports all of 0.1.0's interfaces, plus a types-only one.
fn channel_linker(engine: &Engine) -> anyhow::Result<Linker<PluginCtx>> {
    let mut linker = base_linker(engine)?;
    ChannelV2::add_to_linker::<_, HasSelf<PluginCtx>>(&mut linker, |c| c)?;
    Ok(linker)
}

/// The email channel's linker serves `versus:mail@0.1.0` and `@0.2.0` alike:
/// 0.2.0 imports all of 0.1.0's interfaces, plus a types-only one.
fn email_channel_linker(engine: &Engine) -> anyhow::Result<Linker<PluginCtx>> {
    let mut linker = base_linker(engine)?;
    EmailChannelV2::add_to_linker::<_, HasSelf<PluginCtx>>(&mut linker, |c| c)?;
    Ok(linker)
}

/// An escalator imports `log` and `http` of `versus:gateway@0.1.0`.
fn escalator_linker(engine: &Engine) -> anyhow::Result<Linker<PluginCtx>> {
    let mut linker = base_linker(engine)?;
    Escalator::add_to_linker::<_, HasSelf<PluginCtx>>(&mut linker, |c| c)?;
    Ok(linker)
}
