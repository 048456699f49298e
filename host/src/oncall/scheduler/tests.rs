//! Scheduler logic under tokio's paused time, with the in-memory store.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Notify;

use super::{LEASE, run};
use crate::oncall::{
    AckSigner, Acked, Clock, EscalationStats, Escalator, MemoryStore, NewIncident, OnCall,
    Recorder, Settings, State, StatsSnapshot, Store,
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
    rig_with(0, Settings::default()).await
}

/// A scheduler whose AWS stand-in fails its first `fail_first` calls, with
/// `settings` for retries (the rest are fixed here).
async fn rig_with(fail_first: usize, settings: Settings) -> Rig {
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
        escalator: Escalator::Record(Recorder {
            calls: calls.clone(),
            clock,
            fail_first,
        }),
        clock,
        settings: Settings {
            enable: true,
            wait: Duration::from_secs(180),
            response_plan_arn: "arn:plan".into(),
            public_host: String::new(),
            ..settings
        },
        reloader,
        wake: Arc::new(Notify::new()),
        stats: EscalationStats::default(),
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

/// Retry settings: `max_attempts`, backoff from `initial_s` capped at `max_s`.
fn retries(max_attempts: u32, initial_s: u64, max_s: u64) -> Settings {
    Settings {
        max_attempts,
        initial_backoff: Duration::from_secs(initial_s),
        max_backoff: Duration::from_secs(max_s),
        ..Settings::default()
    }
}

fn incident(id: &str, deadline_ms: i64) -> NewIncident {
    NewIncident {
        id: id.into(),
        created_ms: BASE_MS,
        deadline_ms,
        response_plan_arn: "arn:plan".into(),
        title: "t".into(),
        severity: None,
        impact: None,
        dedup_key: None,
        ack_exp: 0,
        ack_expiry_ms: 0,
        details: Default::default(),
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
            .ack("b", r.oncall.clock.now_ms(), None)
            .await
            .expect("ack"),
        Acked::Done
    );
    tokio::time::sleep(Duration::from_secs(120)).await;
    assert!(r.calls.lock().expect("lock").is_empty());
    assert_eq!(
        r.oncall
            .store
            .ack("b", r.oncall.clock.now_ms(), None)
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
            .ack("c", r.oncall.clock.now_ms(), None)
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

#[test]
fn backoff_doubles_from_the_initial_wait_up_to_the_cap() {
    let s = retries(10, 2, 60);
    let waits: Vec<u64> = (1..=7).map(|a| s.backoff(a).as_secs()).collect();
    assert_eq!(waits, [2, 4, 8, 16, 32, 60, 60]);
    let s = Settings {
        initial_backoff: Duration::from_millis(100),
        max_backoff: Duration::from_millis(250),
        ..Settings::default()
    };
    assert_eq!(s.backoff(1), Duration::from_millis(100));
    assert_eq!(s.backoff(2), Duration::from_millis(200));
    assert_eq!(s.backoff(3), Duration::from_millis(250));
    assert_eq!(s.backoff(u32::MAX), Duration::from_millis(250));
}

#[tokio::test(start_paused = true)]
async fn failed_attempts_are_retried_with_the_configured_backoff() {
    let r = rig_with(2, retries(5, 3, 60)).await;
    let now = r.oncall.clock.now_ms();
    r.oncall
        .store
        .create(&incident("e", now))
        .await
        .expect("create");
    r.oncall.wake.notify_one();
    // Attempt 1 at once, 2 after 3 s, 3 after 6 s more: it succeeds.
    tokio::time::sleep(Duration::from_secs(20)).await;
    let calls = r.calls.lock().expect("lock").clone();
    let offsets: Vec<i64> = calls.iter().map(|(_, at)| (at - now) / 100).collect();
    assert_eq!(
        offsets,
        [0, 30, 90],
        "call times in 100 ms from the deadline"
    );
    assert!(calls.iter().all(|(id, _)| id == "e"));
    let view = r.oncall.store.get("e").await.expect("get").expect("exists");
    assert_eq!(view.state, State::Escalated);
    assert_eq!(view.attempts, 3);
    let errors: Vec<Option<&str>> = view
        .attempt_log
        .iter()
        .map(|a| a.error.as_deref())
        .collect();
    assert_eq!(
        errors,
        [Some("recorded failure 1"), Some("recorded failure 2"), None]
    );
    assert_eq!(
        r.oncall.stats.snapshot(),
        StatsSnapshot {
            started: 1,
            failed: 0,
            attempt_errors: 2
        }
    );
    r.shutdown.notify_waiters();
}

#[tokio::test(start_paused = true)]
async fn escalation_fails_after_max_attempts_and_stops() {
    let r = rig_with(usize::MAX, retries(3, 1, 60)).await;
    let now = r.oncall.clock.now_ms();
    r.oncall
        .store
        .create(&incident("f", now))
        .await
        .expect("create");
    r.oncall.wake.notify_one();
    tokio::time::sleep(Duration::from_secs(600)).await;
    assert_eq!(r.calls.lock().expect("lock").len(), 3);
    let view = r.oncall.store.get("f").await.expect("get").expect("exists");
    assert_eq!(view.state, State::EscalationFailed);
    assert_eq!(view.attempt_log.len(), 3);
    assert_eq!(view.last_error.as_deref(), Some("recorded failure 3"));
    assert_eq!(
        r.oncall.stats.snapshot(),
        StatsSnapshot {
            started: 0,
            failed: 1,
            attempt_errors: 3
        }
    );
    r.shutdown.notify_waiters();
}
