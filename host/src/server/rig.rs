//! A router with on-call on the in-memory store, and sending a request
//! through a router, for the route tests.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use tokio::sync::Notify;
use tower::ServiceExt;

use crate::oncall::{
    AckSigner, Clock, EscalationStats, Escalator, MemoryStore, NewIncident, OnCall, Recorder,
    Settings, State, Store,
};
use crate::pipeline::{Loader, Reloader};
use crate::server::{AppState, app};

pub(super) struct Rig {
    pub(super) router: axum::Router,
    pub(super) oncall: Arc<OnCall>,
    _dir: tempfile::TempDir,
}

/// Sends `request` through `router`: the status and the body.
pub(super) async fn answer(router: &axum::Router, request: Request<Body>) -> (StatusCode, Bytes) {
    let response = router.clone().oneshot(request).await.expect("infallible");
    let status = response.status();
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("body")
        .to_bytes();
    (status, bytes)
}

/// A router with on-call on the in-memory store and no channel.
pub(super) async fn rig() -> Rig {
    rig_with("").await
}

/// The same, with `yaml` (top-level keys) added to the config.
pub(super) async fn rig_with(yaml: &str) -> Rig {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("config.yaml");
    std::fs::write(
        &config,
        format!("plugins:\n  transforms: []\n  watch: false\n{yaml}"),
    )
    .expect("write");
    let reloader = Reloader::start(config, Arc::new(Loader::new(None).expect("engine")))
        .await
        .expect("pipeline");
    let clock = Clock::System;
    let oncall = Arc::new(OnCall {
        store: Store::Memory(MemoryStore::default()),
        signer: AckSigner::new(b"router-test-key-0123".to_vec()),
        escalator: Escalator::Record(Recorder {
            calls: Arc::default(),
            clock,
            fail_first: 0,
        }),
        clock,
        settings: Settings {
            wait: Duration::from_secs(180),
            ..Settings::default()
        },
        reloader: reloader.clone(),
        wake: Arc::new(Notify::new()),
        stats: EscalationStats::default(),
    });
    let mut state = AppState::new(reloader);
    state.oncall = Some(oncall.clone());
    Rig {
        router: app(state),
        oncall,
        _dir: dir,
    }
}

impl Rig {
    /// A pending incident `id` titled `title`; returns its ACK link's path.
    pub(super) async fn pending(&self, id: &str, title: &str) -> String {
        let now = self.oncall.clock.now_ms();
        let new = NewIncident {
            id: id.into(),
            created_ms: now,
            deadline_ms: now + 180_000,
            response_plan_arn: "arn:plan".into(),
            title: title.into(),
            severity: Some("critical".into()),
            impact: None,
            dedup_key: Some(format!("dedup-{id}")),
            ack_exp: now / 1000 + 3600,
            ack_expiry_ms: 0,
            details: Default::default(),
        };
        self.oncall.store.create(&new).await.expect("create");
        self.oncall.signer.url("", id, new.ack_exp)
    }

    /// The incident's state.
    pub(super) async fn state(&self, id: &str) -> State {
        let view = self.oncall.store.get(id).await.expect("get");
        view.expect("incident").state
    }
}
