//! `docs/configuration.md` cannot lie: it names every key the config
//! accepts and every variable, and each row's variable and default are
//! what loading does. A key added without a line in the reference, or a
//! row that disagrees with the code, fails here.

use std::path::Path;

use super::Config;
use super::schema::{Kind, Node, ROOT};

const REFERENCE: &str = include_str!("../../../docs/configuration.md");

/// Every key of `node` below `path`, as the reference writes it: the keys
/// of a list's items as `list[].key`, a list of values as the list, and a
/// map whose keys the user chooses as `map.<name>` (its items are described
/// together).
fn keys(node: &Node, path: &str, out: &mut Vec<String>) {
    match node {
        Node::Map(_) | Node::Joined(..) => {
            for (key, child) in node.keys().into_iter().flatten() {
                let path = if path.is_empty() {
                    (*key).to_string()
                } else {
                    format!("{path}.{key}")
                };
                keys(child, &path, out);
            }
        }
        Node::List(item @ Node::Map(_)) => keys(item, &format!("{path}[]"), out),
        Node::Named(_) => out.push(format!("{path}.<name>")),
        Node::List(_)
        | Node::Text
        | Node::Secret
        | Node::Scalar(_)
        | Node::Free
        | Node::Unimplemented(_) => out.push(path.to_string()),
    }
}

#[test]
fn the_reference_names_every_key() {
    let mut all = Vec::new();
    keys(&ROOT, "", &mut all);
    let missing: Vec<&String> = all
        .iter()
        .filter(|k| !REFERENCE.contains(&format!("`{k}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/configuration.md does not name these keys ({} of {}):\n{}",
        missing.len(),
        all.len(),
        missing
            .iter()
            .map(|k| k.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// Every variable `apply_env_overrides` reads, in the order it reads them:
/// it is run with a lookup that records each name and finds nothing.
fn env_variables() -> Vec<String> {
    let asked = std::cell::RefCell::new(Vec::new());
    let record = |name: &str| {
        asked.borrow_mut().push(name.to_string());
        None
    };
    super::apply_env_overrides(&mut Config::default(), &record).expect("no variable is set");
    asked.into_inner()
}

#[test]
fn the_reference_names_every_environment_variable() {
    let vars = env_variables();
    assert!(vars.len() >= 40, "{vars:?}");
    let missing: Vec<String> = vars
        .into_iter()
        .filter(|v| !REFERENCE.contains(&format!("`{v}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/configuration.md does not name these variables: {missing:?}"
    );
}

#[test]
fn the_reference_names_every_query_override() {
    let keys = crate::incident::Overrides::keys();
    let missing: Vec<&str> = keys
        .into_iter()
        .filter(|k| !REFERENCE.contains(&format!("`{k}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/configuration.md does not name these query overrides: {missing:?}"
    );
}

/// One row of a reference table: the key, and the default and variable
/// columns when the table has them.
struct Row {
    key: String,
    default: Option<String>,
    env: Option<String>,
}

/// Every row of every `| key | default | …` table in the reference.
fn rows() -> Vec<Row> {
    let mut out = Vec::new();
    let mut columns: Vec<String> = Vec::new();
    for line in REFERENCE.lines() {
        let Some(inner) = line.strip_prefix('|') else {
            columns.clear();
            continue;
        };
        let cells: Vec<String> = inner
            .trim_end_matches('|')
            .split(" | ")
            .map(|c| c.trim().to_string())
            .collect();
        if cells.first().is_some_and(|c| c == "key") {
            columns = cells;
            continue;
        }
        let cell = |name: &str| {
            columns
                .iter()
                .position(|c| c == name)
                .and_then(|i| cells.get(i).cloned())
        };
        let Some(key) = cell("key").and_then(|k| sole_code(&k)) else {
            continue;
        };
        out.push(Row {
            key,
            default: cell("default"),
            env: cell("env").and_then(|e| sole_code(&e)),
        });
    }
    out
}

/// The text of a cell that is exactly one `code` span.
fn sole_code(cell: &str) -> Option<String> {
    let inner = cell.strip_prefix('`')?.strip_suffix('`')?;
    (!inner.contains('`')).then(|| inner.to_string())
}

/// The schema node at a dotted key (plain keys only).
fn node_at(key: &str) -> Option<&'static Node> {
    let mut node = &ROOT;
    for part in key.split('.') {
        node = &node.keys()?.find(|(k, _)| *k == part)?.1;
    }
    Some(node)
}

/// A config file that sets only `key` (dotted) to `value`.
fn yaml_setting(key: &str, value: &str) -> String {
    let parts: Vec<&str> = key.split('.').collect();
    let mut yaml = String::new();
    for (depth, part) in parts.iter().enumerate() {
        let indent = "  ".repeat(depth);
        if depth + 1 == parts.len() {
            yaml.push_str(&format!("{indent}{part}: {value}\n"));
        } else {
            yaml.push_str(&format!("{indent}{part}:\n"));
        }
    }
    yaml
}

/// The config a file gives, after the variables in `env`, shown in full.
fn loaded(yaml: &str, env: &[(&str, &str)]) -> String {
    let mut config = Config::parse(yaml, Path::new("reference.yaml")).expect("parses");
    let lookup = |name: &str| {
        env.iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.to_string())
    };
    super::apply_env_overrides(&mut config, &lookup).expect("variables apply");
    format!("{config:#?}")
}

/// Values of the node's kind to try a key with.
fn probes(node: &Node) -> &'static [&'static str] {
    match node {
        Node::Scalar(Kind::Bool) => &["true", "false"],
        Node::Scalar(Kind::Duration) => &["7s"],
        Node::Scalar(_) => &["7"],
        Node::Text | Node::Secret => &["https://probe.example/7"],
        _ => &[],
    }
}

/// Strategy: the reference is checked against what loading does, not
/// against a second list. For every row, the variable it names sets that
/// key (the variable and the key, each set alone, load the same config),
/// and a default written as one value is the default (writing it loads
/// the same config as leaving the key out). Channels included: their rows
/// are checked against their modules in `channel`.
#[test]
fn the_reference_matches_the_code_for_every_key() {
    let rows = rows();
    assert!(rows.len() > 100, "{} rows", rows.len());
    let read_here = env_variables();
    let unset = loaded("{}", &[]);
    let mut wrong = Vec::new();
    let mut checked = (0, 0);
    for row in &rows {
        let Some(node) = node_at(&row.key) else {
            continue;
        };
        if let Some(var) = &row.env {
            if !read_here.contains(var) {
                // Read before the file is (`logging`), not as an override.
                assert_eq!(
                    var, "VERSUS_LOG_FORMAT",
                    "{}: nothing reads `{var}`",
                    row.key
                );
                continue;
            }
            for probe in probes(node) {
                checked.0 += 1;
                let by_key = loaded(&yaml_setting(&row.key, probe), &[]);
                let by_var = loaded("{}", &[(var, probe)]);
                if by_key != by_var {
                    wrong.push(format!("{}: `{var}`={probe} does not set it", row.key));
                }
            }
        }
        let default = row.default.as_deref().unwrap_or_default();
        let written = match default {
            _ if probes(node).is_empty() => None,
            "empty" if matches!(node, Node::Text | Node::Secret) => Some("\"\"".to_string()),
            _ => sole_code(default).map(|v| format!("{v:?}")),
        };
        if let Some(value) = written {
            checked.1 += 1;
            if loaded(&yaml_setting(&row.key, &value), &[]) != unset {
                wrong.push(format!("{}: the default is not {default}", row.key));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "docs/configuration.md:\n{}",
        wrong.join("\n")
    );
    assert!(
        checked.0 >= 50 && checked.1 >= 60,
        "checked {checked:?}: the tables were not read"
    );
}
