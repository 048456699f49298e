//! `fmt.Sprintf`: directive parsing, argument indexes and Go's in-band
//! error reports (`%!d(MISSING)`, `%!(EXTRA …)`, `%!(BADINDEX)`, …).

use gotmpl::Value;

use super::{Spec, print_arg, type_name};

/// Go refuses widths, precisions and argument indexes above a million
/// (`tooLarge`); the same bound keeps padding allocations in check.
const TOO_LARGE: usize = 1_000_000;

/// Reads a decimal number at `bytes[i..end]`, as Go's `parsenum`.
fn parse_num(bytes: &[u8], mut i: usize, end: usize) -> (Option<usize>, usize) {
    let mut num: usize = 0;
    let mut found = false;
    while i < end && bytes[i].is_ascii_digit() {
        if num > TOO_LARGE {
            return (None, end);
        }
        num = num * 10 + usize::from(bytes[i] - b'0');
        found = true;
        i += 1;
    }
    (found.then_some(num), i)
}

struct State<'a> {
    bytes: &'a [u8],
    args: &'a [Value],
    arg_num: usize,
    reordered: bool,
    good_arg_num: bool,
}

impl State<'_> {
    /// An optional `[n]` argument index at `i` (Go's `argNumber`).
    /// Returns the new position and whether an index was found.
    fn arg_number(&mut self, i: usize) -> (usize, bool) {
        if self.bytes.get(i) != Some(&b'[') {
            return (i, false);
        }
        self.reordered = true;
        let rest = &self.bytes[i..];
        if rest.len() < 3 {
            self.good_arg_num = false;
            return (i + 1, false);
        }
        let Some(close) = rest.iter().position(|&b| b == b']') else {
            self.good_arg_num = false;
            return (i + 1, false);
        };
        let (num, end) = parse_num(rest, 1, close);
        match num {
            Some(n) if end == close && n >= 1 && n - 1 < self.args.len() => {
                self.arg_num = n - 1;
                (i + close + 1, true)
            }
            Some(_) if end == close => {
                self.good_arg_num = false;
                (i + close + 1, true)
            }
            _ => {
                self.good_arg_num = false;
                (i + close + 1, false)
            }
        }
    }

    /// Takes a `*` width or precision from the arguments (Go's `intFromArg`).
    fn int_from_arg(&mut self) -> Option<i64> {
        let arg = self.args.get(self.arg_num)?;
        self.arg_num += 1;
        let n = match arg {
            Value::Int(n) => *n,
            Value::Uint(n) => i64::try_from(*n).ok()?,
            _ => return None,
        };
        (n.unsigned_abs() <= TOO_LARGE as u64).then_some(n)
    }
}

/// Formats `args` according to `format`, as Go's `fmt.Sprintf`.
pub(crate) fn sprintf(format: &str, args: &[Value]) -> String {
    let bytes = format.as_bytes();
    let end = bytes.len();
    let mut out = String::with_capacity(format.len() + 16);
    let mut st = State {
        bytes,
        args,
        arg_num: 0,
        reordered: false,
        good_arg_num: true,
    };
    let mut i = 0;
    while i < end {
        st.good_arg_num = true;
        let start = i;
        while i < end && bytes[i] != b'%' {
            i += 1;
        }
        out.push_str(&format[start..i]);
        if i >= end {
            break;
        }
        i += 1; // the '%'

        let mut spec = Spec::default();
        while i < end {
            match bytes[i] {
                b'#' => spec.sharp = true,
                b'0' => spec.zero = !spec.minus,
                b'+' => spec.plus = true,
                b'-' => {
                    spec.minus = true;
                    spec.zero = false;
                }
                b' ' => spec.space = true,
                _ => break,
            }
            i += 1;
        }

        let (next, mut after_index) = st.arg_number(i);
        i = next;

        if bytes.get(i) == Some(&b'*') {
            i += 1;
            match st.int_from_arg() {
                Some(w) => {
                    if w < 0 {
                        spec.minus = true;
                        spec.zero = false;
                    }
                    spec.wid = usize::try_from(w.unsigned_abs()).ok();
                }
                None => out.push_str("%!(BADWIDTH)"),
            }
            after_index = false;
        } else {
            let (wid, next) = parse_num(bytes, i, end);
            spec.wid = wid;
            i = next;
            if after_index && wid.is_some() {
                st.good_arg_num = false;
            }
        }

        if i + 1 < end && bytes[i] == b'.' {
            i += 1;
            if after_index {
                st.good_arg_num = false;
            }
            let (next, found) = st.arg_number(i);
            i = next;
            after_index = found;
            if bytes.get(i) == Some(&b'*') {
                i += 1;
                match st.int_from_arg() {
                    Some(p) if p >= 0 => spec.prec = usize::try_from(p).ok(),
                    _ => out.push_str("%!(BADPREC)"),
                }
                after_index = false;
            } else {
                let (prec, next) = parse_num(bytes, i, end);
                spec.prec = Some(prec.unwrap_or(0));
                i = next;
            }
        }

        if !after_index {
            let (next, _) = st.arg_number(i);
            i = next;
        }

        let Some(verb) = format[i..].chars().next() else {
            out.push_str("%!(NOVERB)");
            break;
        };
        i += verb.len_utf8();

        if verb == '%' {
            out.push('%');
        } else if !st.good_arg_num {
            out.push_str(&format!("%!{verb}(BADINDEX)"));
        } else if let Some(arg) = args.get(st.arg_num) {
            if verb == 'v' {
                spec.sharp_v = spec.sharp;
                spec.sharp = false;
                // `%+v` only matters for structs, which JSON data never holds.
                spec.plus = false;
            }
            print_arg(&mut out, arg, verb, &spec);
            st.arg_num += 1;
        } else {
            out.push_str(&format!("%!{verb}(MISSING)"));
        }
    }

    if !st.reordered && st.arg_num < args.len() {
        out.push_str("%!(EXTRA ");
        for (n, arg) in args[st.arg_num..].iter().enumerate() {
            if n > 0 {
                out.push_str(", ");
            }
            if let Value::Nil = arg {
                out.push_str("<nil>");
            } else {
                out.push_str(type_name(arg));
                out.push('=');
                print_arg(&mut out, arg, 'v', &Spec::default());
            }
        }
        out.push(')');
    }
    out
}
