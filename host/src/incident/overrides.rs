//! Query overrides that change where a channel delivers, as upstream Versus
//! accepts them: `slack_channel_id`, `telegram_chat_id`, `email_to`,
//! `email_subject`, `viber_user_id`,
//! `viber_channel_id`, and the named alternatives `msteams_other_power_url`
//! and `lark_other_webhook_url`. Each one rewrites keys of its channel's
//! JSON settings for this request only.

use serde_json::{Map, Value};

use super::Overrides;

/// The settings `config_json` of channel `name` with this request's
/// overrides applied. Only the built-in channel of the same name is
/// affected: a custom channel never sees another channel's override.
pub(super) fn channel_config(name: &str, config_json: &str, overrides: &Overrides) -> String {
    let original = || config_json.to_string();
    let o = overrides;
    let patches: Vec<(&str, Patch<'_>)> = match name {
        "slack" => vec![("channel_id", Patch::Value(wanted(&o.slack_channel_id)))],
        "telegram" => vec![("chat_id", Patch::Value(wanted(&o.telegram_chat_id)))],
        "email" => vec![
            ("to", Patch::Value(wanted(&o.email_to))),
            ("subject", Patch::Value(wanted(&o.email_subject))),
        ],
        "viber" => vec![
            ("user_id", Patch::Value(wanted(&o.viber_user_id))),
            ("channel_id", Patch::Value(wanted(&o.viber_channel_id))),
        ],
        "msteams" => vec![(
            "power_automate_url",
            Patch::Named("other_power_urls", wanted(&o.msteams_other_power_url)),
        )],
        "lark" => vec![(
            "webhook_url",
            Patch::Named("other_webhook_urls", wanted(&o.lark_other_webhook_url)),
        )],
        _ => return original(),
    };
    if patches.iter().all(|(_, p)| p.is_none()) {
        return original();
    }
    let Ok(Value::Object(mut map)) = serde_json::from_str::<Value>(config_json) else {
        return original();
    };
    for (key, patch) in patches {
        if let Some(value) = patch.resolve(&map, name) {
            map.insert(key.into(), Value::String(value));
        }
    }
    Value::Object(map).to_string()
}

/// An override's value when it is given and not blank.
fn wanted(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// One override.
enum Patch<'a> {
    /// Use this value (when given and not blank: upstream ignores empty
    /// overrides).
    Value(Option<&'a str>),
    /// Use the entry of this config map with this name.
    Named(&'static str, Option<&'a str>),
}

impl Patch<'_> {
    fn is_none(&self) -> bool {
        matches!(self, Self::Value(None) | Self::Named(_, None))
    }

    /// The value to set, if any. An unknown name keeps the configured URL,
    /// as upstream does, with a warning.
    fn resolve(&self, config: &Map<String, Value>, channel: &str) -> Option<String> {
        match self {
            Self::Value(v) => v.map(str::to_string),
            Self::Named(map_key, Some(name)) => {
                let found = config
                    .get(*map_key)
                    .and_then(|m| m.get(*name))
                    .and_then(Value::as_str)
                    .filter(|u| !u.trim().is_empty());
                if found.is_none() {
                    tracing::warn!(
                        channel,
                        name,
                        "alert.{channel}.{map_key} has no entry of that name; using the default URL"
                    );
                }
                found.map(str::to_string)
            }
            Self::Named(_, None) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn apply(name: &str, config: Value, query: &str) -> Value {
        let uri: axum::http::Uri = format!("/x?{query}").parse().expect("uri");
        let overrides = axum::extract::Query::<Overrides>::try_from_uri(&uri)
            .expect("query")
            .0;
        serde_json::from_str(&channel_config(name, &config.to_string(), &overrides)).expect("json")
    }

    #[test]
    fn each_override_reaches_only_its_channel() {
        let q = "slack_channel_id=C9&telegram_chat_id=-5&viber_user_id=u2&viber_channel_id=c2";
        assert_eq!(
            apply("slack", json!({"channel_id": "C1"}), q),
            json!({"channel_id": "C9"})
        );
        assert_eq!(
            apply("telegram", json!({"chat_id": "1"}), q),
            json!({"chat_id": "-5"})
        );
        assert_eq!(
            apply("viber", json!({"user_id": "u", "channel_id": "c"}), q),
            json!({"user_id": "u2", "channel_id": "c2"})
        );
        assert_eq!(
            apply("ops", json!({"chat_id": "1"}), q),
            json!({"chat_id": "1"})
        );
        assert_eq!(
            apply("telegram", json!({"chat_id": "1"}), "telegram_chat_id=%20"),
            json!({"chat_id": "1"})
        );
    }

    #[test]
    fn named_urls_are_looked_up_in_the_config() {
        let teams = json!({"power_automate_url": "https://a/main", "other_power_urls": {"qc": "https://a/qc"}});
        assert_eq!(
            apply("msteams", teams.clone(), "msteams_other_power_url=qc")["power_automate_url"],
            "https://a/qc"
        );
        assert_eq!(
            apply("msteams", teams, "msteams_other_power_url=nope")["power_automate_url"],
            "https://a/main"
        );
        let lark = json!({"webhook_url": "https://l/main", "other_webhook_urls": {"dev": "https://l/dev"}});
        assert_eq!(
            apply("lark", lark, "lark_other_webhook_url=dev")["webhook_url"],
            "https://l/dev"
        );
    }
}
