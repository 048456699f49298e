//! The differential corpus: `tests/fixtures/templates/corpus/*.cases`.
//!
//! Each case is a `=== name` line, a data line (inline JSON, `@sample` for
//! `corpus/sample.json`, or `@critical` etc. for an Alertmanager fixture),
//! then the template up to the next `=== ` line; the newline before that
//! line is not part of the template. Lines before the first case are
//! comments.

use std::path::Path;

use serde::Serialize;

use crate::common::fixture;

/// One template and the data it renders.
#[derive(Serialize)]
pub struct Case {
    /// `<file stem>/<case name>`, unique over the corpus.
    pub name: String,
    pub template: String,
    /// The JSON document, as text.
    pub data: String,
}

/// Every case of every `.cases` file, in file then case order.
pub fn load() -> Vec<Case> {
    let dir = fixture("templates/corpus");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("the corpus folder")
        .filter_map(|e| Some(e.ok()?.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "cases"))
        .collect();
    files.sort();
    let mut cases = Vec::new();
    for file in files {
        parse(&file, &mut cases);
    }
    let mut names: Vec<_> = cases.iter().map(|c| c.name.as_str()).collect();
    names.sort_unstable();
    let before = names.len();
    names.dedup();
    assert_eq!(names.len(), before, "case names must be unique");
    cases
}

fn parse(file: &Path, cases: &mut Vec<Case>) {
    let stem = file
        .file_stem()
        .and_then(|s| s.to_str())
        .expect("file name");
    let text = std::fs::read_to_string(file).expect("read a corpus file");
    let text = text.strip_suffix('\n').unwrap_or(&text);
    for chunk in text.split("\n=== ").skip(1) {
        let (name, rest) = chunk.split_once('\n').unwrap_or((chunk, ""));
        let (data, template) = rest.split_once('\n').unwrap_or((rest, ""));
        cases.push(Case {
            name: format!("{stem}/{}", name.trim()),
            template: template.to_string(),
            data: resolve(data.trim()),
        });
    }
}

/// The data line's JSON text.
fn resolve(line: &str) -> String {
    let Some(name) = line.strip_prefix('@') else {
        return line.to_string();
    };
    let path = match name {
        "sample" => fixture("templates/corpus/sample.json"),
        payload => fixture(&format!("alertmanager/{payload}.json")),
    };
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
