//! Go's comparison builtins `eq ne lt le gt ge`, over basic kinds: bool,
//! integers, float64 and strings. Comparing an int with a float64 (such as
//! a literal `1` with a JSON number) is an error in Go, and here.

use std::cmp::Ordering;

use gotmpl::{TemplateError, Value};

use super::exec_error;

type Result = std::result::Result<Value, TemplateError>;

const BAD_TYPE: &str = "invalid type for comparison";
const INCOMPATIBLE: &str = "incompatible types for comparison";

/// A value's basic kind, with what it holds.
enum Basic<'a> {
    Bool(bool),
    Int(i64),
    Uint(u64),
    Float(f64),
    Str(&'a str),
}

fn basic(v: &Value) -> Option<Basic<'_>> {
    Some(match v {
        Value::Bool(b) => Basic::Bool(*b),
        Value::Int(n) => Basic::Int(*n),
        Value::Uint(n) => Basic::Uint(*n),
        Value::Float(x) => Basic::Float(*x),
        Value::String(s) => Basic::Str(s),
        _ => return None,
    })
}

/// `a == b` for two basic values, or the error Go gives.
fn equal(a: &Value, b: &Value) -> std::result::Result<bool, TemplateError> {
    match (basic(a), basic(b)) {
        (Some(x), Some(y)) => match (x, y) {
            (Basic::Bool(x), Basic::Bool(y)) => Ok(x == y),
            (Basic::Int(x), Basic::Int(y)) => Ok(x == y),
            (Basic::Uint(x), Basic::Uint(y)) => Ok(x == y),
            (Basic::Int(x), Basic::Uint(y)) | (Basic::Uint(y), Basic::Int(x)) => {
                Ok(u64::try_from(x).is_ok_and(|x| x == y))
            }
            (Basic::Float(x), Basic::Float(y)) => Ok(x == y),
            (Basic::Str(x), Basic::Str(y)) => Ok(x == y),
            _ => Err(exec_error(INCOMPATIBLE)),
        },
        // nil against a value is simply unequal; two nils are equal.
        _ if matches!(a, Value::Nil) || matches!(b, Value::Nil) => {
            Ok(matches!(a, Value::Nil) && matches!(b, Value::Nil))
        }
        (None, _) => Err(exec_error(format!(
            "non-comparable type {}: {}",
            crate::gofmt::to_string(a),
            crate::gofmt::type_name(a)
        ))),
        (Some(_), None) => Err(exec_error(INCOMPATIBLE)),
    }
}

/// `a < b` for two basic values, or the error Go gives.
fn less(a: &Value, b: &Value) -> std::result::Result<bool, TemplateError> {
    let (Some(x), Some(y)) = (basic(a), basic(b)) else {
        return Err(exec_error(BAD_TYPE));
    };
    let order = match (x, y) {
        (Basic::Bool(_), Basic::Bool(_)) => return Err(exec_error(BAD_TYPE)),
        (Basic::Int(x), Basic::Int(y)) => x.cmp(&y),
        (Basic::Uint(x), Basic::Uint(y)) => x.cmp(&y),
        (Basic::Int(x), Basic::Uint(y)) => u64::try_from(x).map_or(Ordering::Less, |x| x.cmp(&y)),
        (Basic::Uint(x), Basic::Int(y)) => {
            u64::try_from(y).map_or(Ordering::Greater, |y| x.cmp(&y))
        }
        (Basic::Float(x), Basic::Float(y)) => {
            return Ok(x < y);
        }
        (Basic::Str(x), Basic::Str(y)) => x.cmp(y),
        _ => return Err(exec_error(INCOMPATIBLE)),
    };
    Ok(order == Ordering::Less)
}

/// `eq a b c …`: whether `a` equals any of the others.
pub(super) fn eq(args: &[Value]) -> Result {
    if args.len() < 2 {
        return Err(exec_error("missing argument for comparison"));
    }
    for other in &args[1..] {
        if equal(&args[0], other)? {
            return Ok(Value::Bool(true));
        }
    }
    Ok(Value::Bool(false))
}

/// `ne a b`
pub(super) fn ne(args: &[Value]) -> Result {
    Ok(Value::Bool(!equal(&args[0], &args[1])?))
}

/// `lt a b`
pub(super) fn lt(args: &[Value]) -> Result {
    Ok(Value::Bool(less(&args[0], &args[1])?))
}

/// `le a b`
pub(super) fn le(args: &[Value]) -> Result {
    Ok(Value::Bool(
        less(&args[0], &args[1])? || equal(&args[0], &args[1])?,
    ))
}

/// `gt a b`
pub(super) fn gt(args: &[Value]) -> Result {
    Ok(Value::Bool(
        !(less(&args[0], &args[1])? || equal(&args[0], &args[1])?),
    ))
}

/// `ge a b`
pub(super) fn ge(args: &[Value]) -> Result {
    Ok(Value::Bool(!less(&args[0], &args[1])?))
}
