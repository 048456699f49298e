//! The templates one instance has parsed. The host reuses an instance for
//! many calls, and every call passes the channel's template again: keeping
//! the parse turns all but the first call into a render only.

use crate::{Prepared, RenderError};

/// In a guest, `==` on strings is libc's byte-by-byte `memcmp`, and every
/// call compares its template with the kept ones: the SDK's word-wise
/// comparison does it eight bytes at a time. Natively `==` is already fast.
#[cfg(target_arch = "wasm32")]
use versus_plugin_sdk::same_text;
#[cfg(not(target_arch = "wasm32"))]
fn same_text(a: &str, b: &str) -> bool {
    a == b
}

/// Templates kept: one per channel is typical, and a reload brings new ones.
const KEEP: usize = 8;

/// Parsed templates by source text, the most recently used last.
#[derive(Default)]
pub struct Parsed {
    entries: Vec<(String, Prepared)>,
}

impl Parsed {
    /// `template` parsed, from an earlier call or now. A template that does
    /// not parse is not kept.
    ///
    /// # Errors
    ///
    /// See [`Prepared::parse`].
    pub fn get(&mut self, template: &str) -> Result<&Prepared, RenderError> {
        match self
            .entries
            .iter()
            .rposition(|(t, _)| same_text(t, template))
        {
            Some(i) => {
                let hit = self.entries.remove(i);
                self.entries.push(hit);
            }
            None => {
                let prepared = Prepared::parse(template)?;
                if self.entries.len() == KEEP {
                    self.entries.remove(0);
                }
                self.entries.push((template.to_string(), prepared));
            }
        }
        let last = self.entries.len() - 1;
        Ok(&self.entries[last].1)
    }

    /// How many templates are kept.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether none is kept.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(parsed: &mut Parsed, template: &str, data: &str) -> String {
        parsed
            .get(template)
            .expect("parses")
            .render_json(data)
            .expect("renders")
    }

    #[test]
    fn a_kept_template_renders_each_call_with_that_call_s_data() {
        let mut parsed = Parsed::default();
        assert_eq!(render(&mut parsed, "{{.a}}", r#"{"a":1}"#), "1");
        assert_eq!(render(&mut parsed, "{{.a}}", r#"{"a":"two"}"#), "two");
        assert_eq!(render(&mut parsed, "{{.a}}!", r#"{"a":3}"#), "3!");
        assert_eq!(parsed.len(), 2);
    }

    #[test]
    fn the_least_recently_used_template_goes_first() {
        let mut parsed = Parsed::default();
        for i in 0..KEEP {
            render(&mut parsed, &format!("{i}"), "{}");
        }
        // Touch "0", then add one more: "1" is the one dropped.
        render(&mut parsed, "0", "{}");
        render(&mut parsed, "new", "{}");
        assert_eq!(parsed.len(), KEEP);
        let kept: Vec<_> = parsed.entries.iter().map(|(t, _)| t.as_str()).collect();
        assert!(kept.contains(&"0") && !kept.contains(&"1"), "{kept:?}");
    }

    #[test]
    fn a_template_that_does_not_parse_is_not_kept() {
        let mut parsed = Parsed::default();
        assert!(parsed.get("{{ if }}").is_err());
        assert!(parsed.is_empty());
    }
}
