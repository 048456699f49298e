//! `docs/configuration.md` names every key the config accepts: a key added
//! to the schema without a line in the reference fails here.

use super::schema::{Node, ROOT};

const REFERENCE: &str = include_str!("../../../docs/configuration.md");

/// Every key of `node` below `path`, as the reference writes it: the keys
/// of a list's items as `list[].key`, a list of values as the list, and a
/// map whose keys the user chooses as `map.<name>` (its items are described
/// together).
fn keys(node: &Node, path: &str, out: &mut Vec<String>) {
    match node {
        Node::Map(children) => {
            for (key, child) in *children {
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

/// The variables `env.rs` reads, from its own calls (`o.text("VAR", …)`).
fn env_vars() -> Vec<&'static str> {
    let source = include_str!("env.rs");
    let mut vars: Vec<&str> = ["o.text(\"", "o.flag(\"", "o.parsed(\""]
        .iter()
        .flat_map(|call| source.split(call).skip(1))
        .filter_map(|rest| rest.split('"').next())
        .collect();
    vars.sort_unstable();
    vars.dedup();
    vars
}

#[test]
fn the_reference_names_every_environment_variable() {
    let vars = env_vars();
    assert!(vars.len() >= 40, "{vars:?}");
    let missing: Vec<&str> = vars
        .into_iter()
        .filter(|v| !REFERENCE.contains(&format!("`{v}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/configuration.md does not name these variables: {missing:?}"
    );
}
