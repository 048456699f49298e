//! What the HA tests share: alerts raised, acknowledged and paged as a
//! user meets them, against the replicated servers of
//! [`crate::redis_servers`].

use std::collections::HashMap;
use std::time::{Duration, Instant};

use futures::future::join_all;

use crate::gateway::Process;
use crate::oncall_rig::{Rig, ack, payload, post};
use crate::slack_emulator::SlackEmulator;

/// The ACK link of the Slack message about incident `id`.
pub(crate) fn ack_url_for(slack: &SlackEmulator, id: &str) -> Option<String> {
    slack
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("chat.postMessage"))
        .flat_map(|r| {
            r.body["attachments"][0]["blocks"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .filter(|b| b["type"] == "actions")
        .filter_map(|b| b["elements"][0]["url"].as_str().map(str::to_string))
        .find(|url| url.contains(id))
}

/// Posts `count` critical alerts, each its own group, alternating between
/// the gateways, 20 at a time; each is retried on 503 as Alertmanager
/// would. Returns each incident id with when it was answered.
pub(crate) async fn raise(
    gws: &[&Process],
    count: usize,
    wait_minutes: f64,
) -> Vec<(String, Instant)> {
    let mut out = Vec::new();
    let query = format!("oncall_wait_minutes={wait_minutes}");
    for chunk in (0..count).collect::<Vec<_>>().chunks(20) {
        let posts = chunk.iter().map(|&i| {
            let gw = gws[i % gws.len()];
            let query = query.clone();
            async move {
                for _ in 0..40 {
                    let (status, body) =
                        post(gw, &query, payload("critical", &format!("c{i}"))).await;
                    if status == 201 {
                        let id = body["id"].as_str().expect("id").to_string();
                        return (id, Instant::now());
                    }
                    assert_eq!(status, 503, "alert {i}: {body}");
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
                panic!("alert {i} never got a 201\n{}", gw.log());
            }
        });
        out.extend(join_all(posts).await);
    }
    out
}

/// Acknowledges `id` through its Slack link, clicking again on a 503 as a
/// person would; true once a click got 200, or "already acknowledged"
/// after a 503 (the first click stood but was not yet on a replica).
pub(crate) async fn acknowledge(slack: &SlackEmulator, id: &str) -> bool {
    let link = ack_url_for(slack, id).unwrap_or_else(|| panic!("no ACK link for {id}"));
    let mut refused = false;
    for _ in 0..60 {
        let (status, text) = ack(&link, "application/json").await;
        match status {
            200 => return true,
            409 if refused && text.contains("already_acknowledged") => return true,
            503 => {
                refused = true;
                tokio::time::sleep(Duration::from_millis(200)).await
            }
            _ => panic!("ACK of {id}: {status} {text}"),
        }
    }
    false
}

/// Waits for the pages of `raised` (each incident with when its 201
/// came), whose even-numbered ones were acknowledged, then 3 s more (a
/// second page would come by then), and asserts: no acknowledged incident
/// paged; every other paged exactly once, not before its `wait` and, with
/// `late`, at most that long after it; nothing else paged.
pub(crate) async fn assert_each_unacknowledged_pages_once(
    rig: &Rig,
    raised: &[(String, Instant)],
    wait: Duration,
    late: Option<Duration>,
    within: Duration,
) {
    let expected = raised.len() / 2;
    let start = Instant::now();
    while rig.ssm.calls().len() < expected && start.elapsed() < within {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut by_id: HashMap<String, Vec<Instant>> = HashMap::new();
    for call in rig.ssm.calls() {
        let id = call.body["clientToken"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        by_id.entry(id).or_default().push(call.at);
    }
    for (i, (id, answered)) in raised.iter().enumerate() {
        let calls = by_id.get(id).map_or(&[][..], Vec::as_slice);
        if i % 2 == 0 {
            assert!(calls.is_empty(), "{id} was acknowledged and still paged");
            continue;
        }
        assert_eq!(calls.len(), 1, "{id} paged {} times", calls.len());
        let after = calls[0].saturating_duration_since(*answered);
        assert!(
            after + Duration::from_millis(500) >= wait,
            "{id} paged {after:?} after its 201, before its wait of {wait:?}"
        );
        if let Some(late) = late {
            assert!(after <= wait + late, "{id} paged {after:?} after its 201");
        }
    }
    assert_eq!(by_id.len(), expected, "pages for unknown incidents");
}
