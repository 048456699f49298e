//! [`Settings`]: a channel's `config:` entry, which the host passes to every
//! call as JSON text.

use serde_json::{Map, Value};

use crate::PluginError;

/// The channel config, read key by key. Every error is a
/// [`PluginError::Config`] naming the key, so the operator sees what to fix.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Settings {
    map: Map<String, Value>,
}

impl Settings {
    /// Parses `config_json`; it must be a JSON object (empty text counts as
    /// an empty one).
    pub fn parse(config_json: &str) -> Result<Self, PluginError> {
        if config_json.trim().is_empty() {
            return Ok(Self::default());
        }
        match serde_json::from_str(config_json) {
            Ok(Value::Object(map)) => Ok(Self { map }),
            Ok(_) => Err(PluginError::config("the channel config must be a mapping")),
            Err(e) => Err(PluginError::config(format!(
                "the channel config is not JSON: {e}"
            ))),
        }
    }

    /// The raw value of `key`, if set (and not null).
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    /// `key` as text. Numbers are accepted and given as text, since YAML
    /// turns an unquoted id such as `-100123` into a number.
    pub fn text(&self, key: &str) -> Result<Option<String>, PluginError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(_) => Err(PluginError::config(format!("`{key}` must be a string"))),
        }
    }

    /// `key` as non-empty text, or an error saying it is required.
    pub fn require(&self, key: &str) -> Result<String, PluginError> {
        match self.text(key)? {
            Some(s) if !s.trim().is_empty() => Ok(s),
            _ => Err(PluginError::config(format!(
                "`{key}` is required in the channel config"
            ))),
        }
    }

    /// `key` as a required `http://` or `https://` URL.
    pub fn url(&self, key: &str) -> Result<String, PluginError> {
        let url = self.require(key)?;
        let lower = url.to_ascii_lowercase();
        if !(lower.starts_with("https://") || lower.starts_with("http://")) {
            return Err(PluginError::config(format!(
                "`{key}` must be an http:// or https:// URL"
            )));
        }
        Ok(url)
    }

    /// `key` as a whole number ≥ 0.
    pub fn number(&self, key: &str) -> Result<Option<u64>, PluginError> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v
                .as_u64()
                .map(Some)
                .ok_or_else(|| PluginError::config(format!("`{key}` must be a whole number ≥ 0"))),
        }
    }

    /// `key` as true or false.
    pub fn flag(&self, key: &str) -> Result<Option<bool>, PluginError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(_) => Err(PluginError::config(format!(
                "`{key}` must be true or false"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Settings;
    use crate::PluginError;

    fn config_error(r: Result<impl std::fmt::Debug, PluginError>) -> String {
        match r {
            Err(PluginError::Config(m)) => m,
            other => panic!("expected a config error, got {other:?}"),
        }
    }

    #[test]
    fn reads_each_kind_of_value() {
        let s = Settings::parse(
            r#"{"url": "https://h.example/x", "chat": -100123, "n": 5, "on": true, "none": null}"#,
        )
        .expect("object");
        assert_eq!(s.url("url").ok().as_deref(), Some("https://h.example/x"));
        assert_eq!(s.require("chat").ok().as_deref(), Some("-100123"));
        assert_eq!(s.number("n").ok(), Some(Some(5)));
        assert_eq!(s.flag("on").ok(), Some(Some(true)));
        assert_eq!(s.text("none").ok(), Some(None));
        assert_eq!(s.text("absent").ok(), Some(None));
    }

    #[test]
    fn errors_name_the_key() {
        let s = Settings::parse(r#"{"url": "ftp://x", "n": -1, "on": "yes", "o": {}}"#)
            .expect("object");
        assert!(config_error(s.url("url")).contains("`url` must be an http"));
        assert!(config_error(s.require("token")).contains("`token` is required"));
        assert!(config_error(s.number("n")).contains("`n` must be a whole number"));
        assert!(config_error(s.flag("on")).contains("`on` must be true or false"));
        assert!(config_error(s.text("o")).contains("`o` must be a string"));
    }

    #[test]
    fn config_must_be_an_object() {
        assert_eq!(Settings::parse("").ok(), Some(Settings::default()));
        assert!(config_error(Settings::parse("[1]")).contains("mapping"));
        assert!(config_error(Settings::parse("{")).contains("not JSON"));
    }
}
