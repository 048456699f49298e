//! Go `fmt` outputs, checked against what Go prints for the same calls.

use std::collections::BTreeMap;
use std::sync::Arc;

use gotmpl::Value;

use super::{action_text, format_float, sprint, sprintf, sprintln, to_string};

fn s(v: &str) -> Value {
    Value::String(v.into())
}

fn f(v: f64) -> Value {
    Value::Float(v)
}

fn map(entries: &[(&str, Value)]) -> Value {
    let m: BTreeMap<Arc<str>, Value> = entries
        .iter()
        .map(|(k, v)| (Arc::from(*k), v.clone()))
        .collect();
    Value::Map(Arc::new(m))
}

#[test]
fn float64_prints_like_go_percent_v() {
    let cases = [
        (1_000_000.0, "1e+06"),
        (3.0, "3"),
        (0.5, "0.5"),
        (123_456.0, "123456"),
        (1_234_567.0, "1.234567e+06"),
        (0.0001, "0.0001"),
        (0.00001, "1e-05"),
        (1e21, "1e+21"),
        (1e20, "1e+20"),
        (1.5e-7, "1.5e-07"),
        (1e100, "1e+100"),
        (-2.5, "-2.5"),
        (0.0, "0"),
        (-0.0, "-0"),
        (0.1 + 0.2, "0.30000000000000004"),
        (f64::MAX, "1.7976931348623157e+308"),
        (5e-324, "5e-324"),
        (f64::INFINITY, "+Inf"),
        (f64::NEG_INFINITY, "-Inf"),
        (f64::NAN, "NaN"),
    ];
    for (value, want) in cases {
        assert_eq!(to_string(&f(value)), want, "{value:?}");
    }
}

#[test]
fn strconv_formats_with_precision() {
    let cases = [
        (1234.5678, 'e', Some(6), "1.234568e+03"),
        (1234.5678, 'E', Some(2), "1.23E+03"),
        (0.0, 'e', Some(3), "0.000e+00"),
        (1234.5678, 'f', Some(2), "1234.57"),
        (0.125, 'f', Some(2), "0.12"),
        (0.375, 'f', Some(2), "0.38"),
        (2.5, 'f', Some(0), "2"),
        (-0.0, 'f', Some(1), "-0.0"),
        (100.0, 'g', Some(3), "100"),
        (100.0, 'g', Some(2), "1e+02"),
        (123_456.0, 'g', Some(3), "1.23e+05"),
        (0.000_012_345, 'g', None, "1.2345e-05"),
        (0.0, 'g', Some(3), "0"),
        (1.0, 'g', Some(0), "1"),
        (1e6, 'f', None, "1000000"),
        (1.5e-7, 'e', None, "1.5e-07"),
    ];
    for (value, verb, prec, want) in cases {
        assert_eq!(
            format_float(value, verb, prec),
            want,
            "{value} {verb} {prec:?}"
        );
    }
}

#[test]
fn composite_values_print_like_go() {
    let list = Value::List(vec![f(1.0), s("x"), Value::Nil, Value::Bool(true), f(1e6)].into());
    assert_eq!(to_string(&list), "[1 x <nil> true 1e+06]");
    let m = map(&[("b", f(2.0)), ("a", list.clone()), ("c", map(&[]))]);
    assert_eq!(to_string(&m), "map[a:[1 x <nil> true 1e+06] b:2 c:map[]]");
    assert_eq!(to_string(&Value::Nil), "<nil>");
    assert_eq!(action_text(&Value::Nil), "<no value>");
    assert_eq!(action_text(&s("")), "");
    assert_eq!(to_string(&Value::Int(-7)), "-7");
    assert_eq!(to_string(&Value::Uint(u64::MAX)), "18446744073709551615");
}

#[test]
fn sprint_and_sprintln_space_like_go() {
    let args = [
        Value::Int(1),
        Value::Int(2),
        s("a"),
        s("b"),
        f(3.0),
        Value::Nil,
    ];
    assert_eq!(sprint(&args), "1 2ab3 <nil>");
    assert_eq!(sprintln(&args), "1 2 a b 3 <nil>\n");
    assert_eq!(sprint(&[]), "");
    assert_eq!(sprintln(&[]), "\n");
}

#[test]
fn sprintf_verbs_flags_and_widths() {
    let cases: Vec<(&str, Vec<Value>, &str)> = vec![
        (
            "%v|%d|%s",
            vec![f(1e6), Value::Int(-3), s("é")],
            "1e+06|-3|é",
        ),
        (
            "%5.1f|%-6s|%05d",
            vec![f(3.142_59), s("ab"), Value::Int(42)],
            "  3.1|ab    |00042",
        ),
        (
            "%08.3f|%+d|% d|%+.1e",
            vec![f(-3.142_59), Value::Int(5), Value::Int(5), f(12345.0)],
            "-003.143|+5| 5|+1.2e+04",
        ),
        (
            "%x|%X|%#x|%o|%#o|%O|%b",
            vec![
                Value::Int(255),
                Value::Int(255),
                Value::Int(255),
                Value::Int(8),
                Value::Int(8),
                Value::Int(8),
                Value::Int(5),
            ],
            "ff|FF|0xff|10|010|0o10|101",
        ),
        (
            "%-5d|%5s|%-5v|%05s",
            vec![Value::Int(7), s("é"), Value::Bool(true), s("ab")],
            "7    |    é|true |000ab",
        ),
        (
            "%.2s|%.0d|%.3d|%6.2f%%",
            vec![s("héllo"), Value::Int(0), Value::Int(7), f(99.5)],
            "hé||007| 99.50%",
        ),
        (
            "%c|%q|%U|%#U|%q",
            vec![
                Value::Int(65),
                Value::Int(9731),
                Value::Int(9731),
                Value::Int(9731),
                s("a\"b\n\u{1}é"),
            ],
            "A|'☃'|U+2603|U+2603 '☃'|\"a\\\"b\\n\\x01é\"",
        ),
        (
            "%+q|%#q|%x|% X",
            vec![s("é"), s("a`b"), s("hi"), s("hi")],
            "\"\\u00e9\"|\"a`b\"|6869|68 69",
        ),
        (
            "%t|%v|%s",
            vec![Value::Bool(false), Value::Nil, Value::Nil],
            "false|<nil>|%!s(<nil>)",
        ),
        (
            "%d|%s|%z",
            vec![f(3.0), Value::Int(3), s("x")],
            "%!d(float64=3)|%!s(int=3)|%!z(string=x)",
        ),
        (
            "%T %T %T %T %T %T",
            vec![
                f(1.0),
                Value::Int(1),
                s(""),
                Value::Bool(true),
                Value::List(vec![].into()),
                Value::Nil,
            ],
            "float64 int string bool []interface {} <nil>",
        ),
        (
            "%d",
            vec![Value::List(vec![Value::Int(1), s("a")].into())],
            "[1 %!d(string=a)]",
        ),
        (
            "%5v",
            vec![Value::List(vec![Value::Int(1), Value::Int(2)].into())],
            "[    1     2]",
        ),
        (
            "%#v|%#v|%#v",
            vec![
                s("q"),
                Value::List(vec![Value::Int(1), s("a")].into()),
                map(&[("k", f(1.5))]),
            ],
            "\"q\"|[]interface {}{1, \"a\"}|map[string]interface {}{\"k\":1.5}",
        ),
        ("%s %s", vec![s("a")], "a %!s(MISSING)"),
        (
            "%s",
            vec![s("a"), s("b"), Value::Int(3), Value::Nil],
            "a%!(EXTRA string=b, int=3, <nil>)",
        ),
        (
            "%[2]s %[1]s %[3]d %[0]d",
            vec![s("a"), s("b")],
            "b a %!d(BADINDEX) %!d(BADINDEX)",
        ),
        (
            "%[]d|%[x]d|%[]",
            vec![Value::Int(1)],
            "%!d(BADINDEX)|%!d(BADINDEX)|%!](BADINDEX)",
        ),
        (
            "%*d|%-*d|%.*f|%*d",
            vec![
                Value::Int(5),
                Value::Int(1),
                Value::Int(5),
                Value::Int(2),
                Value::Int(2),
                f(3.142_59),
                s("x"),
                Value::Int(4),
            ],
            "    1|2    |3.14|%!(BADWIDTH)4",
        ),
        ("%.*d", vec![Value::Int(-1), Value::Int(4)], "%!(BADPREC)4"),
        ("%", vec![], "%!(NOVERB)"),
        ("100%%", vec![], "100%"),
        ("%!", vec![], "%!!(MISSING)"),
        ("%é", vec![Value::Int(1)], "%!é(int=1)"),
        (
            "%e|%g|%G|%8.3e|%+.2g",
            vec![
                f(1234.5678),
                f(0.000_012_345),
                f(1e-10),
                f(123_456.0),
                f(1.0),
            ],
            "1.234568e+03|1.2345e-05|1E-10|1.235e+05|+1",
        ),
        (
            "%f|%5.1f|%+f|%+v|%010v|% v",
            vec![
                f(f64::INFINITY),
                f(f64::NAN),
                f(f64::NAN),
                f(f64::NAN),
                f(-1.5),
                f(2.0),
            ],
            "+Inf|  NaN|+NaN|NaN|-0000001.5| 2",
        ),
        (
            "%v %d %x",
            vec![Value::Uint(u64::MAX), Value::Uint(7), Value::Uint(255)],
            "18446744073709551615 7 ff",
        ),
    ];
    for (format, args, want) in cases {
        assert_eq!(sprintf(format, &args), want, "format {format:?}");
    }
}

#[test]
fn sprintf_bounds_huge_widths() {
    assert_eq!(
        sprintf("%99999999d", &[Value::Int(1)]),
        "%!(NOVERB)%!(EXTRA int=1)"
    );
    assert_eq!(
        sprintf("%*d", &[Value::Int(10_000_000), Value::Int(1)]),
        "%!(BADWIDTH)1"
    );
    assert_eq!(sprintf("%.3000f", &[f(1.0)]).len(), 1002);
    assert_eq!(
        sprintf("%[99999999999999999999]d", &[Value::Int(1)]),
        "%!d(BADINDEX)"
    );
}
