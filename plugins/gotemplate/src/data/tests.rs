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

#[test]
fn the_word_at_a_time_scan_stops_where_the_byte_scan_does() {
    let byte_scan = |bytes: &[u8]| {
        bytes
            .iter()
            .position(|&b| b == b'"' || b == b'\\' || b < 0x20)
            .unwrap_or(bytes.len())
    };
    let word_scan = |bytes: &[u8]| {
        let mut pos = 0;
        while let Some(word) = bytes.get(pos..pos + 8) {
            if super::ends_run(u64::from_le_bytes(word.try_into().expect("8 bytes"))) {
                break;
            }
            pos += 8;
        }
        pos + byte_scan(&bytes[pos..])
    };
    // Every byte value at every place of two words, among plain bytes and
    // among UTF-8 continuation bytes, with a second stop byte after it.
    for filler in [b'a', 0x80, 0xbf, 0xff, 0x21, 0x5d] {
        for at in 0..16 {
            for byte in 0..=255u8 {
                for second in [None, Some(b'"'), Some(0x1f)] {
                    let mut buf = vec![filler; 24];
                    buf[at] = byte;
                    if let Some(s) = second {
                        buf[(at + 3) % 24] = s;
                    }
                    assert_eq!(
                        word_scan(&buf),
                        byte_scan(&buf),
                        "filler {filler:#x}, {byte:#x} at {at}, then {second:?}"
                    );
                }
            }
        }
    }
}

#[test]
fn strings_with_and_without_escapes_decode_the_same_at_every_length() {
    for len in 0..40 {
        let plain = "é".repeat(len / 2) + &"x".repeat(len % 2);
        let json = format!(r#"{{"s": "{plain}"}}"#);
        assert_eq!(field(&json, "s"), Value::String(plain.as_str().into()));
        let escaped = format!(r#"{{"s": "{}\n\u00e9\"{plain}"}}"#, "a".repeat(len));
        let want = format!("{}\n\u{e9}\"{plain}", "a".repeat(len));
        assert_eq!(field(&escaped, "s"), Value::String(want.as_str().into()));
        let control = format!("{{\"s\": \"{}\u{1}\"}}", "a".repeat(len));
        assert!(
            decode(&control).is_err(),
            "a raw control character at {len}"
        );
    }
}

#[test]
fn members_not_wanted_are_left_out_but_checked_all_the_same() {
    let only_a = |key: &str| key == "a";
    let json = r#"{"a": {"x": [1, "s"]}, "b": {"y": "\u00e9\n", "z": [true, null]}, "a": 2}"#;
    let data = super::decode_members(json, &only_a).expect("decodes");
    assert_eq!(to_string(&data), "map[a:2]", "the last `a` wins");
    // Below the top level everything is built.
    let data = super::decode_members(r#"{"a": {"b": 1, "c": [2]}}"#, &only_a).expect("decodes");
    assert_eq!(to_string(&data), "map[a:map[b:1 c:[2]]]");
    // A member left out is refused as it would be if it were built.
    for bad in [
        r#"{"a": 1, "b": "\x"}"#,
        r#"{"a": 1, "b": [1e400]}"#,
        r#"{"a": 1, "b": {"c": tru}}"#,
        r#"{"a": 1, "b": "unterminated}"#,
        r#"{"a": 1, "b": 01}"#,
        r#"{"a": 1, "b": {"c" 1}}"#,
        r#"{"a": 1, "b": [1,]}"#,
        r#"{"a": 1, "b": 2} x"#,
        "{\"a\": 1, \"b\": \"\u{1}\"}",
    ] {
        assert_eq!(
            super::decode_members(bad, &only_a),
            decode(bad).map(|_| unreachable!("{bad} is refused")),
            "{bad}"
        );
        assert!(decode(bad).is_err(), "{bad}");
    }
    let deep = format!(
        r#"{{"a": 1, "b": {}{}}}"#,
        "[".repeat(MAX_DEPTH + 1),
        "]".repeat(MAX_DEPTH + 1)
    );
    assert_eq!(super::decode_members(&deep, &only_a), decode(&deep));
    assert!(decode(&deep).is_err());
}
