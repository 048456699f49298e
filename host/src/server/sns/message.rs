//! An SNS message as posted over HTTP(S): its fields, and the text AWS
//! signs for each message type (AWS's "Verifying the signatures of Amazon
//! SNS messages": the named fields in order, each as `Name\nvalue\n`).

use serde_json::{Map, Value};

/// The three message types SNS posts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Notification,
    SubscriptionConfirmation,
    UnsubscribeConfirmation,
}

/// The fields of one message (every one AWS signs, plus the signature).
#[derive(Debug, Clone)]
pub struct Message {
    pub kind: Kind,
    fields: Map<String, Value>,
}

/// The fields signed, in order, for a notification (`Subject` only when
/// present) and for the two confirmations.
const NOTIFICATION: &[&str] = &[
    "Message",
    "MessageId",
    "Subject",
    "Timestamp",
    "TopicArn",
    "Type",
];
const CONFIRMATION: &[&str] = &[
    "Message",
    "MessageId",
    "SubscribeURL",
    "Timestamp",
    "Token",
    "TopicArn",
    "Type",
];

/// The fields every message must carry besides the signed ones.
const SIGNATURE: &[&str] = &["SignatureVersion", "Signature", "SigningCertURL"];

impl Message {
    /// Reads a posted body.
    ///
    /// # Errors
    ///
    /// What is wrong: not a JSON object, an unknown `Type`, or a missing
    /// or non-string field.
    pub fn parse(body: &[u8]) -> Result<Message, String> {
        let fields: Map<String, Value> = serde_json::from_slice(body)
            .map_err(|e| format!("not an SNS message (a JSON object): {e}"))?;
        let kind = match fields.get("Type").and_then(Value::as_str) {
            Some("Notification") => Kind::Notification,
            Some("SubscriptionConfirmation") => Kind::SubscriptionConfirmation,
            Some("UnsubscribeConfirmation") => Kind::UnsubscribeConfirmation,
            Some(other) => return Err(format!("unknown SNS message Type `{other}`")),
            None => return Err("not an SNS message: no `Type`".to_string()),
        };
        let message = Message { kind, fields };
        for name in message.signed_fields().iter().chain(SIGNATURE) {
            if *name == "Subject" {
                continue;
            }
            if message.get(name).is_none() {
                return Err(format!("the SNS message has no `{name}`"));
            }
        }
        if let Some(subject) = message.fields.get("Subject")
            && !subject.is_string()
            && !subject.is_null()
        {
            return Err("the SNS message's `Subject` is not text".to_string());
        }
        Ok(message)
    }

    fn signed_fields(&self) -> &'static [&'static str] {
        match self.kind {
            Kind::Notification => NOTIFICATION,
            _ => CONFIRMATION,
        }
    }

    /// A field's text, if present (a JSON string).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields.get(name).and_then(Value::as_str)
    }

    /// A field AWS always sends (checked by [`Message::parse`]).
    pub fn field(&self, name: &str) -> &str {
        self.get(name).unwrap_or_default()
    }

    /// The text the signature covers.
    pub fn string_to_sign(&self) -> String {
        let mut text = String::new();
        for name in self.signed_fields() {
            if let Some(value) = self.get(name) {
                text.push_str(name);
                text.push('\n');
                text.push_str(value);
                text.push('\n');
            }
        }
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notification_signs_its_fields_in_order_with_an_optional_subject() {
        let body = br#"{"Type":"Notification","MessageId":"m1","TopicArn":"arn:t","Subject":"s",
            "Message":"hello","Timestamp":"2026-01-01T00:00:00.000Z","SignatureVersion":"1",
            "Signature":"x","SigningCertURL":"https://c","UnsubscribeURL":"https://u"}"#;
        let m = Message::parse(body).expect("parses");
        assert_eq!(m.kind, Kind::Notification);
        assert_eq!(
            m.string_to_sign(),
            "Message\nhello\nMessageId\nm1\nSubject\ns\nTimestamp\n2026-01-01T00:00:00.000Z\n\
             TopicArn\narn:t\nType\nNotification\n"
        );
        let without: Vec<u8> = String::from_utf8_lossy(body)
            .replace(r#""Subject":"s","#, "")
            .into();
        let m = Message::parse(&without).expect("parses");
        assert!(!m.string_to_sign().contains("Subject"));
    }

    #[test]
    fn a_confirmation_signs_its_url_and_token() {
        let body = br#"{"Type":"SubscriptionConfirmation","MessageId":"m","Token":"tok",
            "TopicArn":"arn:t","Message":"confirm","SubscribeURL":"https://s",
            "Timestamp":"t","SignatureVersion":"2","Signature":"x","SigningCertURL":"https://c"}"#;
        let m = Message::parse(body).expect("parses");
        assert_eq!(
            m.string_to_sign(),
            "Message\nconfirm\nMessageId\nm\nSubscribeURL\nhttps://s\nTimestamp\nt\nToken\ntok\n\
             TopicArn\narn:t\nType\nSubscriptionConfirmation\n"
        );
    }

    #[test]
    fn missing_fields_and_unknown_types_are_refused() {
        assert!(Message::parse(b"[]").is_err());
        assert!(Message::parse(br#"{"Type":"Other"}"#).is_err());
        let err = Message::parse(br#"{"Type":"Notification","MessageId":"m"}"#).unwrap_err();
        assert!(err.contains("no `Message`"), "{err}");
    }
}
