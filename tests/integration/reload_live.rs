//! Hot reload of the real binary under the conditions it runs in: its log
//! written into the config folder, alerts arriving every 100 ms with
//! `debug_body` on, and the template replaced in place, by rename and by a
//! ConfigMap swap. Each version must be serving within 1 s of the write; a
//! broken template or plugin is rejected while the old version serves.

use std::time::{Duration, Instant};

use crate::common::{built_plugin, fixture};
use crate::metrics::{sample, scrape};
use crate::reload_rig::{ReloadGateway, Stream, WriteStyle};

/// The promise: a change is serving within this long of the write.
const BOUND: Duration = Duration::from_secs(1);

/// How long a rejected change is watched to make sure the old version
/// keeps serving: several reload windows and about 15 alerts.
const HOLD: Duration = Duration::from_millis(1500);

fn alert() -> Vec<u8> {
    std::fs::read(fixture("alertmanager/critical.json")).expect("read payload")
}

fn template(version: &str) -> String {
    format!("{version} {{{{ .status }}}}\n")
}

async fn reloads(gw: &ReloadGateway, outcome: &str) -> f64 {
    let (_, text) = scrape(&gw.process).await;
    sample(
        &text,
        &format!("versus_reloads_total{{outcome=\"{outcome}\"}}"),
    )
    .unwrap_or(0.0)
}

/// Writes `version` in `style` and checks that it reaches Slack within
/// [`BOUND`].
async fn expect_live(gw: &ReloadGateway, style: WriteStyle, version: &str) {
    let written = Instant::now();
    style.write(&gw.template(), template(version).as_bytes());
    let seen = gw
        .first_after(written, &format!("{version} "), Duration::from_secs(10))
        .await;
    let Some(at) = seen else {
        panic!(
            "{version} ({style:?}) never reached Slack:\n{}",
            gw.process.log()
        );
    };
    let latency = at - written;
    assert!(
        latency <= BOUND,
        "{version} ({style:?}) took {latency:?} to reach Slack (bound {BOUND:?})"
    );
}

/// Makes a change that must be rejected and checks that `serving` keeps
/// being delivered and that exactly one reload failed.
async fn expect_rejected(gw: &ReloadGateway, change: impl FnOnce(), serving: &str) {
    let failed = reloads(gw, "failed").await;
    let written = Instant::now();
    change();
    tokio::time::sleep(HOLD).await;
    let after: Vec<String> = gw
        .posted()
        .into_iter()
        .filter(|(at, _)| *at >= written)
        .map(|(_, text)| text)
        .collect();
    assert!(after.len() >= 10, "the stream stalled: {after:?}");
    assert!(
        after.iter().all(|t| t.starts_with(&format!("{serving} "))),
        "{serving} stopped serving: {after:?}"
    );
    assert_eq!(
        reloads(gw, "failed").await,
        failed + 1.0,
        "{}",
        gw.process.log()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_gateway_logging_into_its_config_folder_never_reloads() {
    let gw = ReloadGateway::start(&template("v1"), "", &[]).await;
    tokio::time::sleep(Duration::from_secs(5)).await;
    let (_, metrics) = scrape(&gw.process).await;
    assert!(
        !metrics.contains("versus_reloads_total{"),
        "reloads while idle:\n{metrics}"
    );
    let log = gw.process.log();
    assert!(log.contains("versus listening"), "{log}");
    for word in ["reloading", "reloaded", "reload rejected"] {
        assert!(!log.contains(word), "reloads while idle:\n{log}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_write_style_goes_live_within_a_second_under_steady_traffic() {
    let began = Instant::now();
    let gw = ReloadGateway::start(&template("v1"), "", &[]).await;
    let stream = Stream::start(gw.process.base(), alert());
    assert!(
        gw.first_after(began, "v1 ", Duration::from_secs(10))
            .await
            .is_some(),
        "the first alert never reached Slack:\n{}",
        gw.process.log()
    );

    expect_live(&gw, WriteStyle::InPlace, "v2").await;
    expect_live(&gw, WriteStyle::AtomicRename, "v3").await;
    // The first swap turns the file into a link through `..data`; the
    // second is a ConfigMap update proper.
    expect_live(&gw, WriteStyle::ConfigMapSwap, "v4").await;
    expect_live(&gw, WriteStyle::ConfigMapSwap, "v5").await;

    // A template that does not parse, then a good one written in place
    // through the ConfigMap link.
    let path = gw.template();
    expect_rejected(
        &gw,
        || WriteStyle::ConfigMapSwap.write(&path, b"v6 {{ .status \n"),
        "v5",
    )
    .await;
    expect_live(&gw, WriteStyle::InPlace, "v6").await;

    // A plugin file that is not a component, then the real component.
    let plugin = gw.cfg.join("plugins/gotemplate.wasm");
    expect_rejected(
        &gw,
        || WriteStyle::InPlace.write(&plugin, b"not a component"),
        "v6",
    )
    .await;
    let ok_before = reloads(&gw, "ok").await;
    let real = std::fs::read(built_plugin("gotemplate")).expect("read the plugin");
    WriteStyle::AtomicRename.write(&plugin, &real);
    let start = Instant::now();
    while reloads(&gw, "ok").await == ok_before && start.elapsed() < Duration::from_secs(10) {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    expect_live(&gw, WriteStyle::AtomicRename, "v7").await;
    tokio::time::sleep(Duration::from_millis(500)).await;

    let statuses = stream.stop().await;
    assert!(
        statuses.iter().all(|s| *s == 201),
        "alerts not delivered: {statuses:?}"
    );
    // Each version served from its first message on, in order: no
    // message went back to an older version or showed a rejected one.
    let mut versions: Vec<String> = gw
        .posted()
        .into_iter()
        .map(|(_, text)| text.split(' ').next().unwrap_or_default().to_string())
        .collect();
    versions.dedup();
    assert_eq!(versions, ["v1", "v2", "v3", "v4", "v5", "v6", "v7"]);
    // One reload per change: six template versions and the plugin; the
    // broken template and the broken plugin failed once each.
    assert_eq!(reloads(&gw, "ok").await, 7.0, "{}", gw.process.log());
    assert_eq!(reloads(&gw, "failed").await, 2.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_startup_only_setting_changed_by_a_reload_is_reported() {
    let oncall = "oncall:\n  enable: true\n  wait_minutes: 3\n  aws_incident_manager:\n    \
                  response_plan_arn: arn:aws:ssm-incidents::111122223333:response-plan/test\n";
    let env = [("AWS_REGION", "us-east-1".to_string())];
    let gw = ReloadGateway::start(&template("v1"), oncall, &env).await;
    let config = gw.cfg.join("config.yaml");
    let original = std::fs::read_to_string(&config).expect("read config");

    // wait_minutes changes together with the template: the template goes
    // live, wait_minutes is named as needing a restart.
    let stream = Stream::start(gw.process.base(), alert());
    WriteStyle::AtomicRename.write(
        &config,
        original
            .replace("wait_minutes: 3", "wait_minutes: 5")
            .as_bytes(),
    );
    expect_live(&gw, WriteStyle::InPlace, "v2").await;
    let statuses = stream.stop().await;
    assert!(statuses.iter().all(|s| *s == 201), "{statuses:?}");

    let (_, metrics) = scrape(&gw.process).await;
    let series = |s: &str| sample(&metrics, s);
    assert_eq!(
        series("versus_restart_required{key=\"oncall.wait_minutes\"}"),
        Some(1.0),
        "{metrics}"
    );
    assert_eq!(
        series("versus_reloads_total{outcome=\"ok\"}"),
        None,
        "{metrics}"
    );
    let log = gw.process.log();
    let warned = log
        .lines()
        .filter(|l| {
            l.contains("WARN") && l.contains("restart") && l.contains("oncall.wait_minutes")
        })
        .count();
    assert!(warned >= 1, "no restart warning naming the key:\n{log}");

    // Back to the running value: nothing needs a restart any more.
    WriteStyle::AtomicRename.write(&config, original.as_bytes());
    let start = Instant::now();
    loop {
        let (_, metrics) = scrape(&gw.process).await;
        if sample(
            &metrics,
            "versus_restart_required{key=\"oncall.wait_minutes\"}",
        ) == Some(0.0)
        {
            assert_eq!(
                sample(&metrics, "versus_reloads_total{outcome=\"ok\"}"),
                Some(1.0)
            );
            break;
        }
        assert!(start.elapsed() < Duration::from_secs(10), "{metrics}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
