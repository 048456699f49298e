//! Masks secrets in log lines: the values the config holds, and the shapes
//! secrets travel in whatever their value.

use std::borrow::Cow;
use std::sync::RwLock;

/// What a secret is replaced with.
pub const MASK: &str = "[redacted]";

/// Shorter values are not remembered: masking every `test` or `1234` in
/// the log would make it unreadable, and a secret that short is guessable
/// anyway. The shapes below still catch such values in URLs and headers.
const MIN_SECRET_LEN: usize = 6;

/// The remembered secrets, longest first (so a secret that contains
/// another is masked whole).
static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Remembers `secret` as written, URL-encoded, and escaped as a JSON or
/// Rust string shows it (a `"` or `\` in a password is logged as `\"` or
/// `\\` by both log formats), unless it is too short.
pub fn remember(secret: &str) {
    let secret = secret.trim();
    if secret.len() < MIN_SECRET_LEN {
        return;
    }
    let Ok(mut all) = SECRETS.write() else {
        return;
    };
    let quoted = format!("{secret:?}");
    let escaped = quoted
        .strip_prefix('"')
        .and_then(|q| q.strip_suffix('"'))
        .unwrap_or(secret);
    for s in [secret.to_string(), url_encode(secret), escaped.to_string()] {
        if !all.contains(&s) {
            all.push(s);
        }
    }
    all.sort_by_key(|s| std::cmp::Reverse(s.len()));
}

/// Path segments and query values at least this long are masked on their
/// own in a credential URL: its credential is one of them (Lark's hook
/// token, Teams' `sig`, a workflow id), while the fixed words around it
/// (`hook`, `workflows`, `api-version=2016-06-01`) are shorter.
const MIN_URL_PART_LEN: usize = 16;

/// Remembers a URL that is its own credential (a Teams or Lark webhook):
/// the whole URL, the URL without its query, its path (with and without
/// the query), and its long path segments and query values, as a log line
/// or a remote error may show any of them.
pub fn remember_url(url: &str) {
    let url = url.trim();
    remember(url);
    let without_query = url.split_once('?').map_or(url, |(u, _)| u);
    remember(without_query);
    let Some((_, rest)) = url.split_once("://") else {
        return;
    };
    let Some(at) = rest.find('/') else {
        return;
    };
    let path_and_query = &rest[at..];
    remember(path_and_query);
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    remember(path);
    let values = query
        .split('&')
        .map(|p| p.split_once('=').map_or(p, |(_, v)| v));
    for part in path.split('/').chain(values) {
        if part.len() >= MIN_URL_PART_LEN {
            remember(part);
            remember(&url_decode(part));
        }
    }
}

/// Remembers the password of a `scheme://user:password@host` URL, as
/// written and decoded.
pub fn remember_url_password(url: &str) {
    let Some((_, rest)) = url.split_once("://") else {
        return;
    };
    let Some((userinfo, _)) = rest.split_once('@') else {
        return;
    };
    if let Some((_, password)) = userinfo.split_once(':') {
        remember(password);
        remember(&url_decode(password));
    }
}

/// `line` with every remembered secret and every secret-shaped value
/// masked. Borrows when there is nothing to mask (the common case).
pub fn redact(line: &str) -> Cow<'_, str> {
    let mut out = Cow::Borrowed(line);
    if let Ok(all) = SECRETS.read() {
        for s in all.iter() {
            if out.contains(s.as_str()) {
                out = Cow::Owned(out.replace(s.as_str(), MASK));
            }
        }
    }
    for shape in SHAPES {
        if let Some(masked) = mask_shape(&out, shape) {
            out = Cow::Owned(masked);
        }
    }
    out
}

/// A secret-shaped value: `prefix` (matched without regard to ASCII case)
/// followed by the secret, which runs while `continues` holds.
struct Shape {
    prefix: &'static str,
    continues: fn(char) -> bool,
    /// The secret ends before this byte (`@` for URL userinfo); `None`: it
    /// ends where `continues` stops.
    until: Option<char>,
}

/// Query parameter values: up to the next `&`, quote, space or bracket.
fn query_value(c: char) -> bool {
    !matches!(
        c,
        '&' | '"' | '\'' | '<' | '>' | '\\' | ')' | ']' | '}' | '#' | ','
    ) && !c.is_whitespace()
}

/// Token characters (base64url, JWT, Slack).
fn token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~' | '+' | '/' | '=')
}

/// URL userinfo: anything but the characters that end an authority.
fn userinfo_char(c: char) -> bool {
    !matches!(c, '/' | '?' | '#' | '"' | '\'' | '<' | '>' | '\\') && !c.is_whitespace()
}

const SHAPES: &[Shape] = &[
    // ACK link signatures, and tokens passed as query parameters.
    Shape {
        prefix: "sig=",
        continues: query_value,
        until: None,
    },
    Shape {
        prefix: "token=",
        continues: query_value,
        until: None,
    },
    // Authorization headers.
    Shape {
        prefix: "bearer ",
        continues: token_char,
        until: None,
    },
    // Slack bot, user, app and refresh tokens.
    Shape {
        prefix: "xoxb-",
        continues: token_char,
        until: None,
    },
    Shape {
        prefix: "xoxp-",
        continues: token_char,
        until: None,
    },
    Shape {
        prefix: "xoxa-",
        continues: token_char,
        until: None,
    },
    Shape {
        prefix: "xoxe-",
        continues: token_char,
        until: None,
    },
    Shape {
        prefix: "xapp-",
        continues: token_char,
        until: None,
    },
    // `redis://:password@host`, `https://user:token@host`.
    Shape {
        prefix: "://",
        continues: userinfo_char,
        until: Some('@'),
    },
];

/// `text` with every occurrence of `shape` masked, or `None` if it has none.
fn mask_shape(text: &str, shape: &Shape) -> Option<String> {
    let lower = text.to_ascii_lowercase();
    let mut out = String::new();
    let mut copied = 0;
    let mut from = 0;
    while let Some(at) = lower[from..].find(shape.prefix) {
        let start = from + at + shape.prefix.len();
        let run = text[start..]
            .char_indices()
            .find(|&(_, c)| !(shape.continues)(c))
            .map_or(text.len(), |(i, _)| start + i);
        let end = match shape.until {
            // Userinfo ends at its `@`; without one there is none.
            Some(stop) => text[start..run].rfind(stop).map(|i| start + i),
            None => Some(run),
        };
        match end {
            Some(end) if end > start && &text[start..end] != MASK => {
                out.push_str(&text[copied..start]);
                out.push_str(MASK);
                copied = end;
                from = end;
            }
            _ => from = start,
        }
    }
    if copied == 0 {
        return None;
    }
    out.push_str(&text[copied..]);
    Some(out)
}

/// Percent-encodes every byte outside RFC 3986's unreserved set.
pub(crate) fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn url_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shapes_are_masked_wherever_they_appear() {
        let cases = [
            (
                "ack: http://gw/api/ack/1?exp=17&sig=AbC-_9 done",
                "ack: http://gw/api/ack/1?exp=17&sig=[redacted] done",
            ),
            (
                r#"{"uri":"/api/ack/1?sig=abc&exp=2"}"#,
                r#"{"uri":"/api/ack/1?sig=[redacted]&exp=2"}"#,
            ),
            (
                "authorization: Bearer eyJhbGci.OiJIUzI1.NiJ9== next",
                "authorization: Bearer [redacted] next",
            ),
            (
                "token xoxb-123-456-abcDEF sent",
                "token xoxb-[redacted] sent",
            ),
            (
                "cannot connect to redis://:p%40ss@10.0.0.1:6379/0",
                "cannot connect to redis://[redacted]@10.0.0.1:6379/0",
            ),
            (
                "url=https://user:tok@example.com/x?token=abc",
                "url=https://[redacted]@example.com/x?token=[redacted]",
            ),
        ];
        for (line, want) in cases {
            assert_eq!(redact(line), want, "{line}");
        }
    }

    #[test]
    fn lines_without_secrets_are_borrowed_unchanged() {
        for line in [
            "delivered attempts=1 channel=slack",
            "listening on http://127.0.0.1:3000/ (no userinfo)",
            "sig= empty, sig=&exp=1",
            "redis://127.0.0.1:6379/0 user@example.com",
        ] {
            assert!(matches!(redact(line), Cow::Borrowed(_)), "{line}");
        }
    }

    #[test]
    fn remembered_secrets_are_masked_raw_and_url_encoded() {
        remember("s3cr3t/pass word");
        remember("short");
        remember_url_password("redis://:pa%24%24w0rd-x@h:1/0");
        remember(r#"quo"te\back-slash"#);
        let line = "a s3cr3t/pass word b s3cr3t%2Fpass%20word c pa$$w0rd-x e short";
        assert_eq!(
            redact(line),
            "a [redacted] b [redacted] c [redacted] e short"
        );
        // As the JSON and text formats print it.
        assert_eq!(
            redact(r#"{"error":"quo\"te\\back-slash"}"#),
            r#"{"error":"[redacted]"}"#
        );
    }

    #[test]
    fn webhook_urls_are_masked_whole_and_in_parts() {
        remember_url("https://open.example/hook/lark-key-42?x=1");
        for line in [
            "https://open.example/hook/lark-key-42?x=1",
            "https://open.example/hook/lark-key-42",
            "POST /hook/lark-key-42 failed",
            "path=/hook/lark-key-42?x=1",
        ] {
            assert!(!redact(line).contains("lark-key-42"), "{line}");
        }
        remember_url(
            "https://flow.example/workflows/0123456789abcdef01/run?api=2016-06-01&sig=Zm9v%2Bbar-0123456",
        );
        assert_eq!(
            redact("bad sig Zm9v+bar-0123456 for 0123456789abcdef01 (api 2016-06-01)"),
            "bad sig [redacted] for [redacted] (api 2016-06-01)"
        );
        assert_eq!(redact("https://open.example/"), "https://open.example/");
        assert_eq!(redact("/hook/ and /run"), "/hook/ and /run");
    }
}
