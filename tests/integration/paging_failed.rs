//! A page that could not be started is told, not hidden: AWS refuses the
//! response plan for good, and the Slack message (a `versus:gateway@0.2.0`
//! channel) is changed in place to say that paging failed, a Telegram chat
//! (a 0.1.0 channel, which cannot change its message) gets a message of its
//! own, the ACK page and its button say so, and `/metrics` and the log at
//! error level raise it. Each chat hears it exactly once.

use std::time::Duration;

use crate::chat_emulator::{ChatEmulator, Mode};
use crate::common::eventually;
use crate::gateway::Process;
use crate::oncall_rig::{Rig, ack, ack_url_of, get, payload, post, state_of};
use crate::ssm_emulator::Failure;

use crate::oncall_rig::TELEGRAM_OK;

/// The `sendMessage` texts Telegram received.
fn telegram_texts(telegram: &ChatEmulator) -> Vec<String> {
    telegram
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/sendMessage"))
        .map(|r| r.json()["text"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_that_failed_is_shown_in_every_chat_once_and_on_the_ack_page() {
    let rig = Rig::new().await;
    rig.ssm.fail_next(usize::MAX, Failure::AccessDenied);
    let telegram = ChatEmulator::start(Mode::Ok(TELEGRAM_OK)).await;
    let gw = Process::start(
        &rig.dir("gw"),
        &rig.yaml_with_telegram(&telegram),
        &rig.env(),
    )
    .await;

    // 1.2 s to acknowledge, and nobody does.
    let (status, body) = post(
        &gw,
        "oncall_wait_minutes=0.02",
        payload("critical", "paging-failed"),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().expect("id").to_string();
    let link = ack_url_of(&rig.slack, 0).expect("the Slack message has an ACK button");

    let failed = eventually(Duration::from_secs(10), async || {
        state_of(&gw, &id).await == "escalation_failed"
    })
    .await;
    assert!(failed, "not marked escalation_failed:\n{}", gw.log());
    let told = eventually(Duration::from_secs(10), async || {
        !rig.slack.calls("chat.update").is_empty() && telegram_texts(&telegram).len() == 2
    })
    .await;
    assert!(told, "the chats were not told:\n{}", gw.log());
    // Well past any late duplicate.
    tokio::time::sleep(Duration::from_millis(1000)).await;

    // Slack: the one message, changed in place, once.
    let updates = rig.slack.calls("chat.update");
    assert_eq!(updates.len(), 1, "{updates:#?}");
    let attachment = &updates[0]["attachments"][0];
    assert_eq!(attachment["color"], "#1D1C1D", "{attachment}");
    let blocks = attachment["blocks"].as_array().expect("blocks");
    assert_eq!(
        blocks.last().expect("a block")["elements"][0]["text"],
        "⛔ *Paging failed* — nobody was paged. Page the on-call team by hand.",
        "{attachment}"
    );
    assert!(
        blocks.iter().all(|b| b["type"] != "actions"),
        "the ACK button is still there: {attachment}"
    );
    assert_eq!(rig.slack.posted().len(), 1);

    // Telegram: the alert, then one notice of its own that names the
    // incident and repeats the alert.
    let texts = telegram_texts(&telegram);
    assert_eq!(texts.len(), 2, "{texts:#?}");
    let notice = &texts[1];
    assert!(
        notice.starts_with("PAGING FAILED: ") && notice.contains("Page the on-call team by hand"),
        "{notice}"
    );
    assert!(notice.contains(&id), "{notice}");
    assert!(notice.ends_with(texts[0].as_str()), "{notice}");

    // The ACK page, before and after its button.
    let (status, page) = get(&link, "text/html").await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Paging failed"), "{page}");
    let (status, answer) = ack(&link, "text/html").await;
    assert_eq!(status, 409, "{answer}");
    assert!(
        answer.contains("Paging failed")
            && answer.contains("nobody was paged")
            && answer.contains("Page the on-call engineers by hand"),
        "{answer}"
    );

    // Counted and logged at error level; AWS was asked once.
    let (_, metrics) = crate::metrics::scrape(&gw).await;
    assert_eq!(
        crate::metrics::sample(&metrics, "versus_escalations_failed_total"),
        Some(1.0),
        "{metrics}"
    );
    let log = gw.log();
    assert!(
        log.lines()
            .any(|l| l.contains("ERROR") && l.contains("ESCALATION FAILED")),
        "{log}"
    );
    assert_eq!(rig.ssm.attempts().len(), 1);
    assert!(rig.ssm.calls().is_empty());
}
