//! The configured values that are secrets, for masking in the log
//! (`logging::remember_secrets`). Which keys are secret is declared once,
//! in the schema (`schema::Node::Secret`); this module reads their values
//! from the loaded config (after `${VAR}` expansion and environment
//! overrides), and its tests check that it reads every key the schema
//! marks. Plugin settings (`channels[].config`) are free-form: their
//! secrets are found by key name.

use serde_json::Value;

use super::Config;

/// Environment variables, not config keys, that hold secrets the
/// gateway's own clients read (the AWS SDK's credential chain).
pub const SECRET_ENV_VARS: &[&str] = &["AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"];

/// How a secret value is to be masked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretKind {
    /// The whole value.
    Text,
    /// A URL that is its own credential (Teams, Lark): the whole URL, and
    /// its path, query and long segments wherever they appear alone.
    Url,
    /// A URL with a password in it (`redis://:pw@host`): the password only.
    UrlPassword,
}

/// One configured secret.
#[derive(Debug, Clone, Copy)]
pub struct SecretValue<'a> {
    /// Its value.
    pub value: &'a str,
    /// How to mask it.
    pub kind: SecretKind,
}

/// Words that make a key of plugin settings secret (`api_key`,
/// `Authorization`, `x-hook-signature`, …).
const SECRET_WORDS: &[&str] = &[
    "token",
    "secret",
    "password",
    "passwd",
    "key",
    "auth",
    "signature",
    "credential",
    "cookie",
    "session",
];

/// Request headers that describe the content, never a credential: their
/// values stay readable when a plugin's `headers` are masked.
const PLAIN_HEADERS: &[&str] = &[
    "accept",
    "accept-encoding",
    "accept-language",
    "cache-control",
    "content-encoding",
    "content-language",
    "content-type",
    "user-agent",
];

/// Header values at least this long are masked even when they are one
/// plain word: a real key is random, so it has digits or punctuation or
/// is long; a shorter word is a label (`X-Source: versus`), and masking it
/// would mask that word in every log line.
const PLAIN_WORD_MAX_LEN: usize = 16;

impl Config {
    /// Every secret this config holds (empty values are left out).
    pub fn secrets(&self) -> Vec<SecretValue<'_>> {
        use SecretKind::{Text, UrlPassword};
        let mut out = Found(Vec::new());
        for (value, kind) in self.alert.channels.secrets() {
            out.add(value, kind);
        }
        for (value, kind) in self.oncall.sections.secrets() {
            out.add(value, kind);
        }
        out.add(&self.oncall.ack_secret, Text);
        out.add(&self.redis.password, Text);
        out.add(&self.redis.sentinel.password, Text);
        out.add(&self.proxy.password, Text);
        out.add(&self.proxy.url, UrlPassword);
        if let Some(url) = &self.redis.url {
            out.add(url, UrlPassword);
        }
        for source in &self.ingest.sources {
            out.add(source.token.expose(), Text);
            out.add(source.hmac_secret.expose(), Text);
        }
        for channel in &self.custom_channels {
            out.in_settings(&channel.config, false);
        }
        out.in_settings(&self.oncall.plugin_settings, false);
        out.0
    }
}

/// The secrets found so far.
struct Found<'a>(Vec<SecretValue<'a>>);

impl<'a> Found<'a> {
    fn add(&mut self, value: &'a str, kind: SecretKind) {
        if !value.trim().is_empty() {
            self.0.push(SecretValue { value, kind });
        }
    }

    /// A credential, and the credential alone when it comes after a scheme
    /// (`Bearer <token>`, `Basic <…>`), since that part may be shown alone.
    fn credential(&mut self, value: &'a str) {
        self.add(value, SecretKind::Text);
        if let Some((scheme, rest)) = value.trim().split_once(' ')
            && scheme.chars().all(|c| c.is_ascii_alphabetic())
        {
            self.add(rest.trim(), SecretKind::Text);
        }
    }

    /// Strategy: a string is secret when its key names a secret (see
    /// [`SECRET_WORDS`]), or when it is a header value (under a key
    /// `headers`) other than a [`PLAIN_HEADERS`] one or a short plain
    /// word; plugin authors put credentials in headers under any name.
    fn in_settings(&mut self, value: &'a Value, in_headers: bool) {
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    let name = k.to_ascii_lowercase();
                    match v {
                        Value::String(s) if named_secret(&name) => {
                            self.credential(s);
                        }
                        Value::String(s) if in_headers && secret_header(&name, s) => {
                            self.credential(s);
                        }
                        other => self.in_settings(other, in_headers || name == "headers"),
                    }
                }
            }
            Value::Array(items) => {
                for item in items {
                    self.in_settings(item, in_headers);
                }
            }
            _ => {}
        }
    }
}

fn named_secret(name: &str) -> bool {
    SECRET_WORDS.iter().any(|w| name.contains(w))
}

fn secret_header(name: &str, value: &str) -> bool {
    let value = value.trim();
    let plain_word =
        value.len() < PLAIN_WORD_MAX_LEN && value.chars().all(|c| c.is_ascii_alphabetic());
    !PLAIN_HEADERS.contains(&name) && !plain_word
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_yaml_ng::{Mapping, Value as Yaml};

    use super::super::Config;
    use super::super::schema::{Node, ROOT};

    /// One step from a section to a key below it.
    #[derive(Clone)]
    enum Step {
        Key(&'static str),
        /// An entry of a map whose keys the user chooses.
        Name,
        /// An item of a list.
        Item,
    }

    /// Every text key of the schema: its path and whether it is secret.
    fn text_keys(node: &Node, path: &mut Vec<Step>, out: &mut Vec<(Vec<Step>, bool)>) {
        match node {
            Node::Text => out.push((path.clone(), false)),
            Node::Secret => out.push((path.clone(), true)),
            Node::Map(_) | Node::Joined(..) => {
                for (key, child) in node.keys().into_iter().flatten() {
                    path.push(Step::Key(key));
                    text_keys(child, path, out);
                    path.pop();
                }
            }
            Node::Named(child) | Node::List(child) => {
                path.push(if matches!(node, Node::List(_)) {
                    Step::Item
                } else {
                    Step::Name
                });
                text_keys(child, path, out);
                path.pop();
            }
            Node::Scalar(_) | Node::Free | Node::Unimplemented(_) => {}
        }
    }

    fn all_text_keys() -> Vec<(Vec<Step>, bool)> {
        let mut out = Vec::new();
        text_keys(&ROOT, &mut Vec::new(), &mut out);
        out
    }

    fn dotted(path: &[Step]) -> String {
        path.iter()
            .map(|s| match s {
                Step::Key(k) => (*k).to_string(),
                Step::Name => "<name>".into(),
                Step::Item => "[0]".into(),
            })
            .collect::<Vec<_>>()
            .join(".")
    }

    /// A config that sets only the key at `path`, to `value`.
    fn config_setting(path: &[Step], value: &str) -> Config {
        let mut yaml = Yaml::String(value.into());
        for step in path.iter().rev() {
            yaml = match step {
                Step::Key(k) => Yaml::Mapping(Mapping::from_iter([(Yaml::from(*k), yaml)])),
                Step::Name => Yaml::Mapping(Mapping::from_iter([(Yaml::from("n"), yaml)])),
                Step::Item => Yaml::Sequence(vec![yaml]),
            };
        }
        let text = serde_yaml_ng::to_string(&yaml).expect("yaml");
        Config::parse(&text, Path::new("c.yaml"))
            .unwrap_or_else(|e| panic!("{}: {e}\n{text}", dotted(path)))
    }

    /// Each key marked secret in the schema, given alone, is among
    /// [`Config::secrets`]; no plain text key is.
    #[test]
    fn every_key_the_schema_marks_secret_is_read_and_no_other() {
        let keys = all_text_keys();
        assert!(keys.iter().filter(|(_, secret)| *secret).count() >= 14);
        for (i, (path, secret)) in keys.iter().enumerate() {
            let marker = format!("marker-{i}-0123456789");
            let config = config_setting(path, &marker);
            let found = config.secrets().iter().any(|s| s.value == marker);
            assert_eq!(found, *secret, "{}", dotted(path));
        }
    }

    /// A key named like a credential must be marked secret, so a new one
    /// cannot be added as plain text by mistake.
    #[test]
    fn keys_named_like_credentials_are_marked_secret() {
        let credential = [
            "token",
            "secret",
            "password",
            "webhook_url",
            "power_automate_url",
            "power_url",
        ];
        for (path, secret) in all_text_keys() {
            let Some(name) = path.iter().rev().find_map(|s| match s {
                Step::Key(k) => Some(*k),
                _ => None,
            }) else {
                continue;
            };
            if credential.iter().any(|w| name.contains(w)) {
                assert!(secret, "{} must be Node::Secret", dotted(&path));
            }
        }
    }

    #[test]
    fn plugin_settings_secrets_are_found_by_name_and_in_headers() {
        let yaml = "channels:\n  - name: hook\n    config:\n      \
                    url: https://hooks.example/x\n      api_key: key-value-123\n      \
                    headers:\n        Authorization: Bearer abc-123\n        \
                    X-Custom: hdr-value-0123\n        Content-Type: application/json\n        \
                    X-Source: versus\n        X-Long: averyveryverylongword\n      \
                    nested:\n        - password: pw-in-a-list\n";
        let config = Config::parse(yaml, Path::new("c.yaml")).expect("parses");
        let mut found: Vec<&str> = config.secrets().iter().map(|s| s.value).collect();
        found.sort_unstable();
        assert_eq!(
            found,
            [
                "Bearer abc-123",
                "abc-123",
                "averyveryverylongword",
                "hdr-value-0123",
                "key-value-123",
                "pw-in-a-list"
            ]
        );
    }
}
