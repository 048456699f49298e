//! Compiled-component cache: in memory for reloads, on disk for restarts.
//!
//! Strategy: the key is SHA-256 over the wasm bytes, the Wasmtime version
//! and the engine's compatibility hash (which covers its configuration and
//! target), so an artifact from another version or config is simply never
//! looked up. The file also carries a checksum of the artifact; anything
//! that fails the checksum or Wasmtime's own checks is ignored and rebuilt.

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use sha2::{Digest, Sha256};
use wasmtime::Engine;
use wasmtime::component::Component;

/// Magic at the start of a cache file, so foreign files are rejected early.
const MAGIC: &[u8; 8] = b"VERSUS01";

/// Counts of where components came from, for `versus check` and tests.
#[derive(Debug, Default)]
pub struct CacheStats {
    /// Served from this process's memory.
    pub memory_hits: AtomicU64,
    /// Loaded from a file on disk.
    pub disk_hits: AtomicU64,
    /// Compiled from wasm.
    pub compiled: AtomicU64,
    /// Cache files that were present but unusable.
    pub rejected: AtomicU64,
}

/// Compiles components, or finds them already compiled.
pub struct ComponentCache {
    dir: Option<PathBuf>,
    engine_key: [u8; 32],
    memory: Mutex<HashMap<[u8; 32], Component>>,
    /// Counters.
    pub stats: Arc<CacheStats>,
}

impl ComponentCache {
    /// A cache for `engine`, persisting to `dir` when given.
    pub fn new(engine: &Engine, dir: Option<PathBuf>) -> Self {
        let mut hasher = ShaHasher(Sha256::new());
        env!("CARGO_PKG_VERSION").hash(&mut hasher);
        wasmtime_version().hash(&mut hasher);
        engine.precompile_compatibility_hash().hash(&mut hasher);
        Self {
            dir,
            engine_key: hasher.0.finalize().into(),
            memory: Mutex::new(HashMap::new()),
            stats: Arc::default(),
        }
    }

    /// Returns the compiled form of `wasm`, compiling only on a full miss.
    pub fn get(&self, engine: &Engine, name: &str, wasm: &[u8]) -> wasmtime::Result<Component> {
        let key = self.key(wasm);
        if let Some(c) = self.memory.lock().ok().and_then(|m| m.get(&key).cloned()) {
            self.stats.memory_hits.fetch_add(1, Ordering::Relaxed);
            crate::metrics::get().cache_lookup("memory_hit");
            return Ok(c);
        }
        let path = self
            .dir
            .as_ref()
            .map(|d| d.join(format!("{}.cwasm", hex::encode(&key[..16]))));
        let component = match path.as_deref().and_then(|p| self.load(engine, name, p)) {
            Some(c) => {
                self.stats.disk_hits.fetch_add(1, Ordering::Relaxed);
                crate::metrics::get().cache_lookup("disk_hit");
                tracing::debug!(plugin = name, "loaded compiled component from cache");
                c
            }
            None => {
                let started = std::time::Instant::now();
                let c = Component::new(engine, wasm)?;
                self.stats.compiled.fetch_add(1, Ordering::Relaxed);
                crate::metrics::get().cache_lookup("miss");
                tracing::info!(
                    plugin = name,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "compiled component"
                );
                if let Some(p) = &path {
                    store(p, &c);
                }
                c
            }
        };
        if let Ok(mut m) = self.memory.lock() {
            m.insert(key, component.clone());
        }
        Ok(component)
    }

    fn key(&self, wasm: &[u8]) -> [u8; 32] {
        let mut h = Sha256::new();
        h.update(self.engine_key);
        h.update(wasm);
        h.finalize().into()
    }

    fn load(&self, engine: &Engine, name: &str, path: &Path) -> Option<Component> {
        let bytes = std::fs::read(path).ok()?;
        let artifact = match verify(&bytes) {
            Some(a) => a,
            None => {
                self.reject(name, path, "bad header or checksum");
                return None;
            }
        };
        // SAFETY: `Component::deserialize` requires bytes produced by
        // `Component::serialize` of a compatible engine. The file name is
        // derived from the engine's compatibility hash, the checksum proves
        // the bytes are what we wrote, and Wasmtime re-checks version and
        // configuration before using them. The cache directory must be
        // writable only by the gateway (documented in the README).
        #[allow(unsafe_code)]
        let loaded = unsafe { Component::deserialize(engine, artifact) };
        match loaded {
            Ok(c) => Some(c),
            Err(e) => {
                self.reject(name, path, &e.to_string());
                None
            }
        }
    }

    fn reject(&self, name: &str, path: &Path, why: &str) {
        self.stats.rejected.fetch_add(1, Ordering::Relaxed);
        crate::metrics::get().cache_rejected.inc();
        tracing::warn!(plugin = name, path = %path.display(), why, "ignoring unusable compiled-component cache file");
    }
}

/// Writes the artifact atomically (temp file + rename), so a crash never
/// leaves a half-written file under the final name.
fn store(path: &Path, component: &Component) {
    let result = (|| -> anyhow::Result<()> {
        let artifact = component.serialize()?;
        let mut file = Vec::with_capacity(artifact.len() + 40);
        file.extend_from_slice(MAGIC);
        file.extend_from_slice(&Sha256::digest(&artifact));
        file.extend_from_slice(&artifact);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        std::fs::write(&tmp, &file)?;
        std::fs::rename(&tmp, path)?;
        Ok(())
    })();
    if let Err(e) = result {
        tracing::warn!(path = %path.display(), error = %e, "cannot write compiled-component cache");
    }
}

fn verify(bytes: &[u8]) -> Option<&[u8]> {
    let rest = bytes.strip_prefix(MAGIC)?;
    let (sum, artifact) = rest.split_at_checked(32)?;
    (Sha256::digest(artifact).as_slice() == sum).then_some(artifact)
}

/// The Wasmtime version this binary was built with. The engine's
/// compatibility hash covers it too; naming it keeps the key honest.
fn wasmtime_version() -> &'static str {
    "48"
}

/// Feeds `Hash` output into SHA-256, so the key is stable across processes
/// (std's `DefaultHasher` is randomly seeded).
struct ShaHasher(Sha256);

impl Hasher for ShaHasher {
    fn finish(&self) -> u64 {
        0
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

/// The default cache directory: `$VERSUS_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/versus`, else `$HOME/.cache/versus`.
pub fn default_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("VERSUS_CACHE_DIR") {
        return Some(PathBuf::from(d));
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME") {
        return Some(PathBuf::from(d).join("versus"));
    }
    std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/versus"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verify_rejects_tampering() {
        let artifact = b"compiled".to_vec();
        let mut file = MAGIC.to_vec();
        file.extend_from_slice(&Sha256::digest(&artifact));
        file.extend_from_slice(&artifact);
        assert_eq!(verify(&file), Some(&artifact[..]));
        let mut bad = file.clone();
        if let Some(last) = bad.last_mut() {
            *last ^= 1;
        }
        assert_eq!(verify(&bad), None);
        assert_eq!(verify(b"VERSUS01short"), None);
        assert_eq!(verify(b"garbage"), None);
    }
}
