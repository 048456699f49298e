//! After an ACK, the acknowledged incident stays the open incident of its
//! dedup key until it resolves, bounded by `oncall.ack_expiry`: repeats
//! join it and page nobody. The rules (run on both stores by `store_suite`),
//! then end to end with a real Alertmanager re-sending its group.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use versus::oncall::{Acked, Created, NewIncident, ResolvedOutcome, State, Store};

use crate::alertmanager::{Alertmanager, wait};
use crate::gateway::Process;
use crate::oncall_race::delete_keys;
use crate::oncall_rig::{Rig, Setup};
use crate::slack_emulator::SlackEmulator;

const HOUR_MS: i64 = 3_600_000;

fn notification(id: &str, now: i64, ack_expiry_ms: i64) -> NewIncident {
    NewIncident {
        id: id.into(),
        created_ms: now,
        deadline_ms: now + 60_000,
        response_plan_arn: "arn:aws:ssm-incidents::111122223333:response-plan/hold".into(),
        title: "hold".into(),
        impact: None,
        severity: None,
        dedup_key: Some("group-1".into()),
        ack_exp: now / 1000 + 3600,
        ack_expiry_ms,
        details: Default::default(),
    }
}

/// The rules, on one store: a repeat within the expiry joins the
/// acknowledged incident; after it, or after a resolve, a repeat opens a
/// new one; `0` turns the hold off.
pub(crate) async fn acknowledged_incident_holds_its_group(store: Store) {
    let t0 = 1_000_000_000_000;
    assert!(matches!(
        store.create(&notification("a", t0, 24 * HOUR_MS)).await,
        Ok(Created::New)
    ));
    assert!(matches!(
        store.ack("a", t0 + 1000, None).await,
        Ok(Acked::Done)
    ));

    let joined = store
        .create(&notification("b", t0 + HOUR_MS, 24 * HOUR_MS))
        .await;
    assert!(
        matches!(&joined, Ok(Created::Joined { id, state: State::Acknowledged, .. }) if id == "a"),
        "{joined:?}"
    );
    // Nothing new is due: the repeat started no timer.
    assert_eq!(store.due_count().await.expect("due"), 0);

    // With the hold off, or once it has run out, a repeat is a new incident.
    let off = store.create(&notification("c", t0 + HOUR_MS, 0)).await;
    assert!(matches!(off, Ok(Created::New)), "{off:?}");
    assert!(matches!(
        store.ack("c", t0 + HOUR_MS + 1, None).await,
        Ok(Acked::Done)
    ));
    let late = store
        .create(&notification("d", t0 + 30 * HOUR_MS, 24 * HOUR_MS))
        .await;
    assert!(matches!(late, Ok(Created::New)), "{late:?}");
    assert!(matches!(
        store.ack("d", t0 + 30 * HOUR_MS, None).await,
        Ok(Acked::Done)
    ));

    // A resolve closes the acknowledged incident; the next firing is new.
    let resolved = store.resolve("group-1", t0 + 31 * HOUR_MS).await;
    assert!(
        matches!(&resolved, Ok(ResolvedOutcome::Closed(id, _)) if id == "d"),
        "{resolved:?}"
    );
    let again = store
        .create(&notification("e", t0 + 31 * HOUR_MS + 1, 24 * HOUR_MS))
        .await;
    assert!(matches!(again, Ok(Created::New)), "{again:?}");
    assert_eq!(store.due_count().await.expect("due"), 1);
}

/// Alertmanager sending the gateway its one group, and re-sending it
/// every second or so.
fn start_alertmanager(dir: &std::path::Path, webhook: &str) -> Alertmanager {
    Alertmanager::start(
        dir,
        &format!(
            "route:\n  receiver: gateway\n  group_by: ['alertname']\n  group_wait: 500ms\n  \
             group_interval: 1s\n  repeat_interval: 1s\n\
             receivers:\n  - name: gateway\n    webhook_configs:\n      - url: '{webhook}'\n"
        ),
    )
}

/// Posts one `DiskFull` alert to Alertmanager; `ends_at` in the past
/// resolves it.
async fn post_alert(am: &Alertmanager, starts_at: &str, ends_at: Option<&str>) {
    let mut alert = json!({
        "labels": {"alertname": "DiskFull", "severity": "critical", "instance": "db-1"},
        "annotations": {"description": "disk full"},
        "startsAt": starts_at,
    });
    if let Some(end) = ends_at {
        alert["endsAt"] = json!(end);
    }
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let sent = client
            .post(format!("http://127.0.0.1:{}/api/v2/alerts", am.port))
            .header("content-type", "application/json")
            .body(json!([alert]).to_string())
            .send()
            .await;
        if sent.is_ok_and(|r| r.status().is_success()) {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "alertmanager did not accept the alert"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Now plus `offset_secs`, as Alertmanager's API takes times.
fn rfc3339(offset_secs: i64) -> String {
    let now = std::time::SystemTime::now();
    let shifted = if offset_secs < 0 {
        now - Duration::from_secs(offset_secs.unsigned_abs())
    } else {
        now + Duration::from_secs(offset_secs.unsigned_abs())
    };
    humantime_serde::re::humantime::format_rfc3339_seconds(shifted).to_string()
}

/// Notifications the gateway received from Alertmanager, by status.
fn received(slack: &SlackEmulator) -> Vec<Value> {
    slack
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("chat.postMessage"))
        .map(|r| r.body)
        .collect()
}

/// The ACK link of a posted Slack message (its button's URL).
fn ack_link(message: &Value) -> Option<String> {
    match message {
        Value::String(s) if s.contains("/api/ack/") => Some(s.clone()),
        Value::Array(items) => items.iter().find_map(ack_link),
        Value::Object(members) => members.values().find_map(ack_link),
        _ => None,
    }
}

/// Whether a posted Slack message shows a resolved alert (green).
fn is_resolved(message: &Value) -> bool {
    message["attachments"][0]["color"] == "#36A64F"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeats_after_an_ack_page_nobody_until_the_alert_resolves() {
    let rig = Rig::new().await;
    // A 3 s wait (0.05 min) instead of the rig's 3 minutes.
    let yaml = rig
        .yaml(&Setup::redis_port(6379))
        .replace("wait_minutes: 3\n", "wait_minutes: 0.05\n");
    assert!(yaml.contains("wait_minutes: 0.05"), "{yaml}");
    let gw = Process::start(&rig.dir("gw"), &yaml, &rig.env()).await;
    let (slack, ssm) = (&rig.slack, &rig.ssm);
    let am = start_alertmanager(&rig.dir("am"), &format!("{}/api/incidents", gw.base()));

    // Fire: the first notification opens an incident with a 3 s wait.
    post_alert(&am, &rfc3339(-10), None).await;
    assert!(
        wait(Duration::from_secs(20), || !received(slack).is_empty()).await,
        "no notification reached Slack:\n{}",
        gw.log()
    );
    let first = received(slack).remove(0);
    let link = ack_link(&first).unwrap_or_else(|| panic!("no ACK link in {first}"));

    // Acknowledge it (the form's POST), well before the deadline.
    let acked = reqwest::Client::new()
        .post(&link)
        .header("accept", "application/json")
        .send()
        .await
        .expect("ACK");
    assert_eq!(
        acked.status(),
        200,
        "{}",
        acked.text().await.unwrap_or_default()
    );

    // Alertmanager keeps re-sending the group; well past the 3 s deadline,
    // nobody is paged.
    let before = received(slack).len();
    tokio::time::sleep(Duration::from_secs(8)).await;
    let repeats = received(slack).len() - before;
    assert!(
        repeats >= 3,
        "only {repeats} repeats arrived:\n{}",
        gw.log()
    );
    assert_eq!(
        ssm.calls().len(),
        0,
        "a repeat after the ACK paged:\n{}",
        gw.log()
    );

    // Resolve, then fire again: a new incident, which pages on time.
    post_alert(&am, &rfc3339(-10), Some(&rfc3339(-1))).await;
    assert!(
        wait(Duration::from_secs(20), || received(slack)
            .iter()
            .any(is_resolved))
        .await,
        "the resolved notification never arrived:\n{}",
        gw.log()
    );
    post_alert(&am, &rfc3339(0), None).await;
    assert!(
        wait(Duration::from_secs(20), || ssm.calls().len() == 1).await,
        "the new firing did not page:\n{}",
        gw.log()
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(ssm.calls().len(), 1, "{:?}", ssm.calls());
    delete_keys(&rig.prefix).await;
}
