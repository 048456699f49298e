//! Scheduler logic under tokio's paused time, with the in-memory store.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;

use super::{LEASE, run};
use crate::oncall::{
    AckSigner, Acked, Clock, Escalator, MemoryStore, NewIncident, OnCall, Settings, State, Store,
};
use crate::pipeline::{Loader, Reloader};

const BASE_MS: i64 = 1_800_000_000_000;

struct Rig {
    oncall: Arc<OnCall>,
    calls: Arc<Mutex<Vec<(String, i64)>>>,
    shutdown: Arc<Notify>,
    _dir: tempfile::TempDir,
}

async fn rig() -> Rig {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("config.yaml");
    std::fs::write(&config, "plugins:\n  transforms: []\n").expect("write");
    let reloader = Reloader::start(config, Arc::new(Loader::new(None).expect("engine")))
        .await
        .expect("pipeline");
    let clock = Clock::tokio(BASE_MS);
    let calls: Arc<Mutex<Vec<(String, i64)>>> = Arc::default();
    let oncall = Arc::new(OnCall {
        store: Store::Memory(MemoryStore::default()),
        signer: AckSigner::new(b"k".to_vec()),
        escalator: Escalator::Record(calls.clone(), clock),
        clock,
        settings: Settings {
            enable: true,
            wait: Duration::from_secs(180),
            response_plan_arn: "arn:plan".into(),
            public_host: String::new(),
            max_attempts: 3,
        },
        reloader,
        wake: Arc::new(Notify::new()),
    });
    let shutdown = Arc::new(Notify::new());
    tokio::spawn(run(oncall.clone(), oncall.wake.clone(), shutdown.clone()));
    Rig {
        oncall,
        calls,
        shutdown,
        _dir: dir,
    }
}

fn incident(id: &str, deadline_ms: i64) -> NewIncident {
    NewIncident {
        id: id.into(),
        created_ms: BASE_MS,
        deadline_ms,
        response_plan_arn: "arn:plan".into(),
        title: "t".into(),
        impact: None,
        dedup_key: None,
        ack_exp: 0,
    }
}

#[tokio::test(start_paused = true)]
async fn escalates_at_the_deadline_not_before_and_only_once() {
    let r = rig().await;
    let now = r.oncall.clock.now_ms();
    r.oncall
        .store
        .create(&incident("a", now + 180_000))
        .await
        .expect("create");
    r.oncall.wake.notify_one();
    tokio::time::sleep(Duration::from_secs(179)).await;
    assert!(r.calls.lock().expect("lock").is_empty(), "escalated early");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let calls = r.calls.lock().expect("lock").clone();
    assert_eq!(calls.len(), 1);
    let late = calls[0].1 - (now + 180_000);
    assert!((0..=1000).contains(&late), "late by {late} ms");
    // Well past the lease: still once.
    tokio::time::sleep(LEASE * 3).await;
    assert_eq!(r.calls.lock().expect("lock").len(), 1);
    let view = r.oncall.store.get("a").await.expect("get").expect("exists");
    assert_eq!(view.state, State::Escalated);
    r.shutdown.notify_waiters();
}

#[tokio::test(start_paused = true)]
async fn an_ack_before_the_deadline_wins() {
    let r = rig().await;
    let now = r.oncall.clock.now_ms();
    r.oncall
        .store
        .create(&incident("b", now + 60_000))
        .await
        .expect("create");
    tokio::time::sleep(Duration::from_secs(30)).await;
    assert_eq!(
        r.oncall
            .store
            .ack("b", r.oncall.clock.now_ms())
            .await
            .expect("ack"),
        Acked::Done
    );
    tokio::time::sleep(Duration::from_secs(120)).await;
    assert!(r.calls.lock().expect("lock").is_empty());
    assert_eq!(
        r.oncall
            .store
            .ack("b", r.oncall.clock.now_ms())
            .await
            .expect("ack"),
        Acked::NotPending(State::Acknowledged)
    );
}

#[tokio::test(start_paused = true)]
async fn wait_zero_escalates_at_once_and_late_acks_see_it() {
    let r = rig().await;
    let now = r.oncall.clock.now_ms();
    r.oncall
        .store
        .create(&incident("c", now))
        .await
        .expect("create");
    r.oncall.wake.notify_one();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert_eq!(r.calls.lock().expect("lock").len(), 1);
    assert_eq!(
        r.oncall
            .store
            .ack("c", r.oncall.clock.now_ms())
            .await
            .expect("ack"),
        Acked::NotPending(State::Escalated)
    );
}

#[tokio::test(start_paused = true)]
async fn idle_scheduler_sleeps_a_bounded_tick() {
    let r = rig().await;
    // Nothing due: the loop wakes once per tick, never busy-polls. An
    // incident added without a wake-up is still found within one tick.
    let now = r.oncall.clock.now_ms();
    r.oncall
        .store
        .create(&incident("d", now + 500))
        .await
        .expect("create");
    tokio::time::sleep(Duration::from_millis(1600)).await;
    let calls = r.calls.lock().expect("lock").clone();
    assert_eq!(calls.len(), 1);
    assert!(
        calls[0].1 - (now + 500) <= 1000,
        "late by {} ms",
        calls[0].1 - (now + 500)
    );
}
