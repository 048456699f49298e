//! What the emulated Table API accepts: the one lookup form, the fields a
//! create and an update must have, and the encodings of its requests.

use serde_json::{Map, Value};

use super::{MAX_CORRELATION_ID, MAX_SHORT_DESCRIPTION, STATE_IN_PROGRESS, STATE_RESOLVED};

/// A lookup the emulator answers: the `correlation_id` asked for, with
/// `sysparm_limit` and `sysparm_fields` when given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    /// The value of `correlation_id=…` in the query.
    pub correlation_id: String,
    /// At most this many records.
    pub limit: Option<usize>,
    /// Only these fields of each record.
    pub fields: Option<Vec<String>>,
}

/// Reads a GET's query string; the error says why it is not the one form
/// the emulator answers.
pub fn lookup(raw: Option<&str>) -> Result<Lookup, String> {
    let mut query = None;
    let mut limit = None;
    let mut fields = None;
    for pair in raw.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let value = percent_decode(value);
        match percent_decode(name).as_str() {
            "sysparm_query" => query = Some(value),
            "sysparm_limit" => {
                let n = value
                    .parse::<usize>()
                    .map_err(|_| format!("sysparm_limit must be a number, got {value:?}"))?;
                limit = Some(n);
            }
            "sysparm_fields" => {
                fields = Some(value.split(',').map(|f| f.trim().to_string()).collect());
            }
            _ => {}
        }
    }
    let query = query.ok_or("sysparm_query is missing")?;
    let key = query
        .strip_prefix("correlation_id=")
        .and_then(|rest| rest.strip_suffix("^active=true^stateNOT IN6,7,8"))
        .filter(|key| !key.is_empty() && !key.contains('^'))
        .ok_or_else(|| {
            format!(
                "sysparm_query must be correlation_id=<key>^active=true^stateNOT IN6,7,8, got {query:?}"
            )
        })?;
    Ok(Lookup {
        correlation_id: key.to_string(),
        limit,
        fields,
    })
}

/// What is wrong with a create's body, empty when nothing is.
pub fn check_create(body: &Value) -> Vec<String> {
    let Some(obj) = body.as_object() else {
        return vec!["the body must be a JSON object".into()];
    };
    let mut errors = scalars(obj);
    let length = |key: &str| {
        obj.get(key)
            .and_then(Value::as_str)
            .map(|s| s.chars().count())
    };
    match length("short_description") {
        Some(1..=MAX_SHORT_DESCRIPTION) => {}
        _ => errors.push(format!(
            "short_description is mandatory: a string of 1 to {MAX_SHORT_DESCRIPTION} characters"
        )),
    }
    match length("correlation_id") {
        Some(1..=MAX_CORRELATION_ID) => {}
        _ => errors.push(format!(
            "correlation_id is mandatory: a string of 1 to {MAX_CORRELATION_ID} characters"
        )),
    }
    for key in ["urgency", "impact"] {
        if !matches!(obj.get(key).and_then(Value::as_str), Some("1" | "2" | "3")) {
            errors.push(format!("{key} is mandatory: \"1\", \"2\" or \"3\""));
        }
    }
    errors
}

/// What is wrong with an update's body, empty when nothing is.
pub fn check_update(body: &Value) -> Vec<String> {
    let Some(obj) = body.as_object() else {
        return vec!["the body must be a JSON object".into()];
    };
    let mut errors = scalars(obj);
    let field = |key: &str| text(body, key);
    match field("state").as_str() {
        "" | STATE_IN_PROGRESS => {}
        STATE_RESOLVED => {
            for key in ["close_code", "close_notes"] {
                if field(key).trim().is_empty() {
                    errors.push(format!("{key} is mandatory to resolve (state 6)"));
                }
            }
        }
        other => errors.push(format!(
            "state must be \"2\" (In Progress) or \"6\" (Resolved), got {other:?}"
        )),
    }
    errors
}

/// A field of a record holds one value: not an object or a list.
fn scalars(obj: &Map<String, Value>) -> Vec<String> {
    obj.iter()
        .filter(|(_, v)| v.is_object() || v.is_array())
        .map(|(k, _)| format!("{k} must be a single value"))
        .collect()
}

/// A field as text: a string as is, a number or boolean as written, else
/// empty.
pub(super) fn text(body: &Value, key: &str) -> String {
    match &body[key] {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        _ => String::new(),
    }
}

/// Standard base64 with padding, for the expected Basic credentials.
pub(super) fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let byte = |i: usize| u32::from(chunk.get(i).copied().unwrap_or(0));
        let n = (byte(0) << 16) | (byte(1) << 8) | byte(2);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 0x3f) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Decodes a query component: `%XX` escapes and `+` for a space; a
/// malformed escape is kept as written.
pub(super) fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
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
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
