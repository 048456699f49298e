//! String functions: case, replacing, trimming, splitting, escaping, regex.

use std::sync::Arc;

use gotmpl::{TemplateError, Value};

use super::{case, exec_error, int_arg, list_arg, string_arg, want_args};
use crate::gofmt;

type Result = std::result::Result<Value, TemplateError>;

fn string(s: impl Into<Arc<str>>) -> Result {
    Ok(Value::String(s.into()))
}

/// One string argument, for the single-parameter functions.
fn single<'a>(name: &str, args: &'a [Value]) -> std::result::Result<&'a str, TemplateError> {
    want_args(name, args, 1)?;
    string_arg(name, &args[0])
}

/// `upper s`
pub(super) fn upper(args: &[Value]) -> Result {
    string(case::upper(single("upper", args)?))
}

/// `lower s`
pub(super) fn lower(args: &[Value]) -> Result {
    string(case::lower(single("lower", args)?))
}

/// `title s`
pub(super) fn title(args: &[Value]) -> Result {
    string(case::title(single("title", args)?))
}

/// `replace s old new` and `replaceAll s old new`: `strings.ReplaceAll`.
pub(super) fn replace_all(args: &[Value]) -> Result {
    want_args("replace", args, 3)?;
    let s = string_arg("replace", &args[0])?;
    let old = string_arg("replace", &args[1])?;
    let new = string_arg("replace", &args[2])?;
    // Rust's `replace` with an empty pattern inserts `new` around every
    // character, exactly like Go's.
    string(s.replace(old, new))
}

/// `contains s substr`
pub(super) fn contains(args: &[Value]) -> Result {
    want_args("contains", args, 2)?;
    let s = string_arg("contains", &args[0])?;
    let sub = string_arg("contains", &args[1])?;
    Ok(Value::Bool(s.contains(sub)))
}

/// `trimPrefix s prefix`
pub(super) fn trim_prefix(args: &[Value]) -> Result {
    want_args("trimPrefix", args, 2)?;
    let s = string_arg("trimPrefix", &args[0])?;
    let prefix = string_arg("trimPrefix", &args[1])?;
    string(s.strip_prefix(prefix).unwrap_or(s))
}

/// `trimSuffix s suffix`
pub(super) fn trim_suffix(args: &[Value]) -> Result {
    want_args("trimSuffix", args, 2)?;
    let s = string_arg("trimSuffix", &args[0])?;
    let suffix = string_arg("trimSuffix", &args[1])?;
    string(s.strip_suffix(suffix).unwrap_or(s))
}

/// `split s sep`: `strings.Split`.
pub(super) fn split(args: &[Value]) -> Result {
    want_args("split", args, 2)?;
    let s = string_arg("split", &args[0])?;
    let sep = string_arg("split", &args[1])?;
    let parts: Vec<Value> = if sep.is_empty() {
        // Go "explodes" the string into its characters (none for "").
        s.chars()
            .map(|c| Value::String(c.to_string().into()))
            .collect()
    } else {
        s.split(sep).map(|p| Value::String(p.into())).collect()
    };
    Ok(Value::List(parts.into()))
}

/// `join list sep`: `strings.Join`.
pub(super) fn join(args: &[Value]) -> Result {
    want_args("join", args, 2)?;
    let items = list_arg("join", &args[0])?;
    let sep = string_arg("join", &args[1])?;
    let mut out = String::new();
    for (i, item) in items.iter().enumerate() {
        let Value::String(s) = item else {
            return Err(exec_error(format!(
                "join: wrong type for value; expected []string; got a list holding {} (use stringSlice)",
                gofmt::type_name(item)
            )));
        };
        if i > 0 {
            out.push_str(sep);
        }
        out.push_str(s);
    }
    string(out)
}

/// `truncate s n`: the first `n` bytes of `s`.
pub(super) fn truncate(args: &[Value]) -> Result {
    want_args("truncate", args, 2)?;
    let s = string_arg("truncate", &args[0])?;
    let n = int_arg("truncate", &args[1])?;
    let Ok(n) = usize::try_from(n) else {
        return Err(exec_error(format!(
            "runtime error: slice bounds out of range [:{n}]"
        )));
    };
    if s.len() <= n {
        return Ok(args[0].clone());
    }
    string(bytes_text(&s.as_bytes()[..n]))
}

/// Bytes cut out of a string (by `truncate` or `slice`) as text. Go keeps
/// the bytes, which may end inside a character; a rendered message must be
/// UTF-8, so each stray byte becomes U+FFFD, which is also what Go's
/// `encoding/json` turns it into on its way to a chat API.
pub(crate) fn bytes_text(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        out.push_str(chunk.valid());
        out.extend(chunk.invalid().iter().map(|_| char::REPLACEMENT_CHARACTER));
    }
    out
}

/// Go's `html.EscapeString`.
fn escape_html_str(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '\'' => out.push_str("&#39;"),
            '"' => out.push_str("&#34;"),
            c => out.push(c),
        }
    }
    out
}

/// `escapeHTML v`: `html.EscapeString(fmt.Sprint(v))`.
pub(super) fn escape_html(args: &[Value]) -> Result {
    want_args("escapeHTML", args, 1)?;
    string(escape_html_str(&gofmt::to_string(&args[0])))
}

/// `regexMatch pattern s`: `regexp.MatchString`, with errors read as no match.
pub(super) fn regex_match(args: &[Value]) -> Result {
    want_args("regexMatch", args, 2)?;
    let pattern = string_arg("regexMatch", &args[0])?;
    let s = string_arg("regexMatch", &args[1])?;
    let matched = regex_lite::Regex::new(pattern).is_ok_and(|re| re.is_match(s));
    Ok(Value::Bool(matched))
}

/// Go's `evalArgs` for the escaping builtins: one string as it is, anything
/// else through `fmt.Sprint`, with nil shown as `<no value>`.
fn eval_args(args: &[Value]) -> String {
    if let [Value::String(s)] = args {
        return s.to_string();
    }
    let printable: Vec<Value> = args
        .iter()
        .map(|a| match a {
            Value::Nil => Value::String("<no value>".into()),
            other => other.clone(),
        })
        .collect();
    gofmt::sprint(&printable)
}

/// Go's `html` builtin (`template.HTMLEscapeString`).
pub(super) fn html(args: &[Value]) -> Result {
    string(gotmpl::html_escape(&eval_args(args)))
}

/// Go's `js` builtin (`template.JSEscapeString`).
pub(super) fn js(args: &[Value]) -> Result {
    string(gotmpl::js_escape(&eval_args(args)))
}

/// Go's `urlquery` builtin (`url.QueryEscape`).
pub(super) fn urlquery(args: &[Value]) -> Result {
    string(gotmpl::url_encode(&eval_args(args)))
}
