//! The file watcher: reloads when a file the pipeline reads changes, and
//! only then.
//!
//! Strategy: watch folders, not files, so that rename and symlink swaps
//! are seen. An event counts only if it names a file the pipeline reads
//! (or a ConfigMap `..data` swap), see [`sources::relevant`]. After a
//! short quiet spell, bounded so that steady writes to the same folders
//! cannot hold it off, the files are read and hashed; the pipeline is
//! rebuilt only if their content differs from what the last reload read.

use std::collections::{BTreeSet, HashSet};
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use notify::{RecursiveMode, Watcher};
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::Reloader;
use super::sources::{self, Sources};

/// Quiet time after the last relevant event before the files are read:
/// an editor's save or a ConfigMap update is a burst of events within a
/// few milliseconds.
const QUIET: Duration = Duration::from_millis(100);

/// Longest wait from the first relevant event to the read, however many
/// events follow: a change is serving within about 1 s of the write, with
/// room left for compiling a changed plugin.
const MAX_DELAY: Duration = Duration::from_millis(400);

impl Reloader {
    /// Starts the file watcher; it lives as long as the runtime. The
    /// folders and file names it watches follow the config after each
    /// check.
    pub fn watch(self: &Arc<Self>) -> notify::Result<()> {
        let names: Arc<RwLock<HashSet<OsString>>> = Arc::default();
        let (tx, mut rx) = mpsc::unbounded_channel::<()>();
        let filter = names.clone();
        let watcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
            let Ok(e) = event else { return };
            if e.kind.is_access() {
                return;
            }
            let names = filter.read().unwrap_or_else(PoisonError::into_inner);
            if e.paths.iter().any(|p| sources::relevant(p, &names)) {
                let _ = tx.send(());
            }
        })?;
        let mut watched = Watched {
            watcher,
            names,
            dirs: BTreeSet::new(),
        };
        watched.follow(&self.sources());
        let this = Arc::clone(self);
        tokio::spawn(async move {
            while rx.recv().await.is_some() {
                if !settle(&mut rx).await {
                    return;
                }
                while rx.try_recv().is_ok() {}
                let Ok(now) = this.read_sources().await else {
                    return;
                };
                if now == this.sources() {
                    tracing::debug!("watched files touched but unchanged; not reloading");
                } else {
                    tracing::info!("plugin, template or config files changed; reloading");
                    let _ = this.reload_from(now).await;
                }
                watched.follow(&this.sources());
            }
        });
        Ok(())
    }
}

/// Waits until no relevant event has come for [`QUIET`], or [`MAX_DELAY`]
/// has passed since the first one. `false` when the watcher is gone.
async fn settle(rx: &mut mpsc::UnboundedReceiver<()>) -> bool {
    let deadline = Instant::now() + MAX_DELAY;
    loop {
        let wake = (Instant::now() + QUIET).min(deadline);
        match tokio::time::timeout_at(wake, rx.recv()).await {
            Ok(Some(())) if Instant::now() < deadline => {}
            Ok(Some(())) | Err(_) => return true,
            Ok(None) => return false,
        }
    }
}

/// The watcher and what it watches.
struct Watched {
    watcher: notify::RecommendedWatcher,
    names: Arc<RwLock<HashSet<OsString>>>,
    dirs: BTreeSet<PathBuf>,
}

impl Watched {
    /// Watches exactly the folders and names of `sources`.
    fn follow(&mut self, sources: &Sources) {
        *self.names.write().unwrap_or_else(PoisonError::into_inner) = sources.names();
        let wanted = sources.dirs();
        for gone in self.dirs.difference(&wanted) {
            // A folder that was removed is no longer watched anyway.
            let _ = self.watcher.unwatch(gone);
        }
        let mut now = BTreeSet::new();
        for dir in wanted {
            if self.dirs.contains(&dir) {
                now.insert(dir);
                continue;
            }
            match self.watcher.watch(&dir, RecursiveMode::NonRecursive) {
                Ok(()) => {
                    tracing::debug!(dir = %dir.display(), "watching for changes");
                    now.insert(dir);
                }
                Err(e) => tracing::warn!(
                    dir = %dir.display(),
                    error = %e,
                    "cannot watch directory; hot reload will not see it"
                ),
            }
        }
        self.dirs = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn steady_events_cannot_hold_a_reload_off() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let sender = tokio::spawn(async move {
            loop {
                if tx.send(()).is_err() {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        });
        let start = Instant::now();
        assert!(settle(&mut rx).await);
        assert_eq!(start.elapsed(), MAX_DELAY);
        sender.abort();
    }

    #[tokio::test(start_paused = true)]
    async fn a_burst_settles_after_the_quiet_spell() {
        let (tx, mut rx) = mpsc::unbounded_channel();
        for _ in 0..3 {
            tx.send(()).expect("send");
        }
        let start = Instant::now();
        assert!(settle(&mut rx).await);
        assert_eq!(start.elapsed(), QUIET);
        drop(tx);
        assert!(!settle(&mut rx).await);
    }
}
