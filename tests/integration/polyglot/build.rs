//! Runs `scripts/build-polyglot-plugins` once per test binary (it skips a
//! plugin whose sources did not change) and hands out the artifacts.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use crate::common::repo;

/// The directory holding the built plugins (`<target>/polyglot-plugins`).
fn built_dir() -> &'static Result<PathBuf, String> {
    static DIR: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    DIR.get_or_init(|| {
        // <target>/debug/versus → <target>
        let target = Path::new(env!("CARGO_BIN_EXE_versus"))
            .ancestors()
            .nth(2)
            .expect("target dir")
            .to_path_buf();
        let out_dir = target.join("polyglot-plugins");
        let out = Command::new(repo().join("scripts/build-polyglot-plugins"))
            .arg(&out_dir)
            .output()
            .map_err(|e| format!("cannot run scripts/build-polyglot-plugins: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "scripts/build-polyglot-plugins failed ({}):\n{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        Ok(out_dir)
    })
}

/// A plugin built from another language, e.g. `js_webhook`. Panics with the
/// build's output when the build failed: these tests never skip.
pub fn polyglot_plugin(name: &str) -> PathBuf {
    match built_dir() {
        Ok(dir) => dir.join(format!("{name}.wasm")),
        Err(e) => panic!("{e}"),
    }
}

/// A compiled-component cache shared by the tests that only need the plugins
/// loaded (a JS or Python guest takes tens of seconds to compile here).
pub fn shared_cache_dir() -> PathBuf {
    polyglot_plugin("js_webhook")
        .parent()
        .expect("dir")
        .join("cwasm-cache")
}
