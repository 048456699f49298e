//! Template semantics end to end: Go's text/template behaviour with JSON data.

use super::{Prepared, RenderError, check, render};

const DATA: &str = r#"{
    "status": "firing", "count": 2, "big": 1000000, "ratio": 0.25,
    "labels": {"severity": "critical", "alertname": "HighErrorRate", "env": "prod"},
    "alerts": [{"name": "a", "v": 1}, {"name": "b", "v": 2.5}],
    "empty": [], "none": null, "blank": ""
}"#;

fn ok(template: &str) -> String {
    render(template, DATA).unwrap_or_else(|e| panic!("{template}: {e}"))
}

#[test]
fn missing_keys_print_no_value_and_are_false() {
    assert_eq!(
        ok("{{ .nope }}|{{ .labels.nope }}|{{ .nope.deeper }}|{{ .none }}"),
        "<no value>|<no value>|<no value>|<no value>"
    );
    assert_eq!(
        ok("{{ if .nope }}y{{ else }}n{{ end }}{{ if .none }}y{{ else }}n{{ end }}"),
        "nn"
    );
    assert_eq!(ok("{{ with .nope }}y{{ else }}n{{ end }}"), "n");
    assert_eq!(ok(r#"{{ index .labels "nope" }}"#), "<no value>");
    assert_eq!(ok("{{ .labels.nope | printf \"%v\" }}"), "<nil>");
}

#[test]
fn numbers_and_collections_print_as_go_does() {
    assert_eq!(ok("{{ .count }} {{ .big }} {{ .ratio }}"), "2 1e+06 0.25");
    assert_eq!(
        ok("{{ .labels }}"),
        "map[alertname:HighErrorRate env:prod severity:critical]"
    );
    assert_eq!(ok("{{ .alerts }}"), "[map[name:a v:1] map[name:b v:2.5]]");
    assert_eq!(
        ok("{{ .empty }} {{ len .alerts }} {{ true }} {{ 1.50 }} {{ 1e6 }} {{ 0x10 }} {{ 'a' }}"),
        "[] 2 true 1.5 1e+06 16 97"
    );
    assert_eq!(ok(r#"{{ "raw <b>&" }}"#), "raw <b>&");
}

#[test]
fn control_structures() {
    assert_eq!(
        ok("{{ range $k, $v := .labels }}{{ $k }}={{ $v }};{{ end }}"),
        "alertname=HighErrorRate;env=prod;severity=critical;"
    );
    assert_eq!(
        ok("{{ range $i, $a := .alerts }}{{ $i }}:{{ $a.name }}={{ .v }} {{ end }}"),
        "0:a=1 1:b=2.5 "
    );
    assert_eq!(ok("{{ range .empty }}x{{ else }}none{{ end }}"), "none");
    assert_eq!(ok("{{ with .labels }}{{ .env }}{{ end }}"), "prod");
    assert_eq!(
        ok(r#"{{ if eq .status "resolved" }}R{{ else if eq .status "firing" }}F{{ end }}"#),
        "F"
    );
    assert_eq!(ok("{{ $x := .count }}{{ $x = 5 }}{{ $x }}"), "5");
    assert_eq!(ok("{{- /* note */ -}}\n  {{ .status -}}  \n!"), "firing!");
    assert_eq!(
        ok("{{ range .alerts }}{{ if eq .name \"b\" }}{{ break }}{{ end }}{{ .name }}{{ end }}"),
        "a"
    );
    assert_eq!(
        ok(
            r#"{{ define "row" }}[{{ .name }}]{{ end }}{{ range .alerts }}{{ template "row" . }}{{ end }}"#
        ),
        "[a][b]"
    );
    assert_eq!(ok(r#"{{ block "b" .big }}<{{ . }}>{{ end }}"#), "<1e+06>");
}

#[test]
fn prepared_templates_can_be_shared_between_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Prepared>();
    assert_send_sync::<RenderError>();
}

#[test]
fn prepared_templates_render_many_times() {
    let prepared = Prepared::parse("{{ .a | upper }} {{ .n }}").expect("parses");
    assert_eq!(
        prepared.render_json(r#"{"a": "x", "n": 1e6}"#),
        Ok("X 1e+06".to_string())
    );
    assert_eq!(
        prepared.render_json(r#"{"a": "y", "n": 2}"#),
        Ok("Y 2".to_string())
    );
    assert!(matches!(
        prepared.render_json("[]"),
        Err(RenderError::Data(_))
    ));
    assert!(matches!(
        prepared.render_json(r#"{"a": 1}"#),
        Err(RenderError::Exec(_))
    ));
}

#[test]
fn blank_templates_render_their_text() {
    assert_eq!(render("", "{}"), Ok(String::new()));
    assert_eq!(render(" \n ", "{}"), Ok(" \n ".to_string()));
    assert_eq!(
        render(r#"{{ define "x" }}X{{ end }}  "#, "{}"),
        Ok("  ".to_string())
    );
    assert_eq!(
        render(
            r#"{{ define "message" }}{{ .a }}{{ end }}"#,
            r#"{"a": 1e6}"#
        ),
        Ok("1e+06".to_string())
    );
}

#[test]
fn check_reports_parse_errors_and_undefined_functions() {
    assert_eq!(check("{{ .a | upper | title }}"), Ok(()));
    let bad = [
        "{{ .a ",
        "{{ if .a }}",
        "{{ end }}",
        "{{ nope }}",
        "{{ .a | nope }}",
        "{{ upper (nope .a) }}",
        "{{ if nope }}{{ end }}",
        "{{ range nope }}{{ end }}",
        "{{ with .a }}{{ else }}{{ nope }}{{ end }}",
        "{{ if .a }}{{ else if nope }}{{ end }}",
        r#"{{ template "x" nope }}"#,
        r#"{{ define "x" }}{{ nope }}{{ end }}"#,
        "{{ $x }}",
        "{{ \"x\".y }}",
        "{{ .a | \"y\" }}",
    ];
    for template in bad {
        assert!(
            matches!(check(template), Err(RenderError::Parse(_))),
            "{template}"
        );
    }
    assert_eq!(
        check("line1\n{{ nope }}"),
        Err(RenderError::Parse(
            "template: message:2: function \"nope\" not defined".into()
        ))
    );
}

#[test]
fn errors_have_kinds_and_messages() {
    let data_err = render("x", "{").expect_err("bad JSON");
    assert!(matches!(data_err, RenderError::Data(_)));
    assert_eq!(
        data_err.to_string(),
        "invalid template data: unexpected end of JSON input"
    );
    let exec = render("{{ index .alerts 9 }}", DATA).expect_err("out of range");
    assert!(matches!(exec, RenderError::Exec(_)));
    assert!(exec.to_string().starts_with("template failed: "));
    let parse = render("{{", DATA).expect_err("unclosed");
    assert!(parse.to_string().starts_with("template does not parse: "));
    let boxed: Box<dyn std::error::Error> = Box::new(parse);
    assert!(!boxed.to_string().is_empty());
    assert!(render(r#"{{ template "nope" }}"#, DATA).is_err());
    assert!(render("{{ range .count }}{{ end }}", DATA).is_err());
    assert!(render("{{ .status.x }}", DATA).is_err());
}

#[test]
fn odd_inputs_never_panic() {
    let templates = [
        "{{ printf \"%*.*[3]v%!%[9]d\" 1 2 }}",
        "{{ printf \"%\" }}{{ printf \"%-0+# 9.9x\" .ratio }}",
        "{{ slice .status 3 1 }}",
        "{{ slice \"é\" 1 }}",
        "{{ index .status 99 }}",
        "{{ len 3 }}",
        "{{ call nil }}",
        "{{ truncate \"é\" 1 }}{{ truncate \"\" 0 }}",
        "{{ split \"\" \"\" }}{{ join (list) \"\" }}",
        "{{ format \"\" \"\" }}{{ format \".000000000000\" \"2024-01-01T00:00:00.1Z\" }}",
        "{{ regexMatch \"(((((((((a*)*)*)*)*)*)*)*)*)*$\" \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab\" }}",
        "{{ regexMatch \"a{1000}{1000}\" \"a\" }}",
        "{{ add 1e308 1e308 }} {{ printf \"%.3000g\" 1e-300 }}",
        "{{ dict \"a\" (dict \"b\" (list 1 2)) }}",
        "{{ title \"\\u0345\\u0399ǈǄ\" }}{{ upper \"\\uffff\" }}",
    ];
    let data = [DATA, "{}", "null", "{\"status\": \"\\ud800\"}"];
    for template in templates {
        for json in data {
            let _ = render(template, json);
        }
    }
}

#[test]
fn block_structure_is_checked_like_go() {
    let good = [
        "{{ if .a }}{{ else if .b }}{{ else }}{{ end }}",
        "{{ with .a }}{{ else with .b }}{{ end }}",
        "{{ range .a }}{{ if .b }}{{ break }}{{ end }}{{ continue }}{{ else }}{{ end }}",
        "{{- /* {{ end }} \" */ -}}{{ \"}}{{end}}\" }}{{ `{{ if }}` }}{{ 'x' }}",
        "{{ define \"a\" }}{{ block \"b\" . }}{{ end }}{{ end }}",
        "{{- if .a -}}\n{{- end -}}",
        "{{ iffy }}",
    ];
    for template in good {
        let result = check(&template.replace("iffy", "len .x"));
        assert_eq!(result, Ok(()), "{template}");
    }
    let bad = [
        ("{{ if .a }}", "message:1: unexpected EOF"),
        ("a\n{{ end }}b", "message:2: unexpected {{end}}"),
        ("{{ else }}", "unexpected {{else}}"),
        ("{{ if .a }}{{ else }}{{ else }}{{ end }}", "unexpected"),
        (
            "{{ range .a }}{{ else if .b }}{{ end }}",
            "unexpected chained {{else}}",
        ),
        (
            "{{ if .a }}{{ define \"x\" }}{{ end }}{{ end }}",
            "{{define}} inside an action",
        ),
        ("{{ break }}", "{{break}} outside {{range}}"),
        (
            "{{ range .a }}{{ else }}{{ continue }}{{ end }}",
            "{{continue}} outside {{range}}",
        ),
        ("{{ if .a }}{{ end }}{{ end }}{{ .x", ""),
        (
            "{{ $x := 1 }}{{ if .a }}{{ $y := 2 }}{{ end }}{{ $x }}{{ $y }}",
            "undefined variable \"$y\"",
        ),
        (
            "{{ range $i, $e := .a }}{{ end }}{{ $e }}",
            "undefined variable \"$e\"",
        ),
        (
            "{{ define \"d\" }}{{ $top }}{{ end }}{{ $top := 1 }}",
            "undefined variable \"$top\"",
        ),
    ];
    for (template, want) in bad {
        match check(template) {
            Err(RenderError::Parse(msg)) => assert!(msg.contains(want), "{template}: {msg}"),
            other => panic!("{template}: {other:?}"),
        }
    }
    assert_eq!(
        ok("{{ $x := 1 }}{{ if .status }}{{ $x = 2 }}{{ $x }}{{ end }}{{ $ }}"),
        "2map[alerts:[map[name:a v:1] map[name:b v:2.5]] big:1e+06 blank: count:2 empty:[] labels:map[alertname:HighErrorRate env:prod severity:critical] none:<nil> ratio:0.25 status:firing]"
    );
}

/// The execution error `template` gives with `data`.
pub(crate) fn exec_error_with(data: &str, template: &str) -> String {
    match render(template, data) {
        Err(RenderError::Exec(msg)) => msg,
        other => panic!("{template}: expected an execution error, got {other:?}"),
    }
}

fn exec_error(template: &str) -> String {
    exec_error_with(DATA, template)
}

#[test]
fn execution_errors_name_the_line_column_and_node_go_names() {
    // A failed call is at the command; a bad argument at that argument;
    // a field chain at its second part.
    assert_eq!(
        exec_error("a\n  {{ gt .alerts 1 }}"),
        "template: message:2:5: executing \"message\" at <gt .alerts 1>: \
         error calling gt: invalid type for comparison"
    );
    assert_eq!(
        exec_error("é {{ upper .count }}"),
        "template: message:1:12: executing \"message\" at <.count>: \
         wrong type for value; expected string; got float64"
    );
    assert_eq!(
        exec_error("{{ .status.x }}"),
        "template: message:1:10: executing \"message\" at <.status.x>: \
         can't evaluate field x in type string"
    );
    assert_eq!(
        exec_error("{{ define \"d\" }}\n{{ len .count }}{{ end }}{{ template \"d\" . }}"),
        "template: message:2:3: executing \"d\" at <len .count>: \
         error calling len: len of type float64"
    );
    assert_eq!(
        exec_error("{{ .none.x }}"),
        "template: message:1:8: executing \"message\" at <.none.x>: \
         nil pointer evaluating interface {}.x"
    );
}

#[test]
fn a_template_called_without_a_pipeline_sees_a_nil_dot() {
    assert_eq!(
        ok(r#"{{ define "d" }}[{{ . }}|{{ .status }}|{{ $ }}]{{ end }}{{ template "d" }}"#),
        "[<no value>|<no value>|<no value>]"
    );
    assert_eq!(
        ok(r#"{{ define "d" }}[{{ .status }}]{{ end }}{{ template "d" . }}"#),
        "[firing]"
    );
}

#[test]
fn dicts_have_set_and_and_or_are_lazy() {
    assert_eq!(
        ok(r#"{{ $d := dict "a" 1 }}{{ $_ := $d.Set "b" 2 }}{{ $d }} {{ $d.Set "c" 3 }}"#),
        "map[a:1 b:2] map[a:1 b:2 c:3]"
    );
    // A map from the data has no method `Set`.
    assert!(exec_error(r#"{{ .labels.Set "a" 1 }}"#).contains("Set is not a method"));
    assert_eq!(
        ok("{{ and .empty (index .empty 5) }}|{{ or .status (index .empty 5) }}"),
        "[]|firing"
    );
}

#[test]
fn endless_template_recursion_stops_with_an_error() {
    let template = r#"{{ define "r" }}{{ range . }}{{ template "r" $ }}{{ end }}{{ end }}{{ template "r" .alerts }}"#;
    assert!(
        exec_error(template).ends_with("exceeded maximum template depth (200)"),
        "{}",
        exec_error(template)
    );
}
