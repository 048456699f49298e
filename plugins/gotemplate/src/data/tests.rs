//! JSON decoding with Go's `encoding/json` rules.

use gotmpl::Value;

use super::{MAX_DEPTH, decode};
use crate::gofmt::to_string;

fn field(json: &str, key: &str) -> Value {
    let data = decode(json).unwrap_or_else(|e| panic!("{json}: {e}"));
    data.field(key).cloned().unwrap_or(Value::Nil)
}

#[test]
fn numbers_are_float64() {
    assert_eq!(field(r#"{"n": 3}"#, "n"), Value::Float(3.0));
    assert_eq!(field(r#"{"n": -0}"#, "n"), Value::Float(-0.0));
    assert_eq!(field(r#"{"n": 1e6}"#, "n"), Value::Float(1e6));
    assert_eq!(field(r#"{"n": 0.1}"#, "n"), Value::Float(0.1));
    assert_eq!(
        field(r#"{"n": 12345678901234567890}"#, "n"),
        Value::Float(1.2345678901234567e19)
    );
    // Correctly rounded, like strconv.ParseFloat.
    assert_eq!(
        field(r#"{"n": 2.2250738585072011e-308}"#, "n"),
        Value::Float(2.225_073_858_507_201e-308)
    );
    assert_eq!(field(r#"{"n": 1E+2}"#, "n"), Value::Float(100.0));
}

#[test]
fn values_and_nesting() {
    let data =
        decode(r#" {"a": [1, "x", true, false, null, {"k": []}], "b": {}} "#).expect("valid");
    assert_eq!(
        to_string(&data),
        "map[a:[1 x true false <nil> map[k:[]]] b:map[]]"
    );
    assert_eq!(field(r#"{"a": 1, "a": 2}"#, "a"), Value::Float(2.0));
    assert_eq!(field(r#"{"a":null}"#, "a"), Value::Nil);
}

#[test]
fn strings_unescape_like_go() {
    let cases = [
        (r#""a\"b\\c\/d""#, "a\"b\\c/d"),
        (r#""\b\f\n\r\t""#, "\u{8}\u{c}\n\r\t"),
        (r#""\u00e9\u20AC""#, "é€"),
        (r#""\ud83d\ude00""#, "😀"),
        (r#""\ud83d""#, "\u{fffd}"),
        (r#""\ud83dx""#, "\u{fffd}x"),
        (r#""\ude00\ud83d\u0041""#, "\u{fffd}\u{fffd}A"),
        (r#""héllo ✓""#, "héllo ✓"),
    ];
    for (json, want) in cases {
        let doc = format!(r#"{{"s": {json}}}"#);
        assert_eq!(field(&doc, "s"), Value::String(want.into()), "{json}");
    }
}

#[test]
fn top_level_must_be_an_object() {
    assert_eq!(decode("null"), Ok(Value::Map(Default::default())));
    assert_eq!(
        decode("[1]"),
        Err("json: cannot unmarshal array into Go value of type map[string]interface {}".into())
    );
    assert!(decode("\"s\"").is_err_and(|e| e.contains("unmarshal string")));
    assert!(decode("3").is_err_and(|e| e.contains("unmarshal number")));
    assert!(decode("true").is_err_and(|e| e.contains("unmarshal bool")));
}

#[test]
fn invalid_json_is_an_error_not_a_panic() {
    let bad = [
        "",
        " ",
        "{",
        "{\"a\"",
        "{\"a\":",
        "{\"a\":1,}",
        "{\"a\":1 \"b\":2}",
        "{a:1}",
        "[1,]",
        "{\"a\":01}",
        "{\"a\":+1}",
        "{\"a\":.5}",
        "{\"a\":1.}",
        "{\"a\":1e}",
        "{\"a\":-}",
        "{\"a\":NaN}",
        "{\"a\":1e400}",
        "{\"a\":tru}",
        "{\"a\":nul}",
        "{\"a\":\"\u{1}\"}",
        "{\"a\":\"\\x\"}",
        "{\"a\":\"\\u12\"}",
        "{\"a\":\"\\u+123\"}",
        "{\"a\":\"abc",
        "{\"a\":\"\\",
        "{} {}",
        "{}x",
        "// comment\n{}",
        "{\"é\":}",
    ];
    for json in bad {
        assert!(decode(json).is_err(), "{json:?} should not decode");
    }
    assert_eq!(
        decode("").err().as_deref(),
        Some("unexpected end of JSON input")
    );
    assert_eq!(
        decode("{\"a\":x}").err().as_deref(),
        Some("invalid character 'x' looking for beginning of value")
    );
    assert_eq!(
        decode("{}x").err().as_deref(),
        Some("invalid character 'x' after top-level value")
    );
}

#[test]
fn nesting_is_bounded() {
    let ok = format!("{}1{}", "{\"a\":".repeat(MAX_DEPTH), "}".repeat(MAX_DEPTH));
    assert!(decode(&ok).is_ok());
    let deep = format!(
        "{{\"a\":{}{}}}",
        "[".repeat(MAX_DEPTH),
        "]".repeat(MAX_DEPTH)
    );
    assert!(decode(&deep).is_err_and(|e| e.contains("max depth")));
}

#[test]
fn deep_data_renders_within_a_small_stack() {
    // A wasm guest has a 1 MiB stack: decoding, printing and dropping the
    // deepest accepted document must fit in it (checked here with an
    // unoptimised build, whose frames are larger).
    let depth = MAX_DEPTH - 1;
    let json = format!("{{\"a\":{}{}}}", "[".repeat(depth), "]".repeat(depth));
    let worker = std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(move || crate::render("{{ .a }}", &json).map(|s| s.len()))
        .expect("spawn");
    assert_eq!(worker.join().expect("no stack overflow"), Ok(2 * depth));
}
