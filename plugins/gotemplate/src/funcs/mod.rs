//! The template function map: upstream Versus's functions, plus Go's
//! printing builtins re-done so that numbers print as Go prints them.
//!
//! The argument order and behaviour of every function are documented in
//! the crate docs (`lib.rs`, "Template functions").

mod case;
mod data;
mod text;
mod time;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use gotmpl::{FuncMap, TemplateError, Value, ValueFunc};

use crate::gofmt::type_name;

/// Go's predefined functions, which the parser accepts without a definition.
const GO_BUILTINS: [&str; 19] = [
    "and", "call", "eq", "ge", "gt", "html", "index", "js", "le", "len", "lt", "ne", "not", "or",
    "print", "printf", "println", "slice", "urlquery",
];

/// Whether `name` can be called from a template.
pub(crate) fn is_defined(name: &str) -> bool {
    GO_BUILTINS.contains(&name) || FUNCS.iter().any(|(n, _)| *n == name)
}

type Func = fn(&[Value]) -> Result<Value, TemplateError>;

/// The functions this crate adds to (or replaces in) gotmpl's builtins.
const FUNCS: [(&str, Func); 31] = [
    ("upper", text::upper),
    ("lower", text::lower),
    ("title", text::title),
    ("default", data::default),
    ("replace", text::replace_all),
    ("replaceAll", text::replace_all),
    ("contains", text::contains),
    ("trimPrefix", text::trim_prefix),
    ("trimSuffix", text::trim_suffix),
    ("split", text::split),
    ("join", text::join),
    ("truncate", text::truncate),
    ("formatTime", time::format_time),
    ("format", time::format),
    ("now", time::now),
    ("env", data::env),
    ("toString", data::to_string),
    ("stringSlice", data::string_slice),
    ("escapeHTML", text::escape_html),
    ("dict", data::dict),
    ("list", data::list),
    ("append", data::append),
    ("add", data::add),
    ("regexMatch", text::regex_match),
    ("print", data::print),
    ("println", data::println),
    ("printf", data::printf),
    ("html", text::html),
    ("js", text::js),
    ("urlquery", text::urlquery),
    (PRINT_ACTION, data::print_action),
];

/// [`FUNCS`] as a gotmpl function map.
pub(crate) fn func_map() -> FuncMap {
    FUNCS
        .into_iter()
        .map(|(name, f)| (name.to_string(), Arc::new(f) as ValueFunc))
        .collect()
}

/// The function that prints an action's value, appended to every printing
/// pipeline by [`crate::rewrite`]. The space makes it impossible to call
/// from a template.
pub(crate) const PRINT_ACTION: &str = " print action";

/// An execution error with a plain message.
pub(crate) fn exec_error(msg: impl Into<String>) -> TemplateError {
    TemplateError::Exec(msg.into())
}

/// Checks that `name` got exactly `want` arguments.
pub(crate) fn want_args(name: &str, args: &[Value], want: usize) -> Result<(), TemplateError> {
    if args.len() == want {
        return Ok(());
    }
    Err(exec_error(format!(
        "wrong number of args for {name}: want {want} got {}",
        args.len()
    )))
}

/// Checks that `name` got at least `want` arguments.
pub(crate) fn want_at_least(name: &str, args: &[Value], want: usize) -> Result<(), TemplateError> {
    if args.len() >= want {
        return Ok(());
    }
    Err(exec_error(format!(
        "wrong number of args for {name}: want at least {want} got {}",
        args.len()
    )))
}

/// Go's conversion of an argument to a parameter of type `want`, failed.
fn wrong_type(name: &str, want: &str, got: &Value) -> TemplateError {
    match got {
        Value::Nil => exec_error(format!("{name}: invalid value; expected {want}")),
        other => exec_error(format!(
            "{name}: wrong type for value; expected {want}; got {}",
            type_name(other)
        )),
    }
}

/// A `string` parameter: only strings are accepted, as in Go.
pub(crate) fn string_arg<'a>(name: &str, v: &'a Value) -> Result<&'a str, TemplateError> {
    match v {
        Value::String(s) => Ok(s),
        other => Err(wrong_type(name, "string", other)),
    }
}

/// An `int` parameter: integer values only (a JSON number is a float64).
pub(crate) fn int_arg(name: &str, v: &Value) -> Result<i64, TemplateError> {
    match v {
        Value::Int(n) => Ok(*n),
        Value::Uint(n) => i64::try_from(*n).map_err(|_| wrong_type(name, "int", v)),
        other => Err(wrong_type(name, "int", other)),
    }
}

/// A slice parameter: a list, or nil for an empty one.
pub(crate) fn list_arg<'a>(name: &str, v: &'a Value) -> Result<&'a [Value], TemplateError> {
    match v {
        Value::List(items) => Ok(items),
        Value::Nil => Ok(&[]),
        other => Err(wrong_type(name, "[]interface {}", other)),
    }
}
