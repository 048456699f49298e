//! Built-in email channel: sends the rendered message as an HTML mail
//! through the host's `versus:mail/smtp` import, to `to` (a comma-separated
//! list, as upstream) with `subject`.
//!
//! The SMTP server, its credentials and the sender are the host's; this
//! plugin only decides what the mail says. The subject is the configured
//! one (or `?email_subject=`); when that is empty, the message's first line
//! without tags. Line breaks and other control characters in the subject
//! become spaces, so no value can add a header (the host refuses them too).

use versus_plugin_sdk::chat::{Error, EventInfo, Settings};

/// Longest subject we derive from a message, in characters.
const DERIVED_SUBJECT_LIMIT: usize = 150;

/// What to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mail {
    /// Recipients.
    pub to: Vec<String>,
    /// One-line subject.
    pub subject: String,
    /// HTML body.
    pub html_body: String,
}

/// Builds the mail for `message` from the channel config (`to`, `subject`).
pub fn build(message: &str, _event: &EventInfo, config_json: &str) -> Result<Mail, Error> {
    let s = Settings::parse("email", config_json)?;
    let to = recipients(&s.required("to")?);
    if to.is_empty() {
        return Err(Error::Config(
            "email.to has no address: give one or more, separated by commas".into(),
        ));
    }
    if message.trim().is_empty() {
        return Err(Error::InvalidInput(
            "the rendered message is empty; check the template".into(),
        ));
    }
    let subject = match s.text("subject")? {
        Some(subject) => one_line(&subject),
        None => derived_subject(message),
    };
    Ok(Mail {
        to,
        subject,
        html_body: message.to_owned(),
    })
}

/// Upstream's list form: comma-separated, trimmed, empty items dropped.
pub fn recipients(to: &str) -> Vec<String> {
    to.split(',')
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .map(str::to_owned)
        .collect()
}

/// `text` on one line: every control character (CR and LF included)
/// becomes a space, runs of spaces collapse, and the ends are trimmed.
pub fn one_line(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let c = if c.is_control() { ' ' } else { c };
        if c == ' ' && (out.is_empty() || out.ends_with(' ')) {
            continue;
        }
        out.push(c);
    }
    out.truncate(out.trim_end().len());
    out
}

/// The first line of `message` with tags removed, for a missing subject.
pub fn derived_subject(message: &str) -> String {
    let line = message
        .lines()
        .map(strip_tags)
        .map(|l| one_line(&l))
        .find(|l| !l.is_empty())
        .unwrap_or_else(|| "Versus incident".into());
    if line.chars().count() <= DERIVED_SUBJECT_LIMIT {
        return line;
    }
    let mut cut: String = line.chars().take(DERIVED_SUBJECT_LIMIT - 1).collect();
    cut.push('…');
    cut
}

fn strip_tags(line: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in line.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

/// Checks the config the way [`build`] reads it, sending nothing.
pub fn validate_config(config_json: &str) -> Result<(), Error> {
    let s = Settings::parse("email", config_json)?;
    if recipients(&s.required("to")?).is_empty() {
        return Err(Error::Config(
            "email.to has no address: give one or more, separated by commas".into(),
        ));
    }
    s.text("subject").map(drop)
}

#[cfg(target_arch = "wasm32")]
mod component {
    //! The component glue: the `email-channel` world of `versus:mail@0.2.0`,
    //! mail through the host.

    // The code `generate!` emits passes every WIT parameter (lowered) as
    // its own argument.
    #![allow(clippy::too_many_arguments)]

    wit_bindgen::generate!({
        world: "versus:mail/email-channel@0.2.0",
        path: ["../../wit", "../../wit-0.2", "../../wit-mail", "../../wit-mail-0.2"],
        generate_all,
    });

    // The allocator (a bump arena, then the system's) is the SDK's.

    use versus::gateway0_1_0::log::{Level, log};
    use versus::gateway0_1_0::types::Retryable;
    use versus::mail0_1_0::smtp;
    use versus_plugin_sdk::chat;

    struct Email;

    impl Guest for Email {
        fn deliver(
            message: String,
            event: Event,
            config_json: String,
        ) -> Result<Receipt, PluginError> {
            send(&message, event, &config_json)
        }

        /// Mail cannot be edited: a change is not shown, except that
        /// paging failed, which is mailed on its own, since someone must
        /// act on it.
        fn update(
            _receipt: Receipt,
            change: StatusChange,
            message: String,
            event: Event,
            config_json: String,
        ) -> Result<(), PluginError> {
            if change != StatusChange::PagingFailed {
                return Ok(());
            }
            let notice = chat::paging_failed_notice(&event.id, &message);
            send(&notice, event, &config_json).map(drop)
        }

        fn validate_config(config_json: String) -> Result<(), PluginError> {
            crate::validate_config(&config_json).map_err(to_wit)
        }
    }

    fn send(message: &str, event: Event, config_json: &str) -> Result<Receipt, PluginError> {
        let info = chat::EventInfo {
            id: event.id,
            resolved: event.resolved,
            severity: event.severity,
            ack_url: event.ack_url,
            payload: event.payload,
        };
        let mail = crate::build(message, &info, config_json).map_err(|e| {
            log(Level::Warn, &format!("delivery failed: {e}"));
            to_wit(e)
        })?;
        let destination = mail.to.join(", ");
        let sent = smtp::send(&smtp::Mail {
            to: mail.to,
            subject: mail.subject,
            html_body: mail.html_body,
        });
        match sent {
            Ok(message_id) => Ok(Receipt {
                destination,
                message_id,
            }),
            Err(e) => {
                let err = match e {
                    smtp::Error::Invalid(m) => PluginError::InvalidInput(m),
                    smtp::Error::Transient(m) => PluginError::Transient(Retryable {
                        message: m,
                        retry_after_ms: None,
                    }),
                    smtp::Error::Permanent(m) => PluginError::Permanent(m),
                };
                log(Level::Warn, &format!("delivery failed: {err:?}"));
                Err(err)
            }
        }
    }

    fn to_wit(err: chat::Error) -> PluginError {
        match err {
            chat::Error::InvalidInput(m) => PluginError::InvalidInput(m),
            chat::Error::Config(m) => PluginError::Config(m),
            chat::Error::Transient {
                message,
                retry_after_ms,
            } => PluginError::Transient(Retryable {
                message,
                retry_after_ms,
            }),
            chat::Error::Permanent(m) => PluginError::Permanent(m),
        }
    }

    export!(Email);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recipients_are_a_comma_list() {
        assert_eq!(
            recipients(" a@x.org, ,b@y.org,"),
            ["a@x.org".to_string(), "b@y.org".to_string()]
        );
    }

    #[test]
    fn subjects_stay_on_one_line() {
        assert_eq!(
            one_line("Alert\r\nBcc: evil@x.org"),
            "Alert Bcc: evil@x.org"
        );
        assert_eq!(one_line("  a\t\tb \u{85} "), "a b");
        let mail = build(
            "<b>hi</b>",
            &EventInfo::default(),
            r#"{"to":"ops@x.org","subject":"Disk\nX-Injected: 1"}"#,
        )
        .expect("mail");
        assert_eq!(mail.subject, "Disk X-Injected: 1");
        assert!(!mail.subject.contains(['\r', '\n']));
    }

    #[test]
    fn a_missing_subject_comes_from_the_message() {
        let mail = build(
            "\n<h1>🔥 <b>CRITICAL</b>: HighErrorRate</h1>\n<p>x</p>",
            &EventInfo::default(),
            r#"{"to":"ops@x.org","subject":null}"#,
        )
        .expect("mail");
        assert_eq!(mail.subject, "🔥 CRITICAL: HighErrorRate");
        assert_eq!(
            derived_subject(&"é".repeat(400)).chars().count(),
            DERIVED_SUBJECT_LIMIT
        );
    }

    #[test]
    fn config_errors() {
        for bad in [r#"{}"#, r#"{"to":" , "}"#] {
            assert!(
                matches!(
                    build("m", &EventInfo::default(), bad),
                    Err(Error::Config(_))
                ),
                "{bad}"
            );
        }
        assert!(matches!(
            build(" ", &EventInfo::default(), r#"{"to":"a@b.c"}"#),
            Err(Error::InvalidInput(_))
        ));
    }

    #[test]
    fn the_config_is_checked_at_load_naming_the_key() {
        let no_to = validate_config("{}").expect_err("refused");
        assert!(
            matches!(&no_to, Error::Config(m) if m.contains("email.to")),
            "{no_to}"
        );
        let blank = validate_config(r#"{"to": " , "}"#).expect_err("refused");
        assert!(
            matches!(&blank, Error::Config(m) if m.contains("no address")),
            "{blank}"
        );
        validate_config(r#"{"to": "oncall@example.com", "subject": ""}"#).expect("valid");
    }
}
