//! Case mapping as Go does it: `strings.ToUpper`/`ToLower` (one rune to one
//! rune, Unicode's simple mappings) and `cases.Title(language.English)` from
//! golang.org/x/text (full mappings, word by word).

/// Go's `unicode.ToUpper`: the simple uppercase mapping, never more than one
/// character (`ß` stays `ß`, where Rust's `to_uppercase` gives `SS`).
fn upper_char(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_uppercase();
    }
    if let Some(t) = greek_iota_title(c) {
        // These have a one-character simple uppercase (the titlecase form)
        // but a two-character full uppercase.
        return t;
    }
    let mut up = c.to_uppercase();
    match (up.next(), up.next()) {
        (Some(u), None) => u,
        _ => c,
    }
}

/// Go's `unicode.ToLower`: the simple lowercase mapping.
fn lower_char(c: char) -> char {
    if c.is_ascii() {
        return c.to_ascii_lowercase();
    }
    if c == '\u{130}' {
        // İ: simple mapping `i`; the full mapping adds a combining dot.
        return 'i';
    }
    let mut low = c.to_lowercase();
    match (low.next(), low.next()) {
        (Some(l), None) => l,
        _ => c,
    }
}

/// `strings.ToUpper`.
pub(crate) fn upper(s: &str) -> String {
    s.chars().map(upper_char).collect()
}

/// `strings.ToLower`.
pub(crate) fn lower(s: &str) -> String {
    s.chars().map(lower_char).collect()
}

/// Greek letters with iota subscript: their titlecase (and Go's simple
/// uppercase) is one character, their full uppercase two.
fn greek_iota_title(c: char) -> Option<char> {
    let n = u32::from(c);
    let t = match n {
        0x1f80..=0x1f87 | 0x1f90..=0x1f97 | 0x1fa0..=0x1fa7 => n + 8,
        0x1fb3 | 0x1fc3 | 0x1ff3 => n + 9,
        _ => return None,
    };
    char::from_u32(t)
}

/// Full titlecase mapping of the first letter of a word.
fn push_title(out: &mut String, c: char) {
    let digraph = match c {
        '\u{1c4}'..='\u{1c6}' => Some('\u{1c5}'),
        '\u{1c7}'..='\u{1c9}' => Some('\u{1c8}'),
        '\u{1ca}'..='\u{1cc}' => Some('\u{1cb}'),
        '\u{1f1}'..='\u{1f3}' => Some('\u{1f2}'),
        '\u{149}' => {
            out.push_str("\u{2bc}N");
            return;
        }
        _ => greek_iota_title(c),
    };
    if let Some(t) = digraph {
        out.push(t);
        return;
    }
    // A multi-character uppercase (ß → SS, ﬁ → FI) titlecases as its first
    // character followed by the rest in lower case (Ss, Fi).
    for (i, u) in c.to_uppercase().enumerate() {
        if i == 0 {
            out.push(u);
        } else {
            out.extend(u.to_lowercase());
        }
    }
}

/// Unicode "cased": has upper, lower or title case.
fn is_cased(c: char) -> bool {
    c.is_lowercase() || c.is_uppercase() || is_titlecase(c)
}

fn is_titlecase(c: char) -> bool {
    matches!(
        c,
        '\u{1c5}'
            | '\u{1c8}'
            | '\u{1cb}'
            | '\u{1f2}'
            | '\u{1f88}'..='\u{1f8f}'
            | '\u{1f98}'..='\u{1f9f}'
            | '\u{1fa8}'..='\u{1faf}'
            | '\u{1fbc}'
            | '\u{1fcc}'
            | '\u{1ffc}'
    )
}

/// Word-break `MidLetter`, `MidNumLet` and `Single_Quote`: inside a word
/// unless doubled (`o'neil`, `e.g`).
fn is_mid(c: char) -> bool {
    matches!(
        c,
        '\'' | '.'
            | ':'
            | '\u{b7}'
            | '\u{387}'
            | '\u{5f4}'
            | '\u{2018}'
            | '\u{2019}'
            | '\u{2024}'
            | '\u{2027}'
            | '\u{fe13}'
            | '\u{fe52}'
            | '\u{fe55}'
            | '\u{ff07}'
            | '\u{ff0e}'
            | '\u{ff1a}'
    )
}

/// Characters that end a word: anything that is not a letter, number,
/// connector (`_`), combining mark or mid-word character.
fn is_break(c: char) -> bool {
    !(c.is_alphanumeric()
        || is_mid(c)
        || matches!(
            c,
            '_' | '\u{203f}'
                | '\u{2040}'
                | '\u{2054}'
                | '\u{fe33}'
                | '\u{fe34}'
                | '\u{fe4d}'..='\u{fe4f}'
                | '\u{ff3f}'
                | '\u{200c}'
                | '\u{200d}'
                | '\u{300}'..='\u{36f}'
                | '\u{1ab0}'..='\u{1aff}'
                | '\u{1dc0}'..='\u{1dff}'
                | '\u{20d0}'..='\u{20ff}'
                | '\u{fe20}'..='\u{fe2f}'
        ))
}

/// `cases.Title(language.English).String(s)`.
///
/// Strategy: x/text titlecases the first *cased* character of each word and
/// lowercases the other cased characters (with Greek final sigma). A word
/// ends at a break character or at two mid-word characters in a row.
/// Uncased characters (digits, CJK) neither start nor end a word, so
/// `3rd` becomes `3Rd`, exactly as x/text does.
pub(crate) fn title(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut mid_word = false;
    let mut prev_mid = false;
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        let mid = is_mid(c);
        if prev_mid && mid {
            mid_word = false;
        }
        if is_cased(c) {
            if !mid_word {
                push_title(&mut out, c);
                mid_word = true;
            } else if c == 'Σ' {
                let inside = chars.peek().is_some_and(|n| is_cased(*n));
                out.push(if inside { 'σ' } else { 'ς' });
            } else {
                out.extend(c.to_lowercase());
            }
        } else {
            out.push(c);
            if is_break(c) {
                mid_word = false;
            }
        }
        prev_mid = mid;
    }
    out
}
