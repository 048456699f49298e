//! Lenient scalars for `deserialize_with`. Upstream configs are YAML after
//! `${VAR}` expansion, so a value may be empty (an unset variable), a quoted
//! string where a number is meant (`port: "6379"`) or a number where a
//! string is meant (`channel_id: 12345`). Each helper accepts all of these.
//!
//! An empty value (`~`, nothing, or a blank string) gives the type's zero
//! value here. The loader removes empty values before deserializing, so in a
//! config file they give the field's own default instead (see `schema`).

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::time::Duration;

use serde::de::{self, Deserializer, Visitor};

/// One YAML scalar, whatever its spelling.
enum Scalar {
    /// Null, or a blank string.
    Empty,
    Bool(bool),
    Int(i128),
    Float(f64),
    Text(String),
}

impl Scalar {
    fn read<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ScalarVisitor)
    }

    /// How the value reads in an error message.
    fn shown(&self) -> String {
        match self {
            Self::Empty => "an empty value".into(),
            Self::Bool(b) => format!("`{b}`"),
            Self::Int(i) => format!("`{i}`"),
            Self::Float(f) => format!("`{f}`"),
            Self::Text(s) => format!("`{s}`"),
        }
    }
}

struct ScalarVisitor;

impl<'de> Visitor<'de> for ScalarVisitor {
    type Value = Scalar;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a single value (text, number or true/false)")
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
        Ok(Scalar::Bool(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
        Ok(Scalar::Int(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
        Ok(Scalar::Int(v.into()))
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
        Ok(Scalar::Float(v))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
        Ok(if v.trim().is_empty() {
            Scalar::Empty
        } else {
            Scalar::Text(v.to_string())
        })
    }

    fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
        Ok(Scalar::Empty)
    }

    fn visit_none<E: de::Error>(self) -> Result<Scalar, E> {
        Ok(Scalar::Empty)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Scalar, D::Error> {
        d.deserialize_any(self)
    }
}

/// Reads `true`/`false`, `yes`/`no`, `on`/`off` and `1`/`0`, in any case.
/// Also used for environment variables and query parameters.
pub fn parse_bool(text: &str) -> Option<bool> {
    match text.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Some(true),
        "false" | "no" | "off" | "0" => Some(false),
        _ => None,
    }
}

/// A boolean.
pub fn bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    let scalar = Scalar::read(d)?;
    match &scalar {
        Scalar::Empty | Scalar::Int(0) => Some(false),
        Scalar::Int(1) => Some(true),
        Scalar::Bool(b) => Some(*b),
        Scalar::Text(t) => parse_bool(t),
        _ => None,
    }
    .ok_or_else(|| de::Error::custom(format!("expected true or false, found {}", scalar.shown())))
}

/// A whole number from `min` to `max`; `"6379"` and `6379.0` are accepted.
fn integer<'de, D, T>(d: D, min: i128, max: i128) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: TryFrom<i128> + Default,
{
    let scalar = Scalar::read(d)?;
    let n = match &scalar {
        Scalar::Empty => return Ok(T::default()),
        Scalar::Int(i) => Some(*i),
        Scalar::Float(f) if f.fract() == 0.0 && f.abs() < 1e30 => Some(*f as i128),
        Scalar::Text(t) => t.trim().parse::<i128>().ok(),
        _ => None,
    };
    let n = n.ok_or_else(|| {
        de::Error::custom(format!("expected a whole number, found {}", scalar.shown()))
    })?;
    match T::try_from(n) {
        Ok(v) if (min..=max).contains(&n) => Ok(v),
        _ => Err(de::Error::custom(format!(
            "{n} is out of range: use {min} to {max}"
        ))),
    }
}

/// A `u16` (ports).
pub fn u16<'de, D: Deserializer<'de>>(d: D) -> Result<u16, D::Error> {
    integer(d, 0, u16::MAX.into())
}

/// A `u32`.
pub fn u32<'de, D: Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
    integer(d, 0, u32::MAX.into())
}

/// An `i64`.
pub fn i64<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    integer(d, i64::MIN.into(), i64::MAX.into())
}

/// A `usize` (byte counts).
pub fn usize<'de, D: Deserializer<'de>>(d: D) -> Result<usize, D::Error> {
    integer(d, 0, usize_max())
}

/// An optional `u32`: empty gives `None`.
pub fn opt_u32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    optional(d, u32)
}

/// An optional boolean: empty gives `None`.
pub fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    optional(d, bool)
}

/// An optional `usize`: empty gives `None`.
pub fn opt_usize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<usize>, D::Error> {
    optional(d, usize)
}

/// `usize::MAX` as an `i128` (lossless on every supported target).
fn usize_max() -> i128 {
    i128::try_from(usize::MAX).unwrap_or(i128::MAX)
}

/// A number that may have a fraction, e.g. `wait_minutes: 0.5`.
pub fn f64<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
    let scalar = Scalar::read(d)?;
    match &scalar {
        Scalar::Empty => Some(0.0),
        Scalar::Int(i) => Some(*i as f64),
        Scalar::Float(f) => Some(*f),
        Scalar::Text(t) => t.trim().parse::<f64>().ok(),
        Scalar::Bool(_) => None,
    }
    .filter(|f| f.is_finite())
    .ok_or_else(|| de::Error::custom(format!("expected a number, found {}", scalar.shown())))
}

/// Text; numbers and booleans are taken as written (`channel_id: 12345`).
pub fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(match Scalar::read(d)? {
        Scalar::Empty => String::new(),
        Scalar::Bool(b) => b.to_string(),
        Scalar::Int(i) => i.to_string(),
        Scalar::Float(f) => f.to_string(),
        Scalar::Text(t) => t,
    })
}

/// Optional text: empty gives `None`.
pub fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    optional(d, string)
}

/// A file path.
pub fn path<'de, D: Deserializer<'de>>(d: D) -> Result<PathBuf, D::Error> {
    string(d).map(PathBuf::from)
}

/// An optional file path: empty gives `None`.
pub fn opt_path<'de, D: Deserializer<'de>>(d: D) -> Result<Option<PathBuf>, D::Error> {
    optional(d, path)
}

/// A list of texts; empty gives an empty list and empty items are dropped.
pub fn strings<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    let items: Option<Vec<Lenient>> = serde::Deserialize::deserialize(d)?;
    Ok(items
        .unwrap_or_default()
        .into_iter()
        .map(|Lenient(s)| s)
        .filter(|s| !s.is_empty())
        .collect())
}

/// An optional list of texts: empty gives `None`.
pub fn opt_strings<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    let items: Option<Vec<Lenient>> = serde::Deserialize::deserialize(d)?;
    Ok(items.map(|v| {
        v.into_iter()
            .map(|Lenient(s)| s)
            .filter(|s| !s.is_empty())
            .collect()
    }))
}

/// A map of texts, e.g. `other_response_plan_arns`; empty entries are dropped.
pub fn string_map<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, String>, D::Error> {
    let map: Option<BTreeMap<String, Lenient>> = serde::Deserialize::deserialize(d)?;
    Ok(map
        .unwrap_or_default()
        .into_iter()
        .filter(|(_, Lenient(v))| !v.is_empty())
        .map(|(k, Lenient(v))| (k, v))
        .collect())
}

/// A map of texts kept in the order written, e.g. patterns where the first
/// match wins; empty entries are dropped.
pub fn ordered_string_map<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<Vec<(String, String)>, D::Error> {
    let map: Option<serde_yaml_ng::Mapping> = serde::Deserialize::deserialize(d)?;
    let mut out = Vec::new();
    for (k, v) in map.unwrap_or_default() {
        let key = string(k).map_err(de::Error::custom)?;
        let value = string(v).map_err(de::Error::custom)?;
        if !value.is_empty() {
            out.push((key, value));
        }
    }
    Ok(out)
}

/// A map of whole numbers, e.g. `impact: {critical: 1}`; empty entries are
/// dropped.
pub fn u32_map<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<String, u32>, D::Error> {
    let map: Option<BTreeMap<String, serde_yaml_ng::Value>> = serde::Deserialize::deserialize(d)?;
    let mut out = BTreeMap::new();
    for (k, v) in map.unwrap_or_default() {
        if let Some(n) = optional(v, u32).map_err(de::Error::custom)? {
            out.insert(k, n);
        }
    }
    Ok(out)
}

/// A duration: `10s`, `1m 30s`, `250ms`, or a bare number of seconds.
pub fn duration<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
    opt_duration(d).map(Option::unwrap_or_default)
}

/// An optional duration: empty gives `None`.
pub fn opt_duration<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
    let scalar = Scalar::read(d)?;
    let parsed = match &scalar {
        Scalar::Empty => return Ok(None),
        Scalar::Int(i) => u64::try_from(*i).ok().map(Duration::from_secs),
        Scalar::Float(f) => Duration::try_from_secs_f64(*f).ok(),
        Scalar::Text(t) => humantime_serde::re::humantime::parse_duration(t.trim()).ok(),
        Scalar::Bool(_) => None,
    };
    parsed.map(Some).ok_or_else(|| {
        de::Error::custom(format!(
            "expected a duration such as 10s, 1m or 250ms, found {}",
            scalar.shown()
        ))
    })
}

/// Runs `inner` unless the value is empty.
fn optional<'de, D, T>(
    d: D,
    inner: impl FnOnce(serde_yaml_ng::Value) -> Result<T, serde_yaml_ng::Error>,
) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
{
    let value: serde_yaml_ng::Value = serde::Deserialize::deserialize(d)?;
    let empty = match &value {
        serde_yaml_ng::Value::Null => true,
        serde_yaml_ng::Value::String(s) => s.trim().is_empty(),
        _ => false,
    };
    if empty {
        return Ok(None);
    }
    inner(value).map(Some).map_err(de::Error::custom)
}

/// A text item inside a list or map.
struct Lenient(String);

impl<'de> serde::Deserialize<'de> for Lenient {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        string(d).map(Lenient)
    }
}
