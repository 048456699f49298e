//! Which members of the data's top level a template can read, so that the
//! decoder builds only those; the others are still checked as JSON, so a
//! payload is refused or accepted exactly as before.
//!
//! The answer errs on the side of reading:
//! - every field name in the template counts, wherever it appears (a
//!   `.labels` inside `{{range .alerts}}` reads an alert's member, and
//!   counts for the top level too);
//! - a bare `.` or `$` anywhere could be the whole data (printed, ranged
//!   over, measured with `len`, handed to a template or a variable), so it
//!   means every member;
//! - other variables hold what they were given, which is counted where
//!   they were given it.
//!
//! Members below the top level are always built in full: whether a map is
//! empty, how many items a list has and what a range visits must not
//! change.

use std::collections::BTreeSet;

use gotmpl::parse::{Expr, ListNode, Node, PipeNode, SmolStr};

/// The top-level members a template can read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Reads {
    /// Any of them.
    All,
    /// Only these.
    Members(BTreeSet<SmolStr>),
}

impl Reads {
    /// What `bodies` (a template's main body and its definitions) read.
    pub(crate) fn of<'a>(bodies: impl IntoIterator<Item = &'a ListNode>) -> Reads {
        let mut walk = Walk::default();
        for body in bodies {
            walk.list(body);
        }
        match walk.all {
            true => Reads::All,
            false => Reads::Members(walk.names),
        }
    }

    /// Whether the member named `key` must be built.
    pub(crate) fn wants(&self, key: &str) -> bool {
        match self {
            Reads::All => true,
            Reads::Members(names) => names.contains(key),
        }
    }
}

#[derive(Default)]
struct Walk {
    names: BTreeSet<SmolStr>,
    all: bool,
}

impl Walk {
    fn list(&mut self, list: &ListNode) {
        for node in &list.nodes {
            match node {
                Node::Action(action) => self.pipe(&action.pipe),
                Node::If(branch) | Node::Range(branch) | Node::With(branch) => {
                    self.pipe(&branch.pipe);
                    self.list(&branch.body);
                    if let Some(else_body) = &branch.else_body {
                        self.list(else_body);
                    }
                }
                Node::Template(call) => {
                    if let Some(pipe) = &call.pipe {
                        self.pipe(pipe);
                    }
                }
                Node::List(inner) => self.list(inner),
                Node::Define(define) => self.list(&define.body),
                Node::Text(_) | Node::Break(_) | Node::Continue(_) => {}
            }
        }
    }

    fn pipe(&mut self, pipe: &PipeNode) {
        for command in &pipe.commands {
            for expr in &command.args {
                self.expr(expr);
            }
        }
    }

    fn expr(&mut self, expr: &Expr) {
        match expr {
            Expr::Dot(_) => self.all = true,
            Expr::Field(_, chain) => self.first(chain),
            Expr::Variable(_, name, chain) if name == "$" => self.first(chain),
            Expr::Pipe(_, pipe) => self.pipe(pipe),
            Expr::Chain(_, inner, _) => self.expr(inner),
            Expr::Variable(..)
            | Expr::Identifier(..)
            | Expr::String(..)
            | Expr::Number(..)
            | Expr::Bool(..)
            | Expr::Nil(_) => {}
        }
    }

    /// A field chain on what may be the data: its first name is read there;
    /// no name at all is the data itself.
    fn first(&mut self, chain: &[SmolStr]) {
        match chain.first() {
            Some(name) => {
                self.names.insert(name.clone());
            }
            None => self.all = true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Prepared;

    fn reads(template: &str) -> Reads {
        Prepared::parse(template).expect("parses").reads().clone()
    }

    fn members(names: &[&str]) -> Reads {
        Reads::Members(names.iter().map(SmolStr::new).collect())
    }

    #[test]
    fn field_names_anywhere_count_and_nothing_else_does() {
        assert_eq!(
            reads(include_str!(
                "../../../tests/fixtures/templates/slack_message.tmpl"
            )),
            members(&["AckURL", "alerts", "annotations", "commonLabels", "status"])
        );
        assert_eq!(reads("plain text"), members(&[]));
        assert_eq!(
            reads(r#"{{ $.a }}{{ (index .b "k").c }}{{ with $x := .d }}{{ $x.e }}{{ end }}"#),
            members(&["a", "b", "d"])
        );
        assert_eq!(
            reads(r#"{{ define "t" }}{{ .f }}{{ end }}{{ template "t" .g }}"#),
            members(&["f", "g"])
        );
        assert_eq!(
            reads(r#"{{ if .a }}{{ else if .b }}{{ else }}{{ printf "%v" (.c) }}{{ end }}"#),
            members(&["a", "b", "c"])
        );
    }

    #[test]
    fn templates_render_the_same_from_the_members_they_read_as_from_all() {
        let templates = [
            include_str!("../../../tests/fixtures/templates/slack_message.tmpl"),
            include_str!("../../../tests/fixtures/templates/upstream/slack_message.tmpl"),
            include_str!("../../../tests/fixtures/templates/upstream/telegram_message.tmpl"),
            include_str!("../../../tests/fixtures/templates/upstream/msteams_message.tmpl"),
            include_str!("../../../tests/fixtures/templates/upstream/lark_message.tmpl"),
            include_str!("../../../tests/fixtures/templates/upstream/viber_message.tmpl"),
            include_str!("../../../tests/fixtures/templates/upstream/googlechat_message.tmpl"),
            "{{ .missing }} {{ if .status }}{{ len .alerts }}{{ end }} {{ $.receiver }}",
        ];
        let payloads = [
            include_str!("../../../tests/fixtures/alertmanager/critical.json"),
            include_str!("../../../tests/fixtures/alertmanager/resolved.json"),
            include_str!("../../../tests/fixtures/alertmanager/warning.json"),
            include_str!("../../../tests/fixtures/alertmanager/urgent.json"),
            include_str!("../../../tests/fixtures/templates/corpus/sample.json"),
        ];
        for template in templates {
            // `now` reads the clock: the two renders below would differ
            // whenever a second boundary fell between them.
            let template = template.replace("now |", "\"2026-11-23T23:44:03Z\" |");
            let template = template.as_str();
            let prepared = Prepared::parse(template).expect("parses");
            for payload in payloads {
                let full = crate::data::decode(payload).expect("decodes");
                assert_eq!(
                    prepared.render_json(payload),
                    crate::exec::Exec::run(&prepared, &full).map_err(crate::RenderError::Exec),
                    "{template}\n{payload}"
                );
            }
        }
    }

    #[test]
    fn the_data_itself_anywhere_means_every_member() {
        for template in [
            "{{ . }}",
            "{{ $ }}",
            "{{ len . }}",
            "{{ range $k, $v := . }}{{ $k }}{{ end }}",
            "{{ $d := . }}{{ $d.a }}",
            "{{ with $ }}{{ .a }}{{ end }}",
            r#"{{ define "t" }}{{ .a }}{{ end }}{{ template "t" . }}"#,
            r#"{{ define "t" }}{{ . }}{{ end }}{{ template "t" .a }}"#,
            "{{ range .alerts }}{{ . }}{{ end }}",
            "{{ .a | printf \"%v\" . }}",
            "{{ if .a }}{{ else }}{{ index . \"b\" }}{{ end }}",
        ] {
            assert_eq!(reads(template), Reads::All, "{template}");
        }
    }
}
