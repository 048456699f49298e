//! On-call end to end: the real binary, real Redis at 127.0.0.1:6379 (each
//! test with its own key prefix), the local Slack emulator and a local SSM
//! Incidents endpoint reached through the real AWS SDK.

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::oncall_rig::{
    PLAN, Rig, SECRET, ack, ack_url_of, get, payload, post, state_of, wait_for,
};
use crate::redis_servers::start_redis;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_guide_routes() {
    let rig = Rig::new().await;
    let gw = rig.gateway("gw", 6379).await;

    // Warning with on-call off: a message without ACK link, never a page.
    let (status, body) = post(&gw, "oncall_enable=false", payload("warning", "w1")).await;
    assert_eq!(status, 201, "{body}");
    let warning_id = body["id"].as_str().expect("id").to_string();
    assert_eq!(ack_url_of(&rig.slack, 0), None);

    // Critical, short wait, nobody acks: exactly one StartIncident, on time.
    let posted = Instant::now();
    let (status, body) = post(&gw, "oncall_wait_minutes=0.05", payload("critical", "c1")).await;
    assert_eq!(status, 201, "{body}");
    let critical_id = body["id"].as_str().expect("id").to_string();
    let link = ack_url_of(&rig.slack, 1).expect("critical message has an ACK button");
    assert!(
        link.starts_with(&format!("{}/api/ack/{critical_id}?exp=", gw.base())),
        "{link}"
    );

    // Urgent, wait 0: escalates within 2 s, and the message has no ACK link.
    let urgent_posted = Instant::now();
    let (status, body) = post(&gw, "oncall_wait_minutes=0", payload("urgent", "u1")).await;
    assert_eq!(status, 201, "{body}");
    let urgent_id = body["id"].as_str().expect("id").to_string();
    let urgent_paged = wait_for(Duration::from_secs(2), || {
        rig.ssm.calls_for(&urgent_id).len() == 1
    })
    .await;
    assert!(
        urgent_paged,
        "urgent not escalated within 2 s:\n{}",
        gw.log()
    );
    assert!(
        rig.ssm.calls_for(&urgent_id)[0]
            .at
            .duration_since(urgent_posted)
            < Duration::from_secs(2)
    );

    // Plan override.
    let other = "arn:aws:ssm-incidents::111122223333:response-plan/other";
    let (_, body) = post(
        &gw,
        &format!("oncall_wait_minutes=0&awsim_response_plan_arn={other}"),
        payload("urgent", "u2"),
    )
    .await;
    let override_id = body["id"].as_str().expect("id").to_string();
    assert!(
        wait_for(Duration::from_secs(3), || rig
            .ssm
            .calls_for(&override_id)
            .len()
            == 1)
        .await
    );
    assert_eq!(
        rig.ssm.calls_for(&override_id)[0].body["responsePlanArn"],
        other
    );

    // The critical one escalates once, shortly after its 3 s deadline.
    assert!(
        wait_for(Duration::from_secs(8), || rig
            .ssm
            .calls_for(&critical_id)
            .len()
            == 1)
        .await,
        "{}",
        gw.log()
    );
    let call = &rig.ssm.calls_for(&critical_id)[0];
    let late = call.at.duration_since(posted);
    assert!(
        late >= Duration::from_millis(2900) && late < Duration::from_secs(5),
        "escalated after {late:?}"
    );
    assert_eq!(call.body["responsePlanArn"], PLAN);
    assert_eq!(call.body["title"], "[CRITICAL] HighErrorRate on web-1:9100");
    assert_eq!(call.body["impact"], 1);

    // An ACK after escalation says so.
    let (status, text) = ack(&link, "application/json").await;
    assert_eq!(status, 409, "{text}");
    assert!(text.contains("already_escalated"), "{text}");

    // Nothing else was ever paged: not the warning, nobody twice.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(rig.ssm.calls_for(&warning_id).is_empty());
    assert_eq!(rig.ssm.calls().len(), 3, "{:?}", rig.ssm.calls());
    let (status, text) = get(
        &format!("{}/api/incidents/{critical_id}", gw.base()),
        "application/json",
    )
    .await;
    assert_eq!(status, 200);
    let view: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(view["state"], "escalated");
    assert_eq!(view["attempts"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ack_in_time_cancels_and_links_are_checked() {
    let rig = Rig::new().await;
    let gw = rig.gateway("gw", 6379).await;
    let (status, body) = post(&gw, "oncall_wait_minutes=0.05", payload("critical", "a1")).await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().expect("id").to_string();
    let link = ack_url_of(&rig.slack, 0).expect("ACK button");

    // Forged and missing signatures, on the page (GET) and the ACK (POST).
    // Change the signature's last hex digit (to one it is not).
    let (head, last) = link.split_at(link.len() - 1);
    let forged = format!("{head}{}", if last == "0" { "1" } else { "0" });
    let unsigned = link.split('?').next().expect("path").to_string();
    // An expired (but correctly signed) link.
    let signer = versus::oncall::AckSigner::new(SECRET.as_bytes().to_vec());
    let expired = signer.url(&gw.base(), &id, 1_000);
    // Unknown incident with a valid signature.
    let unknown = signer.url(&gw.base(), "nope", 4_000_000_000);
    for (url, want) in [
        (&forged, 401),
        (&unsigned, 401),
        (&expired, 403),
        (&unknown, 404),
    ] {
        assert_eq!(get(url, "application/json").await.0, want, "GET {url}");
        assert_eq!(ack(url, "application/json").await.0, want, "POST {url}");
    }

    // A browser opening the link gets the confirmation page: still pending.
    let (status, page) = get(&link, "text/html").await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Acknowledge this incident?"), "{page}");
    assert_eq!(state_of(&gw, &id).await, "pending");
    // Its button POSTs and acknowledges; the Slack message is updated.
    let (status, page) = ack(&link, "text/html").await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("<h1>Acknowledged</h1>"), "{page}");
    assert_eq!(state_of(&gw, &id).await, "acknowledged");
    let updated = wait_for(Duration::from_secs(5), || {
        rig.slack
            .requests()
            .iter()
            .any(|r| r.path.ends_with("chat.update"))
    })
    .await;
    assert!(updated, "no chat.update after ACK:\n{}", gw.log());
    // Again: 409, and through the alias too.
    let (status, text) = ack(&link, "application/json").await;
    assert_eq!(
        (status, text.contains("already_acknowledged")),
        (409, true),
        "{text}"
    );
    let alias = link.replace("/api/ack/", "/api/incidents/ack/");
    let resp = reqwest::Client::new()
        .post(&alias)
        .send()
        .await
        .expect("POST ack");
    assert_eq!(resp.status().as_u16(), 409);

    // The deadline passes: nobody is paged.
    tokio::time::sleep(Duration::from_secs(5)).await;
    assert!(
        rig.ssm.calls_for(&id).is_empty(),
        "acked incident escalated"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resolve_cancels_and_repeats_join() {
    let rig = Rig::new().await;
    let gw = rig.gateway("gw", 6379).await;
    // Firing, then resolved for the same group before the deadline.
    let (_, body) = post(&gw, "oncall_wait_minutes=0.05", payload("critical", "r1")).await;
    let id = body["id"].as_str().expect("id").to_string();
    let (status, body) = post(&gw, "", payload("resolved", "r1")).await;
    assert_eq!(status, 201, "{body}");
    // Repeated firing for another group: one timer, one page.
    let (_, first) = post(&gw, "oncall_wait_minutes=0.03", payload("critical", "r2")).await;
    let (_, second) = post(&gw, "oncall_wait_minutes=0.03", payload("critical", "r2")).await;
    let first_id = first["id"].as_str().expect("id").to_string();
    let second_id = second["id"].as_str().expect("id").to_string();

    tokio::time::sleep(Duration::from_secs(6)).await;
    assert!(
        rig.ssm.calls_for(&id).is_empty(),
        "resolved incident escalated"
    );
    let (_, text) = get(
        &format!("{}/api/incidents/{id}", gw.base()),
        "application/json",
    )
    .await;
    assert!(text.contains(r#""state":"resolved""#), "{text}");
    assert_eq!(
        rig.ssm.calls_for(&first_id).len(),
        1,
        "{:?}",
        rig.ssm.calls()
    );
    // The repeat answers with the open incident, and nothing else is paged.
    assert_eq!(second_id, first_id);
    assert_eq!(rig.ssm.calls().len(), 1, "{:?}", rig.ssm.calls());
    let (_, text) = get(
        &format!("{}/api/incidents/{first_id}", gw.base()),
        "application/json",
    )
    .await;
    assert!(text.contains(r#""repeats":1"#), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_during_the_wait_still_pages_once_on_time() {
    let rig = Rig::new().await;
    let mut gw = rig.gateway("first", 6379).await;
    let posted = Instant::now();
    let (status, body) = post(&gw, "oncall_wait_minutes=0.1", payload("critical", "k1")).await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().expect("id").to_string();
    gw.kill9();
    let gw2 = rig.gateway("second", 6379).await;
    assert!(
        wait_for(Duration::from_secs(15), || rig.ssm.calls_for(&id).len()
            == 1)
        .await,
        "{}",
        gw2.log()
    );
    let late = rig.ssm.calls_for(&id)[0].at.duration_since(posted);
    assert!(
        late >= Duration::from_millis(5900) && late < Duration::from_secs(8),
        "escalated after {late:?}"
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(rig.ssm.calls_for(&id).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_page_each_incident_exactly_once() {
    let rig = Rig::new().await;
    let a = rig.gateway("a", 6379).await;
    let b = rig.gateway("b", 6379).await;
    let mut ids = Vec::new();
    for i in 0..50 {
        let gw = if i % 2 == 0 { &a } else { &b };
        let (status, body) = post(
            gw,
            "oncall_wait_minutes=0.02",
            payload("critical", &format!("two{i}")),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        ids.push(body["id"].as_str().expect("id").to_string());
    }
    let all = wait_for(Duration::from_secs(20), || rig.ssm.calls().len() >= 50).await;
    assert!(all, "only {} of 50 escalated", rig.ssm.calls().len());
    tokio::time::sleep(Duration::from_secs(2)).await;
    for id in &ids {
        assert_eq!(rig.ssm.calls_for(id).len(), 1, "incident {id}");
    }
    assert_eq!(rig.ssm.calls().len(), 50);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_down_is_a_503_with_nothing_sent() {
    let rig = Rig::new().await;
    let port = crate::gateway::free_port();
    let mut redis = start_redis(port);
    let gw = rig.gateway("gw", port).await;
    let (status, body) = post(&gw, "oncall_wait_minutes=1", payload("critical", "d1")).await;
    assert_eq!(status, 201);
    let d1 = body["id"].as_str().expect("id").to_string();
    let link = ack_url_of(&rig.slack, 0).expect("ACK button");
    let sent_before = rig.slack.requests().len();

    let _ = redis.kill();
    let _ = redis.wait();
    let (status, body) = post(&gw, "oncall_wait_minutes=1", payload("critical", "d2")).await;
    assert_eq!(status, 503, "{body}");
    // Every route answers with the same generic message; the Redis error
    // (addresses, the reason) is in the log only.
    assert_eq!(
        body["error"], "nothing was sent: on-call state store unavailable; retry later",
        "{body}"
    );
    let unavailable = "on-call state store unavailable; retry later";
    let (status, view) = get(&format!("{}/api/incidents/{d1}", gw.base()), "*/*").await;
    assert_eq!(status, 503, "{view}");
    assert!(view.contains(unavailable), "{view}");
    let (status, page) = get(&link, "application/json").await;
    assert_eq!(status, 503, "{page}");
    assert!(page.contains(unavailable), "{page}");
    let (status, acked) = ack(&link, "application/json").await;
    assert_eq!(status, 503, "{acked}");
    assert!(acked.contains(unavailable), "{acked}");
    for answer in [body.to_string(), view, page, acked] {
        let lower = answer.to_ascii_lowercase();
        for leak in ["redis:", "refused", "os error", "127.0.0.1", "broken pipe"] {
            assert!(!lower.contains(leak), "`{leak}` in {answer}");
        }
    }
    let log = gw.log();
    assert!(
        log.lines()
            .any(|l| l.contains("answering 503") && l.contains("redis:")),
        "{log}"
    );
    assert_eq!(
        rig.slack.requests().len(),
        sent_before,
        "a message went out while Redis was down"
    );
    // Alerts without on-call still flow.
    let (status, _) = post(&gw, "oncall_enable=false", payload("warning", "d3")).await;
    assert_eq!(status, 201);

    let mut redis = start_redis(port);
    let back = {
        let mut ok = false;
        for _ in 0..50 {
            if post(&gw, "oncall_wait_minutes=1", payload("critical", "d4"))
                .await
                .0
                == 201
            {
                ok = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        ok
    };
    assert!(
        back,
        "gateway did not recover after Redis came back:\n{}",
        gw.log()
    );
    let _ = redis.kill();
    let _ = redis.wait();
}
