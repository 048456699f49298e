//! Incidents that need no more action are forgotten after
//! `oncall.retention` (acknowledged ones after `ack_expiry` more), with
//! their dedup keys; pending ones never are. The same rules on Redis (key
//! TTLs) and in memory (swept as incidents come and go), in real time with
//! a retention of a fraction of a second.

use std::time::Duration;

use versus::oncall::{Acked, Clock, MemoryStore, NewIncident, Retention, Store};

use crate::oncall_race::{connect, delete_keys};

const RETENTION: Retention = Retention {
    finished_ms: 400,
    ack_hold_ms: 400,
};

fn incident(id: &str, key: &str, now: i64) -> NewIncident {
    NewIncident {
        id: id.into(),
        created_ms: now,
        deadline_ms: now + 3_600_000,
        response_plan_arn: "arn:aws:ssm-incidents::111122223333:response-plan/keep".into(),
        title: "keep".into(),
        impact: None,
        severity: None,
        dedup_key: Some(key.into()),
        ack_exp: now / 1000 + 3600,
        ack_expiry_ms: RETENTION.ack_hold_ms,
        details: Default::default(),
    }
}

/// Ids of the incidents the store still knows, among `ids`.
async fn known(store: &Store, ids: &[&str]) -> Vec<String> {
    let mut out = Vec::new();
    for id in ids {
        if store.get(id).await.expect("get").is_some() {
            out.push(id.to_string());
        }
    }
    out
}

async fn finished_incidents_are_forgotten(store: Store) {
    let now = Clock::System.now_ms();
    let mut pending = incident("pending", "k1", now);
    pending.deadline_ms = now + 7_200_000;
    store.create(&pending).await.expect("create");
    for (id, key) in [("acked", "k2"), ("resolved", "k3"), ("escalated", "k4")] {
        store.create(&incident(id, key, now)).await.expect("create");
    }
    assert!(matches!(
        store.ack("acked", now, None).await,
        Ok(Acked::Done)
    ));
    store.resolve("k3", now).await.expect("resolve");
    // Claim "escalated" and "escalating" (a replica in the middle of an
    // escalation); record the escalation of the first.
    store
        .create(&incident("escalating", "k5", now))
        .await
        .expect("create");
    let mut claimed = store
        .claim_due(now + 3_600_000, now + 3_700_000, 10)
        .await
        .expect("claim");
    claimed.sort();
    assert_eq!(claimed, ["escalated", "escalating"]);
    let paged = versus::oncall::TargetState::Paged;
    assert!(crate::store_suite::finish_one(&store, "escalated", paged, None, None, now, now).await);
    let all = ["pending", "acked", "resolved", "escalated", "escalating"];

    // Past the retention, not past the ACK's hold plus retention.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let later = Clock::System.now_ms();
    store
        .create(&incident("sweep-1", "k6", later))
        .await
        .expect("create");
    assert_eq!(
        known(&store, &all).await,
        ["pending", "acked", "escalating"]
    );

    tokio::time::sleep(Duration::from_millis(600)).await;
    let later = Clock::System.now_ms();
    store
        .create(&incident("sweep-2", "k7", later))
        .await
        .expect("create");
    assert_eq!(known(&store, &all).await, ["pending", "escalating"]);
    // A forgotten incident's dedup key is free: its next alert is new.
    let again = store.create(&incident("resolved-again", "k3", later)).await;
    assert!(
        matches!(again, Ok(versus::oncall::Created::New)),
        "{again:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finished_incidents_are_forgotten_on_redis() {
    let prefix = format!("versus-test-{}:", uuid::Uuid::new_v4());
    let Store::Redis(redis) = connect(&prefix).await else {
        unreachable!("connect gives a Redis store")
    };
    let store = Store::Redis(Box::new(redis.with_retention(RETENTION)));
    finished_incidents_are_forgotten(store).await;
    // Nothing but the live incidents, their dedup keys and the due-set.
    let mut keys = redis_keys(&prefix).await;
    keys.sort();
    let mut want: Vec<String> = [
        "due",
        "dedup:k1",
        "dedup:k3",
        "dedup:k5",
        "dedup:k6",
        "dedup:k7",
        "inc:escalating",
        "inc:pending",
        "inc:resolved-again",
        "inc:sweep-1",
        "inc:sweep-2",
    ]
    .iter()
    .map(|k| format!("{prefix}{k}"))
    .collect();
    want.sort();
    assert_eq!(keys, want);
    delete_keys(&prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn finished_incidents_are_forgotten_in_memory() {
    let memory = MemoryStore::new(RETENTION);
    finished_incidents_are_forgotten(Store::Memory(memory.clone())).await;
    // pending, escalating, sweep-1, sweep-2, resolved-again.
    assert_eq!(memory.len(), 5);
}

async fn redis_keys(prefix: &str) -> Vec<String> {
    let client = redis::Client::open("redis://127.0.0.1:6379/").expect("url");
    let mut con = client
        .get_multiplexed_async_connection()
        .await
        .expect("connect");
    redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut con)
        .await
        .expect("KEYS")
}
