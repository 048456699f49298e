//! The channel as the host drives it, with a fake `Send` for Slack.

use versus_plugin_sdk::chat::{Channel, EventInfo, Response};

use crate::{Change, Error, Receipt, Request, Slack};

const CONFIG: &str =
    r#"{"token":"xoxb-test","channel_id":"C0123","api_url":"http://slack.test/api/"}"#;

fn answer(body: &'static str) -> impl FnMut(Request) -> Result<Response, crate::HttpError> {
    move |_| {
        Ok(Response {
            status: 200,
            headers: vec![],
            body: body.as_bytes().to_vec(),
        })
    }
}

#[test]
fn delivery_posts_and_keeps_where_the_message_lives() {
    let mut sent = Vec::new();
    let mut send = |r: Request| {
        sent.push(r);
        answer(r#"{"ok":true,"channel":"C9","ts":"1700000000.000100"}"#)(Request::get(""))
    };
    let receipt =
        Slack::deliver("disk full", &EventInfo::default(), CONFIG, &mut send).expect("posted");
    assert_eq!(
        receipt,
        Receipt {
            destination: "C9".into(),
            message_id: "1700000000.000100".into()
        }
    );
    Slack::update(
        &receipt,
        Change::Acknowledged,
        "disk full",
        &EventInfo::default(),
        CONFIG,
        &mut send,
    )
    .expect("updated");
    assert_eq!(sent[0].url, "http://slack.test/api/chat.postMessage");
    assert_eq!(sent[1].url, "http://slack.test/api/chat.update");
}

#[test]
fn slacks_own_refusals_are_classified() {
    let limited = Slack::deliver(
        "m",
        &EventInfo::default(),
        CONFIG,
        &mut answer(r#"{"ok":false,"error":"ratelimited"}"#),
    );
    assert!(
        matches!(limited, Err(Error::Transient { .. })),
        "{limited:?}"
    );
    let missing = Slack::deliver(
        "m",
        &EventInfo::default(),
        CONFIG,
        &mut answer(r#"{"ok":false,"error":"channel_not_found"}"#),
    );
    assert!(matches!(missing, Err(Error::Permanent(_))), "{missing:?}");
    let no_token = Slack::validate_config(r#"{"channel_id":"C1"}"#);
    assert!(matches!(no_token, Err(Error::Config(_))), "{no_token:?}");
}
