//! Reading a few members of a JSON object without building the document:
//! the whole text is still checked, but only the members asked for are
//! kept, as their raw text. The gateway reads incoming alerts with it too,
//! so both sides agree on what a body says.

use std::fmt;

use serde::Deserialize;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
pub use serde_json::value::RawValue as Raw;

/// The raw values of `keys` in the JSON document `json`, in the order of
/// `keys`; `Ok(None)` when the document is valid JSON but not an object.
/// A key given twice keeps its last value, as a JSON object decoder does.
///
/// # Errors
///
/// `json` is not valid JSON.
pub fn members<'a, const N: usize>(
    json: &'a str,
    keys: [&str; N],
) -> Result<Option<[Option<&'a Raw>; N]>, serde_json::Error> {
    let mut de = serde_json::Deserializer::from_str(json);
    let found = if json.trim_start().starts_with('{') {
        Some(de.deserialize_map(Members(&keys))?)
    } else {
        IgnoredAny::deserialize(&mut de)?;
        None
    };
    de.end()?;
    Ok(found)
}

/// The first element of the JSON array `array`, if it has one.
pub fn first_element(array: &Raw) -> Option<&Raw> {
    let mut de = serde_json::Deserializer::from_str(array.get());
    de.deserialize_seq(First).ok().flatten()
}

/// The string `value` holds, unescaped; `None` for any other JSON value.
pub fn text(value: Option<&Raw>) -> Option<String> {
    serde_json::from_str(value?.get()).ok()
}

struct Members<'k, const N: usize>(&'k [&'k str; N]);

impl<'de, const N: usize> Visitor<'de> for Members<'_, N> {
    type Value = [Option<&'de Raw>; N];

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut found = [None; N];
        while let Some(index) = map.next_key_seed(KeyIndex(self.0))? {
            match index {
                Some(i) => found[i] = Some(map.next_value::<&'de Raw>()?),
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(found)
    }
}

/// Which of the wanted keys a member's key is, compared without copying
/// it.
struct KeyIndex<'k, const N: usize>(&'k [&'k str; N]);

impl<'de, const N: usize> DeserializeSeed<'de> for KeyIndex<'_, N> {
    type Value = Option<usize>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_str(self)
    }
}

impl<const N: usize> Visitor<'_> for KeyIndex<'_, N> {
    type Value = Option<usize>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E>(self, key: &str) -> Result<Self::Value, E> {
        Ok(self.0.iter().position(|k| *k == key))
    }
}

struct First;

impl<'de> Visitor<'de> for First {
    type Value = Option<&'de Raw>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON array")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let first = seq.next_element::<&'de Raw>()?;
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(first)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_members_the_last_of_a_repeated_key_and_escaped_keys() {
        let json = r#" {"a": 1, "b\u0022": "x\"y", "c": {"d": [1]}, "a": "two"} "#;
        let [a, b, c, none] = members(json, ["a", "b\"", "c", "z"])
            .expect("valid")
            .expect("object");
        assert_eq!(a.map(Raw::get), Some(r#""two""#));
        assert_eq!(text(b).as_deref(), Some("x\"y"));
        assert_eq!(c.map(Raw::get), Some(r#"{"d": [1]}"#));
        assert!(none.is_none());
        assert_eq!(text(c), None, "not a string");
    }

    #[test]
    fn other_documents_and_broken_ones() {
        for json in ["[1, {}]", "\"s\"", "null", " 3 "] {
            assert!(members(json, ["a"]).expect(json).is_none(), "{json}");
        }
        for json in ["", "{", "{\"a\":1,}", "{} x", "[1,]", "{\"a\":[1,}"] {
            assert!(members(json, ["a"]).is_err(), "{json}");
        }
    }

    #[test]
    fn first_element_of_an_array() {
        let list = |json| members(json, ["l"]).expect("valid").expect("object")[0];
        let first = first_element(list(r#"{"l": [ {"x":1}, 2 ]}"#).expect("l"));
        assert_eq!(first.map(Raw::get), Some(r#"{"x":1}"#));
        assert!(first_element(list(r#"{"l": []}"#).expect("l")).is_none());
    }
}
