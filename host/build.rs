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

/// Plugin packages, the artifact each produces, and the plugin name it is
/// copied to (`$OUT_DIR/<name>.wasm`).
const PLUGINS: &[(&str, &str, &str)] = &[
    (
        "versus-plugin-gotemplate",
        "versus_plugin_gotemplate",
        "gotemplate",
    ),
    ("versus-plugin-alertmanager", "alertmanager", "alertmanager"),
    ("versus-plugin-slack", "slack", "slack"),
    ("versus-plugin-console", "console", "console"),
    ("versus-plugin-telegram", "telegram", "telegram"),
    ("versus-plugin-webhook", "webhook", "webhook"),
    ("versus-plugin-msteams", "msteams", "msteams"),
    ("versus-plugin-lark", "lark", "lark"),
    ("versus-plugin-viber", "viber", "viber"),
    ("versus-plugin-email", "email", "email"),
    // The SDK's example channel: not built in, but built here so the tests
    // load it like a plugin a user dropped into `plugins.dir`.
    (
        "versus-example-discord",
        "discord_example",
        "discord_example",
    ),
    (
        "versus-plugin-test-renderer",
        "test_renderer",
        "test_renderer",
    ),
    ("versus-plugin-test-channel", "test_channel", "test_channel"),
    (
        "versus-plugin-test-transform",
        "test_transform",
        "test_transform",
    ),
];

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
    for (package, _, _) in PLUGINS {
        cmd.args(["-p", package]);
    }
    let status = cmd
        .status()
        .expect("failed to run cargo for the wasm plugins");
    if !status.success() {
        panic!("building the wasm plugins failed (see the cargo output above)");
    }

    let built = target_dir.join(TARGET).join("wasm");
    for (_, artifact, name) in PLUGINS {
        let from = built.join(format!("{artifact}.wasm"));
        let to = out_dir.join(format!("{name}.wasm"));
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
