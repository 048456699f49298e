//! Hot reload: a debounced file watcher and SIGHUP both call
//! [`Reloader::reload`], which builds a complete new pipeline off the request
//! path and swaps it in atomically. If anything fails to load, the current
//! pipeline keeps serving and the error is logged and counted.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use arc_swap::ArcSwap;
use notify::{RecursiveMode, Watcher};
use tokio::sync::{Mutex, mpsc};

use super::{LoadError, Loader, Pipeline};
use crate::config::Config;

/// Quiet time after the last file event before reloading: editors and
/// ConfigMap updates touch several files in a burst.
const DEBOUNCE: Duration = Duration::from_millis(150);

/// Reload counters.
#[derive(Debug, Default)]
pub struct ReloadStats {
    /// Successful reloads.
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
    /// One reload at a time, so swaps happen in order.
    lock: Mutex<()>,
    /// Counters.
    pub stats: ReloadStats,
}

impl Reloader {
    /// Loads the config and the first pipeline; fails if either is broken.
    pub async fn start(config_path: PathBuf, loader: Arc<Loader>) -> Result<Arc<Self>, LoadError> {
        let config = Config::load(&config_path)?;
        let pipeline = loader.build(&config, 1).await?;
        tracing::info!("{}", pipeline.describe());
        Ok(Arc::new(Self {
            config_path,
            loader,
            current: ArcSwap::from_pointee(pipeline),
            config: ArcSwap::from_pointee(config),
            lock: Mutex::new(()),
            stats: ReloadStats::default(),
        }))
    }

    /// The pipeline to use for a new request.
    pub fn pipeline(&self) -> Arc<Pipeline> {
        self.current.load_full()
    }

    /// The config the current pipeline was built from.
    pub fn config(&self) -> Arc<Config> {
        self.config.load_full()
    }

    /// Re-reads the config, plugins and templates and swaps them in.
    pub async fn reload(&self) -> Result<u64, LoadError> {
        let _one_at_a_time = self.lock.lock().await;
        let next_generation = self.current.load().generation + 1;
        let result = async {
            let config = Config::load(&self.config_path)?;
            let pipeline = self.loader.build(&config, next_generation).await?;
            Ok::<_, LoadError>((config, pipeline))
        }
        .await;
        match result {
            Ok((config, pipeline)) => {
                tracing::info!("reloaded: {}", pipeline.describe());
                self.config.store(Arc::new(config));
                self.current.store(Arc::new(pipeline));
                self.stats.succeeded.fetch_add(1, Ordering::Relaxed);
                count_reload("ok");
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

    /// Directories whose changes trigger a reload: the config file's, the
    /// plugin directory and every template's. Directories, not files, so that
    /// rename and symlink swaps are seen.
    fn watch_dirs(&self) -> HashSet<PathBuf> {
        let config = self.config();
        let mut dirs = HashSet::new();
        dirs.insert(parent_dir(&self.config_path));
        if let Some(d) = &config.plugins.dir {
            dirs.insert(d.clone());
        }
        for c in config.channels() {
            dirs.insert(parent_dir(&c.template_path));
        }
        dirs
    }

    /// Starts the file watcher; it lives as long as the runtime. After each
    /// reload it also watches directories the new config added.
    pub fn watch(self: &Arc<Self>) -> notify::Result<()> {
        let (tx, mut rx) = mpsc::unbounded_channel::<()>();
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                if let Ok(e) = event
                    && !e.kind.is_access()
                    && e.paths.iter().any(|p| relevant(p))
                {
                    let _ = tx.send(());
                }
            })?;
        let mut watched = HashSet::new();
        for dir in self.watch_dirs() {
            watch_dir(&mut watcher, &dir, &mut watched);
        }
        let this = Arc::clone(self);
        tokio::spawn(async move {
            while rx.recv().await.is_some() {
                // Debounce: wait until the burst of events is over.
                while let Ok(Some(())) = tokio::time::timeout(DEBOUNCE, rx.recv()).await {}
                tracing::info!("plugin, template or config files changed; reloading");
                if this.reload().await.is_ok() {
                    for dir in this.watch_dirs() {
                        watch_dir(&mut watcher, &dir, &mut watched);
                    }
                }
            }
        });
        Ok(())
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

fn watch_dir(watcher: &mut notify::RecommendedWatcher, dir: &Path, watched: &mut HashSet<PathBuf>) {
    if watched.contains(dir) {
        return;
    }
    match watcher.watch(dir, RecursiveMode::NonRecursive) {
        Ok(()) => {
            tracing::debug!(dir = %dir.display(), "watching for changes");
            watched.insert(dir.to_path_buf());
        }
        Err(e) => {
            tracing::warn!(dir = %dir.display(), error = %e, "cannot watch directory; hot reload will not see it")
        }
    }
}

fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn count_reload(outcome: &'static str) {
    crate::metrics::get()
        .reloads
        .get_or_create(&crate::metrics::ReloadLabels { outcome })
        .inc();
}

/// Ignores files that never affect the pipeline (cache artifacts, our own
/// temporary files, editor swap files) so they cannot cause reload loops.
/// Note `.tmpl` templates must not be mistaken for `.tmp` files.
fn relevant(path: &Path) -> bool {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy())
        .unwrap_or_default();
    let ext = path
        .extension()
        .map(|e| e.to_string_lossy())
        .unwrap_or_default();
    let temp_ext = ext
        .strip_prefix("tmp")
        .is_some_and(|rest| rest.chars().all(|c| c.is_ascii_digit()));
    !(ext == "cwasm" || temp_ext || name.ends_with('~') || ext == "swp" || ext == "swx")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_count_and_temporary_files_do_not() {
        for keep in [
            "msg.tmpl",
            "config.yaml",
            "custom.wasm",
            "slack_message.tmpl",
        ] {
            assert!(relevant(Path::new(keep)), "{keep}");
        }
        for skip in [
            "x.cwasm",
            "x.tmp",
            "x.tmp1234",
            "config.yaml~",
            ".msg.tmpl.swp",
        ] {
            assert!(!relevant(Path::new(skip)), "{skip}");
        }
    }
}
