//! Reload latency of the release binary under a steady stream: an alert
//! every 100 ms with `alert.debug_body` on and the gateway's log written
//! into its config folder. For each way of replacing a file (in place, by
//! atomic rename, by a ConfigMap `..data` swap), 20 edits of the template;
//! each is timed from the write to the first Slack message rendered with
//! the new version. The stream's period bounds the resolution: a message
//! is only sent every 100 ms.
//!
//! Run: `cargo bench -p versus --bench reload`; prints a Markdown table.

#[path = "shared/mod.rs"]
mod shared;

// The integration tests' rig, shared so the benchmark measures exactly
// what the tests check; the bench uses only part of it.
#[allow(dead_code, reason = "shared with the integration tests")]
#[path = "../../tests/integration/gateway.rs"]
mod gateway;
#[allow(dead_code, reason = "shared with the integration tests")]
#[path = "../../tests/integration/reload_rig.rs"]
mod reload_rig;
#[allow(dead_code, reason = "shared with the integration tests")]
#[path = "../../tests/integration/slack_emulator.rs"]
mod slack_emulator;

use std::path::Path;
use std::time::{Duration, Instant};

use reload_rig::{ReloadGateway, Stream, WriteStyle};

/// Edits per write style.
const EDITS: usize = 20;

/// Pause after an edit is seen, so each edit starts with the stream
/// flowing and the last reload's events handled.
const SETTLE: Duration = Duration::from_millis(300);

/// The pause is lengthened by edit × this, modulo the stream's period, so
/// the writes fall at every phase of the 100 ms alert clock instead of
/// always just after an alert.
const PHASE_STEP_MS: u64 = 37;

fn main() -> anyhow::Result<()> {
    shared::on_two_threads(run())
}

async fn run() -> anyhow::Result<()> {
    let payload = std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/alertmanager/critical.json"),
    )?;
    println!("| write style | edits | p50 | p99 | max | alerts sent | all 201 |");
    println!("|---|---|---|---|---|---|---|");
    for style in [
        WriteStyle::InPlace,
        WriteStyle::AtomicRename,
        WriteStyle::ConfigMapSwap,
    ] {
        let began = Instant::now();
        let gw = ReloadGateway::start("e0 {{ .status }}\n", "", &[]).await;
        let stream = Stream::start(gw.process.base(), payload.clone());
        gw.first_after(began, "e0 ", Duration::from_secs(30))
            .await
            .ok_or_else(|| anyhow::anyhow!("the stream never reached Slack"))?;
        let mut latencies = Vec::with_capacity(EDITS);
        for edit in 1..=EDITS {
            let written = Instant::now();
            style.write(
                &gw.template(),
                format!("e{edit} {{{{ .status }}}}\n").as_bytes(),
            );
            let at = gw
                .first_after(written, &format!("e{edit} "), Duration::from_secs(30))
                .await
                .ok_or_else(|| anyhow::anyhow!("{style:?} edit {edit} never went live"))?;
            latencies.push(at - written);
            let phase = (edit as u64 * PHASE_STEP_MS) % reload_rig::PERIOD.as_millis() as u64;
            tokio::time::sleep(SETTLE + Duration::from_millis(phase)).await;
        }
        let statuses = stream.stop().await;
        latencies.sort();
        let pct = |p: f64| {
            latencies[((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1]
        };
        println!(
            "| {style:?} | {EDITS} | {} ms | {} ms | {} ms | {} | {} |",
            pct(0.50).as_millis(),
            pct(0.99).as_millis(),
            latencies[latencies.len() - 1].as_millis(),
            statuses.len(),
            statuses.iter().all(|s| *s == 201)
        );
    }
    Ok(())
}
