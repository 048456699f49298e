//! One suite for the on-call store: every rule of the incident life cycle,
//! run against the memory store and against Redis, so the two cannot
//! drift apart. (The races have their own tests: `oncall_race`,
//! `update_once`.)

use std::future::Future;
use std::pin::Pin;

use versus::oncall::{
    Acked, Attempt, Created, MemoryStore, NewIncident, ResolvedOutcome, State, Store, StoredReceipt,
};
use versus::pipeline::bindings::StatusChange;

use crate::oncall_race::{connect, delete_keys};

const MINUTE_MS: i64 = 60_000;

type Scenario = fn(Store, i64) -> Pin<Box<dyn Future<Output = ()> + Send>>;

/// Every scenario, by name. Each gets a fresh store and the current time.
const SCENARIOS: &[(&str, Scenario)] = &[
    ("a repeat joins the open incident", |s, t| {
        Box::pin(a_repeat_joins_the_open_incident(s, t))
    }),
    ("an ACK moves a pending incident once", |s, t| {
        Box::pin(an_ack_moves_a_pending_incident_once(s, t))
    }),
    ("a due incident is claimed once and escalated", |s, t| {
        Box::pin(a_due_incident_is_claimed_once_and_escalated(s, t))
    }),
    (
        "a retry comes back at its time, then fails for good",
        |s, t| Box::pin(a_retry_comes_back_then_fails(s, t)),
    ),
    (
        "a resolve cancels a pending incident or closes an open one",
        |s, t| Box::pin(a_resolve_cancels_or_closes(s, t)),
    ),
    ("each change is shown once per message", |s, t| {
        Box::pin(each_change_is_shown_once_per_message(s, t))
    }),
    ("an acknowledged incident holds its group", |s, _| {
        Box::pin(crate::ack_hold::acknowledged_incident_holds_its_group(s))
    }),
];

fn incident(id: &str, now: i64, deadline: i64, key: Option<&str>) -> NewIncident {
    NewIncident {
        id: id.into(),
        created_ms: now,
        deadline_ms: deadline,
        response_plan_arn: "arn:aws:ssm-incidents::111122223333:response-plan/suite".into(),
        title: id.into(),
        impact: None,
        severity: Some("critical".into()),
        dedup_key: key.map(str::to_owned),
        ack_exp: deadline / 1000 + 3600,
        ack_expiry_ms: 24 * 60 * MINUTE_MS,
        details: Default::default(),
    }
}

async fn state(store: &Store, id: &str) -> State {
    store
        .get(id)
        .await
        .expect("get")
        .unwrap_or_else(|| panic!("no incident {id}"))
        .state
}

async fn a_repeat_joins_the_open_incident(store: Store, now: i64) {
    let first = incident("a", now, now + 3 * MINUTE_MS, Some("g"));
    assert_eq!(store.create(&first).await.expect("create"), Created::New);
    let repeat = incident("b", now + 1000, now + 4 * MINUTE_MS, Some("g"));
    assert_eq!(
        store.create(&repeat).await.expect("create"),
        Created::Joined {
            id: "a".into(),
            state: State::Pending,
            ack_exp: first.ack_exp,
        }
    );
    let view = store.get("a").await.expect("get").expect("a");
    assert_eq!((view.state, view.repeats), (State::Pending, 1));
    assert_eq!(view.record.deadline_ms, first.deadline_ms);
    assert!(store.get("b").await.expect("get").is_none());
    assert_eq!(store.due_count().await.expect("due"), 1);
    // No key: never joins.
    let alone = incident("c", now, now + MINUTE_MS, None);
    assert_eq!(store.create(&alone).await.expect("create"), Created::New);
    assert_eq!(store.due_count().await.expect("due"), 2);
}

async fn an_ack_moves_a_pending_incident_once(store: Store, now: i64) {
    store
        .create(&incident("a", now, now + MINUTE_MS, None))
        .await
        .expect("create");
    assert_eq!(store.ack("a", now + 10).await.expect("ack"), Acked::Done);
    assert_eq!(
        store.ack("a", now + 20).await.expect("ack"),
        Acked::NotPending(State::Acknowledged)
    );
    assert_eq!(store.ack("nope", now).await.expect("ack"), Acked::Unknown);
    let view = store.get("a").await.expect("get").expect("a");
    assert_eq!(
        (view.state, view.acked_ms),
        (State::Acknowledged, Some(now + 10))
    );
    assert_eq!(store.due_count().await.expect("due"), 0);
    assert!(
        store
            .claim_due(now + 2 * MINUTE_MS, now + 3 * MINUTE_MS, 10)
            .await
            .expect("claim")
            .is_empty()
    );
}

async fn a_due_incident_is_claimed_once_and_escalated(store: Store, now: i64) {
    store
        .create(&incident("a", now, now + 100, None))
        .await
        .expect("create");
    store
        .create(&incident("later", now, now + 10 * MINUTE_MS, None))
        .await
        .expect("create");
    assert_eq!(store.next_due_ms().await.expect("next"), Some(now + 100));
    let lease = now + MINUTE_MS;
    let claimed = store.claim_due(now + 200, lease, 10).await.expect("claim");
    assert_eq!(claimed, ["a"]);
    assert!(
        store
            .claim_due(now + 300, lease, 10)
            .await
            .expect("claim")
            .is_empty()
    );
    assert_eq!(state(&store, "a").await, State::Escalating);
    assert_eq!(
        store.ack("a", now + 300).await.expect("ack"),
        Acked::NotPending(State::Escalating)
    );
    store
        .finish("a", Attempt::Escalated(None), now + 200, now + 400)
        .await
        .expect("finish");
    let view = store.get("a").await.expect("get").expect("a");
    assert_eq!(
        (view.state, view.escalated_ms, view.attempts),
        (State::Escalated, Some(now + 400), 1)
    );
    assert_eq!(view.attempt_log.len(), 1);
    assert_eq!(store.due_count().await.expect("due"), 1);
}

async fn a_retry_comes_back_then_fails(store: Store, now: i64) {
    store
        .create(&incident("a", now, now + 100, None))
        .await
        .expect("create");
    let lease = now + MINUTE_MS;
    assert_eq!(
        store.claim_due(now + 100, lease, 10).await.expect("claim"),
        ["a"]
    );
    let retry_at = now + 5000;
    let retry = Attempt::Retry {
        at_ms: retry_at,
        error: "ThrottlingException",
    };
    store
        .finish("a", retry, now + 100, now + 150)
        .await
        .expect("finish");
    assert_eq!(store.next_due_ms().await.expect("next"), Some(retry_at));
    assert!(
        store
            .claim_due(retry_at - 1, lease, 10)
            .await
            .expect("claim")
            .is_empty(),
        "claimed before its retry time"
    );
    assert_eq!(
        store
            .claim_due(retry_at, retry_at + MINUTE_MS, 10)
            .await
            .expect("claim"),
        ["a"]
    );
    store
        .finish(
            "a",
            Attempt::Failed("AccessDeniedException"),
            retry_at,
            retry_at + 50,
        )
        .await
        .expect("finish");
    let view = store.get("a").await.expect("get").expect("a");
    assert_eq!(
        (view.state, view.attempts, view.failed_ms),
        (State::EscalationFailed, 2, Some(retry_at + 50))
    );
    assert_eq!(view.last_error.as_deref(), Some("AccessDeniedException"));
    assert_eq!(store.due_count().await.expect("due"), 0);
}

async fn a_resolve_cancels_or_closes(store: Store, now: i64) {
    assert_eq!(
        store.resolve("none", now).await.expect("resolve"),
        ResolvedOutcome::NoIncident
    );
    store
        .create(&incident("p", now, now + MINUTE_MS, Some("pending")))
        .await
        .expect("create");
    assert_eq!(
        store.resolve("pending", now + 10).await.expect("resolve"),
        ResolvedOutcome::Cancelled("p".into())
    );
    assert_eq!(state(&store, "p").await, State::Resolved);
    assert_eq!(store.due_count().await.expect("due"), 0);

    store
        .create(&incident("k", now, now + MINUTE_MS, Some("acked")))
        .await
        .expect("create");
    store.ack("k", now + 10).await.expect("ack");
    assert_eq!(
        store.resolve("acked", now + 20).await.expect("resolve"),
        ResolvedOutcome::Closed("k".into(), State::Acknowledged)
    );
    // The key is free again: the next firing is a new incident.
    assert_eq!(
        store
            .create(&incident("n", now + 30, now + MINUTE_MS, Some("acked")))
            .await
            .expect("create"),
        Created::New
    );
}

async fn each_change_is_shown_once_per_message(store: Store, now: i64) {
    store
        .create(&incident("a", now, now + MINUTE_MS, None))
        .await
        .expect("create");
    let receipt = StoredReceipt {
        channel: "slack".into(),
        destination: "C1".into(),
        message_id: "1.2".into(),
        message: "disk full".into(),
    };
    assert_eq!(
        store
            .add_receipts("a", std::slice::from_ref(&receipt))
            .await
            .expect("receipts"),
        Some(State::Pending)
    );
    assert_eq!(
        store
            .add_receipts("nope", std::slice::from_ref(&receipt))
            .await
            .expect("receipts"),
        None
    );
    let shown = async |change| store.mark_shown("a", &receipt, change).await.expect("mark");
    assert!(shown(StatusChange::Acknowledged).await);
    assert!(!shown(StatusChange::Acknowledged).await);
    // One of acknowledged, escalated or paging-failed per message.
    assert!(!shown(StatusChange::Escalated).await);
    assert!(!shown(StatusChange::PagingFailed).await);
    assert!(shown(StatusChange::Resolved).await);
    assert!(!shown(StatusChange::Resolved).await);
    assert!(!shown(StatusChange::Acknowledged).await);
    let view = store.get("a").await.expect("get").expect("a");
    assert_eq!(view.receipts, [receipt]);
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rule_holds_in_memory() {
    for (name, scenario) in SCENARIOS {
        eprintln!("memory: {name}");
        scenario(Store::Memory(MemoryStore::default()), now_ms()).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_rule_holds_on_redis() {
    for (name, scenario) in SCENARIOS {
        eprintln!("redis: {name}");
        let prefix = format!("versus-test-{}:", uuid::Uuid::new_v4());
        scenario(connect(&prefix).await, now_ms()).await;
        delete_keys(&prefix).await;
    }
}
