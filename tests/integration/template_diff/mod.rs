//! Our renderer against Go's own `text/template`, case by case: every
//! template of the corpus (`tests/fixtures/templates/corpus`) is rendered by
//! the Go reference (`tests/go-reference`) and by `versus render` (the
//! built-in renderer component, as the gateway runs it), and the outputs
//! are compared byte for byte. Where Go fails, we must fail too, with the
//! same message up to the position (`template: message:3:7:`).
//!
//! The differences that remain are listed in [`KNOWN`] with their reason,
//! and in docs/templates.md; the test fails if any other case differs, or
//! if a listed one starts to agree (then it comes off the list).

mod corpus;
mod go;

use std::path::Path;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::common::{fixture, versus};

/// Where our output differs from the reference's, what ours is instead.
enum Instead {
    /// Go's bytes with each byte that is not UTF-8 as U+FFFD: Go cut a
    /// character in half; a rendered message must be UTF-8 (it is a WIT
    /// `string`), and U+FFFD per stray byte is what Go's `encoding/json`
    /// sends on to a chat API anyway.
    Utf8,
    /// This text, where the reference (Go 1.19, Debian's) refuses the
    /// template and the Go upstream is built with (1.26) accepts it.
    NewerGo(&'static str),
}

/// The cases that differ from the reference, each with what we give
/// instead; docs/templates.md lists them with their reasons.
const KNOWN: &[(&str, Instead)] = &[
    ("builtins/slice-unicode-bytes", Instead::Utf8),
    // Go 1.22 ranges over an integer.
    ("control/range-int-literal", Instead::NewerGo("xxx")),
    // Go 1.23 allows `{{else with}}`.
    ("control/with-else-with", Instead::NewerGo("c")),
    ("functions/truncate-emoji-mid", Instead::Utf8),
    ("functions/truncate-utf8-mid-char", Instead::Utf8),
];

/// What one renderer made of a case.
#[derive(Debug, PartialEq)]
enum Outcome {
    Text(Vec<u8>),
    /// The error message, which must agree up to its position.
    Failed(String),
}

#[test]
fn the_renderer_matches_go_on_the_corpus() {
    let cases = corpus::load();
    assert!(cases.len() >= 300, "the corpus has {} cases", cases.len());
    let results = render_both(&cases);

    let mut differ = Vec::new();
    let mut report = String::new();
    for (case, (want, got)) in cases.iter().zip(&results) {
        let known = KNOWN.iter().find(|(name, _)| *name == case.name);
        if let Some((_, instead)) = known {
            assert_eq!(
                got,
                &expected_instead(instead, want),
                "{}: not the known difference",
                case.name
            );
        }
        if !agree(want, got) {
            differ.push(case.name.as_str());
            report += &describe(case, want, got);
        }
    }
    differ.sort_unstable();
    let mut known: Vec<&str> = KNOWN.iter().map(|(name, _)| *name).collect();
    known.sort_unstable();
    let same = cases.len() - differ.len();
    println!("{same} of {} cases identical to Go", cases.len());
    assert_eq!(
        differ, known,
        "the cases that differ from Go are not the known ones:\n{report}"
    );
    assert!(
        same * 100 >= cases.len() * 99,
        "only {same} of {} cases are identical",
        cases.len()
    );
}

/// Upstream's own templates (v1.4.x `config/`), unchanged, over every
/// Alertmanager fixture, with and without an ACK link: Go's bytes exactly.
#[test]
fn upstream_templates_render_as_go_does_for_every_fixture() {
    let mut cases = Vec::new();
    for channel in [
        "slack",
        "msteams",
        "telegram",
        "lark",
        "viber",
        "googlechat",
    ] {
        let path = fixture(&format!("templates/upstream/{channel}_message.tmpl"));
        let template = std::fs::read_to_string(&path).expect("an upstream template");
        for payload in ["critical", "resolved", "urgent", "warning"] {
            let json = std::fs::read_to_string(fixture(&format!("alertmanager/{payload}.json")))
                .expect("a fixture");
            let mut with_ack: serde_json::Value = serde_json::from_str(&json).expect("json");
            with_ack["AckURL"] = "https://versus.example/api/ack/1?sig=x".into();
            for (suffix, data) in [("", json.clone()), ("+ack", with_ack.to_string())] {
                cases.push(corpus::Case {
                    name: format!("{channel}/{payload}{suffix}"),
                    template: template.clone(),
                    data,
                });
            }
        }
    }
    let results = render_both(&cases);
    let mut report = String::new();
    for (case, (want, got)) in cases.iter().zip(&results) {
        let Outcome::Text(text) = got else {
            report += &describe(case, want, got);
            continue;
        };
        if want != got || !String::from_utf8_lossy(text).contains("HighErrorRate") {
            report += &describe(case, want, got);
        }
    }
    assert!(
        report.is_empty(),
        "upstream templates differ from Go:\n{report}"
    );
}

/// Each case rendered by Go and by us: (Go's outcome, ours).
fn render_both(cases: &[corpus::Case]) -> Vec<(Outcome, Outcome)> {
    let dir = tempfile::tempdir().expect("tempdir");
    let reference = go::build(dir.path());
    let want = go::render(&reference, cases)
        .into_iter()
        .zip(cases)
        .map(|(r, case)| {
            assert_eq!(r.name, case.name);
            match &r.err {
                Some(err) => Outcome::Failed(err.clone()),
                None => Outcome::Text(r.out()),
            }
        });
    let got = render_all(dir.path(), cases);
    want.zip(got).collect()
}

fn describe(case: &corpus::Case, want: &Outcome, got: &Outcome) -> String {
    format!(
        "--- {}\ntemplate: {:?}\n    go: {}\n  ours: {}\n",
        case.name,
        case.template,
        show(want),
        show(got)
    )
}

/// Renders every case with `versus render`, four at a time.
fn render_all(dir: &Path, cases: &[corpus::Case]) -> Vec<Outcome> {
    let cache = dir.join("cache");
    // The first run compiles the renderer into the cache; the rest load it.
    let first = render_one(dir, &cache, 0, &cases[0]);
    let results: Mutex<Vec<Option<Outcome>>> = Mutex::new(cases.iter().map(|_| None).collect());
    results.lock().expect("lock")[0] = Some(first);
    let next = AtomicUsize::new(1);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(case) = cases.get(i) else { break };
                    let outcome = render_one(dir, &cache, i, case);
                    results.lock().expect("lock")[i] = Some(outcome);
                }
            });
        }
    });
    results
        .into_inner()
        .expect("lock")
        .into_iter()
        .map(|o| o.expect("every case rendered"))
        .collect()
}

fn render_one(dir: &Path, cache: &Path, i: usize, case: &corpus::Case) -> Outcome {
    let template = dir.join(format!("{i}.tmpl"));
    let data = dir.join(format!("{i}.json"));
    std::fs::write(&template, &case.template).expect("write the template");
    std::fs::write(&data, &case.data).expect("write the data");
    let out = versus(
        &[
            "render",
            "--template",
            &template.to_string_lossy(),
            "--data",
            &data.to_string_lossy(),
        ],
        cache,
    );
    if out.status.success() {
        Outcome::Text(out.stdout)
    } else {
        Outcome::Failed(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// What a known difference must give.
fn expected_instead(instead: &Instead, go: &Outcome) -> Outcome {
    match (instead, go) {
        (Instead::Utf8, Outcome::Text(bytes)) => {
            let mut text = String::new();
            for chunk in bytes.utf8_chunks() {
                text.push_str(chunk.valid());
                text.extend(chunk.invalid().iter().map(|_| char::REPLACEMENT_CHARACTER));
            }
            Outcome::Text(text.into_bytes())
        }
        (Instead::NewerGo(text), Outcome::Failed(_)) => Outcome::Text(text.as_bytes().to_vec()),
        _ => panic!("the reference no longer gives what the known difference is about: {go:?}"),
    }
}

/// Same bytes, or both failed with the same position.
fn agree(want: &Outcome, got: &Outcome) -> bool {
    match (want, got) {
        (Outcome::Text(a), Outcome::Text(b)) => a == b,
        (Outcome::Failed(a), Outcome::Failed(b)) => {
            position(a).is_some() && position(a) == position(b)
        }
        _ => false,
    }
}

/// A Go template error up to its position: `template: NAME:LINE:` for a
/// parse error, `template: NAME:LINE:COL:` for an execution error.
fn position(msg: &str) -> Option<&str> {
    let start = msg.find("template: ")?;
    let rest = &msg[start + "template: ".len()..];
    let name_end = rest.find(':')?;
    let mut end = start + "template: ".len() + name_end + 1;
    for _ in 0..2 {
        let tail = &msg[end..];
        let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || tail.as_bytes().get(digits) != Some(&b':') {
            break;
        }
        end += digits + 1;
    }
    (end > start + "template: ".len() + name_end + 1).then(|| &msg[start..end])
}

fn show(outcome: &Outcome) -> String {
    match outcome {
        Outcome::Text(bytes) => format!("{:?}", String::from_utf8_lossy(bytes)),
        Outcome::Failed(err) => format!("ERROR {}", err.trim_end()),
    }
}

#[test]
fn position_reads_go_error_prefixes() {
    let exec = "template: message:2:3: executing \"message\" at <gt .a 1>: error";
    assert_eq!(position(exec), Some("template: message:2:3:"));
    let parse = "template: x:7: function \"nope\" not defined";
    assert_eq!(position(parse), Some("template: x:7:"));
    assert_eq!(position("Error: template: message: no position"), None);
    assert_eq!(position("something else"), None);
}
