//! Markdown to an Adaptive Card, line by line, the way upstream Versus
//! converts it, so that Teams shows the same card:
//! - `# `, `## `, `### ` headings become bold text blocks of size
//!   ExtraLarge, Large and Medium;
//! - a line that is wholly `**bold**` becomes a bold block;
//! - runs of `- ` / `* ` items and of `1. ` items become containers of
//!   `• item` / `1. item` blocks (numbered ones with style `default`);
//! - fenced code becomes an emphasis container with a monospace block;
//! - a line with `[text](url)` links shows the texts and opens the first
//!   URL when selected;
//! - anything else is a wrapped text block; blank lines only end lists.
//!
//! `summary` is the first heading, or else the first non-blank line without
//! Markdown; `text` is a plain-text rendering, for clients without cards.

use serde_json::{Value, json};

/// The schema URL every card names.
pub const SCHEMA: &str = "http://adaptivecards.io/schemas/adaptive-card.json";
/// The card version upstream sends.
pub const VERSION: &str = "1.5";

/// Upstream's test for "this message is Markdown".
pub fn has_markdown(text: &str) -> bool {
    ["**", "```", "# ", "## ", "### ", "- ", "* ", "1. "]
        .iter()
        .any(|m| text.contains(m))
        || (text.contains('[') && text.contains("]("))
}

/// A list being collected.
struct List {
    ordered: bool,
    items: Vec<Value>,
}

impl List {
    fn into_container(self) -> Value {
        let mut c = json!({ "type": "Container", "items": self.items });
        if self.ordered {
            c["style"] = json!("default");
        }
        c
    }
}

/// The Adaptive Card for `markdown`.
pub fn adaptive_card(markdown: &str) -> Value {
    let mut body: Vec<Value> = Vec::new();
    let mut list: Option<List> = None;
    let mut code: Option<String> = None;
    let mut first_heading: Option<String> = None;
    let mut first_line: Option<String> = None;

    for raw in markdown.split('\n') {
        let line = raw.trim();
        if line.is_empty() {
            if let Some(l) = list.take().filter(|l| !l.items.is_empty()) {
                body.push(l.into_container());
            }
            continue;
        }
        if first_line.is_none() {
            first_line = Some(line.to_owned());
        }
        if first_heading.is_none() {
            first_heading = heading(line).map(|(_, text)| text.to_owned());
        }
        if line.starts_with("```") {
            match code.take() {
                Some(text) => body.push(json!({
                    "type": "Container",
                    "style": "emphasis",
                    "items": [{ "type": "TextBlock", "text": text, "wrap": true, "fontType": "Monospace" }],
                })),
                None => code = Some(String::new()),
            }
            continue;
        }
        if let Some(text) = code.as_mut() {
            text.push_str(line);
            text.push('\n');
            continue;
        }
        if let Some(item) = bullet(line) {
            let l = start_list(&mut list, &mut body, false);
            l.items.push(text_block(&format!("• {item}")));
            continue;
        }
        if is_numbered(line) {
            let l = start_list(&mut list, &mut body, true);
            if let Some((number, rest)) = line.split_once(". ") {
                l.items.push(text_block(&format!("{number}. {rest}")));
            }
            continue;
        }
        if let Some(l) = list.take() {
            body.push(l.into_container());
        }
        if let Some((size, text)) = heading(line) {
            body.push(json!({ "type": "TextBlock", "text": text, "size": size, "weight": "Bolder", "wrap": true }));
            continue;
        }
        if line.len() >= 2
            && line.starts_with("**")
            && line.ends_with("**")
            && line.matches("**").count() == 2
        {
            let inner = line.strip_suffix("**").unwrap_or(line);
            let inner = inner.strip_prefix("**").unwrap_or(inner);
            body.push(
                json!({ "type": "TextBlock", "text": inner, "weight": "Bolder", "wrap": true }),
            );
            continue;
        }
        let links = find_links(line);
        if let Some(first) = links.first() {
            body.push(json!({
                "type": "Container",
                "items": [text_block(&replace_links(line))],
                "selectAction": { "type": "Action.OpenUrl", "url": first.url },
            }));
            continue;
        }
        body.push(text_block(line));
    }
    if let Some(l) = list.filter(|l| !l.items.is_empty()) {
        body.push(l.into_container());
    }

    let summary =
        first_heading.unwrap_or_else(|| strip_markdown(first_line.as_deref().unwrap_or("")));
    let mut card = json!({
        "type": "AdaptiveCard",
        // Upstream sends `null` for a card without blocks.
        "body": if body.is_empty() { Value::Null } else { Value::Array(body) },
        "$schema": SCHEMA,
        "version": VERSION,
    });
    let text = plain_text(markdown);
    if !text.is_empty() {
        card["text"] = json!(text);
    }
    if !summary.is_empty() {
        card["summary"] = json!(summary);
    }
    card
}

fn text_block(text: &str) -> Value {
    json!({ "type": "TextBlock", "text": text, "wrap": true })
}

/// The open list of the right kind, closing a list of the other kind first.
fn start_list<'a>(
    list: &'a mut Option<List>,
    body: &mut Vec<Value>,
    ordered: bool,
) -> &'a mut List {
    if list.as_ref().is_some_and(|l| l.ordered != ordered)
        && let Some(l) = list.take()
    {
        body.push(l.into_container());
    }
    list.get_or_insert_with(|| List {
        ordered,
        items: Vec::new(),
    })
}

/// `(size, text)` of a `# `, `## ` or `### ` heading.
fn heading(line: &str) -> Option<(&'static str, &str)> {
    if let Some(t) = line.strip_prefix("# ") {
        Some(("ExtraLarge", t))
    } else if let Some(t) = line.strip_prefix("## ") {
        Some(("Large", t))
    } else {
        line.strip_prefix("### ").map(|t| ("Medium", t))
    }
}

/// The text of a `- ` or `* ` item (a `- * x` line loses both markers, as upstream).
fn bullet(line: &str) -> Option<&str> {
    if let Some(rest) = line.strip_prefix("- ") {
        return Some(rest.strip_prefix("* ").unwrap_or(rest));
    }
    line.strip_prefix("* ")
}

/// Digits, a dot and one whitespace character (Go's `^\d+\.\s`, where
/// `\s` is ASCII `[\t\n\f\r ]`).
fn is_numbered(line: &str) -> bool {
    let digits = line.bytes().take_while(u8::is_ascii_digit).count();
    digits > 0
        && line[digits..].starts_with('.')
        && line[digits + 1..].starts_with(['\t', '\n', '\x0c', '\r', ' '])
}

/// A `[text](url)` link found in a line.
struct Link<'a> {
    start: usize,
    end: usize,
    text: &'a str,
    url: &'a str,
}

/// Every `[text](url)` in `line`: non-empty text without `]`, non-empty
/// URL without `)`, leftmost first, as RE2 finds them.
fn find_links(line: &str) -> Vec<Link<'_>> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(open) = line[from..].find('[').map(|i| i + from) {
        let after = &line[open + 1..];
        let found = after.find(']').and_then(|close| {
            let text = &after[..close];
            let rest = after[close + 1..].strip_prefix('(')?;
            let url_len = rest.find(')')?;
            let url = &rest[..url_len];
            (!text.is_empty() && !url.is_empty()).then(|| Link {
                start: open,
                end: open + 1 + close + 2 + url_len + 1,
                text,
                url,
            })
        });
        match found {
            Some(link) => {
                from = link.end;
                out.push(link);
            }
            None => from = open + 1,
        }
    }
    out
}

/// `line` with every link replaced by its text.
fn replace_links(line: &str) -> String {
    let mut out = String::new();
    let mut at = 0;
    for link in find_links(line) {
        out.push_str(&line[at..link.start]);
        out.push_str(link.text);
        at = link.end;
    }
    out.push_str(&line[at..]);
    out
}

/// Heading markers, `**` and link syntax removed.
fn strip_markdown(text: &str) -> String {
    let text = text.strip_prefix("# ").unwrap_or(text);
    let text = text.strip_prefix("## ").unwrap_or(text);
    let text = text.strip_prefix("### ").unwrap_or(text);
    replace_links(&text.replace("**", ""))
}

/// The fallback text: each line without Markdown, code fences dropped,
/// bullets as `• `, every line (the last too) ending in a newline.
fn plain_text(markdown: &str) -> String {
    let mut out = String::new();
    let mut in_code = false;
    for line in markdown.split('\n') {
        if line.starts_with("```") {
            in_code = !in_code;
            continue;
        }
        let mut line = if in_code {
            line.to_owned()
        } else {
            strip_markdown(line)
        };
        if !in_code && let Some(item) = bullet(&line) {
            line = format!("• {item}");
        }
        out.push_str(&line);
        out.push('\n');
    }
    out
}
