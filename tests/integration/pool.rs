//! More plugin calls than the instance pool holds: they queue for a slot
//! instead of failing to instantiate, and give up only after the call's
//! time limit, as a retryable error.

use std::sync::Arc;
use std::time::Duration;

use serde_json::json;
use versus::pipeline::bindings::types::Event;
use versus::pipeline::engine::PluginEngine;
use versus::pipeline::{Loader, PluginError};

use crate::common::{built_plugin, plugins_allowing};
use crate::slack_emulator::{Mode, SlackEmulator};

/// How long the emulator holds every answer.
const HOLD: Duration = Duration::from_millis(300);

fn event(i: usize) -> Event {
    crate::common::event(format!("pool-{i}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn calls_beyond_the_pool_wait_for_a_free_instance() {
    let slack = SlackEmulator::start(Mode::Slow(HOLD)).await;
    let origin = slack.api_url().trim_end_matches("/api/").to_string();
    let mut plugins = plugins_allowing(&[&origin]);
    plugins.defaults.timeout = Duration::from_secs(20);
    let loader = Loader::with_engine(PluginEngine::with_instances(2).expect("engine"), None);
    let channel = Arc::new(
        loader
            .channel_file(&plugins, &built_plugin("test_channel"))
            .await
            .expect("load"),
    );
    let config = json!({ "url": format!("{}chat.postMessage", slack.api_url()), "method": "POST" })
        .to_string();
    let calls: Vec<_> = (0..6)
        .map(|i| {
            let (channel, config) = (channel.clone(), config.clone());
            tokio::spawn(async move { channel.deliver("m", &event(i), &config).await })
        })
        .collect();
    for call in calls {
        call.await.expect("join").expect("every call delivers");
    }
    // Two slots: never more than two requests reach the emulator within
    // one hold time.
    let mut at: Vec<_> = slack.requests().into_iter().map(|r| r.at).collect();
    assert_eq!(at.len(), 6);
    at.sort();
    for window in at.windows(3) {
        assert!(
            window[2] - window[0] >= HOLD - Duration::from_millis(50),
            "three calls in flight at once: {at:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_that_finds_no_slot_in_time_is_busy_and_retryable() {
    let slack = SlackEmulator::start(Mode::Slow(HOLD * 4)).await;
    let origin = slack.api_url().trim_end_matches("/api/").to_string();
    let loader = Loader::with_engine(PluginEngine::with_instances(1).expect("engine"), None);
    let load = |timeout: Duration| {
        let mut plugins = plugins_allowing(&[&origin]);
        plugins.defaults.timeout = timeout;
        let loader = &loader;
        async move {
            loader
                .channel_file(&plugins, &built_plugin("test_channel"))
                .await
                .expect("load")
        }
    };
    let patient = Arc::new(load(Duration::from_secs(10)).await);
    let hurried = load(Duration::from_millis(300)).await;
    let config = json!({ "url": format!("{}chat.postMessage", slack.api_url()), "method": "POST" })
        .to_string();
    let first = {
        let (channel, config) = (patient.clone(), config.clone());
        tokio::spawn(async move { channel.deliver("m", &event(0), &config).await })
    };
    // The first call holds the only slot while the emulator holds its answer.
    assert!(
        crate::common::eventually(Duration::from_secs(5), async || !slack
            .requests()
            .is_empty())
        .await
    );
    let second = hurried.deliver("m", &event(1), &config).await;
    assert!(
        matches!(second, Err(PluginError::Busy(d)) if d == Duration::from_millis(300)),
        "{second:?}"
    );
    first.await.expect("join").expect("the first call delivers");
    assert_eq!(slack.requests().len(), 1, "the busy call sent nothing");
}
