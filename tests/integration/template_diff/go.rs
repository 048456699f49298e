//! The reference: `tests/go-reference/main.go`, Go's own `text/template`
//! with the Versus function map, built with the machine's `go` (Debian's
//! `golang-go` and `golang-golang-x-text-dev`, installed by `scripts/test`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::Deserialize;

use super::corpus::Case;
use crate::common::repo;

/// Where Debian's Go packages keep their sources (`golang.org/x/text`).
const GOPATH: &str = "/usr/share/gocode";

/// What Go made of one case.
#[derive(Deserialize)]
pub struct Rendered {
    pub name: String,
    /// The output bytes, in hex.
    out: String,
    /// The error text, when parsing or executing failed.
    pub err: Option<String>,
}

impl Rendered {
    /// The output bytes.
    pub fn out(&self) -> Vec<u8> {
        (0..self.out.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&self.out[i..i + 2], 16).expect("hex from Go"))
            .collect()
    }
}

/// Builds the reference into `dir`.
pub fn build(dir: &Path) -> PathBuf {
    let bin = dir.join("go-reference");
    let out = Command::new("go")
        .args(["build", "-o"])
        .arg(&bin)
        .arg(repo().join("tests/go-reference/main.go"))
        .env("GO111MODULE", "off")
        .env("GOPATH", GOPATH)
        .env("GOFLAGS", "")
        .output()
        .unwrap_or_else(|e| {
            panic!("cannot run `go` ({e}): scripts/test installs golang-go and golang-golang-x-text-dev")
        });
    assert!(
        out.status.success(),
        "building the Go reference failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    bin
}

/// Renders every case with Go, in order.
pub fn render(bin: &Path, cases: &[Case]) -> Vec<Rendered> {
    let mut child = Command::new(bin)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        // `env` reads the process environment: give it none, as our
        // renderer sees none.
        .env_clear()
        .spawn()
        .expect("run the Go reference");
    let input = serde_json::to_vec(cases).expect("encode the cases");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(&input)
        .expect("send the cases");
    let out = child.wait_with_output().expect("the Go reference ends");
    assert!(
        out.status.success(),
        "the Go reference failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let rendered: Vec<Rendered> = serde_json::from_slice(&out.stdout).expect("Go's results");
    assert_eq!(rendered.len(), cases.len());
    rendered
}
