//! Each status change is shown once per chat message, even when it races
//! the first delivery: an escalation (or an ACK) that lands while the
//! message is still being posted is shown both by the change itself, once
//! it finds the message's receipt, and by the delivery, once it finds the
//! change. The store's compare-and-set of each message's shown state lets
//! exactly one of them send the update. The race is forced by running both
//! paths to completion one after the other, on Redis and in memory.

use std::sync::Arc;

use tokio::sync::Notify;
use versus::config::AwsIncidentManagerConfig;
use versus::incident::ChannelOutcome;
use versus::oncall::{
    AckSigner, Acked, Clock, Escalator, MemoryStore, NewIncident, OnCall, Settings, Store,
};
use versus::pipeline::Reloader;
use versus::pipeline::bindings::StatusChange;
use versus::pipeline::bindings::types::Receipt;

use crate::common::{fixture, loader};
use crate::oncall_race::{connect, delete_keys};
use crate::slack_emulator::{Mode, SlackEmulator, TS};

async fn oncall(store: Store, slack: &SlackEmulator, dir: &std::path::Path) -> Arc<OnCall> {
    let config = dir.join("config.yaml");
    std::fs::write(
        &config,
        format!(
            "alert:\n  slack:\n    enable: true\n    token: xoxb-test\n    channel_id: C123\n    \
             template_path: {}\n    api_url: {}\nplugins:\n  watch: false\n",
            fixture("templates/slack_message.tmpl").display(),
            slack.api_url()
        ),
    )
    .expect("write config");
    let reloader = Reloader::start(config, loader()).await.expect("pipeline");
    let aws = AwsIncidentManagerConfig {
        endpoint_url: Some("http://127.0.0.1:9".into()),
        region: Some("us-east-1".into()),
        ..Default::default()
    };
    Arc::new(OnCall {
        store,
        signer: AckSigner::new(b"update-once".to_vec()),
        escalator: Escalator::new(&aws).await,
        clock: Clock::System,
        settings: Settings::default(),
        reloader,
        wake: Arc::new(Notify::new()),
        stats: Default::default(),
    })
}

fn incident(id: &str, now: i64) -> NewIncident {
    NewIncident {
        id: id.into(),
        created_ms: now,
        deadline_ms: now,
        response_plan_arn: "arn:aws:ssm-incidents::111122223333:response-plan/once".into(),
        title: "once".into(),
        impact: None,
        severity: None,
        dedup_key: None,
        ack_exp: now / 1000 + 3600,
        ack_expiry_ms: 0,
        details: Default::default(),
    }
}

/// What the Slack channel answered when it posted the first message.
fn delivered() -> ChannelOutcome {
    ChannelOutcome {
        attempts: 1,
        receipt: Some(Receipt {
            destination: "C123".into(),
            message_id: TS.into(),
        }),
        message: Some("disk full".into()),
        ..ChannelOutcome::new("slack", "delivered")
    }
}

fn updates(slack: &SlackEmulator) -> usize {
    slack
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("chat.update"))
        .count()
}

async fn each_change_is_shown_once(store: Store) {
    let slack = SlackEmulator::start(Mode::Ok).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let oc = oncall(store.clone(), &slack, dir.path()).await;
    let now = Clock::System.now_ms();

    // Escalated while the first message was being posted: the escalation
    // found no receipt yet, then the delivery's receipts find it escalated
    // and show it; the escalation's own update, once it runs, is not sent
    // again.
    store.create(&incident("esc", now)).await.expect("create");
    let claimed = store.claim_due(now, now + 60_000, 10).await.expect("claim");
    assert_eq!(claimed, ["esc"]);
    let paged = versus::oncall::TargetState::Paged;
    assert!(crate::store_suite::finish_one(&store, "esc", paged, None, None, now, now).await);
    oc.record_receipts("esc", &[delivered()], true).await;
    assert_eq!(updates(&slack), 1);
    oc.update_channels("esc", StatusChange::Escalated).await;
    assert_eq!(updates(&slack), 1, "the escalation was shown twice");

    // Resolved: shown once, however often it is told, and never back to
    // "escalated" afterwards.
    oc.update_channels("esc", StatusChange::Resolved).await;
    oc.update_channels("esc", StatusChange::Resolved).await;
    assert_eq!(updates(&slack), 2);
    oc.update_channels("esc", StatusChange::Escalated).await;
    assert_eq!(updates(&slack), 2, "a resolved message went back");

    // Acknowledged while the first message was being posted: the delivery
    // finds the ACK and shows it; the ACK's own update, reaching the store
    // after the receipt, does not show it again.
    store
        .create(&incident("ack", now + 3_600_000))
        .await
        .expect("create");
    assert!(matches!(store.ack("ack", now, None).await, Ok(Acked::Done)));
    oc.record_receipts("ack", &[delivered()], true).await;
    assert_eq!(updates(&slack), 3);
    oc.update_channels("ack", StatusChange::Acknowledged).await;
    assert_eq!(updates(&slack), 3, "the ACK was shown twice");

    // The updates went to the right message, each with its change.
    let bodies: Vec<_> = slack
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("chat.update"))
        .map(|r| r.body)
        .collect();
    for body in &bodies {
        assert_eq!(body["channel"], "C123");
        assert_eq!(body["ts"], TS);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_change_is_shown_once_on_redis() {
    let prefix = format!("versus-test-{}:", uuid::Uuid::new_v4());
    each_change_is_shown_once(connect(&prefix).await).await;
    delete_keys(&prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_change_is_shown_once_in_memory() {
    each_change_is_shown_once(Store::Memory(MemoryStore::default())).await;
}
