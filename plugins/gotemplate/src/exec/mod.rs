//! The executor: runs a parsed template the way Go's `text/template`
//! (`exec.go`) does, over gotmpl's parse tree.
//!
//! It follows Go step by step where a user can tell the difference:
//! - every function's arguments are checked against its Go parameter types
//!   before the call ([`crate::funcs::Param`]);
//! - `and`/`or` evaluate their arguments lazily;
//! - `{{template "x"}}` without a pipeline runs `x` with a nil dot;
//! - the maps `dict` makes have the method `Set`;
//! - an error names the node Go names: Go tracks "the node being
//!   evaluated" (`state.at`) as it goes, and so does [`Exec::at`], so an
//!   error reads `template: message:3:7: executing "message" at <.x>: …`
//!   with Go's line and byte column.

mod call;
mod eval;
mod show;

use gotmpl::Value;
use gotmpl::parse::{BranchNode, ListNode, Node, SmolStr, TemplateNode};

use crate::funcs::truth;
use crate::gofmt;
use crate::prepared::Prepared;
pub(crate) use show::{Node as At, token};

/// How deep `{{template}}` calls may nest (Go allows 100 000; a wasm
/// guest's stack is smaller).
const MAX_DEPTH: usize = 200;

/// Why a walk stopped early.
pub(crate) enum Stop {
    Break,
    Continue,
    /// Execution failed; the message is Go's, position included.
    Failed(String),
}

type Step<T = ()> = Result<T, Stop>;

/// One execution of a prepared template.
pub(crate) struct Exec<'a> {
    prepared: &'a Prepared,
    out: String,
    /// Variables in scope, innermost last; `$` first.
    vars: Vec<(SmolStr, Value)>,
    /// The node being evaluated, which an error names.
    at: Option<At<'a>>,
    /// The name of the template being executed.
    name: &'a str,
    depth: usize,
    /// The maps made by `dict` (and `Set`), which have the `Set` method.
    /// They are known by address, and kept here so that no other map can
    /// take a freed one's address during the execution.
    dicts: Vec<Value>,
    /// The lists of Go type `[]string` (made by `split` and `stringSlice`),
    /// kept the same way; every other list is a `[]interface {}`.
    strings: Vec<Value>,
}

impl<'a> Exec<'a> {
    /// Runs `prepared`'s main template with `data` as dot and `$`.
    pub(crate) fn run(prepared: &'a Prepared, data: &Value) -> Result<String, String> {
        let mut exec = Exec {
            prepared,
            out: String::new(),
            vars: vec![(SmolStr::new_static("$"), data.clone())],
            at: None,
            name: prepared.name(),
            depth: 0,
            dicts: Vec::new(),
            strings: Vec::new(),
        };
        match exec.walk(data, prepared.main()) {
            Ok(()) => Ok(exec.out),
            Err(Stop::Failed(msg)) => Err(msg),
            // The parser only allows these inside {{range}}.
            Err(Stop::Break | Stop::Continue) => Ok(exec.out),
        }
    }

    /// Go's `state.at`: `node` is what an error from here on names.
    fn at(&mut self, node: At<'a>) {
        self.at = Some(node);
    }

    /// An execution error at the current node, formatted as Go formats it.
    fn fail<T>(&self, msg: impl std::fmt::Display) -> Step<T> {
        let source = self.prepared.source();
        let text = match &self.at {
            Some(node) => {
                let offset = node.offset(source).min(source.len());
                let before = &source[..offset];
                let line = 1 + before.matches('\n').count();
                let col = offset - before.rfind('\n').map_or(0, |i| i + 1);
                format!(
                    "template: {}:{line}:{col}: executing {:?} at <{}>: {msg}",
                    self.prepared.name(),
                    self.name,
                    node.text(source)
                )
            }
            None => format!("template: {}: {msg}", self.name),
        };
        Err(Stop::Failed(text))
    }

    fn walk(&mut self, dot: &Value, list: &'a ListNode) -> Step {
        for node in &list.nodes {
            self.walk_node(dot, node)?;
        }
        Ok(())
    }

    fn walk_node(&mut self, dot: &Value, node: &'a Node) -> Step {
        match node {
            Node::Action(action) => {
                let value = self.eval_pipeline(dot, &action.pipe)?;
                if action.pipe.decl.is_empty() {
                    match &value {
                        Value::String(s) => self.out.push_str(s),
                        other => self.out.push_str(&gofmt::action_text(other)),
                    }
                }
                Ok(())
            }
            Node::If(branch) => self.walk_if_or_with(false, dot, branch),
            Node::With(branch) => self.walk_if_or_with(true, dot, branch),
            Node::Range(branch) => self.walk_range(dot, branch),
            Node::Template(call) => self.walk_template(dot, call),
            Node::Text(text) => {
                self.out.push_str(&text.text);
                Ok(())
            }
            Node::List(list) => self.walk(dot, list),
            Node::Define(_) => Ok(()),
            Node::Break(_) => Err(Stop::Break),
            Node::Continue(_) => Err(Stop::Continue),
        }
    }

    /// Runs `step`, then drops the variables it declared, whatever happened.
    fn scoped<T>(&mut self, step: impl FnOnce(&mut Self) -> Step<T>) -> Step<T> {
        let mark = self.vars.len();
        let result = step(self);
        self.vars.truncate(mark);
        result
    }

    fn walk_if_or_with(&mut self, with: bool, dot: &Value, branch: &'a BranchNode) -> Step {
        self.scoped(|s| {
            let value = s.eval_pipeline(dot, &branch.pipe)?;
            if truth(&value) {
                let dot = if with { &value } else { dot };
                s.walk(dot, &branch.body)
            } else if let Some(else_body) = &branch.else_body {
                s.walk(dot, else_body)
            } else {
                Ok(())
            }
        })
    }

    fn walk_range(&mut self, dot: &Value, range: &'a BranchNode) -> Step {
        self.scoped(|s| {
            let value = s.eval_pipeline(dot, &range.pipe)?;
            let decl = range.pipe.decl.len();
            let top = s.vars.len();
            let each = |s: &mut Self, index: Value, elem: &Value| -> Step<bool> {
                // The declared variables are the last ones pushed: the
                // element is the last, the index (or key) the one before.
                if decl > 0 {
                    s.vars[top - 1].1 = elem.clone();
                }
                if decl > 1 {
                    s.vars[top - 2].1 = index;
                }
                let result = s.walk(elem, &range.body);
                s.vars.truncate(top);
                match result {
                    Ok(()) | Err(Stop::Continue) => Ok(true),
                    Err(Stop::Break) => Ok(false),
                    Err(failed) => Err(failed),
                }
            };
            let count = match &value {
                Value::List(items) => {
                    for (i, elem) in items.iter().enumerate() {
                        let index = Value::Int(i64::try_from(i).unwrap_or(i64::MAX));
                        if !each(s, index, elem)? {
                            break;
                        }
                    }
                    items.len()
                }
                Value::Map(map) => {
                    for (key, elem) in map.iter() {
                        if !each(s, Value::String(key.clone()), elem)? {
                            break;
                        }
                    }
                    map.len()
                }
                // Go 1.22 and later range over an integer.
                Value::Int(n) if decl < 2 => {
                    for i in 0..*n {
                        if !each(s, Value::Int(i), &Value::Int(i))? {
                            break;
                        }
                    }
                    usize::try_from(*n).unwrap_or(0)
                }
                Value::Nil => 0,
                other => {
                    return s.fail(format!(
                        "range can't iterate over {}",
                        gofmt::to_string(other)
                    ));
                }
            };
            match &range.else_body {
                Some(else_body) if count == 0 => s.walk(dot, else_body),
                _ => Ok(()),
            }
        })
    }

    fn walk_template(&mut self, dot: &Value, call: &'a TemplateNode) -> Step {
        self.at(At::Template(call));
        let Some(body) = self.prepared.lookup(&call.name) else {
            return self.fail(format!("template {:?} not defined", call.name.as_str()));
        };
        if self.depth == MAX_DEPTH {
            return self.fail(format!("exceeded maximum template depth ({MAX_DEPTH})"));
        }
        // Variables the pipeline declares stay in the caller's scope.
        let dot = match &call.pipe {
            Some(pipe) => self.eval_pipeline(dot, pipe)?,
            None => Value::Nil,
        };
        let outer_vars = std::mem::replace(
            &mut self.vars,
            vec![(SmolStr::new_static("$"), dot.clone())],
        );
        let outer_name = std::mem::replace(&mut self.name, body.0);
        self.depth += 1;
        let result = self.walk(&dot, body.1);
        self.depth -= 1;
        self.name = outer_name;
        self.vars = outer_vars;
        match result {
            Err(Stop::Break | Stop::Continue) => Ok(()),
            other => other,
        }
    }
}
