//! What Opsgenie's Alert API v2 accepts, as its description says: the
//! checks of the emulator's requests.

use std::collections::BTreeMap;

use serde_json::Value;

/// Opsgenie's priorities.
const PRIORITIES: &[&str] = &["P1", "P2", "P3", "P4", "P5"];

/// Opsgenie's limit on `details`, keys and values together, in characters.
const MAX_DETAILS: usize = 8_000;

/// Whether `key` is shaped like an Opsgenie API key: a UUID
/// (`8-4-4-4-12` hex digits).
pub fn key_format_ok(key: &str) -> bool {
    let groups: Vec<&str> = key.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// The errors Opsgenie would give for the body of `action` (`create`,
/// `acknowledge` or `close`), by field; empty when it is valid.
pub fn check(action: &str, body: &Value) -> BTreeMap<String, String> {
    let mut errors = BTreeMap::new();
    let Some(obj) = body.as_object() else {
        errors.insert("body".into(), "must be a JSON object".into());
        return errors;
    };
    let limits: &[(&str, usize)] = if action == "create" {
        &[
            ("alias", 512),
            ("description", 15_000),
            ("source", 100),
            ("entity", 512),
            ("user", 100),
            ("note", 25_000),
        ]
    } else {
        &[("source", 100), ("user", 100), ("note", 25_000)]
    };
    for (key, max) in limits {
        match obj.get(*key) {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) if s.chars().count() > *max => {
                errors.insert((*key).into(), format!("must be at most {max} characters"));
            }
            Some(Value::String(_)) => {}
            Some(_) => {
                errors.insert((*key).into(), "must be a string".into());
            }
        }
    }
    if action != "create" {
        return errors;
    }
    match obj.get("message").and_then(Value::as_str) {
        None => {
            errors.insert("message".into(), "Message can not be empty.".into());
        }
        Some(m) if m.trim().is_empty() => {
            errors.insert("message".into(), "Message can not be empty.".into());
        }
        Some(m) if m.chars().count() > 130 => {
            errors.insert("message".into(), "must be at most 130 characters".into());
        }
        Some(_) => {}
    }
    match obj.get("priority") {
        None | Some(Value::Null) => {}
        Some(p) if p.as_str().is_some_and(|p| PRIORITIES.contains(&p)) => {}
        Some(_) => {
            errors.insert(
                "priority".into(),
                "must be one of P1, P2, P3, P4, P5".into(),
            );
        }
    }
    check_details(obj.get("details"), &mut errors);
    check_strings(obj.get("tags"), "tags", 20, &mut errors);
    check_strings(obj.get("actions"), "actions", 10, &mut errors);
    for key in ["responders", "visibleTo"] {
        if obj.get(key).is_some_and(|v| !v.is_array() && !v.is_null()) {
            errors.insert(key.into(), "must be an array".into());
        }
    }
    errors
}

fn check_details(details: Option<&Value>, errors: &mut BTreeMap<String, String>) {
    let details = match details {
        None | Some(Value::Null) => return,
        Some(Value::Object(d)) => d,
        Some(_) => {
            errors.insert("details".into(), "must be an object".into());
            return;
        }
    };
    let mut size = 0;
    for (key, value) in details {
        let Some(value) = value.as_str() else {
            errors.insert(format!("details.{key}"), "must be a string".into());
            continue;
        };
        size += key.chars().count() + value.chars().count();
    }
    if size > MAX_DETAILS {
        errors.insert(
            "details".into(),
            format!("must be at most {MAX_DETAILS} characters in total"),
        );
    }
}

/// A list of at most `max_items` strings of at most 50 characters each.
fn check_strings(
    list: Option<&Value>,
    name: &str,
    max_items: usize,
    errors: &mut BTreeMap<String, String>,
) {
    let items = match list {
        None | Some(Value::Null) => return,
        Some(Value::Array(items)) => items,
        Some(_) => {
            errors.insert(name.into(), "must be an array of strings".into());
            return;
        }
    };
    if items.len() > max_items {
        errors.insert(name.into(), format!("must have at most {max_items} items"));
    }
    for item in items {
        match item.as_str() {
            Some(s) if s.chars().count() <= 50 => {}
            Some(_) => {
                errors.insert(name.into(), "each must be at most 50 characters".into());
            }
            None => {
                errors.insert(name.into(), "must be an array of strings".into());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::identifier_type;
    use super::{check, key_format_ok};

    #[test]
    fn the_description_is_enforced() {
        let good = json!({"message": "m", "alias": "am:abc", "description": "d",
            "source": "alertmanager", "priority": "P1",
            "details": {"versus_incident_id": "i", "service": "api"},
            "tags": ["versus", "severity:critical"]});
        assert!(
            check("create", &good).is_empty(),
            "{:?}",
            check("create", &good)
        );
        let ack = json!({"source": "Versus", "user": "alice", "note": "n"});
        assert!(check("acknowledge", &ack).is_empty());
        assert!(check("close", &json!({})).is_empty());
        for (action, bad, field) in [
            ("create", json!({"alias": "a"}), "message"),
            ("create", json!({"message": " "}), "message"),
            ("create", json!({"message": "m".repeat(131)}), "message"),
            (
                "create",
                json!({"message": "m", "alias": "a".repeat(513)}),
                "alias",
            ),
            (
                "create",
                json!({"message": "m", "priority": "P6"}),
                "priority",
            ),
            ("create", json!({"message": "m", "priority": 1}), "priority"),
            (
                "create",
                json!({"message": "m", "details": {"n": 3}}),
                "details.n",
            ),
            (
                "create",
                json!({"message": "m", "details": {"k": "v".repeat(8_000)}}),
                "details",
            ),
            ("create", json!({"message": "m", "tags": ["ok", 1]}), "tags"),
            (
                "create",
                json!({"message": "m", "tags": ["t".repeat(51)]}),
                "tags",
            ),
            (
                "create",
                json!({"message": "m", "tags": vec!["t"; 21]}),
                "tags",
            ),
            (
                "create",
                json!({"message": "m", "description": "d".repeat(15_001)}),
                "description",
            ),
            (
                "create",
                json!({"message": "m", "source": "s".repeat(101)}),
                "source",
            ),
            ("acknowledge", json!({"user": "u".repeat(101)}), "user"),
            ("close", json!({"note": 5}), "note"),
            ("close", json!([]), "body"),
        ] {
            let errors = check(action, &bad);
            assert!(errors.contains_key(field), "{action} {bad}: {errors:?}");
        }
    }

    #[test]
    fn keys_and_identifier_types_are_read_as_opsgenie_does() {
        assert!(key_format_ok("0a1b2c3d-0000-4000-8000-000000000001"));
        assert!(!key_format_ok("not-a-key"));
        assert!(!key_format_ok("0a1b2c3d-0000-4000-8000-00000000000g"));
        assert_eq!(identifier_type(Some("identifierType=alias")), "alias");
        assert_eq!(identifier_type(Some("a=b&identifierType=tiny")), "tiny");
        assert_eq!(identifier_type(None), "id");
    }
}
