//! Post-parse pass over a template tree: the checks Go's parser makes and
//! gotmpl's does not, and Go's printing for action output.
//!
//! - Go rejects a call to an undefined function (`function "foo" not
//!   defined`) and a use of an undeclared variable (`undefined variable
//!   "$x"`) at parse time; gotmpl only finds out when executing, so `check`
//!   would accept such a template. This pass reports both.
//! - gotmpl prints an action's value with Rust's `Display` (`1000000` for
//!   the float64 1e6, where Go prints `1e+06`). Every printing action gets a
//!   last pipeline stage, [`PRINT_ACTION`], that formats the value as Go's
//!   `fmt` does; the executor then writes the resulting string verbatim.

use gotmpl::parse::{CommandNode, Expr, ListNode, Node, PipeNode, SmolStr};

use crate::funcs::{PRINT_ACTION, is_defined};

/// Checks and rewrites one template body (the main template or a
/// `{{define}}`) in place. `name` is used in error messages.
pub(crate) fn prepare(name: &str, list: &mut ListNode) -> Result<(), String> {
    let mut pass = Pass {
        name,
        vars: vec![SmolStr::new_static("$")],
    };
    pass.list(list)
}

struct Pass<'a> {
    name: &'a str,
    /// Variables in scope, innermost last (Go's `Tree.vars`).
    vars: Vec<SmolStr>,
}

impl Pass<'_> {
    fn list(&mut self, list: &mut ListNode) -> Result<(), String> {
        for node in &mut list.nodes {
            match node {
                Node::Action(action) => {
                    self.pipe(&action.pipe)?;
                    if action.pipe.decl.is_empty() {
                        let pos = action.pipe.pos;
                        action.pipe.commands.push(CommandNode {
                            pos,
                            args: vec![Expr::Identifier(pos, SmolStr::new(PRINT_ACTION))],
                        });
                    }
                }
                Node::If(branch) | Node::Range(branch) | Node::With(branch) => {
                    // Variables declared in a control structure live until its {{end}}.
                    let mark = self.vars.len();
                    self.pipe(&branch.pipe)?;
                    self.list(&mut branch.body)?;
                    if let Some(else_body) = &mut branch.else_body {
                        self.list(else_body)?;
                    }
                    self.vars.truncate(mark);
                }
                Node::Template(call) => {
                    if let Some(pipe) = &call.pipe {
                        self.pipe(pipe)?;
                    }
                }
                Node::List(inner) => self.list(inner)?,
                Node::Define(define) => prepare(self.name, &mut define.body)?,
                Node::Text(_) | Node::Break(_) | Node::Continue(_) => {}
            }
        }
        Ok(())
    }

    fn pipe(&mut self, pipe: &PipeNode) -> Result<(), String> {
        // As in Go, the declared names are in scope from here on, including
        // in the pipeline's own commands.
        self.vars.extend(pipe.decl.iter().cloned());
        pipe.commands
            .iter()
            .flat_map(|command| &command.args)
            .try_for_each(|expr| self.expr(expr))
    }

    fn expr(&mut self, expr: &Expr) -> Result<(), String> {
        let name = self.name;
        match expr {
            Expr::Identifier(pos, func) if !is_defined(func) => Err(format!(
                "template: {name}:{}: function {:?} not defined",
                pos.line,
                func.as_str()
            )),
            Expr::Variable(pos, var, _) if !self.vars.contains(var) => Err(format!(
                "template: {name}:{}: undefined variable {:?}",
                pos.line,
                var.as_str()
            )),
            Expr::Chain(_, inner, _) => self.expr(inner),
            Expr::Pipe(_, pipe) => self.pipe(pipe),
            _ => Ok(()),
        }
    }
}
