//! Escalation targets in plain Rust: the way the built-in on-call
//! providers (PagerDuty, …) are written.
//!
//! An escalator implements [`Escalator`] against a [`Send`] function, as a
//! channel does (see [`crate::chat`]), so every request it builds and every
//! answer it reads is tested with `cargo test` and a fake `Send`.
//! [`export_escalator!`](crate::export_escalator) wires it to the
//! `escalator` world of `versus:oncall@0.1.0`. Errors are classified the
//! way the gateway acts on them: [`Error::Transient`] is retried (no
//! sooner than its `retry_after_ms`), every other case is final.

pub mod fake;
mod glue;

pub use crate::chat::{
    Error, HttpError, Request, Response, Send, Settings, body_snippet, check_status,
    from_http_error, retry_after_ms, send_checked, send_through_host, transient_status,
};

/// A link the provider may show with the page; mirrors the WIT `link`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Link {
    /// What it is, e.g. `Acknowledge in Versus`.
    pub text: String,
    /// Absolute URL.
    pub url: String,
}

/// The incident to page for; mirrors the WIT `incident`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Incident {
    /// Gateway-assigned incident id.
    pub id: String,
    /// One line that says what is wrong.
    pub title: String,
    /// The alert's severity, if known.
    pub severity: Option<String>,
    /// The provider's dedup or idempotency key: the same for retries,
    /// repeats and replicas.
    pub dedup_key: String,
    /// A short summary of the alert; may be empty.
    pub summary: String,
    /// What sent the alert.
    pub source: String,
    /// The alert's labels as a JSON object.
    pub labels_json: String,
    /// Links back: the ACK page, the alert's source, the chat message.
    pub links: Vec<Link>,
    /// The `other_*` entry the query chose, if any.
    pub route: Option<String>,
}

/// How urgent an alert is, read from its severity: the one reading every
/// escalator maps onto its provider's scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Urgency {
    /// `critical`, anything unknown, or no severity: the alert is paging
    /// because nobody acknowledged it.
    Critical,
    /// `error`, `major`, `high`.
    High,
    /// `warning`, `warn`, `minor`, `medium`.
    Medium,
    /// `low`, `notice`.
    Low,
    /// `info`, `informational`, `none`.
    Info,
}

impl Urgency {
    /// The urgency of a severity name (any case).
    pub fn of(severity: Option<&str>) -> Self {
        match severity.map(|s| s.trim().to_ascii_lowercase()).as_deref() {
            Some("error" | "major" | "high") => Self::High,
            Some("warning" | "warn" | "minor" | "medium") => Self::Medium,
            Some("low" | "notice") => Self::Low,
            Some("info" | "informational" | "none") => Self::Info,
            _ => Self::Critical,
        }
    }
}

/// `text` with every byte but the unreserved ones (`A-Z a-z 0-9 - . _ ~`)
/// written `%XX`: for a path segment or a query value.
pub fn percent_encode(text: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(b >> 4)]));
            out.push(char::from(HEX[usize::from(b & 0x0f)]));
        }
    }
    out
}

impl Incident {
    /// How urgent the alert is.
    pub fn urgency(&self) -> Urgency {
        Urgency::of(self.severity.as_deref())
    }

    /// The dedup key for a provider that takes at most `max` characters:
    /// the incident's, or its id when the key is empty or longer.
    pub fn key_within(&self, max: usize) -> &str {
        let key = self.dedup_key.trim();
        if key.is_empty() || key.chars().count() > max {
            return &self.id;
        }
        key
    }

    /// The labels as a JSON object (empty when they do not parse).
    pub fn labels(&self) -> serde_json::Map<String, serde_json::Value> {
        match serde_json::from_str(&self.labels_json) {
            Ok(serde_json::Value::Object(map)) => map,
            _ => serde_json::Map::new(),
        }
    }
}

/// What a started page is known by; mirrors the WIT `escalation-receipt`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Receipt {
    /// The provider's id of the page.
    pub id: String,
    /// A link to it in the provider's UI, if known.
    pub url: Option<String>,
}

/// One escalation target, in plain Rust.
pub trait Escalator {
    /// Whether [`Escalator::acknowledge`] tells the provider anything; the
    /// gateway says an ACK after the page was passed on only when it does.
    const ACKNOWLEDGES: bool = false;

    /// Checks `config_json` when the gateway loads the target, sending
    /// nothing: a mistake is a [`Error::Config`] naming the key.
    fn validate_config(config_json: &str) -> Result<(), Error>;

    /// Pages for `incident`. Called again after a transient error or a
    /// crash, so it must be idempotent: send the dedup key.
    fn start(incident: &Incident, config_json: &str, send: &mut Send<'_>)
    -> Result<Receipt, Error>;

    /// Someone acknowledged after the page went out. By default the
    /// provider is not told (and [`Escalator::ACKNOWLEDGES`] is false).
    fn acknowledge(
        _incident: &Incident,
        _receipt: &Receipt,
        _who: Option<&str>,
        _config_json: &str,
        _send: &mut Send<'_>,
    ) -> Result<(), Error> {
        Ok(())
    }

    /// The alert resolved after the page went out. By default the provider
    /// is not told.
    fn resolve(
        _incident: &Incident,
        _receipt: &Receipt,
        _config_json: &str,
        _send: &mut Send<'_>,
    ) -> Result<(), Error> {
        Ok(())
    }
}

/// The value of the `other_*` map `map_key` that `incident.route` names,
/// or the default at `key`; an unknown name is a permanent error (the
/// gateway refuses such a request at ingest, so this is a config change
/// made since).
pub fn routed(
    settings: &Settings,
    incident: &Incident,
    key: &str,
    map_key: &str,
) -> Result<String, Error> {
    let Some(route) = incident.route.as_deref() else {
        return settings.required(key);
    };
    let entry = settings
        .value(map_key)
        .and_then(|m| m.get(route))
        .and_then(|v| v.as_str())
        .map(str::trim)
        .filter(|v| !v.is_empty());
    entry.map(str::to_owned).ok_or_else(|| {
        Error::Permanent(format!(
            "`{route}` is not an entry of {map_key} (or it is empty), so this alert has no target"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::{Incident, Settings, Urgency, percent_encode, routed};

    #[test]
    fn severities_read_as_five_urgencies() {
        for (severity, urgency) in [
            (Some("CRITICAL"), Urgency::Critical),
            (Some("page"), Urgency::Critical),
            (None, Urgency::Critical),
            (Some("major"), Urgency::High),
            (Some(" Warning "), Urgency::Medium),
            (Some("notice"), Urgency::Low),
            (Some("none"), Urgency::Info),
        ] {
            assert_eq!(Urgency::of(severity), urgency, "{severity:?}");
        }
    }

    #[test]
    fn keys_give_way_to_the_id_and_text_is_encoded() {
        let mut incident = Incident {
            id: "id-1".into(),
            dedup_key: " am:abc ".into(),
            ..Incident::default()
        };
        assert_eq!(incident.key_within(6), "am:abc");
        assert_eq!(incident.key_within(5), "id-1");
        incident.dedup_key = " ".into();
        assert_eq!(incident.key_within(100), "id-1");
        assert_eq!(percent_encode("a b/é^=~-._"), "a%20b%2F%C3%A9%5E%3D~-._");
    }

    #[test]
    fn the_route_picks_an_entry_and_an_unknown_one_is_refused() {
        let s = Settings::parse(
            "p",
            r#"{"key": "main", "others": {"infra": "k-infra", "blank": " "}}"#,
        )
        .expect("settings");
        let mut incident = Incident::default();
        assert_eq!(
            routed(&s, &incident, "key", "others").ok().as_deref(),
            Some("main")
        );
        incident.route = Some("infra".into());
        assert_eq!(
            routed(&s, &incident, "key", "others").ok().as_deref(),
            Some("k-infra")
        );
        for name in ["blank", "nope"] {
            incident.route = Some(name.into());
            let err = routed(&s, &incident, "key", "others").expect_err(name);
            assert!(err.to_string().contains(name), "{err}");
        }
    }

    #[test]
    fn labels_are_an_object_or_nothing() {
        let mut incident = Incident {
            labels_json: r#"{"service":"api"}"#.into(),
            ..Incident::default()
        };
        assert_eq!(incident.labels()["service"], "api");
        incident.labels_json = "[1]".into();
        assert!(incident.labels().is_empty());
    }
}
