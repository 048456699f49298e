//! Hot reload: the file watcher ([`watch`]) and SIGHUP both call
//! [`Reloader::reload`], which builds a complete new pipeline off the
//! request path and swaps it in atomically. If anything fails to load, the
//! current pipeline keeps serving and the error is logged and counted.
//! Settings read only at startup keep their running value; a reload that
//! changes one names it (see [`crate::config::restart_needed`]).

mod sources;
mod watch;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError};

use arc_swap::ArcSwap;
use tokio::sync::Mutex;

pub use sources::Sources;

use super::{LoadError, Loader, Pipeline};
use crate::config::{Config, keep_startup_settings, restart_needed};

/// Reload counters.
#[derive(Debug, Default)]
pub struct ReloadStats {
    /// Successful reloads (with or without settings that need a restart).
    pub succeeded: AtomicU64,
    /// Rejected reloads (the old pipeline kept serving).
    pub failed: AtomicU64,
}

/// Owns the current pipeline and replaces it on reload.
pub struct Reloader {
    config_path: PathBuf,
    loader: Arc<Loader>,
    current: ArcSwap<Pipeline>,
    config: ArcSwap<Config>,
    /// The config the process started with: the source of the settings
    /// read only at startup.
    startup: Arc<Config>,
    /// What the files held when the last reload (or the start) read them.
    sources: std::sync::Mutex<Sources>,
    /// Startup-only keys whose file value differs from the running one.
    restart_keys: std::sync::Mutex<Vec<String>>,
    /// One reload at a time, so swaps happen in order.
    lock: Mutex<()>,
    /// Counters.
    pub stats: ReloadStats,
}

impl Reloader {
    /// Loads the config and the first pipeline; fails if either is broken.
    pub async fn start(config_path: PathBuf, loader: Arc<Loader>) -> Result<Arc<Self>, LoadError> {
        let config = crate::logging::load_config(&config_path)?;
        Self::start_with(config_path, config, loader).await
    }

    /// [`Reloader::start`] with the config already loaded from
    /// `config_path` (its warnings already reported).
    pub async fn start_with(
        config_path: PathBuf,
        config: Config,
        loader: Arc<Loader>,
    ) -> Result<Arc<Self>, LoadError> {
        let sources = Sources::read(&config_path);
        let pipeline = loader.build(&config, 1).await?;
        tracing::info!("{}", pipeline.describe());
        let config = Arc::new(config);
        Ok(Arc::new(Self {
            config_path,
            loader,
            current: ArcSwap::from_pointee(pipeline),
            config: ArcSwap::new(config.clone()),
            startup: config,
            sources: std::sync::Mutex::new(sources),
            restart_keys: std::sync::Mutex::default(),
            lock: Mutex::new(()),
            stats: ReloadStats::default(),
        }))
    }

    /// The pipeline to use for a new request.
    pub fn pipeline(&self) -> Arc<Pipeline> {
        self.current.load_full()
    }

    /// The config in effect: the file's as of the last successful reload,
    /// with the startup-only settings the process started with.
    pub fn config(&self) -> Arc<Config> {
        self.config.load_full()
    }

    /// What the files held when the last reload read them.
    fn sources(&self) -> Sources {
        self.sources
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The startup-only settings changed in the file since the start, as
    /// of the last successful reload: they take effect after a restart.
    pub fn restart_required(&self) -> Vec<String> {
        self.restart_keys
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Re-reads the config, plugins and templates and swaps them in.
    pub async fn reload(&self) -> Result<u64, LoadError> {
        let sources = self.read_sources().await?;
        self.reload_from(sources).await
    }

    /// What the files hold now (read off the async threads).
    async fn read_sources(&self) -> Result<Sources, LoadError> {
        let path = self.config_path.clone();
        tokio::task::spawn_blocking(move || Sources::read(&path))
            .await
            .map_err(|_| LoadError::Interrupted)
    }

    /// [`Reloader::reload`] with `sources` read just before: they must be
    /// read before the files are loaded, so that a change after that point
    /// is always seen as a difference by the watcher's next check.
    async fn reload_from(&self, sources: Sources) -> Result<u64, LoadError> {
        let _one_at_a_time = self.lock.lock().await;
        let next_generation = self.current.load().generation + 1;
        *self.sources.lock().unwrap_or_else(PoisonError::into_inner) = sources;
        let result = async {
            let config = crate::logging::load_config(&self.config_path)?;
            let pipeline = self.loader.build(&config, next_generation).await?;
            Ok::<_, LoadError>((config, pipeline))
        }
        .await;
        match result {
            Ok((config, pipeline)) => {
                let restart = restart_needed(&self.startup, &config);
                self.config
                    .store(Arc::new(keep_startup_settings(&self.startup, config)));
                let described = pipeline.describe();
                self.current.store(Arc::new(pipeline));
                self.stats.succeeded.fetch_add(1, Ordering::Relaxed);
                self.set_restart_required(restart.clone());
                if restart.is_empty() {
                    tracing::info!("reloaded: {described}");
                    count_reload("ok");
                } else {
                    tracing::warn!(
                        restart_required = %restart.join(", "),
                        "reloaded: {described}; but these settings are read only at startup and keep their running value until a restart: {}",
                        restart.join(", ")
                    );
                    count_reload("restart_required");
                }
                Ok(next_generation)
            }
            Err(e) => {
                self.stats.failed.fetch_add(1, Ordering::Relaxed);
                count_reload("failed");
                tracing::error!(error = %e, "reload rejected; the previous pipeline keeps serving");
                Err(e)
            }
        }
    }

    /// Records the keys that need a restart, in the log's state and in
    /// `versus_restart_required`.
    fn set_restart_required(&self, keys: Vec<String>) {
        let gauge = &crate::metrics::get().restart_required;
        let mut current = self
            .restart_keys
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        for key in current.iter().filter(|k| !keys.contains(k)) {
            gauge
                .get_or_create(&crate::metrics::SettingLabels { key: key.clone() })
                .set(0);
        }
        for key in &keys {
            gauge
                .get_or_create(&crate::metrics::SettingLabels { key: key.clone() })
                .set(1);
        }
        *current = keys;
    }

    /// Reloads on every SIGHUP.
    pub fn reload_on_sighup(self: &Arc<Self>) -> std::io::Result<()> {
        let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
        let this = Arc::clone(self);
        tokio::spawn(async move {
            while hup.recv().await.is_some() {
                tracing::info!("SIGHUP received; reloading");
                let _ = this.reload().await;
            }
        });
        Ok(())
    }
}

fn count_reload(outcome: &'static str) {
    crate::metrics::get()
        .reloads
        .get_or_create(&crate::metrics::ReloadLabels { outcome })
        .inc();
}
