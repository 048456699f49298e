//! Query overrides (`POST /api/incidents?oncall_enable=true&…`), as
//! upstream Versus accepts them: how each is parsed, which ones a request
//! uses (for the allow-list of its source, see `server::auth`), and how a
//! built-in channel's overrides (`slack_channel_id`, `telegram_chat_id`, …,
//! declared in its module in `channel`) rewrite keys of its JSON settings
//! for this request only.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

use crate::channel::{self, OverrideValue};

/// Declares [`Overrides`] and, from the same list, [`Overrides::keys`] and
/// [`Overrides::used`].
///
/// Strategy: the list below and the channels' own lists
/// (`channel::QUERY_OVERRIDES`) are the homes of the query overrides. The
/// parser (serde, by field name, and the channels' keys from the rest of
/// the query), the keys `ingest.sources[].allowed_overrides` may name, and
/// the gate (which checks what the parser produced, not the raw query) all
/// derive from them, so an override added to either is gated from the
/// start: there is no second list to forget.
macro_rules! overrides {
    ($($(#[$meta:meta])* $key:ident: $ty:ty,)*) => {
        /// Per-request overrides from the query string, as upstream Versus
        /// accepts them. Unknown keys are ignored, as upstream.
        #[derive(Debug, Clone, Default, PartialEq, serde::Deserialize)]
        pub struct Overrides {
            $($(#[$meta])* pub $key: Option<$ty>,)*
            /// The rest of the query: the built-in channels' overrides are
            /// read from it, by their keys.
            #[serde(flatten)]
            pub rest: BTreeMap<String, String>,
        }

        impl Overrides {
            /// The overrides that are not a channel's, by key.
            const OWN: &[&str] = &[$(stringify!($key)),*];

            /// Every query override, by its key in the query string.
            pub fn keys() -> Vec<&'static str> {
                Self::OWN
                    .iter()
                    .copied()
                    .chain(channel::override_keys())
                    .chain(crate::escalator::route_keys())
                    .collect()
            }

            /// The overrides this request uses: each one given with a
            /// value. A blank value (`?oncall_enable=`) is not a use: it
            /// changes nothing.
            pub fn used(&self) -> Vec<&'static str> {
                let mut used = Vec::new();
                $(
                    if self.$key.as_ref().is_some_and(Given::given) {
                        used.push(stringify!($key));
                    }
                )*
                used.extend(
                    channel::override_keys()
                        .chain(crate::escalator::route_keys())
                        .filter(|k| self.channel(k).is_some()),
                );
                used
            }

            /// The value of a built-in channel's or escalator's override
            /// (read from the rest of the query), when given and not blank.
            pub fn channel(&self, key: &str) -> Option<&str> {
                self.rest.get(key).map(|v| v.trim()).filter(|v| !v.is_empty())
            }
        }
    };
}

overrides! {
    /// Turn on-call on or off for this alert.
    #[serde(default, deserialize_with = "lenient_bool")]
    oncall_enable: bool,
    /// Minutes to wait for an ACK before escalating; fractions allowed.
    #[serde(default, deserialize_with = "lenient_f64")]
    oncall_wait_minutes: f64,
    /// Response plan to start instead of the configured one.
    awsim_response_plan_arn: String,
    /// Name of an `oncall.aws_incident_manager.other_response_plan_arns`
    /// entry: start that plan instead of the default (an unknown name is a
    /// 400; `awsim_response_plan_arn` wins when both are given).
    awsim_other_response_plan: String,
    /// The sender's own key for "the same problem": alerts with one key
    /// share an incident, so repeats join it and a resolve cancels it
    /// (see `incident::dedup`).
    dedup_key: String,
}

/// Whether a parsed override value changes anything.
trait Given {
    fn given(&self) -> bool;
}

impl Given for String {
    /// Blank text is ignored, as upstream ignores empty overrides.
    fn given(&self) -> bool {
        !self.trim().is_empty()
    }
}

impl Given for bool {
    fn given(&self) -> bool {
        true
    }
}

impl Given for f64 {
    fn given(&self) -> bool {
        true
    }
}

fn lenient_bool<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    let s: Option<String> = serde::Deserialize::deserialize(d)?;
    match s.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) if v.eq_ignore_ascii_case("true") || v == "1" => Ok(Some(true)),
        Some(v) if v.eq_ignore_ascii_case("false") || v == "0" => Ok(Some(false)),
        Some(v) => Err(serde::de::Error::custom(format!(
            "`{v}` is not true or false"
        ))),
    }
}

fn lenient_f64<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    let s: Option<String> = serde::Deserialize::deserialize(d)?;
    match s.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => match v.parse::<f64>() {
            Ok(n) if n.is_finite() && n >= 0.0 => Ok(Some(n)),
            _ => Err(serde::de::Error::custom(format!(
                "`{v}` is not a number of minutes ≥ 0"
            ))),
        },
    }
}

/// The settings `config_json` of channel `name` with this request's
/// overrides applied, and `reply_to` set when the delivery goes in a
/// thread (see [`super::ReplyTo`]). Only the built-in channel of the same
/// name is affected by an override: a custom channel never sees another
/// channel's.
pub(super) fn channel_config(
    name: &str,
    config_json: &str,
    overrides: &Overrides,
    reply_to: Option<&super::ReplyTo>,
) -> String {
    let original = || config_json.to_string();
    let patches: Vec<_> = channel::query_overrides(name)
        .iter()
        .filter_map(|o| overrides.channel(o.query).map(|v| (o, v)))
        .collect();
    if patches.is_empty() && reply_to.is_none() {
        return original();
    }
    let Ok(Value::Object(mut map)) = serde_json::from_str::<Value>(config_json) else {
        return original();
    };
    for (o, given) in patches {
        if let Some(value) = resolve(o.value, given, &map, name) {
            map.insert(o.setting.into(), Value::String(value));
        }
    }
    if let Some(parent) = reply_to {
        map.insert("reply_to".into(), serde_json::json!(parent));
    }
    Value::Object(map).to_string()
}

/// The value to set. A name that the settings map lacks keeps the
/// configured URL, as upstream does, with a warning.
fn resolve(
    from: OverrideValue,
    given: &str,
    config: &Map<String, Value>,
    channel: &str,
) -> Option<String> {
    match from {
        OverrideValue::Given => Some(given.to_string()),
        OverrideValue::Named(map_key) => {
            let found = config
                .get(map_key)
                .and_then(|m| m.get(given))
                .and_then(Value::as_str)
                .filter(|u| !u.trim().is_empty());
            if found.is_none() {
                tracing::warn!(
                    channel,
                    name = given,
                    "alert.{channel}.{map_key} has no entry of that name; using the default URL"
                );
            }
            found.map(str::to_string)
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn parse(query: &str) -> Overrides {
        let uri: axum::http::Uri = format!("/x?{query}").parse().expect("uri");
        axum::extract::Query::<Overrides>::try_from_uri(&uri)
            .expect("query")
            .0
    }

    #[test]
    fn overrides_parse_leniently() {
        let o = parse("oncall_enable=false&oncall_wait_minutes=0.1&slack_channel_id=C1&unknown=x");
        assert_eq!(o.oncall_enable, Some(false));
        assert_eq!(o.oncall_wait_minutes, Some(0.1));
        assert_eq!(o.channel("slack_channel_id"), Some("C1"));
    }

    /// Every key in [`Overrides::keys`] is a key the parser reads, and a
    /// request that gives it counts as using it (and nothing else), so the
    /// gate sees it. A `#[serde(rename)]` or a typo would fail here.
    #[test]
    fn every_key_is_parsed_and_counted_as_used() {
        let keys = Overrides::keys();
        assert_eq!(keys.len(), 17);
        for key in &keys {
            assert_eq!(parse(&format!("{key}=1")).used(), [*key], "{key}");
            assert_eq!(parse(&format!("{key}=%20")).used(), [""; 0], "{key}");
        }
        let all: Vec<String> = keys.iter().map(|k| format!("{k}=1")).collect();
        assert_eq!(parse(&all.join("&")).used(), keys);
        assert!(parse("unknown=1&x=").used().is_empty());
    }

    fn apply(name: &str, config: Value, query: &str) -> Value {
        serde_json::from_str(&channel_config(
            name,
            &config.to_string(),
            &parse(query),
            None,
        ))
        .expect("json")
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
