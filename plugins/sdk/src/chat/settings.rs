//! Reading a channel's `config-json` object. The host passes upstream
//! config values as they were written, so a key may be missing, `null`
//! (an empty YAML value or an unset `${VAR}`), a string, or a number
//! (`chat_id: -100123`). Every error is [`Error::Config`] and names the key.

use serde_json::{Map, Value};

use super::Error;

/// A parsed channel config object.
#[derive(Debug, Clone)]
pub struct Settings {
    service: &'static str,
    obj: Map<String, Value>,
}

impl Settings {
    /// Parses `config_json`, which must be a JSON object; `service` names
    /// the channel in messages.
    pub fn parse(service: &'static str, config_json: &str) -> Result<Self, Error> {
        let doc: Value = serde_json::from_str(config_json)
            .map_err(|e| Error::Config(format!("{service} config is not valid JSON: {e}")))?;
        match doc {
            Value::Object(obj) => Ok(Self { service, obj }),
            _ => Err(Error::Config(format!(
                "{service} config must be a JSON object"
            ))),
        }
    }

    /// The raw value of `key`, `None` when missing or `null`.
    pub fn value(&self, key: &str) -> Option<&Value> {
        self.obj.get(key).filter(|v| !v.is_null())
    }

    /// Text of `key`, trimmed; numbers and booleans as written. `None` when
    /// missing, `null` or blank.
    pub fn text(&self, key: &str) -> Result<Option<String>, Error> {
        match self.value(key) {
            None => Ok(None),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.trim().to_owned())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(Value::Bool(b)) => Ok(Some(b.to_string())),
            Some(_) => Err(Error::Config(format!(
                "{}.{key} must be a single value",
                self.service
            ))),
        }
    }

    /// The entries of the map at `key` (an escalator's `other_*` targets),
    /// each value text or unset (`None`; blank counts as unset). No map is
    /// no entries; anything else is a [`Error::Config`] naming the key and
    /// saying that it holds `what` (e.g. `routing keys`).
    pub fn named(&self, key: &str, what: &str) -> Result<Vec<(&str, Option<&str>)>, Error> {
        let service = self.service;
        let entries = match self.value(key) {
            None => return Ok(Vec::new()),
            Some(Value::Object(entries)) => entries,
            Some(_) => {
                return Err(Error::Config(format!(
                    "{service}.{key} must be a map of names to {what}"
                )));
            }
        };
        entries
            .iter()
            .map(|(name, value)| match value {
                Value::Null => Ok((name.as_str(), None)),
                Value::String(s) => Ok((name.as_str(), Some(s.trim()).filter(|s| !s.is_empty()))),
                _ => Err(Error::Config(format!(
                    "{service}.{key}.{name} must be text: one of the {what}"
                ))),
            })
            .collect()
    }

    /// Text of `key`, which must be set.
    pub fn required(&self, key: &str) -> Result<String, Error> {
        self.text(key)?.ok_or_else(|| {
            Error::Config(format!(
                "`{key}` is required: set {service}.{key} in the {service} config (or its \
                 environment variable)",
                service = self.service
            ))
        })
    }

    /// [`Settings::url`] ending in `/`, for a base that paths are appended to.
    pub fn base_url(&self, key: &str, default: Option<&str>) -> Result<String, Error> {
        let mut url = self.url(key, default)?;
        if !url.ends_with('/') {
            url.push('/');
        }
        Ok(url)
    }

    /// An `http`/`https` URL at `key`, or `default` when unset.
    pub fn url(&self, key: &str, default: Option<&str>) -> Result<String, Error> {
        let url = match (self.text(key)?, default) {
            (Some(u), _) => u,
            (None, Some(d)) => d.to_owned(),
            (None, None) => return self.required(key),
        };
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(Error::Config(format!(
                "{}.{key} must be an http or https URL, got {url:?}",
                self.service
            )));
        }
        Ok(url)
    }

    /// A `key: value` section of texts at `key` (empty when unset).
    pub fn text_map(&self, key: &str) -> Result<Vec<(String, String)>, Error> {
        let Some(value) = self.value(key) else {
            return Ok(Vec::new());
        };
        let Value::Object(map) = value else {
            return Err(Error::Config(format!(
                "{}.{key} must be a section of `name: value` lines",
                self.service
            )));
        };
        let mut out = Vec::new();
        for (k, v) in map {
            let v = match v {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                Value::Null => continue,
                _ => {
                    return Err(Error::Config(format!(
                        "{}.{key}.{k} must be a single value",
                        self.service
                    )));
                }
            };
            out.push((k.clone(), v));
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_read_leniently() {
        let s = Settings::parse(
            "t",
            r#"{"a":" x ","n":-100,"b":true,"e":"","z":null,"l":[1],"m":{"k":"v","n":1,"z":null}}"#,
        )
        .expect("parse");
        assert_eq!(s.text("a"), Ok(Some("x".into())));
        assert_eq!(s.text("n"), Ok(Some("-100".into())));
        assert_eq!(s.text("b"), Ok(Some("true".into())));
        assert_eq!(s.text("e"), Ok(None));
        assert_eq!(s.text("z"), Ok(None));
        assert_eq!(s.text("missing"), Ok(None));
        assert!(s.text("l").is_err());
        assert_eq!(
            s.required("e"),
            Err(Error::Config(
                "`e` is required: set t.e in the t config (or its environment variable)".into()
            ))
        );
        assert_eq!(
            s.text_map("m"),
            Ok(vec![("k".into(), "v".into()), ("n".into(), "1".into())])
        );
        assert!(s.text_map("a").is_err());
    }

    #[test]
    fn urls_must_be_http() {
        let s = Settings::parse("t", r#"{"u":"ftp://x","v":"http://h/"}"#).expect("parse");
        assert!(matches!(s.url("u", None), Err(Error::Config(_))));
        assert_eq!(s.url("v", None), Ok("http://h/".into()));
        assert_eq!(s.url("w", Some("https://d/")), Ok("https://d/".into()));
        assert!(matches!(s.url("w", None), Err(Error::Config(_))));
    }

    #[test]
    fn the_config_must_be_an_object() {
        assert!(Settings::parse("t", "[]").is_err());
        assert!(Settings::parse("t", "{").is_err());
    }
}
