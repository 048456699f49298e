//! The metrics beyond the first counters, on the real binary: plugin stage
//! latency, ACK outcomes, pending escalations and their lateness, the
//! compiled-component cache and Redis errors.

use std::time::Duration;

use crate::gateway::Process;
use crate::metrics::{sample, scrape};
use crate::oncall_rig::{Rig, SECRET, ack, ack_url_of, get, payload, post};
use crate::redis_servers::start_redis;

/// A scrape's value of `series`, 0 when the series does not exist yet.
async fn value(gw: &Process, series: &str) -> f64 {
    sample(&scrape(gw).await.1, series).unwrap_or(0.0)
}

/// Scrapes until `series` reaches `want` (the gateway updates some series
/// after it answers, e.g. `chat.update` after an ACK).
async fn wait_value(gw: &Process, series: &str, want: f64) {
    let mut last = 0.0;
    for _ in 0..200 {
        last = value(gw, series).await;
        if last == want {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "{series} = {last}, want {want}\n{}\n{}",
        scrape(gw).await.1,
        gw.log()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acks_pending_lateness_and_stage_latency_are_measured() {
    let rig = Rig::new().await;
    let gw = rig.gateway("gw", 6379).await;
    let acks = |outcome: &str| format!(r#"versus_acks_total{{outcome="{outcome}"}}"#);
    assert_eq!(value(&gw, "versus_escalations_pending").await, 0.0);

    // One incident waits for its ACK (3 minutes).
    let (status, body) = post(&gw, "", payload("critical", "obs-a")).await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().expect("id").to_string();
    assert_eq!(value(&gw, "versus_escalations_pending").await, 1.0);

    let link = ack_url_of(&rig.slack, 0).expect("ACK button");
    let (head, last) = link.split_at(link.len() - 1);
    let forged = format!("{head}{}", if last == "0" { "1" } else { "0" });
    assert_eq!(ack(&forged, "application/json").await.0, 401);
    let signer = versus::oncall::AckSigner::new(SECRET.as_bytes().to_vec());
    assert_eq!(
        ack(&signer.url(&gw.base(), &id, 1_000), "application/json")
            .await
            .0,
        403
    );
    let unknown = signer.url(&gw.base(), "no-such-incident", 4_000_000_000);
    assert_eq!(ack(&unknown, "application/json").await.0, 404);
    // Opening the link (a person, or a link scanner) only shows the page.
    assert_eq!(get(&link, "text/html").await.0, 200);
    assert_eq!(value(&gw, "versus_escalations_pending").await, 1.0);
    assert_eq!(ack(&link, "application/json").await.0, 200);
    assert_eq!(ack(&link, "application/json").await.0, 409);
    assert_eq!(ack(&link, "application/json").await.0, 409);

    let text = scrape(&gw).await.1;
    for (outcome, want) in [
        ("acknowledged", 1.0),
        ("bad_signature", 1.0),
        ("expired", 1.0),
        ("unknown", 1.0),
        ("conflict", 2.0),
        ("viewed", 1.0),
    ] {
        assert_eq!(
            sample(&text, &acks(outcome)),
            Some(want),
            "{outcome}\n{text}"
        );
    }
    assert_eq!(
        sample(&text, "versus_escalations_pending"),
        Some(0.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, "versus_escalation_lateness_seconds_count"),
        Some(0.0),
        "{text}"
    );

    // A second incident escalates at once: one lateness sample, well
    // under the 1 s target even on a loaded machine.
    let (status, body) = post(&gw, "oncall_wait_minutes=0", payload("critical", "obs-b")).await;
    assert_eq!(status, 201, "{body}");
    wait_value(&gw, "versus_escalations_started_total", 1.0).await;
    let text = scrape(&gw).await.1;
    assert_eq!(
        sample(&text, "versus_escalation_lateness_seconds_count"),
        Some(1.0),
        "{text}"
    );
    let late = sample(&text, "versus_escalation_lateness_seconds_sum").expect("sum");
    assert!((0.0..1.0).contains(&late), "lateness {late} s\n{text}");
    assert_eq!(
        sample(
            &text,
            r#"versus_escalation_lateness_seconds_bucket{le="1.0"}"#
        ),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, "versus_escalations_pending"),
        Some(0.0),
        "{text}"
    );

    // Stage latency: one render and delivery per alert, and no transform
    // (the default pipeline has none: the gateway reads Alertmanager's
    // facts itself); one update for the ACK and one for the escalation.
    // The second incident escalates at once, so its page can go out while
    // its Slack message is still being delivered; the message still shows
    // "escalated" once (`tests/integration/update_once.rs` forces that
    // race).
    let stage = |plugin: &str, stage: &str| {
        format!(r#"versus_plugin_call_duration_seconds_count{{plugin="{plugin}",stage="{stage}"}}"#)
    };
    let updates = stage("slack", "update");
    wait_value(&gw, &updates, 2.0).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let text = scrape(&gw).await.1;
    assert_eq!(sample(&text, &updates), Some(2.0), "{text}");
    assert_eq!(
        sample(&text, &stage("alertmanager", "transform")),
        None,
        "{text}"
    );
    for (plugin, st, want) in [("gotemplate", "render", 2.0), ("slack", "deliver", 2.0)] {
        assert_eq!(
            sample(&text, &stage(plugin, st)),
            Some(want),
            "{plugin} {st}\n{text}"
        );
    }
    let render_sum = sample(
        &text,
        r#"versus_plugin_call_duration_seconds_sum{plugin="gotemplate",stage="render"}"#,
    )
    .expect("render sum");
    assert!(
        render_sum > 0.0 && render_sum < 10.0,
        "{render_sum}\n{text}"
    );
    assert!(
        text.contains(r#"versus_plugin_call_duration_seconds_bucket{le="+Inf",plugin="slack",stage="deliver"} 2"#),
        "{text}"
    );
    assert_eq!(
        sample(&text, r#"versus_redis_errors_total{op="create"}"#),
        None,
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cache_lookups_show_compiles_then_disk_hits() {
    let slack = crate::slack_emulator::SlackEmulator::start(crate::slack_emulator::Mode::Ok).await;
    let root = tempfile::tempdir().expect("tempdir");
    let yaml = format!(
        "host: 127.0.0.1\nport: {{port}}\nalert:\n  slack:\n    enable: true\n    \
         token: xoxb-test\n    channel_id: C1\n    template_path: {}\n    api_url: {}\n\
         plugins:\n  watch: false\n",
        crate::common::fixture("templates/slack_message.tmpl").display(),
        slack.api_url()
    );
    let lookups = |text: &str, result: &str| {
        sample(
            text,
            &format!(r#"versus_component_cache_lookups_total{{result="{result}"}}"#),
        )
        .unwrap_or(0.0)
    };
    // Process::start puts the cache in <dir>/../cache: both runs share it.
    let first_dir = root.path().join("first");
    std::fs::create_dir_all(&first_dir).expect("mkdir");
    let first = Process::start(&first_dir, &yaml, &[]).await;
    let text = scrape(&first).await.1;
    let compiled = lookups(&text, "miss");
    // The renderer and the Slack channel (the default pipeline has no
    // transform).
    assert_eq!(compiled, 2.0, "{text}");
    assert_eq!(lookups(&text, "disk_hit"), 0.0, "{text}");
    drop(first);

    let second_dir = root.path().join("second");
    std::fs::create_dir_all(&second_dir).expect("mkdir");
    let second = Process::start(&second_dir, &yaml, &[]).await;
    let text = scrape(&second).await.1;
    assert_eq!(lookups(&text, "disk_hit"), compiled, "{text}");
    assert_eq!(lookups(&text, "miss"), 0.0, "{text}");
    assert_eq!(
        sample(&text, "versus_component_cache_rejected_total"),
        Some(0.0),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_errors_are_counted_by_operation() {
    let port = crate::gateway::free_port();
    let mut redis = start_redis(port);
    let rig = Rig::new().await;
    let gw = rig.gateway("gw", port).await;
    let (status, body) = post(&gw, "", payload("critical", "obs-r1")).await;
    assert_eq!(status, 201, "{body}");
    assert_eq!(value(&gw, "versus_escalations_pending").await, 1.0);

    let _ = redis.kill();
    let _ = redis.wait();
    let (status, body) = post(&gw, "", payload("critical", "obs-r2")).await;
    assert_eq!(status, 503, "{body}");
    let text = scrape(&gw).await.1;
    assert_eq!(
        sample(&text, r#"versus_redis_errors_total{op="create"}"#),
        Some(1.0),
        "{text}"
    );
    // The scrape could not count the due-set: it says so, and the gauge
    // keeps its last value.
    assert_eq!(
        sample(&text, r#"versus_redis_errors_total{op="due_count"}"#),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, "versus_escalations_pending"),
        Some(1.0),
        "{text}"
    );
    // The scheduler keeps trying, and each failed round is counted.
    wait_value_at_least(&gw, r#"versus_redis_errors_total{op="claim_due"}"#, 1.0).await;
}

async fn wait_value_at_least(gw: &Process, series: &str, min: f64) {
    for _ in 0..200 {
        if value(gw, series).await >= min {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{series} never reached {min}\n{}", scrape(gw).await.1);
}
