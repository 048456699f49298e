//! Warm instances: a plugin's instance serves its next calls, until a call
//! traps, times out, hits the memory cap or grows the memory past 16 MiB,
//! or the instance has served `calls_per_instance` calls; then the next
//! call gets a fresh instance. The `count` template of the test renderer
//! returns how many calls its instance has served, so each test reads
//! which instance answered.

use std::time::Duration;

use versus::config::PluginsConfig;
use versus::pipeline::{PluginError, RendererPlugin};

use crate::common::{built_plugin, loader, plugins_allowing};

async fn renderer(plugins: &PluginsConfig) -> RendererPlugin {
    loader()
        .renderer(
            plugins,
            "test_renderer",
            Some(&built_plugin("test_renderer")),
        )
        .await
        .expect("load")
}

async fn count(r: &RendererPlugin) -> String {
    r.render("count", "{}").await.expect("count")
}

#[tokio::test]
async fn an_instance_serves_the_next_calls_until_one_fails() {
    let mut plugins = plugins_allowing(&[]);
    plugins.defaults.timeout = Duration::from_millis(300);
    let r = renderer(&plugins).await;
    assert_eq!(count(&r).await, "count:1");
    assert_eq!(count(&r).await, "count:2");
    assert_eq!(r.parked(), 1, "one instance, parked between calls");

    // A plugin error is an ordinary answer: the instance stays.
    assert!(r.render("fail", "{}").await.is_err());
    assert_eq!(count(&r).await, "count:3");

    // Each of these leaves the instance in no state to go on: the next
    // call starts on a fresh one.
    for (template, what) in [("trap", "trap"), ("loop", "timeout"), ("oom", "memory cap")] {
        let err = r.render(template, "{}").await.expect_err(template);
        assert!(
            matches!(
                err,
                PluginError::Trap(_) | PluginError::Timeout(_) | PluginError::MemoryLimit(_)
            ),
            "{what}: {err:?}"
        );
        assert_eq!(count(&r).await, "count:1", "after a {what}");
        assert_eq!(count(&r).await, "count:2", "after a {what}");
    }

    // Memory grown past 16 MiB is not kept for the next call.
    assert_eq!(r.render("grow:4", "{}").await.expect("grow"), "grew:4");
    assert_eq!(
        count(&r).await,
        "count:3",
        "a little growth keeps the instance"
    );
    assert_eq!(r.render("grow:16", "{}").await.expect("grow"), "grew:16");
    assert_eq!(count(&r).await, "count:1", "past 16 MiB the instance goes");
}

#[tokio::test]
async fn calls_per_instance_bounds_the_reuse() {
    let mut plugins = plugins_allowing(&[]);
    plugins.defaults.calls_per_instance = 3;
    let r = renderer(&plugins).await;
    let served: Vec<_> = counts(&r, 7).await;
    assert_eq!(
        served,
        [
            "count:1", "count:2", "count:3", "count:1", "count:2", "count:3", "count:1"
        ]
    );

    plugins.defaults.calls_per_instance = 1;
    let r = renderer(&plugins).await;
    assert_eq!(counts(&r, 3).await, ["count:1"; 3]);
    assert_eq!(r.parked(), 0, "nothing is kept");
}

async fn counts(r: &RendererPlugin, n: usize) -> Vec<String> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(count(r).await);
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_each_get_an_instance_of_their_own() {
    let r = std::sync::Arc::new(renderer(&plugins_allowing(&[])).await);
    // Eight calls at once: none shares an instance with another one in
    // flight, and every instance goes back to the pool afterwards.
    let calls: Vec<_> = (0..8)
        .map(|_| {
            let r = r.clone();
            tokio::spawn(async move { r.render("echo", r#"{"n":1}"#).await })
        })
        .collect();
    for call in calls {
        assert_eq!(call.await.expect("join").expect("echo"), r#"echo:{"n":1}"#);
    }
    let parked = r.parked();
    assert!((1..=8).contains(&parked), "{parked} parked");
    // The next call takes the most recently parked one.
    assert_eq!(count(&r).await, "count:1");
    assert_eq!(count(&r).await, "count:2");
    assert_eq!(r.parked(), parked);
}
