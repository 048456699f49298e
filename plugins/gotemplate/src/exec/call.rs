//! Calls: the argument count, each argument evaluated and checked against
//! its Go parameter type (Go's `evalCall`, `evalArg`, `validateType`), and
//! the lazy `and`/`or`.

use gotmpl::parse::{Expr, Number};
use gotmpl::{TemplateError, Value};

use super::eval::Words;
use super::{At, Exec, Step};
use crate::funcs::{Func, Param, truth};

impl<'a> Exec<'a> {
    /// Checks the argument count, evaluates and checks each argument, then
    /// calls `func`; a failing call is reported at `node`.
    pub(super) fn eval_call(
        &mut self,
        dot: &Value,
        func: &'static Func,
        receiver: Option<Value>,
        node: At<'a>,
        words: Words<'a>,
        final_: Option<Value>,
    ) -> Step<Value> {
        let args = words.get(1..).unwrap_or(&[]);
        let count = args.len() + usize::from(final_.is_some());
        let fixed = func.params.len();
        match func.rest {
            Some(_) if count < fixed => {
                return self.fail(format!(
                    "wrong number of args for {}: want at least {fixed} got {}",
                    func.name,
                    args.len()
                ));
            }
            None if count != fixed => {
                return self.fail(format!(
                    "wrong number of args for {}: want {fixed} got {count}",
                    func.name
                ));
            }
            _ => {}
        }
        if matches!(func.name, "and" | "or") {
            return self.and_or(dot, func.name == "or", args, final_);
        }
        let param = |i: usize| {
            func.params
                .get(i)
                .copied()
                .or(func.rest)
                .unwrap_or(Param::Any)
        };
        let mut argv = Vec::with_capacity(count + 1);
        argv.extend(receiver);
        for (i, arg) in args.iter().enumerate() {
            argv.push(self.eval_arg(dot, param(i), arg)?);
        }
        if let Some(value) = final_ {
            argv.push(self.validate(value, param(count - 1))?);
        }
        match (func.call)(&argv) {
            Ok(value) => {
                match (&value, func.name) {
                    (Value::Map(_), "dict" | "Set") => self.dicts.push(value.clone()),
                    (Value::List(_), "split" | "stringSlice") => self.strings.push(value.clone()),
                    (Value::List(_), "slice") if self.is_strings(&argv[0]) => {
                        self.strings.push(value.clone());
                    }
                    _ => {}
                }
                Ok(value)
            }
            Err(e) => {
                self.at(node);
                let msg = match e {
                    TemplateError::Exec(msg) => msg,
                    other => other.to_string(),
                };
                self.fail(format!("error calling {}: {msg}", func.name))
            }
        }
    }

    /// `and`/`or`: the first false (true) argument, else the last, with
    /// the arguments after it never evaluated.
    pub(super) fn and_or(
        &mut self,
        dot: &Value,
        or: bool,
        args: &'a [Expr],
        final_: Option<Value>,
    ) -> Step<Value> {
        let mut value = Value::Nil;
        for arg in args {
            value = self.eval_arg(dot, Param::Any, arg)?;
            if truth(&value) == or {
                return Ok(value);
            }
        }
        Ok(final_.unwrap_or(value))
    }

    /// Evaluates one argument for a parameter of type `param`.
    pub(super) fn eval_arg(&mut self, dot: &Value, param: Param, arg: &'a Expr) -> Step<Value> {
        self.at(At::Expr(arg));
        let value = match arg {
            Expr::Dot(_) => dot.clone(),
            Expr::Nil(_) if param.can_be_nil() => return Ok(Value::Nil),
            Expr::Nil(_) => {
                return self.fail(format!("cannot assign nil to {}", param.go_type()));
            }
            Expr::Field(..) => self.eval_field_node(dot, arg, std::slice::from_ref(arg), None)?,
            Expr::Variable(..) => self.eval_variable_node(dot, arg, &[], None)?,
            Expr::Pipe(_, pipe) => self.eval_pipeline(dot, pipe)?,
            Expr::Identifier(_, name) => {
                let words = std::slice::from_ref(arg);
                self.eval_function(dot, arg, name, At::Expr(arg), words, None)?
            }
            Expr::Chain(..) => self.eval_chain_node(dot, arg, &[], None)?,
            literal => return self.literal(param, literal),
        };
        self.validate(value, param)
    }

    /// A literal argument for a parameter of type `param`.
    pub(super) fn literal(&self, param: Param, literal: &Expr) -> Step<Value> {
        match (param, literal) {
            (Param::Str | Param::Any, Expr::String(_, s)) => Ok(Value::String(s.clone())),
            (Param::Int, Expr::Number(_, Number::Int(i))) => Ok(Value::Int(*i)),
            (Param::Any, Expr::Number(_, n)) => self.constant(*n),
            (Param::Any, Expr::Bool(_, b)) => Ok(Value::Bool(*b)),
            (Param::Str, _) => self.fail(format!("expected string; found {}", self.at_text())),
            (Param::Int, _) => self.fail(format!("expected integer; found {}", self.at_text())),
            _ => self.fail(format!(
                "can't handle {} for arg of type {}",
                self.at_text(),
                param.go_type()
            )),
        }
    }

    /// Checks that a value fits a parameter (Go's `validateType`).
    pub(super) fn validate(&self, value: Value, param: Param) -> Step<Value> {
        let fits = match (param, &value) {
            (Param::Any, _) => true,
            (_, Value::Nil) if param.can_be_nil() => true,
            (_, Value::Nil) => {
                return self.fail(format!("invalid value; expected {}", param.go_type()));
            }
            (Param::Str, Value::String(_)) => true,
            (Param::Int, Value::Int(_) | Value::Uint(_)) => true,
            (Param::List, Value::List(_)) => !self.is_strings(&value),
            (Param::Strings, Value::List(_)) => self.is_strings(&value),
            _ => false,
        };
        if fits {
            Ok(value)
        } else {
            self.fail(format!(
                "wrong type for value; expected {}; got {}",
                param.go_type(),
                self.go_type(&value)
            ))
        }
    }
}
