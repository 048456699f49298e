//! docs/plugins.md, followed as a user would: a new crate outside this
//! repository with the guide's `Cargo.toml` and `src/lib.rs` (depending on
//! `plugins/sdk` by path), built for wasm32-wasip2, then run with the
//! guide's `versus plugin test ... --dry-run`.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::{fixture, repo, versus};
use crate::docs::fenced_blocks;

/// The guide's `lang` block in the section under `heading`.
fn guide_block(heading: &str, lang: &str) -> String {
    let guide = std::fs::read_to_string(repo().join("docs/plugins.md")).expect("docs/plugins.md");
    let section = &guide[guide.find(heading).expect("the section")..];
    fenced_blocks(section)
        .into_iter()
        .find(|(info, _)| info == lang)
        .unwrap_or_else(|| panic!("no {lang} block under {heading}"))
        .1
}

/// Where the crate builds: beside the test binaries, so later runs reuse it.
fn target_dir() -> PathBuf {
    // <target>/debug/versus → <target>
    Path::new(env!("CARGO_BIN_EXE_versus"))
        .ancestors()
        .nth(2)
        .expect("target dir")
        .join("guide-plugin")
}

#[test]
fn the_guides_rust_channel_builds_and_runs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let sdk = repo().join("plugins/sdk").canonicalize().expect("sdk path");
    let manifest = guide_block("## A channel in Rust", "toml").replace(
        r#"path = "../versus/plugins/sdk""#,
        &format!("path = {:?}", sdk.display().to_string()),
    );
    assert!(manifest.contains(&sdk.display().to_string()), "{manifest}");
    std::fs::write(dir.path().join("Cargo.toml"), manifest).expect("Cargo.toml");
    std::fs::create_dir_all(dir.path().join("src")).expect("src");
    std::fs::write(
        dir.path().join("src/lib.rs"),
        guide_block("## A channel in Rust", "rust"),
    )
    .expect("lib.rs");
    // The workspace's lock file: the same versions, no registry lookups.
    std::fs::copy(repo().join("Cargo.lock"), dir.path().join("Cargo.lock")).expect("lock");

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let build = Command::new(cargo)
        .args(["build", "--target", "wasm32-wasip2", "--release"])
        .current_dir(dir.path())
        .env("CARGO_TARGET_DIR", target_dir())
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .output()
        .expect("run cargo");
    assert!(
        build.status.success(),
        "the guide's crate does not build:\n{}",
        String::from_utf8_lossy(&build.stderr)
    );
    let wasm = target_dir().join("wasm32-wasip2/release/my_channel.wasm");
    assert!(wasm.exists(), "no {}", wasm.display());

    let cache = tempfile::tempdir().expect("tempdir");
    let out = versus(
        &[
            "plugin",
            "test",
            "--plugin",
            wasm.to_str().expect("utf-8"),
            "--data",
            fixture("alertmanager/critical.json")
                .to_str()
                .expect("utf-8"),
            "--config",
            r#"{"url": "https://hooks.example.com/x", "token": "t"}"#,
            "--message",
            "disk full",
            "--dry-run",
        ],
        cache.path(),
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for line in [
        "deliver (my_channel, channel)",
        "> POST https://hooks.example.com/x",
        "> Authorization: Bearer t",
        "> Content-Type: application/json",
        r#"destination="hook""#,
    ] {
        assert!(text.contains(line), "missing {line:?}:\n{text}");
    }
    let body = text
        .lines()
        .find_map(|l| l.strip_prefix("> {"))
        .expect("a JSON body");
    let body: serde_json::Value = serde_json::from_str(&format!("{{{body}")).expect("JSON");
    assert_eq!(body["text"], "disk full");
    assert!(
        body["incident"].as_str().is_some_and(|id| id.len() == 36),
        "{body}"
    );
}
