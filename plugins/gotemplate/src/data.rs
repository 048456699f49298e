//! Template data: a JSON document decoded the way Go's `encoding/json`
//! decodes it into `map[string]interface{}`.
//!
//! - every number is a `float64` (`Value::Float`), parsed with correct
//!   rounding; numbers too large for a float64 are an error, as in Go;
//! - objects are maps (a repeated key keeps its last value), arrays are
//!   lists, `null` is nil;
//! - in strings, an invalid `\u` surrogate decodes to U+FFFD instead of
//!   failing;
//! - the top level must be an object; `null` gives an empty map, anything
//!   else is the error Go reports (`cannot unmarshal array into …`).
//!
//! Strategy: a small recursive-descent parser that builds gotmpl values
//! directly, with no intermediate tree and no serde. [`decode_members`]
//! builds only the top-level members a template reads (see
//! [`crate::reads`]); it checks the rest as JSON all the same, so the same
//! texts are refused, with the same errors.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::Arc;

use gotmpl::Value;

/// Nesting deeper than this is rejected. Go allows 10 000 levels; we stop
/// much earlier so that the recursion here, and in printing and dropping the
/// value, stays well inside a wasm guest's 1 MiB stack even in a debug
/// build. Webhook payloads nest a handful of levels.
const MAX_DEPTH: usize = 256;

/// Decodes `json` into the template's data (a map).
///
/// # Errors
///
/// A message in the style of Go's `encoding/json` when the text is not JSON
/// or its top level is not an object.
#[cfg(test)]
pub(crate) fn decode(json: &str) -> Result<Value, String> {
    decode_members(json, &|_| true)
}

/// As [`decode`], with only the top-level members `wanted` accepts in the
/// map.
///
/// # Errors
///
/// As [`decode`], for every member.
pub(crate) fn decode_members(json: &str, wanted: &dyn Fn(&str) -> bool) -> Result<Value, String> {
    let mut p = Parser {
        bytes: json.as_bytes(),
        src: json,
        pos: 0,
        depth: 0,
        wanted,
        building: true,
    };
    p.skip_ws();
    let value = p.value()?;
    p.skip_ws();
    if let Some(&b) = p.bytes.get(p.pos) {
        return Err(format!(
            "invalid character {} after top-level value",
            p.describe(b)
        ));
    }
    match value {
        Value::Map(_) => Ok(value),
        Value::Nil => Ok(Value::Map(Arc::new(BTreeMap::new()))),
        other => Err(format!(
            "json: cannot unmarshal {} into Go value of type map[string]interface {{}}",
            match other {
                Value::List(_) => "array",
                Value::String(_) => "string",
                Value::Bool(_) => "bool",
                _ => "number",
            }
        )),
    }
}

struct Parser<'a> {
    bytes: &'a [u8],
    src: &'a str,
    pos: usize,
    depth: usize,
    /// Which top-level members to build.
    wanted: &'a dyn Fn(&str) -> bool,
    /// False inside a member that is only checked.
    building: bool,
}

impl<'a> Parser<'a> {
    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.bytes.get(self.pos) {
            self.pos += 1;
        }
    }

    /// Go's way of quoting an offending character in an error.
    fn describe(&self, b: u8) -> String {
        match self.src.get(self.pos..).and_then(|s| s.chars().next()) {
            Some('\'') => "'\\''".to_string(),
            Some('"') => "'\"'".to_string(),
            Some(c) if !c.is_control() => format!("'{c}'"),
            _ => format!("'\\x{b:02x}'"),
        }
    }

    fn unexpected(&self, context: &str) -> String {
        match self.bytes.get(self.pos) {
            None => "unexpected end of JSON input".to_string(),
            Some(&b) => format!("invalid character {} {context}", self.describe(b)),
        }
    }

    fn value(&mut self) -> Result<Value, String> {
        match self.bytes.get(self.pos) {
            Some(b'{') => self.nested(Self::object),
            Some(b'[') => self.nested(Self::array),
            Some(b'"') => {
                let text = self.string()?;
                Ok(match self.building {
                    true => Value::String(Arc::from(text.as_ref())),
                    false => Value::Nil,
                })
            }
            Some(b't') => self.literal("true", Value::Bool(true)),
            Some(b'f') => self.literal("false", Value::Bool(false)),
            Some(b'n') => self.literal("null", Value::Nil),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(self.unexpected("looking for beginning of value")),
        }
    }

    /// A value read only to check it: nothing is built.
    fn checked(&mut self) -> Result<Value, String> {
        let building = std::mem::replace(&mut self.building, false);
        let value = self.value();
        self.building = building;
        value.map(|_| Value::Nil)
    }

    fn nested(&mut self, f: fn(&mut Self) -> Result<Value, String>) -> Result<Value, String> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(format!(
                "exceeded max depth: JSON nests deeper than {MAX_DEPTH} levels"
            ));
        }
        let value = f(self);
        self.depth -= 1;
        value
    }

    fn literal(&mut self, word: &str, value: Value) -> Result<Value, String> {
        for expected in word.bytes() {
            if self.bytes.get(self.pos) != Some(&expected) {
                let expected = char::from(expected);
                return Err(self.unexpected(&format!("in literal {word} (expecting '{expected}')")));
            }
            self.pos += 1;
        }
        Ok(value)
    }

    fn digits(&mut self) -> usize {
        let start = self.pos;
        while self.bytes.get(self.pos).is_some_and(u8::is_ascii_digit) {
            self.pos += 1;
        }
        self.pos - start
    }

    fn number(&mut self) -> Result<Value, String> {
        let start = self.pos;
        if self.bytes.get(self.pos) == Some(&b'-') {
            self.pos += 1;
        }
        match self.bytes.get(self.pos) {
            Some(b'0') => self.pos += 1,
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.unexpected("in numeric literal")),
        }
        if self.bytes.get(self.pos) == Some(&b'.') {
            self.pos += 1;
            if self.digits() == 0 {
                return Err(self.unexpected("after decimal point in numeric literal"));
            }
        }
        if let Some(b'e' | b'E') = self.bytes.get(self.pos) {
            self.pos += 1;
            if let Some(b'+' | b'-') = self.bytes.get(self.pos) {
                self.pos += 1;
            }
            if self.digits() == 0 {
                return Err(self.unexpected("in exponent of numeric literal"));
            }
        }
        let text = &self.src[start..self.pos];
        match text.parse::<f64>() {
            Ok(f) if f.is_finite() => Ok(Value::Float(f)),
            _ => Err(format!(
                "json: cannot unmarshal number {text} into Go value of type float64"
            )),
        }
    }

    fn hex4(&mut self) -> Option<u32> {
        let hex = self.src.get(self.pos..self.pos + 4)?;
        let n = u32::from_str_radix(hex, 16).ok()?;
        if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        self.pos += 4;
        Some(n)
    }

    /// A string's contents, as it appears in the source when it has no
    /// escape (most do), so that the caller copies it once.
    fn string(&mut self) -> Result<Cow<'a, str>, String> {
        self.pos += 1; // opening quote
        let start = self.pos;
        self.plain_run();
        if self.bytes.get(self.pos) == Some(&b'"') {
            self.pos += 1;
            return Ok(Cow::Borrowed(&self.src[start..self.pos - 1]));
        }
        let mut out = String::from(&self.src[start..self.pos]);
        loop {
            match self.bytes.get(self.pos) {
                Some(b'"') => {
                    self.pos += 1;
                    return Ok(Cow::Owned(out));
                }
                Some(b'\\') => {
                    self.pos += 1;
                    self.escape(&mut out)?;
                }
                _ => return Err(self.unexpected("in string literal")),
            }
            let start = self.pos;
            self.plain_run();
            out.push_str(&self.src[start..self.pos]);
        }
    }

    /// Moves past characters that stand for themselves in a string: eight
    /// bytes at a time while none of them ends the run, then byte by byte.
    fn plain_run(&mut self) {
        while let Some(word) = self.bytes.get(self.pos..self.pos + 8) {
            let Ok(word) = <[u8; 8]>::try_from(word) else {
                break;
            };
            if ends_run(u64::from_le_bytes(word)) {
                break;
            }
            self.pos += 8;
        }
        while let Some(&b) = self.bytes.get(self.pos) {
            if b == b'"' || b == b'\\' || b < 0x20 {
                break;
            }
            self.pos += 1;
        }
    }

    fn escape(&mut self, out: &mut String) -> Result<(), String> {
        let Some(&b) = self.bytes.get(self.pos) else {
            return Err(self.unexpected("in string escape code"));
        };
        self.pos += 1;
        let c = match b {
            b'"' => '"',
            b'\\' => '\\',
            b'/' => '/',
            b'b' => '\u{8}',
            b'f' => '\u{c}',
            b'n' => '\n',
            b'r' => '\r',
            b't' => '\t',
            b'u' => {
                let Some(first) = self.hex4() else {
                    return Err(self.unexpected("in \\u hexadecimal character escape"));
                };
                self.unicode_escape(first)
            }
            _ => {
                self.pos -= 1;
                return Err(self.unexpected("in string escape code"));
            }
        };
        out.push(c);
        Ok(())
    }

    /// Completes a `\uXXXX` escape, pairing surrogates when the next escape
    /// is the matching low half; anything else is U+FFFD, as in Go.
    fn unicode_escape(&mut self, first: u32) -> char {
        if !(0xd800..0xe000).contains(&first) {
            return char::from_u32(first).unwrap_or('\u{fffd}');
        }
        if first < 0xdc00 && self.src.get(self.pos..self.pos + 2) == Some("\\u") {
            let save = self.pos;
            self.pos += 2;
            if let Some(second) = self.hex4()
                && (0xdc00..0xe000).contains(&second)
            {
                let c = 0x10000 + ((first - 0xd800) << 10) + (second - 0xdc00);
                return char::from_u32(c).unwrap_or('\u{fffd}');
            }
            self.pos = save;
        }
        '\u{fffd}'
    }

    fn array(&mut self) -> Result<Value, String> {
        self.pos += 1;
        let mut items = Vec::new();
        self.skip_ws();
        if self.bytes.get(self.pos) == Some(&b']') {
            self.pos += 1;
            return Ok(Value::List(items.into()));
        }
        loop {
            self.skip_ws();
            let item = self.value()?;
            if self.building {
                items.push(item);
            }
            self.skip_ws();
            match self.bytes.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(Value::List(items.into()));
                }
                _ => return Err(self.unexpected("after array element")),
            }
        }
    }

    fn object(&mut self) -> Result<Value, String> {
        self.pos += 1;
        let mut map: BTreeMap<Arc<str>, Value> = BTreeMap::new();
        self.skip_ws();
        if self.bytes.get(self.pos) == Some(&b'}') {
            self.pos += 1;
            return Ok(Value::Map(Arc::new(map)));
        }
        loop {
            self.skip_ws();
            if self.bytes.get(self.pos) != Some(&b'"') {
                return Err(self.unexpected("looking for beginning of object key string"));
            }
            let key = self.string()?;
            self.skip_ws();
            if self.bytes.get(self.pos) != Some(&b':') {
                return Err(self.unexpected("after object key"));
            }
            self.pos += 1;
            self.skip_ws();
            let build = self.building && (self.depth > 1 || (self.wanted)(&key));
            let value = match build {
                true => self.value()?,
                false => self.checked()?,
            };
            if build {
                map.insert(Arc::from(key.as_ref()), value);
            }
            self.skip_ws();
            match self.bytes.get(self.pos) {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(Value::Map(Arc::new(map)));
                }
                _ => return Err(self.unexpected("after object key:value pair")),
            }
        }
    }
}

/// Whether any of the eight bytes in `word` is a `"`, a `\\` or a control
/// character (below 0x20). For each test, `(x - 0x01…) & !x & 0x80…` is
/// non-zero exactly when some byte of `x` is zero (for `< 0x20`, when some
/// byte is below it): a borrow only reaches a higher byte from a byte that
/// already matched, and bytes of 0x80 and above never match.
fn ends_run(word: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero_byte = |x: u64| x.wrapping_sub(ONES) & !x;
    let quote = word ^ (ONES * u64::from(b'"'));
    let backslash = word ^ (ONES * u64::from(b'\\'));
    let control = word.wrapping_sub(ONES * 0x20) & !word;
    (zero_byte(quote) | zero_byte(backslash) | control) & HIGH != 0
}

#[cfg(test)]
mod tests;
