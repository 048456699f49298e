//! Go layouts: parsing and formatting against Go's documented results.

use super::{Time, parse};

const RFC3339: &str = "2006-01-02T15:04:05Z07:00";

fn t(value: &str) -> Time {
    parse(RFC3339, value).unwrap_or_else(|| panic!("{value} should parse"))
}

#[test]
fn parses_rfc3339_like_go() {
    let time = t("2024-02-29T13:14:15.123456789+05:30");
    assert_eq!(
        (
            time.year, time.month, time.day, time.hour, time.min, time.sec
        ),
        (2024, 2, 29, 13, 14, 15)
    );
    assert_eq!(
        (time.nanos, time.offset, time.zone.as_str()),
        (123_456_789, 19_800, "")
    );
    assert_eq!(t("2024-01-02T03:04:05Z").zone, "UTC");
    assert_eq!(t("2024-01-02T03:04:05+00:00").zone, "UTC");
    assert_eq!(t("2024-01-02T03:04:05-07:00").offset, -25_200);
    assert_eq!(
        t("2024-01-02T3:04:05Z").hour,
        3,
        "Go's `15` takes one digit"
    );
    assert_eq!(t("0001-01-01T00:00:00Z").year, 1);
    assert_eq!(t("2024-01-02T03:04:05,5Z").nanos, 500_000_000);
    assert_eq!(t("2024-01-02T03:04:05.1234567891234Z").nanos, 123_456_789);
}

#[test]
fn rejects_what_go_rejects() {
    let bad = [
        "",
        "2024-01-02",
        "2024-01-02 03:04:05Z",
        "2024-1-02T03:04:05Z",
        "2024-13-02T03:04:05Z",
        "2023-02-29T03:04:05Z",
        "2024-04-31T03:04:05Z",
        "2024-01-00T03:04:05Z",
        "2024-01-02T24:04:05Z",
        "2024-01-02T03:60:05Z",
        "2024-01-02T03:04:60Z",
        "2024-01-02t03:04:05z",
        "2024-01-02T03:04:05",
        "2024-01-02T03:04:05+0700",
        "2024-01-02T03:04:05Zjunk",
        "24-01-02T03:04:05Z",
        "２０２４-01-02T03:04:05Z",
        "2024-01-02T03:04:05.Z",
    ];
    for value in bad {
        assert_eq!(parse(RFC3339, value), None, "{value:?}");
    }
}

#[test]
fn formats_every_layout_element() {
    let time = t("2024-02-09T15:04:05.012300+05:30");
    let cases = [
        ("2006-01-02 15:04:05", "2024-02-09 15:04:05"),
        (
            "Mon Monday Jan January 1 01 2 02 _2 06",
            "Fri Friday Feb February 2 02 9 09  9 24",
        ),
        ("3 03 4 04 5 05 PM pm", "3 03 4 04 5 05 PM pm"),
        ("002 __2", "040  40"),
        (
            "-07 -0700 -07:00 -070000 -07:00:00",
            "+05 +0530 +05:30 +053000 +05:30:00",
        ),
        ("Z07 Z0700 Z07:00 MST", "+05 +0530 +05:30 +0530"),
        (
            ".0 .000 .000000000 ,999 .999999999 .9|",
            ".0 .012 .012300000 ,012 .0123 |",
        ),
        ("Janet Month _2006 15h", "Janet Month _2024 15h"),
        ("", ""),
        ("no elements here", "no elements here"),
    ];
    for (layout, want) in cases {
        assert_eq!(time.format(layout), want, "layout {layout:?}");
    }
    let utc = t("2009-11-10T23:00:00Z");
    assert_eq!(
        utc.format("Z07:00 -07:00 MST .999 3PM"),
        "Z +00:00 UTC  11PM"
    );
    assert_eq!(
        t("2024-01-01T00:00:00Z").format("3:04pm 002 Mon"),
        "12:00am 001 Mon"
    );
}

#[test]
fn parses_other_layouts() {
    let rfc1123 = parse(
        "Mon, 02 Jan 2006 15:04:05 MST",
        "Tue, 10 Nov 2009 23:00:00 PST",
    )
    .expect("parses");
    assert_eq!(
        (rfc1123.zone.as_str(), rfc1123.offset, rfc1123.hour),
        ("PST", 0, 23)
    );
    let gmt = parse("02 Jan 06 15:04 MST", "10 Nov 09 23:00 GMT+3").expect("parses");
    assert_eq!(
        (gmt.year, gmt.zone.as_str(), gmt.offset),
        (2009, "GMT+3", 10_800)
    );
    let rfc850 = parse(
        "Monday, 02-Jan-06 15:04:05 MST",
        "Tuesday, 10-Nov-69 23:00:00 UTC",
    )
    .expect("parses");
    assert_eq!((rfc850.year, rfc850.zone.as_str()), (1969, "UTC"));
    let spaced = parse("Jan _2  15:04", "feb  3 09:05").expect("spaces and case are lenient");
    assert_eq!((spaced.month, spaced.day, spaced.hour), (2, 3, 9));
    let pm = parse("3:04PM", "12:30AM").expect("parses");
    assert_eq!(pm.hour, 0);
    assert_eq!(parse("3:04PM", "1:30PM").map(|t| t.hour), Some(13));
    assert_eq!(
        parse("2006 002", "2024 060").map(|t| (t.month, t.day)),
        Some((2, 29))
    );
    assert_eq!(parse("2006 002", "2023 366"), None);
    assert_eq!(parse("01/02/2006", "1/2/2006"), None);
    assert_eq!(
        parse("2006-01-02", "2024-05-06").map(|t| t.zone),
        Some("UTC".into())
    );
    assert_eq!(parse("MST", "Pacific"), None);
    assert_eq!(parse("15:04:05.000", "10:11:12.1"), None);
    assert_eq!(
        parse("15:04:05.000", "10:11:12.123").map(|t| t.nanos),
        Some(123_000_000)
    );
}

#[test]
fn never_panics_on_odd_input() {
    let layouts = [
        RFC3339,
        "Jan _2 __2 002 .000 .999 MST Z07 -07:00:00 PM",
        "2006",
        "01/02/06",
    ];
    let values = [
        "",
        "é",
        "2024-é",
        "+",
        "GMT+",
        "GMT+99",
        "ÅÅÅ",
        "9999999999",
        ".",
        "Z",
        "PM",
    ];
    for layout in layouts {
        for value in values {
            let _ = parse(layout, value).map(|t| t.format(layout));
        }
    }
}
