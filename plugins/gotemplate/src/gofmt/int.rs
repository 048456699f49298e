//! Integer verbs: Go's `fmtInteger` (`%d %b %o %O %x %X`) and `%c %q %U`.

use gotmpl::Value;

use super::quote::{self, quote_rune};
use super::{Spec, bad_verb, pad};

/// Go's `fmtInteger` and the verb dispatch around it.
#[allow(clippy::too_many_arguments)]
pub(super) fn fmt_integer(
    out: &mut String,
    mag: u64,
    negative: bool,
    unsigned: bool,
    verb: char,
    spec: &Spec,
    v: &Value,
) {
    let (base, upper) = match verb {
        'v' if spec.sharp_v && unsigned => {
            return pad(out, &format!("0x{mag:x}"), spec);
        }
        'v' | 'd' => (10, false),
        'b' => (2, false),
        'o' | 'O' => (8, false),
        'x' => (16, false),
        'X' => (16, true),
        'c' => {
            let c = u32::try_from(mag)
                .ok()
                .filter(|_| !negative)
                .and_then(char::from_u32)
                .unwrap_or('\u{fffd}');
            return pad(out, c.encode_utf8(&mut [0; 4]), spec);
        }
        'q' => {
            let c = u32::try_from(mag)
                .ok()
                .filter(|_| !negative)
                .and_then(char::from_u32)
                .unwrap_or('\u{fffd}');
            return pad(out, &quote_rune(c, spec.plus), spec);
        }
        'U' => {
            let mut s = format!("U+{mag:04X}");
            if spec.sharp
                && !negative
                && let Some(c) = u32::try_from(mag).ok().and_then(char::from_u32)
                && !quote::needs_escape(c)
            {
                s.push_str(&format!(" '{c}'"));
            }
            return pad(out, &s, spec);
        }
        _ => return bad_verb(out, verb, v, spec),
    };
    let no_zero = Spec {
        zero: false,
        ..*spec
    };
    // Two ways to ask for leading zeros: a precision, or the 0 flag with a width.
    let mut prec = 0;
    if let Some(p) = spec.prec {
        prec = p;
        if p == 0 && mag == 0 {
            return pad(out, "", &no_zero);
        }
    } else if let (true, Some(w)) = (spec.zero, spec.wid) {
        prec = w;
        if negative || spec.plus || spec.space {
            prec = prec.saturating_sub(1);
        }
    }
    let mut digits = match (base, upper) {
        (2, _) => format!("{mag:b}"),
        (8, _) => format!("{mag:o}"),
        (16, false) => format!("{mag:x}"),
        (16, true) => format!("{mag:X}"),
        _ => mag.to_string(),
    };
    if prec > digits.len() {
        let zeros = "0".repeat(prec - digits.len());
        digits.insert_str(0, &zeros);
    }
    // Go prepends right to left: base prefix, then `0o` for %O, then the sign.
    let mut prefix = String::new();
    if negative {
        prefix.push('-');
    } else if spec.plus {
        prefix.push('+');
    } else if spec.space {
        prefix.push(' ');
    }
    if verb == 'O' {
        prefix.push_str("0o");
    }
    if spec.sharp {
        match base {
            2 => prefix.push_str("0b"),
            8 if !digits.starts_with('0') => prefix.push('0'),
            16 => prefix.push_str(if upper { "0X" } else { "0x" }),
            _ => {}
        }
    }
    prefix.push_str(&digits);
    pad(out, &prefix, &no_zero);
}
