//! Every function of the map, through real templates, with the outputs Go
//! and upstream Versus give.

use crate::render;

const DATA: &str = r#"{
    "s": "hello", "n": 3, "big": 1000000, "half": 0.5, "t": true, "f": false,
    "nul": null, "empty": "", "list": ["a", "b"], "nums": [1, 2.5],
    "mixed": [1, "x", true, null], "m": {"b": 1, "a": "x"},
    "time": "2024-05-06T07:08:09Z", "uni": "héllo wörld"
}"#;

fn ok(template: &str) -> String {
    render(template, DATA).unwrap_or_else(|e| panic!("{template}: {e}"))
}

fn exec_err(template: &str) -> String {
    crate::tests::exec_error_with(DATA, template)
}

#[test]
fn upper_and_lower_map_rune_by_rune() {
    assert_eq!(
        ok(r#"{{ upper "héllo ß straße" }}"#),
        "HÉLLO ß STRASSE".replace("SS", "ß")
    );
    assert_eq!(ok("{{ .s | upper }}"), "HELLO");
    assert_eq!(ok(r#"{{ upper "" }}"#), "");
    assert_eq!(ok(r#"{{ upper "ᾳ ǆ" }}"#), "ᾼ Ǆ");
    assert_eq!(ok(r#"{{ lower "HÉLLO İ ΣΑΣ" }}"#), "héllo i σασ");
    assert_eq!(ok("{{ .uni | lower }}"), "héllo wörld");
}

#[test]
fn upper_rejects_bad_arguments() {
    assert!(exec_err("{{ upper .missing }}").contains("invalid value; expected string"));
    assert!(exec_err("{{ upper .nul }}").contains("expected string"));
    assert!(exec_err("{{ upper .n }}").contains("expected string; got float64"));
    assert!(exec_err("{{ upper 3 }}").contains("at <3>: expected string; found 3"));
    assert!(exec_err("{{ upper }}").contains("wrong number of args for upper: want 1 got 0"));
    assert!(exec_err(r#"{{ upper "a" "b" }}"#).contains("want 1 got 2"));
    assert!(exec_err(r#"{{ lower "a" "b" }}"#).contains("lower"));
}

#[test]
fn title_cases_words_like_x_text() {
    assert_eq!(ok(r#"{{ title "hello wORLD" }}"#), "Hello World");
    assert_eq!(
        ok(r#"{{ title "api-gateway/v2 down" }}"#),
        "Api-Gateway/V2 Down"
    );
    assert_eq!(ok(r#"{{ title "o'neil e.g. x..y" }}"#), "O'neil E.g. X..Y");
    assert_eq!(ok(r#"{{ title "foo_bar 3rd" }}"#), "Foo_bar 3Rd");
    assert_eq!(
        ok(r#"{{ title "ßtraße ǆungla ﬁsh" }}"#),
        "Sstraße ǅungla Fish"
    );
    assert_eq!(ok(r#"{{ title "ΟΔΟΣ ΣΟΦΟΣ" }}"#), "Οδος Σοφος");
    assert_eq!(ok(r#"{{ title "" }}"#), "");
    assert_eq!(ok("{{ .uni | title }}"), "Héllo Wörld");
    assert!(exec_err("{{ title .list }}").contains("expected string"));
}

#[test]
fn default_keeps_upstream_argument_order() {
    assert_eq!(ok(r#"{{ default .missing "y" }}"#), "y");
    assert_eq!(ok(r#"{{ default .nul "y" }}"#), "y");
    assert_eq!(ok(r#"{{ default .empty "y" }}"#), "y");
    assert_eq!(ok(r#"{{ default .s "y" }}"#), "hello");
    assert_eq!(ok(r#"{{ default 0 "y" }} {{ default .f "y" }}"#), "0 false");
    assert_eq!(ok(r#"{{ default .list "y" }}"#), "[a b]");
    // Piped, the value lands in the fallback slot: upstream always gives "y".
    assert_eq!(ok(r#"{{ .missing | default "y" }}"#), "y");
    assert_eq!(ok(r#"{{ .s | default "y" }}"#), "y");
    assert_eq!(ok(r#"{{ "" | default "" }}"#), "");
    assert_eq!(ok(r#"{{ default .missing .missing }}"#), "<no value>");
    assert!(exec_err(r#"{{ default "x" }}"#).contains("want 2 got 1"));
}

#[test]
fn replace_and_replace_all_take_the_string_first() {
    assert_eq!(ok(r#"{{ replace "a-b-c" "-" "+" }}"#), "a+b+c");
    assert_eq!(ok(r#"{{ replaceAll "a-b-c" "-" "" }}"#), "abc");
    assert_eq!(ok(r#"{{ replace "abc" "" "-" }}"#), "-a-b-c-");
    assert_eq!(ok(r#"{{ replace "héé" "é" "e" }}"#), "hee");
    // Piped: replace("aXa", "X", "x").
    assert_eq!(ok(r#"{{ "x" | replace "aXa" "X" }}"#), "axa");
    assert!(exec_err(r#"{{ replace "a" "b" }}"#).contains("want 3 got 2"));
    assert!(exec_err(r#"{{ replace .s "l" .n }}"#).contains("expected string"));
}

#[test]
fn contains_and_trims_take_the_string_first() {
    assert_eq!(
        ok(r#"{{ contains .s "ell" }} {{ contains .s "x" }}"#),
        "true false"
    );
    assert_eq!(ok(r#"{{ contains "" "" }}"#), "true");
    assert_eq!(ok(r#"{{ "ell" | contains "hello" }}"#), "true");
    assert_eq!(ok(r#"{{ trimPrefix "prod-api" "prod-" }}"#), "api");
    assert_eq!(ok(r#"{{ trimPrefix "api" "prod-" }}"#), "api");
    assert_eq!(ok(r#"{{ trimSuffix "api.log" ".log" }}"#), "api");
    assert_eq!(ok(r#"{{ trimSuffix "api" "" }}"#), "api");
    assert_eq!(ok(r#"{{ "prod-" | trimPrefix "prod-api" }}"#), "api");
    assert!(exec_err(r#"{{ contains .s }}"#).contains("want 2 got 1"));
    assert!(exec_err(r#"{{ trimPrefix .missing "x" }}"#).contains("at <.missing>: invalid value"));
    assert!(exec_err(r#"{{ trimSuffix "x" 1 }}"#).contains("at <1>: expected string"));
}

#[test]
fn split_and_join_follow_strings_package() {
    assert_eq!(ok(r#"{{ split "a,b,,c" "," }}"#), "[a b  c]");
    assert_eq!(
        ok(r#"{{ len (split "" ",") }} {{ len (split "" "") }}"#),
        "1 0"
    );
    assert_eq!(ok(r#"{{ split "hé!" "" }}"#), "[h é !]");
    assert_eq!(
        ok(r#"{{ range split "x y" " " }}<{{ . }}>{{ end }}"#),
        "<x><y>"
    );
    assert_eq!(ok(r#"{{ join (split "a,b" ",") " - " }}"#), "a - b");
    assert_eq!(
        ok(r#"{{ join (stringSlice .list) "" }} {{ join .missing "," }}|"#),
        "ab |"
    );
    assert_eq!(ok(r#"{{ join (stringSlice .nums) "," }}"#), "1,2.5");
    // As in Go, join takes a []string: a JSON list is a []interface {}.
    assert!(exec_err(r#"{{ join .list "," }}"#).contains("expected []string; got []interface {}"));
    assert!(exec_err(r#"{{ join .s "," }}"#).contains("expected []string; got string"));
    assert!(exec_err(r#"{{ stringSlice (split "a" ",") }}"#).contains("got []string"));
    assert!(exec_err(r#"{{ split .s }}"#).contains("want 2 got 1"));
}

#[test]
fn truncate_cuts_bytes() {
    assert_eq!(ok(r#"{{ truncate "hello" 3 }}"#), "hel");
    assert_eq!(
        ok(r#"{{ truncate "hi" 10 }} {{ truncate "hi" 2 }} {{ truncate "hi" 0 }}|"#),
        "hi hi |"
    );
    // Go cuts "é" in half; its stray byte becomes U+FFFD.
    assert_eq!(ok(r#"{{ truncate "héllo" 2 }}"#), "h\u{fffd}");
    assert_eq!(ok(r#"{{ truncate .s (len "abcd") }}"#), "hell");
    assert!(exec_err(r#"{{ truncate "x" -1 }}"#).contains("slice bounds out of range"));
    assert!(exec_err("{{ truncate .s .n }}").contains("expected int; got float64"));
    assert!(exec_err("{{ .s | truncate 3 }}").contains("expected string"));
}

#[test]
fn format_time_prints_rfc3339_in_its_own_offset() {
    assert_eq!(
        ok(r#"{{ formatTime "2024-01-02T03:04:05Z" }}"#),
        "2024-01-02 03:04:05"
    );
    assert_eq!(
        ok(r#"{{ formatTime "2026-11-23T23:44:03.608Z" }}"#),
        "2026-11-23 23:44:03"
    );
    assert_eq!(
        ok(r#"{{ formatTime "2024-01-02T03:04:05+07:00" }}"#),
        "2024-01-02 03:04:05"
    );
    assert_eq!(ok(r#"{{ .time | formatTime }}"#), "2024-05-06 07:08:09");
    assert_eq!(ok(r#"{{ formatTime "garbage" }}"#), "Invalid time");
    assert_eq!(
        ok(r#"{{ formatTime "2023-02-29T00:00:00Z" }}"#),
        "Invalid time"
    );
    assert_eq!(ok(r#"{{ formatTime "" }}"#), "Invalid time");
    assert!(exec_err("{{ formatTime .missing }}").contains("expected string"));
    assert!(exec_err(r#"{{ formatTime "a" "b" }}"#).contains("want 1 got 2"));
}

#[test]
fn format_reprints_times_with_go_layouts() {
    assert_eq!(
        ok(r#"{{ format "Jan 2, 2006 at 3:04pm (MST)" .time }}"#),
        "May 6, 2024 at 7:08am (UTC)"
    );
    assert_eq!(ok(r#"{{ .time | format "2006-01-02" }}"#), "2024-05-06");
    assert_eq!(
        ok(
            r#"{{ format "Monday 02-Jan-06 15:04:05.000 -07:00 MST" "2024-02-29T13:14:15.123456+05:30" }}"#
        ),
        "Thursday 29-Feb-24 13:14:15.123 +05:30 +0530"
    );
    assert_eq!(
        ok(r#"{{ format "MST -0700 Z07:00" "Mon, 02 Jan 2006 15:04:05 PST" }}"#),
        "PST +0000 Z"
    );
    assert_eq!(ok(r#"{{ format "15:04" "2024-05-06 17:30:00" }}"#), "17:30");
    assert_eq!(ok(r#"{{ format "2006" "01/02/2023" }}"#), "2023");
    assert_eq!(
        ok(r#"{{ format "2006" "garbage" }}"#),
        "Invalid time format"
    );
    assert_eq!(
        ok(r#"{{ format "2006" 123 }}"#),
        "Unsupported type for format: int"
    );
    assert_eq!(
        ok(r#"{{ format "2006" .n }}"#),
        "Unsupported type for format: float64"
    );
    assert_eq!(
        ok(r#"{{ format "2006" .missing }}"#),
        "Unsupported type for format: <nil>"
    );
    assert!(exec_err(r#"{{ format 1 .time }}"#).contains("expected string"));
    assert!(exec_err(r#"{{ format "2006" }}"#).contains("want 2 got 1"));
}

#[test]
fn to_string_and_string_slice_use_go_formatting() {
    assert_eq!(
        ok("{{ toString .big }}|{{ toString .missing }}|{{ toString .m }}"),
        "1e+06|<nil>|map[a:x b:1]"
    );
    assert_eq!(ok(r#"{{ printf "%T" (toString 3) }}"#), "string");
    assert_eq!(ok("{{ stringSlice .mixed }}"), "[1 x true <nil>]");
    assert_eq!(ok("{{ stringSlice .missing }}"), "[]");
    assert_eq!(
        ok(r#"{{ index (stringSlice .nums) 1 | printf "%q" }}"#),
        r#""2.5""#
    );
    assert!(exec_err("{{ stringSlice .s }}").contains("expected []interface {}"));
    assert!(exec_err("{{ toString }}").contains("want 1 got 0"));
}

#[test]
fn escape_html_escapes_the_five_characters() {
    assert_eq!(
        ok(r#"{{ escapeHTML "<*> & 'q' \"d\"" }}"#),
        "&lt;*&gt; &amp; &#39;q&#39; &#34;d&#34;"
    );
    assert_eq!(
        ok("{{ escapeHTML 42 }} {{ escapeHTML .missing }}"),
        "42 &lt;nil&gt;"
    );
    assert_eq!(ok(r#"{{ escapeHTML "" }}|{{ escapeHTML "é" }}"#), "|é");
    assert!(exec_err("{{ escapeHTML }}").contains("want 1 got 0"));
}

#[test]
fn dict_list_and_append_build_values() {
    assert_eq!(ok(r#"{{ dict "b" 1 "a" "x" }}"#), "map[a:x b:1]");
    assert_eq!(ok(r#"{{ (dict "a" .big).a }}"#), "1e+06");
    assert_eq!(
        ok(r#"{{ dict }} {{ dict "k" .missing }}"#),
        "map[] map[k:<nil>]"
    );
    assert_eq!(
        ok(r#"{{ range $k, $v := dict "z" 1 "y" 2 }}{{ $k }}{{ $v }}{{ end }}"#),
        "y2z1"
    );
    assert!(exec_err(r#"{{ dict "a" }}"#).contains("even number of arguments"));
    assert!(exec_err("{{ dict 1 2 }}").contains("keys must be strings"));
    assert_eq!(
        ok(r#"{{ list 1 "a" .missing }} {{ list }}"#),
        "[1 a <nil>] []"
    );
    assert_eq!(ok("{{ len (list .s .s .s) }}"), "3");
    assert_eq!(
        ok("{{ append (list 1) 2 3 }} {{ append .missing 1 }} {{ append .list }}"),
        "[1 2 3] [1] [a b]"
    );
    assert_eq!(
        ok("{{ $l := list }}{{ $l = append $l .n }}{{ $l = append $l .s }}{{ $l }}"),
        "[3 hello]"
    );
    assert!(exec_err(r#"{{ append "x" 1 }}"#).contains("at <\"x\">: can't handle"));
    assert!(exec_err(r#"{{ append .s 1 }}"#).contains("expected []interface {}; got string"));
    assert!(exec_err("{{ append }}").contains("want at least 1 got 0"));
}

#[test]
fn add_is_numeric_or_concatenates() {
    assert_eq!(ok("{{ add 1 2 }} {{ printf \"%T\" (add 1 2) }}"), "3 int");
    assert_eq!(
        ok("{{ add .n 1 }} {{ printf \"%T\" (add .n 1) }}"),
        "4 float64"
    );
    assert_eq!(
        ok("{{ add 1.5 2 }} {{ add 0.1 0.2 }} {{ add .big .big }}"),
        "3.5 0.30000000000000004 2e+06"
    );
    assert_eq!(
        ok(r#"{{ add "a" "b" }} {{ add .missing 1 }} {{ add .t 1 }}"#),
        "ab <nil>1 true1"
    );
    assert_eq!(
        ok("{{ add 9223372036854775807 1 }}"),
        "-9223372036854775808"
    );
    assert!(exec_err("{{ add 1 }}").contains("want 2 got 1"));
}

#[test]
fn regex_match_is_unanchored_re2() {
    assert_eq!(
        ok(r#"{{ regexMatch "^foo" "foobar" }} {{ regexMatch "^foo" "barfoo" }}"#),
        "true false"
    );
    assert_eq!(
        ok(r#"{{ regexMatch "\\d+" "a1" }} {{ regexMatch "(?i)HELLO" .s }}"#),
        "true true"
    );
    assert_eq!(
        ok(r#"{{ regexMatch "[" "x" }} {{ regexMatch "" "" }}"#),
        "false true"
    );
    assert_eq!(ok(r#"{{ regexMatch "^\\w+$" "héllo" }}"#), "false");
    assert_eq!(
        ok(r#"{{ if regexMatch "crit|urg" "critical" }}page{{ end }}"#),
        "page"
    );
    assert!(exec_err(r#"{{ regexMatch "x" }}"#).contains("want 2 got 1"));
    assert!(exec_err(r#"{{ regexMatch "x" .n }}"#).contains("expected string"));
}

#[test]
fn print_builtins_use_go_number_formatting() {
    assert_eq!(ok(r#"{{ print 1 2 "a" "b" 3 }}"#), "1 2ab3");
    assert_eq!(ok("{{ print .big .half .missing }}"), "1e+06 0.5 <nil>");
    assert_eq!(ok(r#"{{ println 1 "a" }}"#), "1 a\n");
    assert_eq!(ok("{{ println }}"), "\n");
    assert_eq!(
        ok(r#"{{ printf "%v %d %.2f" .big 7 .half }}"#),
        "1e+06 7 0.50"
    );
    assert_eq!(
        ok(r#"{{ printf "%v" .m }} {{ printf "%v" nil }}"#),
        "map[a:x b:1] <nil>"
    );
    assert_eq!(ok(r#"{{ printf "%d" .n }}"#), "%!d(float64=3)");
    assert_eq!(ok(r#"{{ printf "%s %s" "a" }}"#), "a %!s(MISSING)");
    assert!(exec_err("{{ printf }}").contains("want at least 1 got 0"));
    assert!(exec_err("{{ printf 3 }}").contains("expected string"));
}

#[test]
fn escaping_builtins_take_any_arguments() {
    assert_eq!(
        ok(r#"{{ html "<a href='x'>\"&" }}"#),
        "&lt;a href=&#39;x&#39;&gt;&#34;&amp;"
    );
    assert_eq!(
        ok("{{ html .big }} {{ html .missing }} {{ html 1 2 }}"),
        "1e+06 &lt;no value&gt; 1 2"
    );
    assert_eq!(ok(r#"{{ urlquery "a b&c/é" }}"#), "a+b%26c%2F%C3%A9");
    assert_eq!(ok(r#"{{ js "it's <b>" }}"#), r"it\'s \u003Cb\u003E");
    assert_eq!(ok("{{ .s | html }}"), "hello");
}

#[test]
fn go_comparison_and_logic_builtins() {
    assert_eq!(
        ok(r#"{{ eq .s "a" "hello" }} {{ eq .n 3.0 }} {{ ne .s "x" }}"#),
        "true true true"
    );
    assert_eq!(
        ok("{{ lt 1 2 }} {{ ge .n .n }} {{ gt .s \"a\" }}"),
        "true true true"
    );
    assert_eq!(
        ok(r#"{{ and 1 0 }} {{ or 0 "" "x" }} {{ not .missing }} {{ and .t .s }}"#),
        "0 x true hello"
    );
    assert!(exec_err("{{ eq .n 3 }}").contains("incompatible types"));
    assert!(exec_err("{{ lt .list .list }}").contains("comparison"));
    assert_eq!(
        ok(
            r#"{{ len .s }} {{ len .m }} {{ index .list 1 }} {{ index .m "a" }} {{ slice .s 1 3 }}"#
        ),
        "5 2 b x el"
    );
    assert!(exec_err("{{ index .list 5 }}").contains("out of range"));
    assert!(exec_err("{{ call .s }}").contains("non-function"));
}

#[test]
fn env_is_empty_and_now_is_a_time_format_reads() {
    // PATH is set for every test process: `env` must not read it.
    assert!(std::env::var_os("PATH").is_some());
    assert_eq!(render(r#"[{{ env "PATH" }}]"#, DATA).expect("env"), "[]");
    let year: i64 = render(r#"{{ now | format "2006" }}"#, DATA)
        .expect("now")
        .parse()
        .expect("a year");
    assert!(year >= 2025, "{year}");
    let stamp = render("{{ now }}", DATA).expect("now");
    assert!(stamp.ends_with('Z') && stamp.len() >= 20, "{stamp}");
    assert!(exec_err("{{ now 1 }}").contains("wrong number of args"));
}

#[test]
fn unix_times_become_civil_utc() {
    let at = |secs, nanos| {
        crate::timefmt::Time::from_unix(secs, nanos).format("2006-01-02T15:04:05.999999999Z07:00")
    };
    assert_eq!(at(0, 0), "1970-01-01T00:00:00Z");
    assert_eq!(at(951_782_400, 5_000_000), "2000-02-29T00:00:00.005Z");
    assert_eq!(at(1_795_000_000, 0), "2026-11-18T11:06:40Z");
    assert_eq!(at(-86_401, 0), "1969-12-30T23:59:59Z");
}

#[test]
fn the_include_stub_renders_nothing() {
    assert_eq!(ok(r#"[{{ include "x" . }}]"#), "[]");
    assert!(exec_err("{{ include }}").contains("wrong number of args for include: want 2 got 0"));
}
