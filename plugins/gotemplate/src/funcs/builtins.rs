//! Go's builtins `not`, `len`, `index`, `slice` and `call`, with Go's
//! results and error messages. (`and`/`or` are the executor's; the
//! comparisons are in `compare.rs`; the printing ones in `data.rs`.)

use gotmpl::{TemplateError, Value};

use super::exec_error;
use super::text::bytes_text;
use crate::gofmt::type_name;

type Result = std::result::Result<Value, TemplateError>;

/// `and` and `or` never get here: the executor evaluates them itself.
pub(super) fn unreachable(_: &[Value]) -> Result {
    Err(exec_error(
        "internal error: and/or are evaluated by the executor",
    ))
}

/// Go's truth of a value: not the zero value of its type.
pub(crate) fn truth(v: &Value) -> bool {
    match v {
        Value::Nil => false,
        Value::Bool(b) => *b,
        Value::Int(n) => *n != 0,
        Value::Uint(n) => *n != 0,
        Value::Float(x) => *x != 0.0,
        Value::String(s) => !s.is_empty(),
        Value::List(items) => !items.is_empty(),
        Value::Map(map) => !map.is_empty(),
        Value::Function(_) => true,
    }
}

/// `not x`
pub(super) fn not(args: &[Value]) -> Result {
    Ok(Value::Bool(!truth(&args[0])))
}

/// `len x`: bytes of a string, items of a list or map.
pub(super) fn len(args: &[Value]) -> Result {
    let n = match &args[0] {
        Value::String(s) => s.len(),
        Value::List(items) => items.len(),
        Value::Map(map) => map.len(),
        Value::Nil => {
            return Err(exec_error(
                "reflect: call of reflect.Value.Type on zero Value",
            ));
        }
        other => return Err(exec_error(format!("len of type {}", type_name(other)))),
    };
    Ok(Value::Int(i64::try_from(n).unwrap_or(i64::MAX)))
}

/// An index into something of length `len` (Go's `indexArg`).
fn index_arg(index: &Value, len: usize) -> std::result::Result<usize, TemplateError> {
    let x = match index {
        Value::Int(n) => *n,
        Value::Uint(n) => i64::try_from(*n).unwrap_or(i64::MAX),
        Value::Nil => return Err(exec_error("cannot index slice/array with nil")),
        other => {
            return Err(exec_error(format!(
                "cannot index slice/array with type {}",
                type_name(other)
            )));
        }
    };
    match usize::try_from(x) {
        Ok(i) if i <= len => Ok(i),
        _ => Err(exec_error(format!("index out of range: {x}"))),
    }
}

/// `index x i j …`: `x[i][j]…`; a missing map key gives nil.
pub(super) fn index(args: &[Value]) -> Result {
    let mut item = args[0].clone();
    if matches!(item, Value::Nil) {
        return Err(exec_error("index of untyped nil"));
    }
    for index in &args[1..] {
        item = match &item {
            Value::List(items) => {
                let i = index_arg(index, items.len())?;
                items
                    .get(i)
                    .cloned()
                    .ok_or_else(|| exec_error("reflect: slice index out of range"))?
            }
            Value::String(s) => {
                let i = index_arg(index, s.len())?;
                let byte = s
                    .as_bytes()
                    .get(i)
                    .copied()
                    .ok_or_else(|| exec_error("reflect: string index out of range"))?;
                Value::Int(i64::from(byte))
            }
            Value::Map(map) => match index {
                Value::String(key) => map.get(key).cloned().unwrap_or(Value::Nil),
                Value::Nil => return Err(exec_error("value is nil; should be of type string")),
                other => {
                    return Err(exec_error(format!(
                        "value has type {}; should be string",
                        type_name(other)
                    )));
                }
            },
            Value::Nil => return Err(exec_error("index of nil pointer")),
            other => {
                return Err(exec_error(format!(
                    "can't index item of type {}",
                    type_name(other)
                )));
            }
        };
    }
    Ok(item)
}

/// `slice x i j k`: `x[i:j:k]`; a string is cut by bytes, as in Go (see
/// [`bytes_text`] for a cut inside a character).
pub(super) fn slice(args: &[Value]) -> Result {
    let (item, indexes) = (&args[0], &args[1..]);
    if matches!(item, Value::Nil) {
        return Err(exec_error("slice of untyped nil"));
    }
    if indexes.len() > 3 {
        return Err(exec_error(format!(
            "too many slice indexes: {}",
            indexes.len()
        )));
    }
    let len = match item {
        Value::String(_) if indexes.len() == 3 => {
            return Err(exec_error("cannot 3-index slice a string"));
        }
        Value::String(s) => s.len(),
        Value::List(items) => items.len(),
        other => {
            return Err(exec_error(format!(
                "can't slice item of type {}",
                type_name(other)
            )));
        }
    };
    let mut idx = [0, len, len];
    for (i, index) in indexes.iter().enumerate() {
        idx[i] = index_arg(index, len)?;
    }
    if idx[0] > idx[1] {
        return Err(exec_error(format!(
            "invalid slice index: {} > {}",
            idx[0], idx[1]
        )));
    }
    if indexes.len() == 3 && idx[1] > idx[2] {
        return Err(exec_error(format!(
            "invalid slice index: {} > {}",
            idx[1], idx[2]
        )));
    }
    Ok(match item {
        Value::String(s) => Value::String(bytes_text(&s.as_bytes()[idx[0]..idx[1]]).into()),
        Value::List(items) => Value::List(items[idx[0]..idx[1]].into()),
        _ => Value::Nil,
    })
}

/// `call f args…`: template data never holds functions, so this only fails.
pub(super) fn call(args: &[Value]) -> Result {
    match &args[0] {
        Value::Nil => Err(exec_error("call of nil")),
        Value::Function(f) => f(&args[1..]),
        other => Err(exec_error(format!(
            "non-function of type {}",
            type_name(other)
        ))),
    }
}
