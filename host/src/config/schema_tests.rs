//! The schema cannot drift from the structs: the keys of every section in
//! `schema` (and in each channel's `BuiltinChannel::KEYS`) are exactly the
//! fields serde reads for it.
//!
//! Strategy: serde's derived `Deserialize` tells a deserializer the field
//! names of each struct (`deserialize_struct(name, fields, …)`). A tracing
//! deserializer walks `Config` with that, descending into every nested
//! struct, map value (`<name>`) and list item (`[]`), and records each
//! struct's fields by path. Two places cannot be read that way: `alert`
//! takes the channel sections and `oncall` the provider sections with
//! `#[serde(flatten)]`, so serde asks for a map there. The tracer then
//! offers the schema's keys as map entries and counts a key as a field
//! when serde reads its value itself, not as captured content for the
//! flattened `channel::Sections` or `escalator::Sections`, which are traced
//! on their own; a field of its own that the schema lacks is found by name
//! (see [`own_fields`]).

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::de::{
    self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, SeqAccess, Visitor,
};

use super::Config;
use super::schema::{Node, ROOT};

/// Struct fields by path (`alert.slack`, `ingest.sources[]`, …).
type Fields = RefCell<BTreeMap<String, BTreeSet<String>>>;

#[derive(Debug)]
struct Stop(String);

impl fmt::Display for Stop {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Stop {}

impl de::Error for Stop {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        Self(msg.to_string())
    }
}

/// The deserializer that records; see the module docs.
struct Tracer<'a> {
    path: String,
    fields: &'a Fields,
    /// Set when the value read was captured content, not a field.
    captured: Option<&'a RefCell<bool>>,
}

impl<'a> Tracer<'a> {
    fn at(&self, path: String) -> Self {
        Tracer {
            path,
            fields: self.fields,
            captured: None,
        }
    }

    fn record(&self, names: impl IntoIterator<Item = String>) {
        self.fields
            .borrow_mut()
            .entry(self.path.clone())
            .or_default()
            .extend(names);
    }
}

/// serde's visitor for content it keeps for a flattened field.
fn is_content_visitor<'de, V: Visitor<'de>>(visitor: &V) -> bool {
    struct Shown<'v, V>(&'v V);
    impl<'de, V: Visitor<'de>> fmt::Display for Shown<'_, V> {
        fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
            self.0.expecting(f)
        }
    }
    Shown(visitor).to_string() == "any value"
}

impl<'de> Deserializer<'de> for Tracer<'_> {
    type Error = Stop;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Stop> {
        if is_content_visitor(&visitor) {
            if let Some(flag) = self.captured {
                *flag.borrow_mut() = true;
            }
            return visitor.visit_map(Entries::empty(self));
        }
        visitor.visit_unit()
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Stop> {
        visitor.visit_some(self)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Stop> {
        self.record(fields.iter().map(|f| f.to_string()));
        // serde lists aliases among the fields; giving both is a duplicate.
        let keys = fields
            .iter()
            .filter(|f| !ALIASES.contains(&join(&self.path, f).as_str()))
            .map(|f| f.to_string())
            .collect();
        visitor.visit_map(Entries::new(self, keys, false))
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Stop> {
        // A struct with a flattened field asks for a map where the schema
        // has a section: offer its keys, and keep those serde reads itself.
        let section: Option<Vec<String>> = schema_at(&self.path)
            .and_then(Node::keys)
            .map(|keys| keys.map(|(k, _)| k.to_string()).collect());
        match section {
            Some(keys) => visitor.visit_map(Entries::new(self, keys, true)),
            None => visitor.visit_map(Entries::new(self, vec!["<name>".into()], false)),
        }
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Stop> {
        let item = self.at(format!("{}[]", self.path));
        visitor.visit_seq(OneItem(Some(item)))
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct newtype_struct tuple
        tuple_struct enum identifier ignored_any
    }
}

/// Map entries: each key, its value traced at `path.key`.
struct Entries<'a> {
    tracer: Tracer<'a>,
    keys: std::vec::IntoIter<String>,
    current: String,
    /// Whether to record which keys serde reads as fields (flatten).
    sort_fields: bool,
    captured: RefCell<bool>,
}

impl<'a> Entries<'a> {
    fn new(tracer: Tracer<'a>, keys: Vec<String>, sort_fields: bool) -> Self {
        Entries {
            tracer,
            keys: keys.into_iter(),
            current: String::new(),
            sort_fields,
            captured: RefCell::new(false),
        }
    }

    fn empty(tracer: Tracer<'a>) -> Self {
        Self::new(tracer, Vec::new(), false)
    }
}

impl<'de> MapAccess<'de> for Entries<'_> {
    type Error = Stop;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Stop> {
        let Some(key) = self.keys.next() else {
            return Ok(None);
        };
        self.current = key.clone();
        seed.deserialize(key.into_deserializer()).map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Stop> {
        let path = join(&self.tracer.path, &self.current);
        *self.captured.borrow_mut() = false;
        let value = seed.deserialize(Tracer {
            path,
            fields: self.tracer.fields,
            captured: Some(&self.captured),
        })?;
        if self.sort_fields && !*self.captured.borrow() {
            self.tracer.record([self.current.clone()]);
        }
        Ok(value)
    }
}

struct OneItem<'a>(Option<Tracer<'a>>);

impl<'de> SeqAccess<'de> for OneItem<'_> {
    type Error = Stop;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Stop> {
        self.0.take().map(|t| seed.deserialize(t)).transpose()
    }
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

/// The schema node at a traced path.
fn schema_at(path: &str) -> Option<&'static Node> {
    let mut node = &ROOT;
    if path.is_empty() {
        return Some(node);
    }
    for part in path.split('.') {
        let (name, items) = match part.strip_suffix("[]") {
            Some(name) => (name, true),
            None => (part, false),
        };
        node = match (node, name) {
            (Node::Named(inner), "<name>") => inner,
            _ => &node.keys()?.find(|(k, _)| *k == name)?.1,
        };
        if items {
            let Node::List(inner) = node else { return None };
            node = inner;
        }
    }
    Some(node)
}

/// The fields serde reads, by struct path.
fn traced() -> BTreeMap<String, BTreeSet<String>> {
    let fields = Fields::default();
    let root = Tracer {
        path: String::new(),
        fields: &fields,
        captured: None,
    };
    serde::Deserialize::deserialize(root)
        .map(|_: Config| ())
        .expect("Config traces");
    let at = |path: &str| Tracer {
        path: path.into(),
        fields: &fields,
        captured: None,
    };
    serde::Deserialize::deserialize(at("alert"))
        .map(|_: crate::channel::Sections| ())
        .expect("the channel sections trace");
    serde::Deserialize::deserialize(at("oncall"))
        .map(|_: crate::escalator::Sections| ())
        .expect("the escalator sections trace");
    let mut fields = fields.into_inner();
    fields
        .entry("alert".into())
        .or_default()
        .extend(own_fields(&super::AlertConfig::default(), "channels"));
    fields
        .entry("oncall".into())
        .or_default()
        .extend(own_fields(&super::OnCallConfig::default(), "sections"));
    fields
}

/// The fields of a section struct other than its flattened one
/// (`AlertConfig`'s channel sections, `OnCallConfig`'s sections). serde
/// does not list them (a struct with a flattened field asks for a map),
/// and the tracer offers only the schema's keys, so a field missing from
/// the schema is found here, by name, in its `Debug` output.
fn own_fields(section: &dyn fmt::Debug, flattened: &str) -> Vec<String> {
    let shown = format!("{section:#?}");
    shown
        .lines()
        .filter_map(|line| line.strip_prefix("    "))
        .filter(|line| !line.starts_with(' '))
        .filter_map(|line| line.split_once(':').map(|(name, _)| name.to_string()))
        .filter(|name| name != flattened)
        .collect()
}

/// The keys the schema accepts in the section at `path`, but not the
/// upstream keys it only warns about.
fn schema_keys(path: &str) -> Option<BTreeSet<String>> {
    let keys = schema_at(path)?.keys()?;
    Some(
        keys.filter(|(_, node)| !matches!(node, Node::Unimplemented(_)))
            .map(|(k, _)| k.to_string())
            .collect(),
    )
}

/// Keys the schema accepts that serde reads under another name.
const ALIASES: &[&str] = &["alert.msteams.other_power_url"];

#[test]
fn the_schema_has_exactly_the_fields_of_every_struct() {
    let traced = traced();
    assert!(traced.len() >= 20, "traced only {:?}", traced.keys());
    let mut wrong = Vec::new();
    for (path, fields) in &traced {
        let Some(mut keys) = schema_keys(path) else {
            wrong.push(format!(
                "`{path}` is a section in the structs, not in the schema"
            ));
            continue;
        };
        let alias = |k: &String| ALIASES.contains(&join(path, k).as_str());
        keys.retain(|k| !alias(k));
        let fields: BTreeSet<String> = fields.iter().filter(|k| !alias(k)).cloned().collect();
        for missing in fields.difference(&keys) {
            wrong.push(format!(
                "{}: read by serde, unknown to the schema",
                join(path, missing)
            ));
        }
        for extra in keys.difference(&fields) {
            wrong.push(format!(
                "{}: in the schema, read by no struct",
                join(path, extra)
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Every section of the schema is some struct's.
#[test]
fn every_schema_section_is_traced() {
    fn sections(node: &Node, path: &str, out: &mut Vec<String>) {
        match node {
            Node::Map(_) | Node::Joined(..) => {
                out.push(path.to_string());
                for (key, child) in node.keys().into_iter().flatten() {
                    sections(child, &join(path, key), out);
                }
            }
            Node::Named(inner) => sections(inner, &join(path, "<name>"), out),
            Node::List(inner) => sections(inner, &format!("{path}[]"), out),
            _ => {}
        }
    }
    let mut all = Vec::new();
    sections(&ROOT, "", &mut all);
    let traced = traced();
    let untraced: Vec<&String> = all.iter().filter(|p| !traced.contains_key(*p)).collect();
    assert!(
        untraced.is_empty(),
        "schema sections no struct reads: {untraced:?}"
    );
}
