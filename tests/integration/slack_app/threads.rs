//! `alert.slack.threads`: one message per incident, its story in the thread.

use std::time::Duration;

use super::{SIGNING_SECRET, click, raise, signed};
use crate::common::eventually;
use crate::gateway::Process;
use crate::oncall_rig::{Rig, payload, post};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_threads_the_repeat_the_notes_and_the_resolve_reply_under_the_first_message() {
    let rig = Rig::new().await;
    let yaml = rig.yaml_with("  host: 127.0.0.1\n  port: 6379\n").replacen(
        "  slack:\n    enable: true\n",
        "  slack:\n    enable: true\n    threads: true\n    broadcast_resolved: true\n",
        1,
    );
    assert!(
        yaml.contains("threads: true"),
        "the rig's config changed shape"
    );
    let mut env = rig.env();
    env.push(("SLACK_SIGNING_SECRET", SIGNING_SECRET.into()));
    let gw = Process::start(&rig.dir("threads"), &yaml, &env).await;
    let posts = || rig.slack.calls("chat.postMessage");

    // The first message, then a repeat of the alert: in its thread.
    let id = raise(&gw, "slack-threads", 3.0).await;
    let again = raise(&gw, "slack-threads", 3.0).await;
    assert_eq!(again, id, "the repeat joined the incident");
    assert_eq!(posts().len(), 2);
    let parent_ts = crate::slack_emulator::TS;
    assert_eq!(posts()[0].get("thread_ts"), None);
    assert_eq!(posts()[1]["thread_ts"], parent_ts);
    let repeat_blocks = posts()[1]["attachments"][0]["blocks"].clone();
    assert!(
        repeat_blocks
            .as_array()
            .is_some_and(|b| b.iter().all(|b| b["type"] == "section")),
        "a reply has no buttons: {repeat_blocks}"
    );

    // Acknowledged in Slack: the first message is edited, and the thread
    // gets a note naming the person.
    let (status, _, _) = signed(&gw, click(&rig.slack, "ack_incident", &id)).await;
    assert_eq!(status, 200);
    assert!(
        eventually(Duration::from_secs(10), async || posts().len() == 3).await,
        "{}",
        gw.log()
    );
    assert_eq!(posts()[2]["thread_ts"], parent_ts);
    assert!(
        posts()[2]["text"]
            .as_str()
            .is_some_and(|t| t.starts_with("✅ Acknowledged by <@U123> at ")),
        "{}",
        posts()[2]
    );

    // Resolved: the resolve is posted in the thread and, as asked, in the
    // channel too; the first message turns green.
    let (status, body) = post(&gw, "", payload("resolved", "slack-threads")).await;
    assert!(status == 200 || status == 201, "{status} {body}");
    assert!(
        eventually(Duration::from_secs(10), async || rig
            .slack
            .calls("chat.update")
            .len()
            == 2)
        .await
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    let posts = posts();
    assert_eq!(posts.len(), 4, "{posts:#?}");
    assert_eq!(posts[3]["thread_ts"], parent_ts);
    assert_eq!(posts[3]["reply_broadcast"], true);
    assert_eq!(posts[3]["attachments"][0]["color"], "#36A64F");
    let updates = rig.slack.calls("chat.update");
    let edited: Vec<(&str, &str)> = updates
        .iter()
        .map(|u| {
            (
                u["ts"].as_str().unwrap_or(""),
                u["attachments"][0]["color"].as_str().unwrap_or(""),
            )
        })
        .collect();
    assert_eq!(edited, [(parent_ts, "#439FE0"), (parent_ts, "#36A64F")]);
}
