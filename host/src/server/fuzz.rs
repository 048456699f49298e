//! Property tests through the real router and pipeline (console channel,
//! built-in plugins): any body gets a clear JSON answer, never a 5xx, and
//! any JSON object below the depth limit is delivered.

use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::http::{Request, header};
use proptest::prelude::*;
use serde_json::Value;

use super::{AppState, app, limits};
use crate::pipeline::{Loader, Reloader};
use crate::testing::{json_value, proptest_config};

struct Rig {
    runtime: tokio::runtime::Runtime,
    router: axum::Router,
    _dir: tempfile::TempDir,
}

/// One router for every case: building the pipeline takes a while.
fn rig() -> &'static Rig {
    static RIG: OnceLock<Rig> = OnceLock::new();
    RIG.get_or_init(|| {
        let runtime = tokio::runtime::Runtime::new().expect("runtime");
        let dir = tempfile::tempdir().expect("tempdir");
        let template = dir.path().join("t.tmpl");
        std::fs::write(&template, "alert {{ .status }}").expect("template");
        let config = dir.path().join("config.yaml");
        let yaml = format!(
            "alert:\n  max_body_bytes: 65536\n  console:\n    enable: true\n    template_path: {}\n\
             plugins:\n  watch: false\n",
            template.display()
        );
        std::fs::write(&config, yaml).expect("config");
        let router = runtime.block_on(async {
            let loader = Arc::new(Loader::new(None).expect("engine"));
            let reloader = Reloader::start(config, loader).await.expect("pipeline");
            app(AppState::new(reloader))
        });
        Rig {
            runtime,
            router,
            _dir: dir,
        }
    })
}

fn post(body: Vec<u8>) -> (u16, Value) {
    let rig = rig();
    rig.runtime.block_on(async {
        let request = Request::post("/api/incidents")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(body))
            .expect("request");
        let (status, bytes) = super::rig::answer(&rig.router, request).await;
        (
            status.as_u16(),
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    })
}

/// Bytes from JSON's own alphabet, so most cases get past the first byte.
fn jsonish() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(
        prop::sample::select(b"{}[]\",:\\ 0123456789.-eEtrufalsn\"ab\xff".to_vec()),
        0..400,
    )
}

proptest! {
    #![proptest_config(proptest_config())]

    #[test]
    fn fuzz_any_body_gets_a_clear_answer(body in prop_oneof![jsonish(), prop::collection::vec(any::<u8>(), 0..400)]) {
        let (status, answer) = post(body);
        prop_assert!(matches!(status, 201 | 202 | 400 | 413), "status {status}: {answer}");
        prop_assert!(answer["status"].is_string(), "{answer}");
    }

    #[test]
    fn fuzz_any_json_object_is_delivered(fields in prop::collection::btree_map(crate::testing::key(), json_value(5), 0..6)) {
        let object = Value::Object(fields.into_iter().collect());
        let (status, answer) = post(object.to_string().into_bytes());
        prop_assert!(matches!(status, 201 | 202), "status {status}: {answer}");
    }

    #[test]
    fn fuzz_depth_check_runs_before_any_recursion_limit(body in jsonish()) {
        if limits::check_depth(&body, 64).is_ok()
            && let Err(e) = serde_json::from_slice::<Value>(&body)
        {
            prop_assert!(!e.to_string().contains("recursion limit"), "{e}");
        }
    }
}
