//! Telegram edits its message on ACK and resolve (`editMessageText`), as
//! Slack does: the real binary, on-call on real Redis, a Bot API emulator.
//! Each change is one edit of the message `sendMessage` returned, with the
//! text as first sent and a line saying what happened.

use std::time::Duration;

use serde_json::Value;

use crate::chat_emulator::{ChatEmulator, Mode};
use crate::gateway::Process;
use crate::oncall_rig::{Rig, TELEGRAM_OK, ack, ack_url_of, payload, post, wait_for};

/// The JSON bodies of the Bot API calls to `method`.
fn calls(telegram: &ChatEmulator, method: &str) -> Vec<Value> {
    let path = format!("/{method}");
    telegram
        .requests()
        .iter()
        .filter(|r| r.path.ends_with(&path))
        .map(|r| r.json())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ack_and_resolve_each_edit_the_telegram_message_once() {
    let rig = Rig::new().await;
    let telegram = ChatEmulator::start(Mode::Ok(TELEGRAM_OK)).await;
    let gw = Process::start(
        &rig.dir("gw"),
        &rig.yaml_with_telegram(&telegram),
        &rig.env(),
    )
    .await;

    let (status, body) = post(&gw, "", payload("critical", "tg-edits")).await;
    assert_eq!(status, 201, "{body}");
    let sent = calls(&telegram, "sendMessage");
    assert_eq!(sent.len(), 1);
    let first = sent[0]["text"].as_str().expect("text").to_string();

    let link = ack_url_of(&rig.slack, 0).expect("an ACK link");
    let (status, answer) = ack(&link, "application/json").await;
    assert_eq!(status, 200, "{answer}");
    assert!(
        wait_for(Duration::from_secs(5), || calls(
            &telegram,
            "editMessageText"
        )
        .len()
            == 1)
        .await,
        "no edit after the ACK:\n{}",
        gw.log()
    );

    let (status, body) = post(&gw, "", payload("resolved", "tg-edits")).await;
    assert_eq!(status, 201, "{body}");
    assert!(
        wait_for(Duration::from_secs(5), || calls(
            &telegram,
            "editMessageText"
        )
        .len()
            == 2)
        .await,
        "no edit after the resolve:\n{}",
        gw.log()
    );
    tokio::time::sleep(Duration::from_millis(1000)).await;

    let edits = calls(&telegram, "editMessageText");
    assert_eq!(edits.len(), 2, "{edits:#?}");
    for (edit, note) in edits.iter().zip([
        "✅ <b>Acknowledged</b> — escalation cancelled",
        "✅ <b>Resolved</b>",
    ]) {
        assert_eq!(edit["chat_id"], "-1001", "{edit}");
        assert_eq!(edit["message_id"], 42, "{edit}");
        assert_eq!(edit["parse_mode"], "HTML", "{edit}");
        assert_eq!(
            edit["text"].as_str().unwrap_or_default(),
            format!("{}\n\n{note}", first.trim_end()),
            "{edit}"
        );
    }
    // The resolved notification is a message of its own, as before.
    assert_eq!(calls(&telegram, "sendMessage").len(), 2);
    assert!(rig.ssm.calls().is_empty());
}
