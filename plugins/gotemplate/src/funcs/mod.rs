//! The template function map: upstream Versus's functions and Go's
//! builtins, each with the parameter types Go's executor checks before the
//! call (so that a wrong argument fails where Go fails, naming that
//! argument).
//!
//! The argument order and behaviour of every function are documented in
//! the crate docs (`lib.rs`, "Template functions").

mod builtins;
mod case;
mod compare;
mod data;
mod text;
mod time;

#[cfg(test)]
mod tests;

use std::sync::OnceLock;

use gotmpl::{TemplateError, Value};

pub(crate) use builtins::truth;

use crate::gofmt::type_name;

/// A function's Go parameter type, as the executor checks an argument
/// against it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Param {
    /// `interface{}` or `reflect.Value`: anything, nil included.
    Any,
    /// `string`.
    Str,
    /// `int`.
    Int,
    /// `[]interface{}`: a list, or nil for an empty one.
    List,
    /// `[]string`: a list of strings, or nil.
    Strings,
}

impl Param {
    /// The Go type, for messages.
    pub(crate) fn go_type(self) -> &'static str {
        match self {
            Param::Any => "interface {}",
            Param::Str => "string",
            Param::Int => "int",
            Param::List => "[]interface {}",
            Param::Strings => "[]string",
        }
    }

    /// Whether nil converts to this type (Go's `canBeNil`).
    pub(crate) fn can_be_nil(self) -> bool {
        matches!(self, Param::Any | Param::List | Param::Strings)
    }
}

type Call = fn(&[Value]) -> Result<Value, TemplateError>;

/// A function callable from a template.
pub(crate) struct Func {
    pub(crate) name: &'static str,
    pub(crate) call: Call,
    /// The fixed parameters.
    pub(crate) params: &'static [Param],
    /// The type of the variadic rest, for a variadic function.
    pub(crate) rest: Option<Param>,
}

const fn f(name: &'static str, call: Call, params: &'static [Param]) -> Func {
    Func {
        name,
        call,
        params,
        rest: None,
    }
}

const fn variadic(name: &'static str, call: Call, params: &'static [Param], rest: Param) -> Func {
    Func {
        name,
        call,
        params,
        rest: Some(rest),
    }
}

use Param::{Any, Int, List, Str, Strings};

/// Every function. `and` and `or` are evaluated by the executor (their
/// arguments lazily); their entries give their signature.
const FUNCS: [Func; 45] = [
    // Go's builtins.
    variadic("and", builtins::unreachable, &[Any], Any),
    variadic("or", builtins::unreachable, &[Any], Any),
    f("not", builtins::not, &[Any]),
    f("len", builtins::len, &[Any]),
    variadic("index", builtins::index, &[Any], Any),
    variadic("slice", builtins::slice, &[Any], Any),
    variadic("call", builtins::call, &[Any], Any),
    variadic("eq", compare::eq, &[Any], Any),
    f("ne", compare::ne, &[Any, Any]),
    f("lt", compare::lt, &[Any, Any]),
    f("le", compare::le, &[Any, Any]),
    f("gt", compare::gt, &[Any, Any]),
    f("ge", compare::ge, &[Any, Any]),
    variadic("print", data::print, &[], Any),
    variadic("println", data::println, &[], Any),
    variadic("printf", data::printf, &[Str], Any),
    variadic("html", text::html, &[], Any),
    variadic("js", text::js, &[], Any),
    variadic("urlquery", text::urlquery, &[], Any),
    // Upstream Versus's functions.
    f("upper", text::upper, &[Str]),
    f("lower", text::lower, &[Str]),
    f("title", text::title, &[Str]),
    f("default", data::default, &[Any, Any]),
    f("replace", text::replace_all, &[Str, Str, Str]),
    f("replaceAll", text::replace_all, &[Str, Str, Str]),
    f("contains", text::contains, &[Str, Str]),
    f("trimPrefix", text::trim_prefix, &[Str, Str]),
    f("trimSuffix", text::trim_suffix, &[Str, Str]),
    f("split", text::split, &[Str, Str]),
    f("join", text::join, &[Strings, Str]),
    f("truncate", text::truncate, &[Str, Int]),
    f("formatTime", time::format_time, &[Str]),
    f("format", time::format, &[Str, Any]),
    f("now", time::now, &[]),
    f("env", data::env, &[Str]),
    f("toString", data::to_string, &[Any]),
    f("stringSlice", data::string_slice, &[List]),
    f("escapeHTML", text::escape_html, &[Any]),
    variadic("dict", data::dict, &[], Any),
    variadic("list", data::list, &[], Any),
    variadic("append", data::append, &[List], Any),
    f("add", data::add, &[Any, Any]),
    f("include", data::include, &[Str, Any]),
    f("regexMatch", text::regex_match, &[Str, Str]),
    // The method `dict`'s maps have: `$d.Set key value`.
    f("Set", data::set, &[Str, Any]),
];

/// The `Set` method's entry (not callable as a function).
pub(crate) fn set_method() -> &'static Func {
    &FUNCS[FUNCS.len() - 1]
}

/// The function called `name` in templates.
pub(crate) fn lookup(name: &str) -> Option<&'static Func> {
    // Sorted once; a binary search over short names is quicker than
    // hashing them, and this runs for every call a template makes.
    static SORTED: OnceLock<Vec<&'static Func>> = OnceLock::new();
    let sorted = SORTED.get_or_init(|| {
        let mut funcs: Vec<&'static Func> = FUNCS[..FUNCS.len() - 1].iter().collect();
        funcs.sort_unstable_by_key(|func| func.name);
        funcs
    });
    sorted
        .binary_search_by(|func| func.name.cmp(name))
        .ok()
        .map(|i| sorted[i])
}

/// Whether `name` can be called from a template.
pub(crate) fn is_defined(name: &str) -> bool {
    lookup(name).is_some()
}

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
