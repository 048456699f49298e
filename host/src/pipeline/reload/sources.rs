//! The files a pipeline is built from: the config file, each template in
//! use and the `<name>.wasm` files it loads from `plugins.dir`. Their
//! content tells a real change from a touch, a rewrite with the same bytes,
//! or a write to any other file in the same folders (a log, an editor's
//! swap file, a cache).

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use crate::config::Config;

/// What the files a pipeline reads held at one moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sources {
    /// Each file with the SHA-256 of its bytes; `None` when it is missing
    /// or unreadable (a plugin file that is absent means the built-in).
    files: BTreeMap<PathBuf, Option<[u8; 32]>>,
}

impl Sources {
    /// Reads the config at `config_path` (quietly: a reload reports its
    /// problems) and every file it makes the pipeline read. A config that
    /// does not load contributes only its own bytes.
    pub fn read(config_path: &Path) -> Self {
        let mut files = BTreeMap::new();
        files.insert(config_path.to_path_buf(), digest(config_path));
        if let Ok((config, _warnings)) = Config::load_with_warnings(config_path) {
            for path in inputs(&config) {
                let hash = digest(&path);
                files.insert(path, hash);
            }
        }
        Self { files }
    }

    /// The folders to watch: each file's own, and the folder of the file a
    /// symlink points to, so that an in-place edit behind a symlink (a
    /// ConfigMap file edited through `..data`) is seen too.
    pub fn dirs(&self) -> BTreeSet<PathBuf> {
        let mut dirs = BTreeSet::new();
        for path in self.files.keys() {
            dirs.insert(parent_dir(path));
            if let Ok(real) = std::fs::canonicalize(path) {
                dirs.insert(parent_dir(&real));
            }
        }
        dirs
    }

    /// The file names whose events may mean a change.
    pub fn names(&self) -> HashSet<OsString> {
        self.files
            .keys()
            .filter_map(|p| p.file_name().map(OsString::from))
            .collect()
    }
}

/// Whether an event on `path` may change what the pipeline reads: one of
/// its files by name, or a Kubernetes ConfigMap's `..data` link or
/// timestamped `..2024_…` folder, which are swapped to replace every file
/// of the volume at once. Anything else (logs, editor files, caches) never
/// starts a reload.
pub fn relevant(path: &Path, names: &HashSet<OsString>) -> bool {
    path.file_name()
        .is_some_and(|name| names.contains(name) || name.to_string_lossy().starts_with(".."))
}

/// The files `config` makes the pipeline read besides itself.
fn inputs(config: &Config) -> Vec<PathBuf> {
    let channels = config.channels();
    let mut files: Vec<PathBuf> = channels.iter().map(|c| c.template_path.clone()).collect();
    if let Some(dir) = &config.plugins.dir {
        let p = &config.plugins;
        let escalators: Vec<String> = config.escalators().into_iter().map(|e| e.name).collect();
        let names = std::iter::once(&p.renderer)
            .chain(&p.transforms)
            .chain(channels.iter().map(|c| &c.plugin))
            .chain(&escalators);
        files.extend(names.map(|name| dir.join(format!("{name}.wasm"))));
    }
    files
}

fn digest(path: &Path) -> Option<[u8; 32]> {
    std::fs::read(path)
        .ok()
        .map(|bytes| Sha256::digest(&bytes).into())
}

/// The folder holding `path` (`.` for a bare file name).
pub fn parent_dir(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().expect("tempdir");
        let config = dir.path().join("config.yaml");
        std::fs::create_dir_all(dir.path().join("plugins")).expect("mkdir");
        std::fs::write(dir.path().join("msg.tmpl"), "v1").expect("write");
        std::fs::write(
            &config,
            format!(
                "alert:\n  console:\n    enable: true\n    template_path: {}\nplugins:\n  dir: {}\n",
                dir.path().join("msg.tmpl").display(),
                dir.path().join("plugins").display()
            ),
        )
        .expect("write config");
        (dir, config)
    }

    #[test]
    fn only_content_changes_of_the_files_in_use_count() {
        let (dir, config) = setup();
        let before = Sources::read(&config);
        // Other files in the same folders, and a same-bytes rewrite.
        std::fs::write(dir.path().join("versus.log"), "a log line").expect("write");
        std::fs::write(dir.path().join("plugins/unused.wasm"), "x").expect("write");
        std::fs::write(dir.path().join("msg.tmpl"), "v1").expect("write");
        assert_eq!(Sources::read(&config), before);
        // The template, and a plugin override of a plugin in use.
        std::fs::write(dir.path().join("msg.tmpl"), "v2").expect("write");
        let after_template = Sources::read(&config);
        assert_ne!(after_template, before);
        std::fs::write(dir.path().join("plugins/gotemplate.wasm"), "x").expect("write");
        assert_ne!(Sources::read(&config), after_template);
    }

    #[test]
    fn names_and_folders_follow_the_config() {
        let (dir, config) = setup();
        let sources = Sources::read(&config);
        let names = sources.names();
        for keep in [
            "config.yaml",
            "msg.tmpl",
            "gotemplate.wasm",
            "console.wasm",
            "..data",
            "..2026_12_06",
        ] {
            assert!(relevant(&dir.path().join(keep), &names), "{keep}");
        }
        for skip in [
            "versus.log",
            ".msg.tmpl.swp",
            "msg.tmpl~",
            "x.cwasm",
            "unused.wasm",
            "msg.tmpl.new",
        ] {
            assert!(!relevant(&dir.path().join(skip), &names), "{skip}");
        }
        let dirs = sources.dirs();
        assert!(dirs.contains(dir.path()), "{dirs:?}");
        assert!(dirs.contains(&dir.path().join("plugins")), "{dirs:?}");
    }

    #[test]
    fn the_escalator_plugin_file_is_watched() {
        let (dir, config) = setup();
        let text = std::fs::read_to_string(&config).expect("config");
        let text = format!(
            "{text}oncall:\n  enable: true\n  provider: pager\n  plugin_settings:\n    url: http://127.0.0.1:9/\n"
        );
        std::fs::write(&config, text).expect("config");
        let sources = Sources::read(&config);
        assert!(relevant(&dir.path().join("pager.wasm"), &sources.names()));
        std::fs::write(dir.path().join("plugins/pager.wasm"), "v1").expect("write");
        let before = Sources::read(&config);
        std::fs::write(dir.path().join("plugins/pager.wasm"), "v2").expect("write");
        assert_ne!(Sources::read(&config), before);
    }
}
