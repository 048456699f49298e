//! Post-parse checks over a template tree that Go's parser makes and
//! gotmpl's does not, so that `check` refuses what Go refuses to load:
//!
//! - a call to an undefined function (`function "foo" not defined`);
//! - a use of an undeclared variable (`undefined variable "$x"`);
//! - a literal as a later pipeline stage (`non executable command in
//!   pipeline stage 2`);
//! - a field of a literal (`unexpected . after term "\"x\""`).

use gotmpl::parse::{Expr, ListNode, Node, PipeNode, SmolStr};

use crate::exec::token;
use crate::funcs::is_defined;

/// Checks one template body (the main template or a `{{define}}`). `name`
/// is used in error messages.
pub(crate) fn check(name: &str, src: &str, list: &ListNode) -> Result<(), String> {
    let mut pass = Pass {
        name,
        src,
        vars: vec![SmolStr::new_static("$")],
    };
    pass.list(list)
}

struct Pass<'a> {
    name: &'a str,
    /// The template text.
    src: &'a str,
    /// Variables in scope, innermost last (Go's `Tree.vars`).
    vars: Vec<SmolStr>,
}

impl Pass<'_> {
    fn list(&mut self, list: &ListNode) -> Result<(), String> {
        for node in &list.nodes {
            match node {
                Node::Action(action) => self.pipe(&action.pipe)?,
                Node::If(branch) | Node::Range(branch) | Node::With(branch) => {
                    // Variables declared in a control structure live until its {{end}}.
                    let mark = self.vars.len();
                    self.pipe(&branch.pipe)?;
                    self.list(&branch.body)?;
                    if let Some(else_body) = &branch.else_body {
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
                Node::Define(define) => check(self.name, self.src, &define.body)?,
                Node::Text(_) | Node::Break(_) | Node::Continue(_) => {}
            }
        }
        Ok(())
    }

    fn pipe(&mut self, pipe: &PipeNode) -> Result<(), String> {
        // As in Go, the declared names are in scope from here on, including
        // in the pipeline's own commands.
        self.vars.extend(pipe.decl.iter().cloned());
        for (i, command) in pipe.commands.iter().enumerate().skip(1) {
            if let Some(
                first @ (Expr::Bool(..)
                | Expr::Dot(_)
                | Expr::Nil(_)
                | Expr::Number(..)
                | Expr::String(..)),
            ) = command.args.first()
            {
                return Err(format!(
                    "template: {}:{}: non executable command in pipeline stage {}",
                    self.name,
                    first.pos().line,
                    i + 1
                ));
            }
        }
        for command in &pipe.commands {
            self.term_then_field(&command.args)?;
        }
        pipe.commands
            .iter()
            .flat_map(|command| &command.args)
            .try_for_each(|expr| self.expr(expr))
    }

    /// A literal directly followed by a field (`"x".y`), which gotmpl reads
    /// as two arguments and Go refuses.
    fn term_then_field(&self, args: &[Expr]) -> Result<(), String> {
        for pair in args.windows(2) {
            let (Expr::String(pos, _) | Expr::Number(pos, _) | Expr::Bool(pos, _) | Expr::Nil(pos)) =
                &pair[0]
            else {
                continue;
            };
            let term = token(self.src, pos.offset);
            if matches!(&pair[1], Expr::Field(next, _) if next.offset == pos.offset + term.len()) {
                return Err(format!(
                    "template: {}:{}: unexpected . after term {term:?}",
                    self.name, pos.line
                ));
            }
        }
        Ok(())
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
            Expr::Chain(pos, inner, _) => match &**inner {
                Expr::Bool(..)
                | Expr::Dot(_)
                | Expr::Nil(_)
                | Expr::Number(..)
                | Expr::String(..) => Err(format!(
                    "template: {name}:{}: unexpected . after term",
                    pos.line
                )),
                _ => self.expr(inner),
            },
            Expr::Pipe(_, pipe) => self.pipe(pipe),
            _ => Ok(()),
        }
    }
}
