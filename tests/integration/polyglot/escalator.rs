//! A user's own on-call provider: `oncall.provider: js_pager` loads the
//! JavaScript escalator `plugins.dir/js_pager.wasm` (componentize-js, from
//! `plugins/js-pager`). It pages through its emulator, hears of a late ACK,
//! is swapped for a new build while the gateway runs, and its errors are
//! acted on by case: a 503 is retried, a 400 fails the page at once.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use super::build::{polyglot_plugin, shared_cache_dir};
use crate::chat_emulator::{ChatEmulator, Mode};
use crate::common::eventually;
use crate::gateway::Process;
use crate::oncall_rig::{PLAN, Rig, Setup, ack, ack_url_of, incident_json, payload, post, reaches};

/// The rig's config with the JS escalator as the provider, paging `url`.
fn yaml(rig: &Rig, plugins: &Path, url: &str, origin: &str) -> String {
    let yaml = rig.yaml(&Setup::redis_port(6379));
    let aws = format!("  aws_incident_manager:\n    response_plan_arn: {PLAN}\n");
    let old_plugins = "plugins:\n  watch: false\n";
    assert!(
        yaml.contains(&aws) && yaml.contains(old_plugins),
        "the rig's config changed shape"
    );
    let oncall = format!(
        "  provider: js_pager\n  aws_incident_manager:\n    initial_backoff: 100ms\n  \
         plugin_settings:\n    url: {url}\n"
    );
    let plugins = format!(
        "plugins:\n  dir: {}\n  cache_dir: {}\n  watch: true\n  overrides:\n    js_pager:\n      \
         allowed_hosts: [\"{origin}\"]\n",
        plugins.display(),
        shared_cache_dir().display()
    );
    yaml.replacen(&aws, &oncall, 1)
        .replacen(old_plugins, &plugins, 1)
}

/// The bodies the pager received, as JSON.
fn bodies(pager: &ChatEmulator) -> Vec<Value> {
    pager.requests().iter().map(|r| r.json()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_javascript_escalator_pages_hears_the_ack_hot_swaps_and_fails_by_case() {
    let rig = Rig::new().await;
    let pager = ChatEmulator::start(Mode::FailOnce {
        status: 503,
        body: "busy",
        retry_after: Some(1),
        ok: "{}",
    })
    .await;
    let plugins = rig.dir("plugins");
    let installed = plugins.join("js_pager.wasm");
    std::fs::copy(polyglot_plugin("js_pager"), &installed).expect("install");
    let url = format!("{}/page", pager.base());
    let gw = Process::start(
        &rig.dir("gw"),
        &yaml(&rig, &plugins, &url, pager.base()),
        &rig.env(),
    )
    .await;

    // A 503, retried after the second it asked for, then the page.
    let (status, body) = post(
        &gw,
        "oncall_wait_minutes=0.02",
        payload("critical", "js-one"),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().expect("id").to_string();
    let link = ack_url_of(&rig.slack, 0).expect("ACK button");
    let escalated = reaches(&gw, &id, "escalated", 20).await;
    assert!(escalated, "not escalated:\n{}", gw.log());
    let shown = incident_json(&gw, &id).await;
    let key = shown["dedup_key"].as_str().expect("dedup key").to_string();
    assert_eq!(shown["targets"][0]["provider"], "js_pager", "{shown}");
    // The first was answered 503, the second accepted.
    let sent = bodies(&pager);
    assert_eq!(sent.len(), 2, "{sent:#?}");
    assert_eq!(sent[0], sent[1], "a retry sends the same page");
    let page = &sent[1];
    assert_eq!(page["action"], "trigger");
    assert_eq!(page["key"], key.as_str());
    assert_eq!(page["incident_id"], id.as_str());
    assert_eq!(page["build"], "v1");
    assert_eq!(page["links"][0]["url"], link.as_str(), "{page}");

    // A late ACK: 409, passed on to the plugin.
    let (status, text) = ack(&link, "application/json").await;
    assert_eq!(status, 409, "{text}");
    let answer: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(answer["passed_on_to"], "js_pager", "{answer}");
    let told = eventually(Duration::from_secs(10), async || bodies(&pager).len() == 3).await;
    assert!(told, "not told:\n{}", gw.log());
    assert_eq!(bodies(&pager)[2]["action"], "acknowledge");
    assert_eq!(bodies(&pager)[2]["key"], key.as_str());

    // A new build, swapped in while the gateway runs, pages the next one.
    let staged = plugins.join("js_pager.wasm.new");
    std::fs::copy(polyglot_plugin("js_pager_v2"), &staged).expect("stage v2");
    std::fs::rename(&staged, &installed).expect("swap");
    let reloaded = eventually(Duration::from_secs(60), async || {
        gw.log().contains("reloaded:")
    })
    .await;
    assert!(reloaded, "no reload:\n{}", gw.log());
    let (status, body) = post(&gw, "oncall_wait_minutes=0", payload("critical", "js-two")).await;
    assert_eq!(status, 201, "{body}");
    let paged = eventually(Duration::from_secs(10), async || bodies(&pager).len() == 4).await;
    assert!(paged, "not paged:\n{}", gw.log());
    assert_eq!(bodies(&pager)[3]["build"], "v2");
    drop(gw);

    // A pager that refuses (400): the page fails after one call.
    let refusing = ChatEmulator::start(Mode::Always(400, "unknown service")).await;
    let url = format!("{}/page", refusing.base());
    let gw = Process::start(
        &rig.dir("gw2"),
        &yaml(&rig, &plugins, &url, refusing.base()),
        &rig.env(),
    )
    .await;
    let (status, body) = post(
        &gw,
        "oncall_wait_minutes=0",
        payload("critical", "js-refused"),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().expect("id").to_string();
    let failed = reaches(&gw, &id, "escalation_failed", 20).await;
    assert!(failed, "not failed:\n{}", gw.log());
    let shown = incident_json(&gw, &id).await;
    assert_eq!(shown["attempts"], 1, "{shown}");
    assert!(
        shown["last_error"]
            .as_str()
            .is_some_and(|e| e.contains("pager answered 400")),
        "{shown}"
    );
    assert_eq!(refusing.requests().len(), 1);
}
