//! Go's `fmt` package for template values: `%v` printing, `Sprint`,
//! `Sprintln` and `Sprintf`.
//!
//! Values are typed the way Go's `encoding/json` and `text/template` type them:
//! `Float` is `float64`, `Int` is `int` (template literals, `len`), `List` is
//! `[]interface {}` and `Map` is `map[string]interface {}`. gotmpl prints
//! floats with Rust's `Display`, which never uses an exponent (`1000000`
//! where Go prints `1e+06`), so every path that prints a value goes through
//! here instead.
//!
//! Not reproduced: `%p`, `%x`/`%X`/`%b` on floats and the `#` flag on
//! `%e`/`%f`/`%g` (all rare in message templates; they print as bad verbs or
//! without the `#` change).

mod float;
mod int;
mod printf;
mod quote;
#[cfg(test)]
mod tests;

use gotmpl::Value;

pub(crate) use float::format_float;
use int::fmt_integer;
pub(crate) use printf::sprintf;
use quote::quote_string;

/// Flags, width and precision of one `fmt` directive.
#[derive(Clone, Copy, Default)]
pub(crate) struct Spec {
    pub(crate) minus: bool,
    pub(crate) plus: bool,
    pub(crate) sharp: bool,
    pub(crate) space: bool,
    pub(crate) zero: bool,
    /// `%#v`: Go-syntax representation.
    pub(crate) sharp_v: bool,
    pub(crate) wid: Option<usize>,
    pub(crate) prec: Option<usize>,
}

/// Go's name for the dynamic type of `v`, as `%T` prints it.
pub(crate) fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Nil => "<nil>",
        Value::Bool(_) => "bool",
        Value::Int(_) => "int",
        Value::Uint(_) => "uint",
        Value::Float(_) => "float64",
        Value::String(_) => "string",
        Value::List(_) => "[]interface {}",
        Value::Map(_) => "map[string]interface {}",
        Value::Function(_) => "func()",
    }
}

/// `fmt.Sprint(v)`: the `%v` form of one value.
pub(crate) fn to_string(v: &Value) -> String {
    if let Value::String(s) = v {
        return s.to_string();
    }
    let mut out = String::new();
    print_arg(&mut out, v, 'v', &Spec::default());
    out
}

/// How a `{{ pipeline }}` action prints its value: like `fmt.Print`, except
/// that a missing or nil value prints as `<no value>`.
pub(crate) fn action_text(v: &Value) -> String {
    match v {
        Value::Nil => "<no value>".to_string(),
        other => to_string(other),
    }
}

/// `fmt.Sprint(args...)`: spaces between operands when neither is a string.
pub(crate) fn sprint(args: &[Value]) -> String {
    let mut out = String::new();
    let mut prev_string = false;
    for (i, arg) in args.iter().enumerate() {
        let is_string = matches!(arg, Value::String(_));
        if i > 0 && !is_string && !prev_string {
            out.push(' ');
        }
        print_arg(&mut out, arg, 'v', &Spec::default());
        prev_string = is_string;
    }
    out
}

/// `fmt.Sprintln(args...)`: spaces between all operands, then a newline.
pub(crate) fn sprintln(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, arg) in args.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        print_arg(&mut out, arg, 'v', &Spec::default());
    }
    out.push('\n');
    out
}

/// Go's `printArg`: formats one operand with `verb` at the top level.
pub(crate) fn print_arg(out: &mut String, v: &Value, verb: char, spec: &Spec) {
    match (v, verb) {
        (_, 'T') => pad(out, type_name(v), spec),
        (Value::Nil, 'v') => pad(out, "<nil>", spec),
        (Value::Nil, _) => bad_verb(out, verb, v, spec),
        _ => print_value(out, v, verb, spec),
    }
}

/// Go's `printValue` for a non-nil value (and for elements of lists and maps,
/// where nil prints as `<nil>` whatever the verb).
fn print_value(out: &mut String, v: &Value, verb: char, spec: &Spec) {
    match v {
        Value::Nil => out.push_str(if spec.sharp_v {
            "interface {}(nil)"
        } else {
            "<nil>"
        }),
        Value::Bool(b) => match verb {
            't' | 'v' => pad(out, if *b { "true" } else { "false" }, spec),
            _ => bad_verb(out, verb, v, spec),
        },
        Value::Int(n) => fmt_integer(out, n.unsigned_abs(), *n < 0, false, verb, spec, v),
        Value::Uint(n) => fmt_integer(out, *n, false, true, verb, spec, v),
        Value::Float(f) => fmt_float(out, *f, verb, spec, v),
        Value::String(s) => fmt_string(out, s, verb, spec, v),
        Value::List(items) => {
            if spec.sharp_v {
                out.push_str("[]interface {}{");
            } else {
                out.push('[');
            }
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(if spec.sharp_v { ", " } else { " " });
                }
                print_value(out, item, verb, spec);
            }
            out.push(if spec.sharp_v { '}' } else { ']' });
        }
        Value::Map(map) => {
            out.push_str(if spec.sharp_v {
                "map[string]interface {}{"
            } else {
                "map["
            });
            for (i, (key, item)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(if spec.sharp_v { ", " } else { " " });
                }
                fmt_string(out, key, verb, spec, &Value::String(key.clone()));
                out.push(':');
                print_value(out, item, verb, spec);
            }
            out.push(if spec.sharp_v { '}' } else { ']' });
        }
        Value::Function(_) => match verb {
            'v' => pad(out, "<func>", spec),
            _ => bad_verb(out, verb, v, spec),
        },
    }
}

/// `%!verb(type=value)`, Go's report of a verb that does not suit the operand.
pub(super) fn bad_verb(out: &mut String, verb: char, v: &Value, spec: &Spec) {
    out.push_str("%!");
    out.push(verb);
    out.push('(');
    if let Value::Nil = v {
        out.push_str("<nil>");
    } else {
        out.push_str(type_name(v));
        out.push('=');
        let spec = Spec {
            sharp_v: false,
            ..*spec
        };
        print_value(out, v, 'v', &spec);
    }
    out.push(')');
}

/// Writes `s` padded to the directive's width (counted in characters).
pub(super) fn pad(out: &mut String, s: &str, spec: &Spec) {
    let width = spec.wid.unwrap_or(0);
    let len = s.chars().count();
    if width <= len {
        out.push_str(s);
        return;
    }
    let fill = if spec.zero { '0' } else { ' ' };
    if spec.minus {
        out.push_str(s);
        out.extend(std::iter::repeat_n(' ', width - len));
    } else {
        out.extend(std::iter::repeat_n(fill, width - len));
        out.push_str(s);
    }
}

fn fmt_string(out: &mut String, s: &str, verb: char, spec: &Spec, v: &Value) {
    let truncated = match spec.prec {
        Some(p) => s.char_indices().nth(p).map_or(s, |(i, _)| &s[..i]),
        None => s,
    };
    match verb {
        'v' if spec.sharp_v => pad(out, &quote_string(s, false), spec),
        'v' | 's' => pad(out, truncated, spec),
        'q' => {
            let quoted = if spec.sharp && can_backquote(truncated) {
                format!("`{truncated}`")
            } else {
                quote_string(truncated, spec.plus)
            };
            pad(out, &quoted, spec);
        }
        'x' | 'X' => {
            // Precision limits the number of input bytes encoded.
            let bytes = match spec.prec {
                Some(p) => &s.as_bytes()[..p.min(s.len())],
                None => s.as_bytes(),
            };
            let mut hex = String::with_capacity(bytes.len() * 2);
            for (i, b) in bytes.iter().enumerate() {
                if spec.space && i > 0 {
                    hex.push(' ');
                }
                if spec.sharp && (spec.space || i == 0) {
                    hex.push_str(if verb == 'x' { "0x" } else { "0X" });
                }
                if verb == 'x' {
                    hex.push_str(&format!("{b:02x}"));
                } else {
                    hex.push_str(&format!("{b:02X}"));
                }
            }
            pad(out, &hex, spec);
        }
        _ => bad_verb(out, verb, v, spec),
    }
}

/// Go's `strconv.CanBackquote`: no control characters other than tab, no backquote.
fn can_backquote(s: &str) -> bool {
    s.chars()
        .all(|c| c == '\t' || !(c.is_control() || c == '`' || c == '\u{feff}'))
}

fn fmt_float(out: &mut String, f: f64, verb: char, spec: &Spec, v: &Value) {
    let (fmt_verb, prec) = match verb {
        'v' | 'g' | 'G' => (if verb == 'G' { 'G' } else { 'g' }, spec.prec),
        'e' | 'E' | 'f' | 'F' => (verb, Some(spec.prec.unwrap_or(6))),
        _ => return bad_verb(out, verb, v, spec),
    };
    let num = format_float(f, fmt_verb, prec);
    // Split the sign off, as Go does, so that zero padding goes after it.
    let (sign, digits) = match num.strip_prefix('-') {
        Some(rest) => ("-", rest),
        None => match num.strip_prefix('+') {
            Some(rest) => ("+", rest),
            None => ("+", num.as_str()),
        },
    };
    let sign = if sign == "+" && spec.space && !spec.plus {
        " "
    } else {
        sign
    };
    if digits.starts_with('I') || digits.starts_with('N') {
        let no_zero = Spec {
            zero: false,
            ..*spec
        };
        let text = if digits.starts_with('N') && !spec.space && !spec.plus {
            digits.to_string()
        } else {
            format!("{sign}{digits}")
        };
        return pad(out, &text, &no_zero);
    }
    if spec.plus || sign != "+" {
        let full_len = sign.len() + digits.len();
        match spec.wid {
            Some(w) if spec.zero && w > full_len => {
                out.push_str(sign);
                out.extend(std::iter::repeat_n('0', w - full_len));
                out.push_str(digits);
            }
            _ => pad(out, &format!("{sign}{digits}"), spec),
        }
        return;
    }
    pad(out, digits, spec);
}
