//! Go's `strconv.FormatFloat` for the formats `fmt` uses: `%e`, `%f` and `%g`.
//!
//! Rust's float formatting and Go's agree on the digits: both print the
//! shortest representation that round-trips, and both round exactly (ties to
//! even) when given a precision. They differ only in layout (`1e6` against
//! `1e+06`, never-exponent `{}` against `%g`'s switch), which is what this
//! module reproduces.

/// Decimal digits of a finite, non-negative float: value = 0.`digits` × 10^`point`.
/// Trailing zeros are trimmed, so zero has no digits.
struct Decimal {
    digits: Vec<u8>,
    point: i32,
}

impl Decimal {
    /// Parses Rust's `{:e}` output (`d.ddde±x`) into digits and a point position.
    fn from_exp_form(s: &str) -> Decimal {
        let (mantissa, exp) = s.split_once('e').unwrap_or((s, "0"));
        let exp: i32 = exp.parse().unwrap_or(0);
        let mut digits: Vec<u8> = mantissa.bytes().filter(u8::is_ascii_digit).collect();
        while digits.last() == Some(&b'0') {
            digits.pop();
        }
        if digits.is_empty() {
            return Decimal { digits, point: 0 };
        }
        Decimal {
            digits,
            point: exp + 1,
        }
    }

    /// The shortest digits that read back as `f`.
    fn shortest(f: f64) -> Decimal {
        Decimal::from_exp_form(&format!("{f:e}"))
    }

    /// `f` rounded to `n` (≥ 1) significant digits.
    fn significant(f: f64, n: usize) -> Decimal {
        Decimal::from_exp_form(&format!("{:.*e}", n.saturating_sub(1), f))
    }

    fn digit(&self, i: i32) -> u8 {
        usize::try_from(i)
            .ok()
            .and_then(|i| self.digits.get(i))
            .copied()
            .unwrap_or(b'0')
    }

    fn len(&self) -> i32 {
        i32::try_from(self.digits.len()).unwrap_or(i32::MAX)
    }

    /// `%e` layout with `prec` digits after the point (Go's `fmtE`).
    fn write_e(&self, out: &mut String, prec: i32, upper: bool) {
        out.push(char::from(self.digit(0)));
        if prec > 0 {
            out.push('.');
            for i in 1..=prec {
                out.push(char::from(self.digit(i)));
            }
        }
        out.push(if upper { 'E' } else { 'e' });
        let exp = if self.digits.is_empty() {
            0
        } else {
            self.point - 1
        };
        out.push(if exp < 0 { '-' } else { '+' });
        let exp = exp.unsigned_abs();
        if exp < 10 {
            out.push('0');
        }
        out.push_str(&exp.to_string());
    }

    /// `%f` layout with `prec` digits after the point (Go's `fmtF`).
    fn write_f(&self, out: &mut String, prec: i32) {
        if self.point > 0 {
            for i in 0..self.point {
                out.push(char::from(self.digit(i)));
            }
        } else {
            out.push('0');
        }
        if prec > 0 {
            out.push('.');
            for i in 1..=prec {
                out.push(char::from(self.digit(self.point + i - 1)));
            }
        }
    }
}

/// Formats `f` as Go's `strconv.FormatFloat(f, verb, prec, 64)` would, for
/// `verb` in `e E f F g G`; `prec` `None` means "shortest" (Go's -1).
///
/// The result always starts with `-` for negative numbers (including -0) and
/// infinities come out as `+Inf`/`-Inf`, as in Go.
pub(crate) fn format_float(f: f64, verb: char, prec: Option<usize>) -> String {
    if f.is_nan() {
        return "NaN".to_string();
    }
    if f.is_infinite() {
        return if f > 0.0 { "+Inf" } else { "-Inf" }.to_string();
    }
    let mut out = String::new();
    if f.is_sign_negative() {
        out.push('-');
    }
    let abs = f.abs();
    // Precisions beyond this only add zeros that Go prints too; the cap keeps
    // a hostile `%.99999f` from allocating without bound.
    let prec = prec.map(|p| p.min(MAX_PREC));
    match verb {
        'e' | 'E' => match prec {
            Some(p) => {
                let d = Decimal::significant(abs, p + 1);
                d.write_e(&mut out, to_i32(p), verb == 'E');
            }
            None => {
                let d = Decimal::shortest(abs);
                d.write_e(&mut out, (d.len() - 1).max(0), verb == 'E');
            }
        },
        'f' | 'F' => match prec {
            Some(p) => out.push_str(&format!("{abs:.p$}")),
            None => {
                let d = Decimal::shortest(abs);
                d.write_f(&mut out, (d.len() - d.point).max(0));
            }
        },
        _ => write_g(&mut out, abs, prec, verb == 'G'),
    }
    out
}

/// Upper bound on a float precision, far above anything meaningful (an f64
/// has at most 767 significant decimal digits).
const MAX_PREC: usize = 1000;

fn to_i32(n: usize) -> i32 {
    i32::try_from(n).unwrap_or(i32::MAX)
}

/// Go's `%g`: exponent form when the exponent is < -4 or ≥ the precision
/// (6 for the shortest form), trailing zeros removed.
fn write_g(out: &mut String, abs: f64, prec: Option<usize>, upper: bool) {
    let (d, mut prec, eprec) = match prec {
        None => {
            let d = Decimal::shortest(abs);
            let n = d.len();
            (d, n, 6)
        }
        Some(p) => {
            let p = p.max(1);
            let d = Decimal::significant(abs, p);
            let p = to_i32(p);
            let mut eprec = p;
            if eprec > d.len() && d.len() >= d.point {
                eprec = d.len();
            }
            (d, p, eprec)
        }
    };
    let exp = d.point - 1;
    if exp < -4 || exp >= eprec {
        if prec > d.len() {
            prec = d.len();
        }
        d.write_e(out, (prec - 1).max(0), upper);
        return;
    }
    if prec > d.point {
        prec = d.len();
    }
    d.write_f(out, (prec - d.point).max(0));
}
