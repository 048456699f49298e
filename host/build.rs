//! Builds the plugin crates under `plugins/` for `wasm32-wasip2` from source,
//! so the built-in plugins can be embedded in the `versus` binary and the
//! test plugins are available to the integration tests.
//!
//! Strategy: one nested `cargo build` for every plugin package, with its own
//! target directory (sharing the outer one would deadlock on its lock) and
//! without the outer build's `CARGO_ENCODED_RUSTFLAGS` (host flags must not
//! leak into the wasm build). If the `wasm32-wasip2` target is missing we
//! add it with rustup, or stop with the exact command to run.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::{env, fs};

const TARGET: &str = "wasm32-wasip2";

/// A plugin crate: its package, the artifact it produces, and the plugin
/// name it is copied to (`$OUT_DIR/<name>.wasm`).
struct Plugin {
    package: String,
    artifact: String,
    name: String,
}

/// Every component crate under `plugins/` and `plugins/examples/`: a
/// crate whose `Cargo.toml` asks for a `cdylib`. The plugin name is the
/// library name without a `versus_plugin_` prefix (`gotemplate`, `slack`,
/// `test_channel`, `discord_example`), so a new plugin crate needs no line
/// here.
fn plugins(root: &Path) -> Vec<Plugin> {
    let mut out = Vec::new();
    for folder in ["plugins", "plugins/examples"] {
        let Ok(entries) = fs::read_dir(root.join(folder)) else {
            continue;
        };
        for entry in entries.flatten() {
            let Ok(manifest) = fs::read_to_string(entry.path().join("Cargo.toml")) else {
                continue;
            };
            if !manifest.contains("\"cdylib\"") {
                continue;
            }
            let package = section_name(&manifest, "[package]")
                .unwrap_or_else(|| panic!("no package name in {}", entry.path().display()));
            let artifact =
                section_name(&manifest, "[lib]").unwrap_or_else(|| package.replace('-', "_"));
            let name = artifact
                .strip_prefix("versus_plugin_")
                .unwrap_or(&artifact)
                .to_string();
            out.push(Plugin {
                package,
                artifact,
                name,
            });
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// The `name = "…"` of a `Cargo.toml` section.
fn section_name(manifest: &str, section: &str) -> Option<String> {
    let body = manifest.split(section).nth(1)?;
    let body = body.split("\n[").next().unwrap_or(body);
    body.lines().find_map(|line| {
        let (key, value) = line.split_once('=')?;
        (key.trim() == "name").then(|| value.trim().trim_matches('"').to_string())
    })
}

fn main() {
    let manifest_dir =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let root = manifest_dir
        .parent()
        .expect("host/ lives inside the workspace")
        .to_path_buf();
    let out_dir = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR"));

    for watched in [
        "wit",
        "wit-0.2",
        "wit-mail",
        "wit-mail-0.2",
        "plugins",
        "Cargo.lock",
        "Cargo.toml",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }
    println!("cargo:rerun-if-env-changed=VERSUS_WASM_TARGET_DIR");

    ensure_target();

    // target/<profile>/build/versus-<hash>/out → target/
    let target_dir = env::var_os("VERSUS_WASM_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            out_dir
                .ancestors()
                .nth(4)
                .unwrap_or(&out_dir)
                .join("wasm-plugins")
        });

    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(&root)
        .args(["build", "--target", TARGET, "--profile", "wasm"])
        .env("CARGO_TARGET_DIR", &target_dir)
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("CARGO_MAKEFLAGS");
    let plugins = plugins(&root);
    for plugin in &plugins {
        cmd.args(["-p", &plugin.package]);
    }
    let status = cmd
        .status()
        .expect("failed to run cargo for the wasm plugins");
    if !status.success() {
        panic!("building the wasm plugins failed (see the cargo output above)");
    }

    let built = target_dir.join(TARGET).join("wasm");
    for plugin in &plugins {
        let from = built.join(format!("{}.wasm", plugin.artifact));
        let to = out_dir.join(format!("{}.wasm", plugin.name));
        copy_if_changed(&from, &to);
    }
    println!(
        "cargo:rustc-env=VERSUS_PLUGIN_OUT_DIR={}",
        out_dir.display()
    );
}

/// Makes sure the standard library for the wasm target is installed.
fn ensure_target() {
    if target_installed() {
        return;
    }
    println!(
        "cargo:warning=installing the {TARGET} target with rustup (needed to build the plugins)"
    );
    let added = Command::new("rustup")
        .args(["target", "add", TARGET])
        .status();
    if matches!(added, Ok(s) if s.success()) && target_installed() {
        return;
    }
    panic!(
        "the {TARGET} Rust target is missing and could not be installed; run: rustup target add {TARGET}"
    );
}

fn target_installed() -> bool {
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let Ok(out) = Command::new(rustc).args(["--print", "sysroot"]).output() else {
        return false;
    };
    let sysroot = String::from_utf8_lossy(&out.stdout).trim().to_string();
    Path::new(&sysroot)
        .join("lib/rustlib")
        .join(TARGET)
        .join("lib")
        .is_dir()
}

fn copy_if_changed(from: &Path, to: &Path) {
    let bytes = fs::read(from)
        .unwrap_or_else(|e| panic!("missing plugin artifact {}: {e}", from.display()));
    if fs::read(to).ok().as_deref() != Some(&bytes[..]) {
        fs::write(to, &bytes).unwrap_or_else(|e| panic!("cannot write {}: {e}", to.display()));
    }
}
