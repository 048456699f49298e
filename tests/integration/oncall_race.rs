//! ACK against the deadline claim at the same moment, on the store itself:
//! the real Redis (each side on its own connection, as replicas are) and the
//! in-memory store. Exactly one side must win every incident. Also: receipts
//! added by several replicas at once are all kept.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Barrier;
use versus::oncall::scheduler::LEASE;
use versus::oncall::{
    Acked, Clock, MemoryStore, NewIncident, RedisStore, State, Store, StoredReceipt,
};

/// Incidents per round.
const INCIDENTS: usize = 100;

/// Rounds tried before giving up on seeing both winners in one round.
const ROUNDS: usize = 10;

const REDIS_URL: &str = "redis://127.0.0.1:6379/0";

/// How one round ended: incidents won by the ACK and by the claim.
struct Tally {
    acked: usize,
    escalated: usize,
}

/// Makes `INCIDENTS` incidents due now, then lets two claimers (the
/// scheduler's claim, then "escalated") and two ackers run at once. The
/// claimers take ids in ascending order, the ackers in descending order, so
/// the two sides meet on the same incidents. Asserts that each incident was
/// won by exactly one side and returns the tally.
async fn race(round: usize, stores: [Store; 4]) -> Tally {
    let [claim_a, claim_b, ack_a, ack_b] = stores;
    let now = Clock::System.now_ms();
    let ids: Vec<String> = (0..INCIDENTS)
        .map(|i| format!("race-{round}-{i:03}"))
        .collect();
    for id in &ids {
        claim_a.create(&incident(id, now)).await.expect("create");
    }

    let start = Arc::new(Barrier::new(4));
    let claimers = [claim_a.clone(), claim_b].map(|store| {
        let start = start.clone();
        tokio::spawn(async move {
            start.wait().await;
            claim_all(&store).await
        })
    });
    let descending: Vec<String> = ids.iter().rev().cloned().collect();
    let ackers = [(ack_a, 0), (ack_b, 1)].map(|(store, half)| {
        let start = start.clone();
        // Each acker takes every other id, so the two interleave.
        let mine: Vec<String> = descending.iter().skip(half).step_by(2).cloned().collect();
        tokio::spawn(async move {
            start.wait().await;
            let mut answers = Vec::new();
            for id in mine {
                let answer = store
                    .ack(&id, Clock::System.now_ms(), None)
                    .await
                    .expect("ack");
                answers.push((id, answer));
            }
            answers
        })
    });

    let mut claims: HashMap<String, usize> = HashMap::new();
    for c in claimers {
        for id in c.await.expect("claimer") {
            *claims.entry(id).or_default() += 1;
        }
    }
    let mut answers: HashMap<String, Acked> = HashMap::new();
    for a in ackers {
        answers.extend(a.await.expect("acker"));
    }

    let mut tally = Tally {
        acked: 0,
        escalated: 0,
    };
    for id in &ids {
        let claimed = claims.get(id).copied().unwrap_or(0);
        let answer = answers.get(id).copied();
        let state = claim_a.get(id).await.expect("get").expect("exists").state;
        match (answer, claimed, state) {
            (Some(Acked::Done), 0, State::Acknowledged) => tally.acked += 1,
            (
                Some(Acked::NotPending(State::Escalating | State::Escalated)),
                1,
                State::Escalated,
            ) => tally.escalated += 1,
            other => panic!("incident {id}: (ack answer, claims, state) = {other:?}"),
        }
    }
    assert_eq!(claim_a.next_due_ms().await.expect("due"), None);
    tally
}

/// What the scheduler does, minus the AWS call: claim what is due, one at a
/// time so the ackers get in between, and record each as escalated.
async fn claim_all(store: &Store) -> Vec<String> {
    let mut claimed = Vec::new();
    loop {
        let now = Clock::System.now_ms();
        let ids = store
            .claim_due(now, now + LEASE.as_millis() as i64, 1)
            .await
            .expect("claim");
        for id in &ids {
            let paged = versus::oncall::TargetState::Paged;
            assert!(crate::store_suite::finish_one(store, id, paged, None, None, now, now).await);
        }
        let more = store
            .next_due_ms()
            .await
            .expect("due")
            .is_some_and(|at| at <= now);
        claimed.extend(ids);
        if !more {
            return claimed;
        }
    }
}

fn incident(id: &str, now: i64) -> NewIncident {
    NewIncident {
        id: id.into(),
        created_ms: now,
        deadline_ms: now,
        response_plan_arn: "arn:aws:ssm-incidents::111122223333:response-plan/race".into(),
        title: "race".into(),
        severity: None,
        impact: None,
        dedup_key: None,
        ack_exp: now / 1000 + 3600,
        ack_expiry_ms: 0,
        details: Default::default(),
    }
}

/// Runs rounds until one has winners on both sides, so the race was real.
async fn race_until_mixed(mut stores: impl AsyncFnMut(usize) -> [Store; 4]) {
    for round in 0..ROUNDS {
        let tally = race(round, stores(round).await).await;
        assert_eq!(tally.acked + tally.escalated, INCIDENTS);
        if tally.acked > 0 && tally.escalated > 0 {
            return;
        }
    }
    panic!("in {ROUNDS} rounds, one side always won everything: the race never happened");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ack_and_claim_race_on_redis_exactly_one_wins() {
    let prefix = format!("versus-test-{}:", uuid::Uuid::new_v4());
    race_until_mixed(async |round| {
        let prefix = format!("{prefix}{round}:");
        [
            connect(&prefix).await,
            connect(&prefix).await,
            connect(&prefix).await,
            connect(&prefix).await,
        ]
    })
    .await;
    delete_keys(&prefix).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ack_and_claim_race_in_memory_exactly_one_wins() {
    race_until_mixed(async |_| {
        let store = Store::Memory(MemoryStore::default());
        [store.clone(), store.clone(), store.clone(), store]
    })
    .await;
}

/// A store on its own connection to the real Redis.
pub(crate) async fn connect(prefix: &str) -> Store {
    let store = tokio::time::timeout(
        Duration::from_secs(10),
        RedisStore::connect(REDIS_URL, prefix),
    )
    .await
    .expect("Redis at 127.0.0.1:6379 answers in time")
    .expect("Redis at 127.0.0.1:6379");
    Store::Redis(Box::new(store))
}

/// Removes the test's keys from the shared Redis.
pub(crate) async fn delete_keys(prefix: &str) {
    let client = redis::Client::open(REDIS_URL).expect("url");
    let mut con = client
        .get_multiplexed_async_connection()
        .await
        .expect("connect");
    let keys: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{prefix}*"))
        .query_async(&mut con)
        .await
        .expect("KEYS");
    if !keys.is_empty() {
        let _: i64 = redis::cmd("DEL")
            .arg(&keys)
            .query_async(&mut con)
            .await
            .expect("DEL");
    }
}

/// Repeats delivered by several replicas at once each add a receipt to the
/// same incident: none may be lost, and an unknown incident gets none.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_receipts_are_all_kept() {
    const WRITERS: usize = 4;
    const EACH: usize = 10;
    let prefix = format!("versus-receipts-{}:", uuid::Uuid::new_v4());
    let now = Clock::System.now_ms();
    let first = connect(&prefix).await;
    first
        .create(&incident("shared", now + 3_600_000))
        .await
        .expect("create");
    let start = Arc::new(Barrier::new(WRITERS));
    let mut writers = Vec::new();
    for w in 0..WRITERS {
        let (store, start) = (connect(&prefix).await, start.clone());
        writers.push(tokio::spawn(async move {
            start.wait().await;
            for n in 0..EACH {
                let receipt = StoredReceipt {
                    channel: "slack".into(),
                    destination: "C1".into(),
                    message_id: format!("{w}.{n}"),
                    message: "text with \"quotes\", commas, ] and [".into(),
                };
                store.add_receipts("shared", &[receipt]).await.expect("add");
            }
        }));
    }
    for w in writers {
        w.await.expect("writer");
    }
    let view = first.get("shared").await.expect("get").expect("exists");
    let mut ids: Vec<String> = view.receipts.iter().map(|r| r.message_id.clone()).collect();
    ids.sort();
    let mut want: Vec<String> = (0..WRITERS)
        .flat_map(|w| (0..EACH).map(move |n| format!("{w}.{n}")))
        .collect();
    want.sort();
    assert_eq!(ids, want);
    assert!(view.receipts.iter().all(|r| r.message.ends_with("] and [")));

    first
        .add_receipts(
            "missing",
            &[StoredReceipt {
                channel: "slack".into(),
                destination: "C1".into(),
                message_id: "1".into(),
                message: String::new(),
            }],
        )
        .await
        .expect("add to an unknown incident");
    assert!(first.get("missing").await.expect("get").is_none());
    delete_keys(&prefix).await;
}
