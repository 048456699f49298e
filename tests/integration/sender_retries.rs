//! A sender that got no success answer sends the same notification again.
//! That copy must go only to the channels that do not have it, and must not
//! start a second escalation, even when the alert has no dedup key. And an
//! attempt the retry budget cut short is not dropped: it finishes in the
//! background, and its message is still updated later.

use std::time::Duration;

use serde_json::{Value, json};

use crate::chat_emulator::{ChatEmulator, Mode as ChatMode};
use crate::common::eventually;
use crate::gateway::Process;
use crate::oncall_rig::{Rig, Setup, post, state_of, wait_for};
use crate::slack_emulator::Mode;

/// A generic alert: no `dedup_key` or `fingerprint`, so nothing but the
/// ledger can tell that a second copy is the same notification.
fn alert() -> Vec<u8> {
    serde_json::to_vec(&json!({"title": "disk full on db-1", "status": "firing"})).expect("json")
}

/// The rig's config with `{{.title}}` as the template and `retry` lines
/// (indented under `alert:`), plus `extra` channel sections.
fn config(rig: &Rig, retry: &str, extra: &str) -> String {
    let template = rig.dir("templates").join("title.tmpl");
    std::fs::write(&template, "{{.title}}").expect("write template");
    let yaml = rig.yaml(&Setup {
        template,
        ..Setup::redis_port(6379)
    });
    assert!(yaml.contains("alert:\n"), "the rig's config changed shape");
    yaml.replacen("alert:\n", &format!("alert:\n{retry}{extra}"), 1)
}

fn posts(rig: &Rig) -> usize {
    rig.slack.calls("chat.postMessage").len()
}

fn updates(rig: &Rig) -> Vec<Value> {
    rig.slack.calls("chat.update")
}

/// The answer's outcome for `channel`.
fn channel<'a>(answer: &'a Value, channel: &str) -> &'a Value {
    answer["channels"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["channel"] == channel))
        .unwrap_or_else(|| panic!("no {channel} in {answer}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attempt_cut_by_the_budget_finishes_and_its_retry_posts_and_pages_nothing_twice() {
    // Slack answers after 2 s; the budget is 1 s.
    let rig = Rig::with_slack(Mode::Slow(Duration::from_secs(2))).await;
    let yaml = config(&rig, "  retry:\n    max_elapsed: 1s\n", "");
    let gw = Process::start(&rig.dir("gw"), &yaml, &rig.env()).await;

    let (status, first) = post(&gw, "oncall_wait_minutes=0", alert()).await;
    assert_eq!(status, 502, "{first}");
    let slack = channel(&first, "slack");
    assert_eq!(slack["status"], "in_flight", "{first}");
    assert!(
        slack["error"]
            .as_str()
            .is_some_and(|e| e.contains("goes on in the background")),
        "{first}"
    );
    let id = first["id"].as_str().expect("id").to_string();
    // The cut attempt still posts, once.
    assert!(
        wait_for(Duration::from_secs(5), || !rig.slack.posted().is_empty()).await,
        "the cut attempt never finished:\n{}",
        gw.log()
    );

    // The sender's retry: same query, same body.
    let (status, again) = post(&gw, "oncall_wait_minutes=0", alert()).await;
    assert_eq!(status, 201, "{again}");
    assert_eq!(again["id"], id.as_str(), "{again}");
    let slack = channel(&again, "slack");
    assert_eq!(
        (
            &slack["status"],
            &slack["delivered_before"],
            &slack["attempts"]
        ),
        (&json!("delivered"), &json!(true), &json!(0)),
        "{again}"
    );

    // One page, and the cut attempt's message was kept: it is updated to
    // say so, once.
    let escalated = eventually(Duration::from_secs(10), async || {
        state_of(&gw, &id).await == "escalated"
    })
    .await;
    assert!(escalated, "not escalated:\n{}", gw.log());
    assert!(
        wait_for(Duration::from_secs(8), || updates(&rig).len() == 1).await,
        "the late message was not updated:\n{}",
        gw.log()
    );
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(posts(&rig), 1);
    assert_eq!(updates(&rig).len(), 1, "{:#?}", updates(&rig));
    assert_eq!(rig.ssm.calls().len(), 1, "{:?}", rig.ssm.calls());
    assert!(
        gw.log()
            .contains("delivered after the retry budget ran out"),
        "{}",
        gw.log()
    );
}

/// Slack delivers, Telegram fails once; the sender's retry reaches only
/// Telegram. `window` is `alert.dedup_window`; the count of Slack posts
/// the retry leads to is returned.
async fn retry_after_one_channel_failed(window: &str) -> (usize, Rig) {
    let rig = Rig::new().await;
    let telegram = ChatEmulator::start(ChatMode::FailOnce {
        status: 500,
        body: r#"{"ok":false,"error_code":500,"description":"Internal Server Error"}"#,
        retry_after: None,
        ok: r#"{"ok":true,"result":{"message_id":42,"chat":{"id":-1001}}}"#,
    })
    .await;
    // A budget shorter than the first backoff: one attempt per request.
    let retry = format!("  retry:\n    max_elapsed: 300ms\n  dedup_window: {window}\n");
    let section = format!(
        "  telegram:\n    enable: true\n    bot_token: \"123:abc\"\n    chat_id: \"-1001\"\n    \
         template_path: {}\n    api_url: {}/\n",
        rig.dir("templates").join("title.tmpl").display(),
        telegram.base()
    );
    let yaml = config(&rig, &retry, &section);
    let gw = Process::start(&rig.dir("gw"), &yaml, &rig.env()).await;

    let (status, first) = post(&gw, "oncall_wait_minutes=0", alert()).await;
    assert_eq!(status, 502, "{first}");
    assert_eq!(channel(&first, "slack")["status"], "delivered", "{first}");
    assert_eq!(channel(&first, "telegram")["status"], "failed", "{first}");

    let (status, again) = post(&gw, "oncall_wait_minutes=0", alert()).await;
    assert_eq!(status, 201, "{again}");
    assert_eq!(
        channel(&again, "telegram")["status"],
        "delivered",
        "{again}"
    );
    let sends = telegram
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/sendMessage"))
        .count();
    assert_eq!(sends, 2);
    if window != "0s" {
        assert_eq!(again["id"], first["id"], "{again}");
        assert_eq!(
            channel(&again, "slack")["delivered_before"],
            true,
            "{again}"
        );
    }
    // Well past any page the second copy could start.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    (posts(&rig), rig)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_goes_only_to_the_channel_that_failed_and_pages_once() {
    let (slack_posts, rig) = retry_after_one_channel_failed("10m").await;
    assert_eq!(slack_posts, 1);
    assert_eq!(rig.ssm.calls().len(), 1, "{:?}", rig.ssm.calls());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_no_dedup_window_a_retry_is_a_new_notification() {
    let (slack_posts, rig) = retry_after_one_channel_failed("0s").await;
    assert_eq!(slack_posts, 2);
    assert_eq!(rig.ssm.calls().len(), 2, "{:?}", rig.ssm.calls());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_array_pages_and_posts_each_alert_once() {
    // Slack refuses its first call: one of the two alerts fails, so the
    // whole request is answered 502 and the sender sends it again.
    let script = std::sync::Arc::new(vec![crate::slack_emulator::Fault::ServerError]);
    let rig = Rig::with_slack(Mode::Scripted(script)).await;
    let yaml = config(&rig, "  retry:\n    max_elapsed: 300ms\n", "");
    let gw = Process::start(&rig.dir("gw"), &yaml, &rig.env()).await;
    let body = serde_json::to_vec(&json!([
        {"title": "disk full on db-1", "status": "firing"},
        {"title": "disk full on db-2", "status": "firing"},
    ]))
    .expect("json");

    let (status, first) = post(&gw, "oncall_wait_minutes=0", body.clone()).await;
    assert_eq!(status, 502, "{first}");
    let (status, again) = post(&gw, "oncall_wait_minutes=0", body).await;
    assert_eq!(status, 201, "{again}");
    // Well past any page a second copy could start.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(rig.slack.posted().len(), 2, "{:#?}", rig.slack.posted());
    assert_eq!(posts(&rig), 3);
    assert_eq!(rig.ssm.calls().len(), 2, "{:?}", rig.ssm.calls());
}
