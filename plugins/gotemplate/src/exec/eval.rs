//! Pipelines, commands, arguments, fields and calls, as Go's
//! `evalPipeline`, `evalCommand`, `evalArg`, `evalField` and `evalCall`
//! do them, including where Go moves "the node being evaluated".

use std::sync::Arc;

use gotmpl::Value;
use gotmpl::parse::{CommandNode, Expr, Number, PipeNode, SmolStr};

use super::{At, Exec, Step};
use crate::funcs::{self, Param};
use crate::gofmt::type_name;

/// A command's words, the first (the function or field) included: Go's
/// `cmd.Args`.
pub(super) type Words<'a> = &'a [Expr];

impl<'a> Exec<'a> {
    /// Evaluates a pipeline and declares or assigns its variables.
    pub(super) fn eval_pipeline(&mut self, dot: &Value, pipe: &'a PipeNode) -> Step<Value> {
        self.at(At::Pipe(pipe));
        let mut value = None;
        for cmd in &pipe.commands {
            value = Some(self.eval_command(dot, cmd, value)?);
        }
        let value = value.unwrap_or(Value::Nil);
        for name in &pipe.decl {
            if pipe.is_assign {
                self.assign(name, value.clone())?;
            } else {
                self.vars.push((name.clone(), value.clone()));
            }
        }
        Ok(value)
    }

    fn assign(&mut self, name: &SmolStr, value: Value) -> Step {
        match self.vars.iter_mut().rev().find(|(n, _)| n == name) {
            Some(var) => {
                var.1 = value;
                Ok(())
            }
            None => self.fail(format!("undefined variable: {name}")),
        }
    }

    /// `final_` is the previous command's value, passed as the last argument.
    fn eval_command(
        &mut self,
        dot: &Value,
        cmd: &'a CommandNode,
        final_: Option<Value>,
    ) -> Step<Value> {
        let first = &cmd.args[0];
        match first {
            Expr::Field(..) => return self.eval_field_node(dot, first, &cmd.args, final_),
            Expr::Chain(..) => return self.eval_chain_node(dot, first, &cmd.args, final_),
            Expr::Identifier(_, name) => {
                let node = At::Command(cmd);
                return self.eval_function(dot, first, name, node, &cmd.args, final_);
            }
            Expr::Pipe(_, pipe) => {
                self.not_a_function(&cmd.args, final_.as_ref())?;
                return self.eval_pipeline(dot, pipe);
            }
            Expr::Variable(..) => return self.eval_variable_node(dot, first, &cmd.args, final_),
            _ => {}
        }
        self.at(At::Expr(first));
        self.not_a_function(&cmd.args, final_.as_ref())?;
        match first {
            Expr::Bool(_, b) => Ok(Value::Bool(*b)),
            Expr::Dot(_) => Ok(dot.clone()),
            Expr::Nil(_) => self.fail("nil is not a command"),
            Expr::Number(_, n) => self.constant(*n),
            Expr::String(_, s) => Ok(Value::String(s.clone())),
            _ => self.fail("can't evaluate command"),
        }
    }

    fn not_a_function(&self, words: Words<'a>, final_: Option<&Value>) -> Step {
        if words.len() > 1 || final_.is_some() {
            let text = At::Expr(&words[0]).text(self.prepared.source());
            return self.fail(format!("can't give argument to non-function {text}"));
        }
        Ok(())
    }

    /// A number literal where any type is accepted (Go's `idealConstant`).
    pub(super) fn constant(&self, n: Number) -> Step<Value> {
        match n {
            Number::Int(i) => Ok(Value::Int(i)),
            Number::Float(x) => Ok(Value::Float(x)),
            Number::Uint(_) => self.fail(format!("{} overflows int", self.at_text())),
        }
    }

    pub(super) fn at_text(&self) -> String {
        self.at
            .map(|node| node.text(self.prepared.source()))
            .unwrap_or_default()
    }

    pub(super) fn eval_field_node(
        &mut self,
        dot: &Value,
        field: &'a Expr,
        words: Words<'a>,
        final_: Option<Value>,
    ) -> Step<Value> {
        let Expr::Field(_, names) = field else {
            return self.fail("not a field");
        };
        self.at(At::Expr(field));
        self.eval_field_chain(dot, dot.clone(), None, names, words, final_)
    }

    pub(super) fn eval_chain_node(
        &mut self,
        dot: &Value,
        chain: &'a Expr,
        words: Words<'a>,
        final_: Option<Value>,
    ) -> Step<Value> {
        let Expr::Chain(_, inner, names) = chain else {
            return self.fail("not a chain");
        };
        if matches!(**inner, Expr::Nil(_)) {
            let text = At::Expr(chain).text(self.prepared.source());
            return self.fail(format!("indirection through explicit nil in {text}"));
        }
        let receiver = self.eval_arg(dot, Param::Any, inner)?;
        self.eval_field_chain(dot, receiver, None, names, words, final_)
    }

    pub(super) fn eval_variable_node(
        &mut self,
        dot: &Value,
        variable: &'a Expr,
        words: Words<'a>,
        final_: Option<Value>,
    ) -> Step<Value> {
        let Expr::Variable(_, name, names) = variable else {
            return self.fail("not a variable");
        };
        self.at(At::Expr(variable));
        let Some((_, value)) = self.vars.iter().rev().find(|(n, _)| n == name) else {
            return self.fail(format!("undefined variable: {name}"));
        };
        let value = value.clone();
        if names.is_empty() {
            self.not_a_function(words, final_.as_ref())?;
            return Ok(value);
        }
        self.eval_field_chain(dot, value, Some(name), names, words, final_)
    }

    /// `receiver.a.b.c`: the last field gets the command's arguments.
    /// `var` is the variable the receiver was read from, if any, so that
    /// `$d.Set` can store its result back.
    fn eval_field_chain(
        &mut self,
        dot: &Value,
        mut receiver: Value,
        var: Option<&SmolStr>,
        names: &'a [SmolStr],
        words: Words<'a>,
        final_: Option<Value>,
    ) -> Step<Value> {
        let Some((last, path)) = names.split_last() else {
            return self.fail("no fields");
        };
        for (i, name) in path.iter().enumerate() {
            // A JSON null read from a map is a nil interface in Go, and a
            // field of it is an error (a missing key is not).
            if let Value::Map(map) = &receiver
                && let Some(Value::Nil) = map.get(name.as_str())
            {
                let next = &names[i + 1];
                return self.fail(format!("nil pointer evaluating interface {{}}.{next}"));
            }
            receiver = self.eval_field(dot, name, &[], None, receiver)?;
        }
        let set = last.as_str() == "Set" && self.is_dict(&receiver);
        let value = self.eval_field(dot, last, words, final_, receiver)?;
        if let (true, Some(var), []) = (set, var, path) {
            self.assign(var, value.clone())?;
        }
        Ok(value)
    }

    fn eval_field(
        &mut self,
        dot: &Value,
        name: &str,
        words: Words<'a>,
        final_: Option<Value>,
        receiver: Value,
    ) -> Step<Value> {
        match &receiver {
            // A missing value, or JSON null: missingkey=default.
            Value::Nil => Ok(Value::Nil),
            Value::Map(_) if name == "Set" && self.is_dict(&receiver) => {
                let Some(node) = self.at else {
                    return self.fail("a method without a node");
                };
                self.eval_call(
                    dot,
                    funcs::set_method(),
                    Some(receiver),
                    node,
                    words,
                    final_,
                )
            }
            Value::Map(map) => {
                if words.len() > 1 || final_.is_some() {
                    return self.fail(format!("{name} is not a method but has arguments"));
                }
                Ok(map.get(name).cloned().unwrap_or(Value::Nil))
            }
            other => self.fail(format!(
                "can't evaluate field {name} in type {}",
                self.go_type(other)
            )),
        }
    }

    /// Whether `value` is a `[]string`.
    pub(super) fn is_strings(&self, value: &Value) -> bool {
        match value {
            Value::List(list) => self
                .strings
                .iter()
                .any(|kept| matches!(kept, Value::List(k) if Arc::ptr_eq(k, list))),
            _ => false,
        }
    }

    /// The Go type of `value`, for messages.
    pub(super) fn go_type(&self, value: &Value) -> &'static str {
        if self.is_strings(value) {
            "[]string"
        } else {
            type_name(value)
        }
    }

    pub(super) fn is_dict(&self, value: &Value) -> bool {
        match value {
            Value::Map(map) => self
                .dicts
                .iter()
                .any(|kept| matches!(kept, Value::Map(k) if Arc::ptr_eq(k, map))),
            _ => false,
        }
    }

    pub(super) fn eval_function(
        &mut self,
        dot: &Value,
        ident: &'a Expr,
        name: &str,
        node: At<'a>,
        words: Words<'a>,
        final_: Option<Value>,
    ) -> Step<Value> {
        self.at(At::Expr(ident));
        let Some(func) = funcs::lookup(name) else {
            return self.fail(format!("{name:?} is not a defined function"));
        };
        self.eval_call(dot, func, None, node, words, final_)
    }
}
