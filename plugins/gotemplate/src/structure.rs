//! The source-level work around gotmpl's parser: the block structure
//! checks Go's parser makes and gotmpl's does not ([`check`]), and the two
//! spots where gotmpl's lexer reads a template differently from Go's
//! ([`normalize`]).
//!
//! gotmpl accepts an `{{if}}` that is never closed, stops parsing (and
//! silently drops the rest of the template) at a stray top-level `{{end}}`
//! or `{{else}}`, and allows `{{define}}` inside other actions. Go rejects
//! all of these, so a template that would fail to load under upstream must
//! fail `check` here too.
//!
//! Strategy: scan the source for actions, skipping comments and quoted
//! strings, look at each action's first word and keep a stack of open
//! blocks.

#[derive(Clone, Copy, PartialEq, Eq)]
enum Block {
    If,
    With,
    Range,
    Define,
    Other,
}

struct Open {
    kind: Block,
    /// A plain `{{else}}` was seen: only `{{end}}` may follow.
    in_else: bool,
}

/// Checks the block structure of `src`, naming the template `name` in errors.
pub(crate) fn check(name: &str, src: &str) -> Result<(), String> {
    let err = |line: usize, msg: &str| Err(format!("template: {name}:{line}: {msg}"));
    let mut stack: Vec<Open> = Vec::new();
    let mut rest = src;
    let mut line = 1;
    while let Some(start) = rest.find("{{") {
        line += rest[..start].matches('\n').count();
        let action_line = line;
        let (body, after) = split_action(&rest[start + 2..])
            .ok_or_else(|| format!("template: {name}:{line}: unclosed action"))?;
        line += body.matches('\n').count();
        rest = after;

        let body = body.strip_prefix('-').unwrap_or(body).trim_start();
        let (word, tail) = first_word(body);
        match word {
            "if" | "with" | "range" | "block" => stack.push(Open {
                kind: match word {
                    "if" => Block::If,
                    "with" => Block::With,
                    "range" => Block::Range,
                    _ => Block::Other,
                },
                in_else: false,
            }),
            "define" => {
                if !stack.is_empty() {
                    return err(action_line, "unexpected {{define}} inside an action");
                }
                stack.push(Open {
                    kind: Block::Define,
                    in_else: false,
                });
            }
            "else" => {
                let Some(top) = stack.last_mut() else {
                    return err(action_line, "unexpected {{else}}");
                };
                if top.in_else || !matches!(top.kind, Block::If | Block::With | Block::Range) {
                    return err(action_line, "unexpected {{else}}");
                }
                match first_word(tail.trim_start()).0 {
                    "if" if top.kind == Block::If => {}
                    "with" if top.kind == Block::With => {}
                    "if" | "with" => return err(action_line, "unexpected chained {{else}}"),
                    _ => top.in_else = true,
                }
            }
            "end" if stack.pop().is_none() => {
                return err(action_line, "unexpected {{end}}");
            }
            "break" | "continue" => {
                let in_loop = stack
                    .iter()
                    .any(|open| open.kind == Block::Range && !open.in_else);
                if !in_loop {
                    return err(
                        action_line,
                        &format!("{{{{{word}}}}} outside {{{{range}}}}"),
                    );
                }
            }
            _ => {}
        }
    }
    if !stack.is_empty() {
        line += rest.matches('\n').count();
        return err(line, "unexpected EOF");
    }
    Ok(())
}

/// `src` rewritten where gotmpl's lexer reads it differently from Go's,
/// with every later position kept (each edit keeps the length and the
/// newlines):
///
/// - the `|` that ends an action (`{{ .x | }}`), which Go ignores and
///   gotmpl refuses, becomes a space;
/// - a comment that trims only on its left (`a  {{- /* c */}}  b`) also
///   trims on its right in gotmpl. It becomes a plain comment that holds
///   the spaces it trimmed: `a{{/*   c */}}  b`.
pub(crate) fn normalize(src: &str) -> std::borrow::Cow<'_, str> {
    let mut bytes: Option<Vec<u8>> = None;
    let mut rest = src;
    while let Some(start) = rest.find("{{") {
        let open = src.len() - rest.len() + start;
        let Some((body, after)) = split_action(&rest[start + 2..]) else {
            break;
        };
        rest = after;
        let tail = body.trim_end();
        let tail = tail.strip_suffix(" -").unwrap_or(tail).trim_end();
        let comment = body
            .trim_start_matches(['-', ' ', '\t', '\r', '\n'])
            .starts_with("/*");
        if comment {
            let left_trim = body.starts_with('-') && body[1..].starts_with(char::is_whitespace);
            let left_only = left_trim && !body.trim_end().ends_with(" -");
            let spaces = src[..open].len() - src[..open].trim_end().len();
            if left_only && spaces > 0 {
                let out = bytes.get_or_insert_with(|| src.as_bytes().to_vec());
                let from = open - spaces;
                // "␣␣{{- /*" becomes "{{/*␣␣␣␣": the same bytes, moved.
                let mut moved = b"{{/*".to_vec();
                moved.extend_from_slice(&src.as_bytes()[from..open]);
                let opener =
                    body.len() - body.trim_start_matches(['-', ' ', '\t', '\r', '\n']).len();
                moved.extend(std::iter::repeat_n(b' ', opener));
                out[from..open + 2 + opener + 2].copy_from_slice(&moved);
            }
        } else if tail.ends_with('|') {
            let at = tail.as_ptr() as usize - src.as_ptr() as usize + tail.len() - 1;
            bytes.get_or_insert_with(|| src.as_bytes().to_vec())[at] = b' ';
        }
    }
    match bytes.map(String::from_utf8) {
        Some(Ok(text)) => text.into(),
        _ => src.into(),
    }
}

/// The first identifier of an action and what follows it.
fn first_word(body: &str) -> (&str, &str) {
    let end = body
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(body.len());
    body.split_at(end)
}

/// Splits `s` (just after `{{`) at the action's closing `}}`, skipping
/// comments and quoted text. Returns (action body, text after `}}`).
fn split_action(s: &str) -> Option<(&str, &str)> {
    let trimmed = s.strip_prefix('-').unwrap_or(s).trim_start();
    if let Some(comment) = trimmed.strip_prefix("/*") {
        let close = comment.find("*/")?;
        let after = &comment[close + 2..];
        let end = after.find("}}")?;
        let body_len = s.len() - after.len() + end;
        return Some((&s[..body_len], &after[end + 2..]));
    }
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'}' if bytes.get(i + 1) == Some(&b'}') => return Some((&s[..i], &s[i + 2..])),
            quote @ (b'"' | b'\'') => {
                i += 1;
                while i < bytes.len() && bytes[i] != quote {
                    if bytes[i] == b'\\' {
                        i += 1;
                    }
                    if bytes.get(i) == Some(&b'\n') {
                        return None;
                    }
                    i += 1;
                }
            }
            b'`' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'`' {
                    i += 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    None
}
