//! A template parsed and checked once, ready to render many times.

use std::collections::HashMap;

use gotmpl::TemplateError;
use gotmpl::parse::{ListNode, Parser};

use crate::exec::Exec;
use crate::reads::Reads;
use crate::{NAME, RenderError, data, structure, tree};

/// A parsed template: its main body and its `{{define}}`d templates.
pub struct Prepared {
    /// The template text, which error positions refer to.
    source: String,
    main: ListNode,
    defines: HashMap<String, ListNode>,
    /// The data's top-level members the template can read.
    reads: Reads,
}

impl Prepared {
    /// Parses `template`, checking it the way Go's parser does.
    ///
    /// # Errors
    ///
    /// [`RenderError::Parse`] when the template has a syntax error or calls
    /// a function that is not defined.
    pub fn parse(template: &str) -> Result<Prepared, RenderError> {
        let source = structure::normalize(template);
        let (main, defines) = Parser::with_name(Some(NAME), &source, "{{", "}}")
            .and_then(Parser::parse)
            .map_err(|e| RenderError::Parse(parse_error(e)))?;
        structure::check(NAME, template).map_err(RenderError::Parse)?;
        tree::check(NAME, &source, &main).map_err(RenderError::Parse)?;
        let mut named: HashMap<String, ListNode> = HashMap::new();
        for define in defines {
            tree::check(NAME, &source, &define.body).map_err(RenderError::Parse)?;
            // As Go's parser: an empty definition never replaces another,
            // and two non-empty ones are an error.
            match named.get(define.name.as_str()) {
                Some(old) if !old.is_empty_tree() && !define.body.is_empty_tree() => {
                    return Err(RenderError::Parse(format!(
                        "template: {NAME}:{}: template: multiple definition of template {:?}",
                        define.pos.line,
                        define.name.as_str()
                    )));
                }
                Some(_) if define.body.is_empty_tree() => {}
                _ => {
                    named.insert(define.name.to_string(), define.body);
                }
            }
        }
        let reads = Reads::of(std::iter::once(&main).chain(named.values()));
        Ok(Prepared {
            source: source.into_owned(),
            main,
            defines: named,
            reads,
        })
    }

    /// Renders with `data_json` (a JSON object) as the data.
    ///
    /// # Errors
    ///
    /// [`RenderError::Data`] when `data_json` is not a JSON object,
    /// [`RenderError::Exec`] when execution fails.
    pub fn render_json(&self, data_json: &str) -> Result<String, RenderError> {
        let wanted = |key: &str| self.reads.wants(key);
        let data = data::decode_members(data_json, &wanted).map_err(RenderError::Data)?;
        Exec::run(self, &data).map_err(RenderError::Exec)
    }

    /// The data's top-level members the template can read.
    #[cfg(test)]
    pub(crate) fn reads(&self) -> &Reads {
        &self.reads
    }

    /// The name errors give the template.
    pub(crate) fn name(&self) -> &'static str {
        NAME
    }

    pub(crate) fn source(&self) -> &str {
        &self.source
    }

    /// The body executed: the top level, or a `{{define "message"}}` when
    /// the top level is empty (as Go's `Execute` picks it).
    pub(crate) fn main(&self) -> &ListNode {
        match self.defines.get(NAME) {
            Some(body) if self.main.is_empty_tree() => body,
            _ => &self.main,
        }
    }

    /// The template called `name`, with its name.
    pub(crate) fn lookup(&self, name: &str) -> Option<(&str, &ListNode)> {
        if name == NAME {
            return Some((NAME, self.main()));
        }
        self.defines
            .get_key_value(name)
            .map(|(name, body)| (name.as_str(), body))
    }
}

/// A parse error as Go words it: `template: message:LINE: …` (Go gives no
/// column for parse errors).
fn parse_error(e: TemplateError) -> String {
    match e {
        TemplateError::Parse { line, message, .. } | TemplateError::Lex { line, message, .. } => {
            format!("template: {NAME}:{line}: {message}")
        }
        other => other.to_string(),
    }
}
