//! The SDK's example channel (`plugins/examples/discord`), built from
//! source: the gateway loads it from `plugins.dir` and delivers through it,
//! and its `update` edits the message it posted. The SDK's HTTP and error
//! helpers run inside a real component here.

use std::time::Duration;

use serde_json::{Value, json};
use versus::pipeline::PluginError;
use versus::pipeline::bindings::StatusChange;
use versus::pipeline::bindings::types::Event;

use crate::chat_emulator::{ChatEmulator, Mode};
use crate::common::{built_plugin, loader, plugin_dir_with, plugins_allowing};
use crate::gateway::Process;

const HOOK: &str = "/api/webhooks/1/tok";

fn event() -> Event {
    crate::common::event("inc-1")
}

fn config(emu: &ChatEmulator) -> String {
    json!({ "webhook_url": format!("{}{HOOK}", emu.base()), "username": "versus" }).to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_delivers_through_the_example_channel() {
    let emu = ChatEmulator::start(Mode::Ok(r#"{"id": "1234567890"}"#)).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let plugins = plugin_dir_with(
        dir.path(),
        &built_plugin("discord_example"),
        "discord_example",
    );
    let tmpl = dir.path().join("msg.tmpl");
    std::fs::write(&tmpl, "{{ .name }} is {{ .status }}").expect("template");
    let yaml = format!(
        "host: 127.0.0.1\nport: {{port}}\n\
         alert:\n  console:\n    enable: false\n\
         channels:\n\
         \x20 - name: ops-discord\n    plugin: discord_example\n    template_path: {tmpl}\n    \
         allowed_hosts: [\"{base}\"]\n    config:\n      webhook_url: {base}{HOOK}\n      username: versus\n\
         plugins:\n  dir: {plugins}\n  transforms: []\n",
        tmpl = tmpl.display(),
        base = emu.base(),
        plugins = plugins.display(),
    );
    let gw = Process::start(dir.path(), &yaml, &[]).await;
    let resp = reqwest::Client::new()
        .post(format!("{}/api/incidents", gw.base()))
        .header("content-type", "application/json")
        .body(json!({ "name": "disk-full", "status": "firing" }).to_string())
        .timeout(Duration::from_secs(30))
        .send()
        .await
        .expect("POST");
    let status = resp.status().as_u16();
    let body: Value = serde_json::from_str(&resp.text().await.expect("body")).expect("json");
    assert_eq!(status, 201, "{body}\n{}", gw.log());

    let requests = emu.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    let r = &requests[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.path, format!("{HOOK}?wait=true"));
    assert_eq!(r.header("content-type"), "application/json");
    assert_eq!(
        r.json(),
        json!({ "content": "disk-full is firing", "username": "versus" })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_example_channel_edits_its_message_on_update() {
    let emu = ChatEmulator::start(Mode::Ok(r#"{"id": "77"}"#)).await;
    let plugins = plugins_allowing(&[emu.base()]);
    let channel = loader()
        .channel_file(&plugins, &built_plugin("discord_example"))
        .await
        .expect("loads as a channel");
    let receipt = channel
        .deliver("disk full", &event(), &config(&emu))
        .await
        .expect("delivered");
    assert_eq!(
        (receipt.destination.as_str(), receipt.message_id.as_str()),
        ("discord", "77")
    );
    channel
        .update(
            &receipt,
            StatusChange::Acknowledged,
            "disk full",
            &event(),
            &config(&emu),
        )
        .await
        .expect("updated");
    let requests = emu.requests();
    assert_eq!(requests.len(), 2, "{requests:?}");
    assert_eq!(requests[1].method, "PATCH");
    assert_eq!(requests[1].path, format!("{HOOK}/messages/77"));
    assert_eq!(
        requests[1].json(),
        json!({ "content": "**✅ Acknowledged**\ndisk full", "username": "versus" })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sdk_helpers_map_failures_to_what_the_host_does() {
    let plugins = |emu: &ChatEmulator| plugins_allowing(&[emu.base()]);

    // 429 with Retry-After: retried, no sooner than asked.
    let busy = ChatEmulator::start(Mode::FailOnce {
        status: 429,
        body: r#"{"message": "rate limited"}"#,
        retry_after: Some(3),
        ok: r#"{"id": "1"}"#,
    })
    .await;
    let channel = loader()
        .channel_file(&plugins(&busy), &built_plugin("discord_example"))
        .await
        .expect("loads");
    match channel.deliver("m", &event(), &config(&busy)).await {
        Err(PluginError::Transient {
            message,
            retry_after,
        }) => {
            assert!(
                message.contains(r#"discord http 429: {"message": "rate limited"}"#),
                "{message}"
            );
            assert_eq!(retry_after, Some(Duration::from_secs(3)));
        }
        other => panic!("expected a transient error, got {other:?}"),
    }

    // 404 (a deleted webhook): permanent, with the body in the message.
    let gone = ChatEmulator::start(Mode::Always(404, r#"{"message": "Unknown Webhook"}"#)).await;
    let channel = loader()
        .channel_file(&plugins(&gone), &built_plugin("discord_example"))
        .await
        .expect("loads");
    match channel.deliver("m", &event(), &config(&gone)).await {
        Err(PluginError::Permanent(m)) => assert!(m.contains("Unknown Webhook"), "{m}"),
        other => panic!("expected a permanent error, got {other:?}"),
    }

    // A host outside allowed_hosts, and a missing key: config errors.
    match channel
        .deliver(
            "m",
            &event(),
            r#"{"webhook_url": "https://discord.example/x"}"#,
        )
        .await
    {
        Err(PluginError::Config(m)) => assert!(m.contains("allowed_hosts"), "{m}"),
        other => panic!("expected a config error, got {other:?}"),
    }
    match channel.deliver("m", &event(), "{}").await {
        Err(PluginError::Config(m)) => assert!(m.contains("`webhook_url` is required"), "{m}"),
        other => panic!("expected a config error, got {other:?}"),
    }
    assert_eq!(gone.requests().len(), 1, "config errors send nothing");
}
