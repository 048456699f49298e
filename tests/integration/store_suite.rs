//! One suite for the on-call store: every rule of the incident life cycle,
//! run against the memory store and against Redis, so the two cannot
//! drift apart. (The races have their own tests: `oncall_race`,
//! `update_once`.)

use std::future::Future;
use std::pin::Pin;

use versus::oncall::{
    Acked, AttemptEntry, Created, MemoryStore, NewIncident, ResolvedOutcome, Round, State, Store,
    StoredReceipt, Target, TargetState,
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
    (
        "each target is retried on its own and the first page escalates",
        |s, t| Box::pin(each_target_is_retried_on_its_own(s, t)),
    ),
    ("an acknowledged incident holds its group", |s, _| {
        Box::pin(crate::ack_hold::acknowledged_incident_holds_its_group(s))
    }),
];

/// The target `provider` in `state` after one call made at `at_ms`, due
/// again at `retry_at_ms`, failed with `error`; and that call.
pub fn called(
    provider: &str,
    state: TargetState,
    at_ms: i64,
    retry_at_ms: Option<i64>,
    error: Option<&str>,
) -> (Target, AttemptEntry) {
    let target = Target {
        state,
        attempts: 1,
        retry_at_ms,
        last_error: error.map(str::to_owned),
        id: (state == TargetState::Paged).then(|| format!("{provider}-page")),
        ..Target::new(provider)
    };
    let call = AttemptEntry {
        at_ms,
        provider: Some(provider.into()),
        error: error.map(str::to_owned),
    };
    (target, call)
}

/// Records a round of one call to AWS Incident Manager at `at_ms`, ending
/// at `now_ms`: paged, due again at `retry_at_ms`, or failed for good.
pub async fn finish_one(
    store: &Store,
    id: &str,
    state: TargetState,
    retry_at_ms: Option<i64>,
    error: Option<&str>,
    at_ms: i64,
    now_ms: i64,
) -> bool {
    let (target, call) = called("aws_incident_manager", state, at_ms, retry_at_ms, error);
    let round = Round {
        targets: &[target],
        calls: &[call],
    };
    store.finish(id, round, now_ms).await.expect("finish")
}

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
    assert_eq!(
        store.ack("a", now + 10, None).await.expect("ack"),
        Acked::Done
    );
    assert_eq!(
        store.ack("a", now + 20, None).await.expect("ack"),
        Acked::NotPending(State::Acknowledged)
    );
    assert_eq!(
        store.ack("nope", now, None).await.expect("ack"),
        Acked::Unknown
    );
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
        store.ack("a", now + 300, None).await.expect("ack"),
        Acked::NotPending(State::Escalating)
    );
    assert!(
        finish_one(
            &store,
            "a",
            TargetState::Paged,
            None,
            None,
            now + 200,
            now + 400
        )
        .await
    );
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
    let throttled = Some("ThrottlingException");
    let paging = TargetState::Paging;
    assert!(
        finish_one(
            &store,
            "a",
            paging,
            Some(retry_at),
            throttled,
            now + 100,
            now + 150
        )
        .await
    );
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
    let denied = Some("AccessDeniedException");
    assert!(
        finish_one(
            &store,
            "a",
            TargetState::Failed,
            None,
            denied,
            retry_at,
            retry_at + 50
        )
        .await
    );
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
    store.ack("k", now + 10, None).await.expect("ack");
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

/// The first round of claimed incident `id` at `now + 100`: AWS pages,
/// PagerDuty answers 503 and is due again at `retry_at`. Returns AWS's
/// target.
async fn aws_pages_pagerduty_retries(store: &Store, id: &str, now: i64, retry_at: i64) -> Target {
    let at = now + 100;
    let (aws, aws_call) = called("aws_incident_manager", TargetState::Paged, at, None, None);
    let (pd, pd_call) = called(
        "pagerduty",
        TargetState::Paging,
        at,
        Some(retry_at),
        Some("503"),
    );
    let round = Round {
        targets: &[aws.clone(), pd],
        calls: &[aws_call, pd_call],
    };
    assert!(store.finish(id, round, now + 150).await.expect("finish"));
    aws
}

async fn each_target_is_retried_on_its_own(store: Store, now: i64) {
    store
        .create(&incident("m", now, now + 100, Some("gm")))
        .await
        .expect("create");
    let lease = now + MINUTE_MS;
    assert_eq!(
        store.claim_due(now + 100, lease, 10).await.expect("claim"),
        ["m"]
    );
    // AWS pages; PagerDuty answers 503 and is due again in 2 s.
    let retry_at = now + 2100;
    let aws = aws_pages_pagerduty_retries(&store, "m", now, retry_at).await;
    let view = store.get("m").await.expect("get").expect("m");
    assert_eq!(
        (view.state, view.escalated_ms, view.attempts),
        (State::Escalated, Some(now + 150), 2)
    );
    assert!(view.still_paging());
    // The page went out: an ACK is too late, a repeat joins.
    assert_eq!(
        store.ack("m", now + 200, None).await.expect("ack"),
        Acked::NotPending(State::Escalated)
    );
    assert_eq!(store.next_due_ms().await.expect("next"), Some(retry_at));
    assert!(
        store
            .claim_due(retry_at - 1, lease, 10)
            .await
            .expect("claim")
            .is_empty()
    );
    // PagerDuty's turn: claimed once, and it stays escalated meanwhile.
    let lease = retry_at + MINUTE_MS;
    assert_eq!(
        store.claim_due(retry_at, lease, 10).await.expect("claim"),
        ["m"]
    );
    assert!(
        store
            .claim_due(retry_at + 1, lease, 10)
            .await
            .expect("claim")
            .is_empty()
    );
    assert_eq!(state(&store, "m").await, State::Escalated);
    let (mut pd, pd_call) = called("pagerduty", TargetState::Paged, retry_at, None, None);
    pd.attempts = 2;
    let round = Round {
        targets: &[aws, pd],
        calls: &[pd_call],
    };
    assert!(
        store
            .finish("m", round, retry_at + 40)
            .await
            .expect("finish")
    );
    let view = store.get("m").await.expect("get").expect("m");
    assert_eq!(
        (view.state, view.escalated_ms, view.attempts),
        (State::Escalated, Some(now + 150), 3)
    );
    assert!(!view.still_paging());
    let states: Vec<(&str, TargetState, u32)> = view
        .targets
        .iter()
        .map(|t| (t.provider.as_str(), t.state, t.attempts))
        .collect();
    assert_eq!(
        states,
        [
            ("aws_incident_manager", TargetState::Paged, 1),
            ("pagerduty", TargetState::Paged, 2)
        ]
    );
    assert_eq!(store.due_count().await.expect("due"), 0);
    // Nothing more to record once done.
    let round = Round {
        targets: &view.targets,
        calls: &[],
    };
    assert!(
        !store
            .finish("m", round, retry_at + 50)
            .await
            .expect("finish")
    );

    // A resolve while a target is still to be paged stops its retries.
    store
        .create(&incident("r", now, now + 100, Some("gr")))
        .await
        .expect("create");
    assert_eq!(
        store.claim_due(now + 100, lease, 10).await.expect("claim"),
        ["r"]
    );
    aws_pages_pagerduty_retries(&store, "r", now, retry_at).await;
    assert_eq!(
        store.resolve("gr", now + 300).await.expect("resolve"),
        ResolvedOutcome::Closed("r".into(), State::Escalated)
    );
    assert!(
        store
            .claim_due(retry_at, lease, 10)
            .await
            .expect("claim")
            .is_empty()
    );
    assert_eq!(store.due_count().await.expect("due"), 0);
}
