//! Value functions: `default`, conversions, lists and maps, `add`, and the
//! printing builtins.

use std::collections::BTreeMap;
use std::sync::Arc;

use gotmpl::{TemplateError, Value};

use super::{exec_error, list_arg, string_arg, want_args, want_at_least};
use crate::gofmt;

type Result = std::result::Result<Value, TemplateError>;

/// `default value fallback`: `fallback` when `value` is nil or `""`.
pub(super) fn default(args: &[Value]) -> Result {
    want_args("default", args, 2)?;
    match &args[0] {
        Value::Nil => Ok(args[1].clone()),
        Value::String(s) if s.is_empty() => Ok(args[1].clone()),
        value => Ok(value.clone()),
    }
}

/// `toString v`: `fmt.Sprintf("%v", v)`.
pub(super) fn to_string(args: &[Value]) -> Result {
    want_args("toString", args, 1)?;
    Ok(Value::String(gofmt::to_string(&args[0]).into()))
}

/// `stringSlice list`: each element as its `%v` string.
pub(super) fn string_slice(args: &[Value]) -> Result {
    want_args("stringSlice", args, 1)?;
    let items = list_arg("stringSlice", &args[0])?;
    let strings: Vec<Value> = items
        .iter()
        .map(|v| Value::String(gofmt::to_string(v).into()))
        .collect();
    Ok(Value::List(strings.into()))
}

/// `env name`: always `""`. It never reads any environment (not even the
/// plugin's, which the gateway leaves empty), so no secret can reach a
/// message through it; it exists so that templates written for upstream
/// (`or (env "DEFAULT_RUNBOOK_URL") ""`) parse and render.
pub(super) fn env(args: &[Value]) -> Result {
    want_args("env", args, 1)?;
    string_arg("env", &args[0])?;
    Ok(Value::String("".into()))
}

/// `dict k1 v1 k2 v2 …`
pub(super) fn dict(args: &[Value]) -> Result {
    if !args.len().is_multiple_of(2) {
        return Err(exec_error("dict expects an even number of arguments"));
    }
    let mut map: BTreeMap<Arc<str>, Value> = BTreeMap::new();
    for pair in args.chunks_exact(2) {
        let Value::String(key) = &pair[0] else {
            return Err(exec_error("dict keys must be strings"));
        };
        map.insert(key.clone(), pair[1].clone());
    }
    Ok(Value::Map(Arc::new(map)))
}

/// `list v…`
pub(super) fn list(args: &[Value]) -> Result {
    Ok(Value::List(args.into()))
}

/// `append list v…`
pub(super) fn append(args: &[Value]) -> Result {
    want_at_least("append", args, 1)?;
    let items = list_arg("append", &args[0])?;
    let mut out = Vec::with_capacity(items.len() + args.len() - 1);
    out.extend_from_slice(items);
    out.extend_from_slice(&args[1..]);
    Ok(Value::List(out.into()))
}

/// `add a b`: numeric for int and float64, otherwise string concatenation.
pub(super) fn add(args: &[Value]) -> Result {
    want_args("add", args, 2)?;
    Ok(match (&args[0], &args[1]) {
        (Value::Int(a), Value::Int(b)) => Value::Int(a.wrapping_add(*b)),
        (Value::Int(a), Value::Float(b)) => Value::Float(*a as f64 + b),
        (Value::Float(a), Value::Int(b)) => Value::Float(a + *b as f64),
        (Value::Float(a), Value::Float(b)) => Value::Float(a + b),
        (a, b) => {
            let mut s = gofmt::to_string(a);
            s.push_str(&gofmt::to_string(b));
            Value::String(s.into())
        }
    })
}

/// Go's `print` builtin: `fmt.Sprint`.
pub(super) fn print(args: &[Value]) -> Result {
    Ok(Value::String(gofmt::sprint(args).into()))
}

/// Go's `println` builtin: `fmt.Sprintln`.
pub(super) fn println(args: &[Value]) -> Result {
    Ok(Value::String(gofmt::sprintln(args).into()))
}

/// Go's `printf` builtin: `fmt.Sprintf`.
pub(super) fn printf(args: &[Value]) -> Result {
    want_at_least("printf", args, 1)?;
    let format = string_arg("printf", &args[0])?;
    Ok(Value::String(gofmt::sprintf(format, &args[1..]).into()))
}

/// `include name data`: upstream's stub, which renders nothing (upstream
/// registers it so that templates calling it parse; it never includes).
pub(super) fn include(args: &[Value]) -> Result {
    want_args("include", args, 2)?;
    string_arg("include", &args[0])?;
    Ok(Value::String("".into()))
}

/// `$d.Set key value`, the method of `dict`'s maps: the map with `key` set
/// (the executor stores it back into the variable the map came from).
pub(super) fn set(args: &[Value]) -> Result {
    want_args("Set", args, 3)?;
    let Value::Map(map) = &args[0] else {
        return Err(exec_error("Set needs a dict"));
    };
    let key = string_arg("Set", &args[1])?;
    let mut map = BTreeMap::clone(map);
    map.insert(key.into(), args[2].clone());
    Ok(Value::Map(Arc::new(map)))
}
