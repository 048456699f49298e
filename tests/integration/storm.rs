//! An alert storm against Slack's real rate limit (about one message a
//! second per channel, bursts of 3): every notification reaches its
//! channel exactly once, in the order it was sent, as fast as the limit
//! allows; every sender is answered with success at once, so none sends
//! again; and every page goes out when its wait ends, not before, whether
//! or not its message was posted yet.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::gateway::Process;
use crate::oncall_rig::{Rig, Setup, wait_for};
use crate::slack_emulator::Mode;

/// Channels stormed, and notifications per channel.
const CHANNELS: usize = 5;
const PER_CHANNEL: usize = 16;
/// `oncall_wait_minutes` of every notification: 6 s.
const WAIT_MINUTES: &str = "0.1";
const WAIT: Duration = Duration::from_secs(6);

/// What one sender saw of one notification.
struct Sent {
    title: String,
    /// When it was first sent.
    at: Instant,
    /// Every answer's status, in order (a retry adds one).
    statuses: Vec<u16>,
    /// The last answer.
    answer: Value,
}

/// Sends `title` to `channel` the way Alertmanager does: a 5xx or no
/// answer within 10 s is sent again, up to 3 times.
async fn send(gw: &Process, channel: &str, title: &str) -> Sent {
    let url = format!(
        "{}/api/incidents?slack_channel_id={channel}&oncall_wait_minutes={WAIT_MINUTES}",
        gw.base()
    );
    let body = json!({ "title": title, "status": "firing" }).to_string();
    let mut sent = Sent {
        title: title.to_string(),
        at: Instant::now(),
        statuses: Vec::new(),
        answer: Value::Null,
    };
    for _ in 0..=3 {
        let reply = reqwest::Client::new()
            .post(&url)
            .header("content-type", "application/json")
            .body(body.clone())
            .timeout(Duration::from_secs(10))
            .send()
            .await;
        let Ok(reply) = reply else {
            sent.statuses.push(0);
            continue;
        };
        let status = reply.status().as_u16();
        sent.statuses.push(status);
        let bytes = reply.bytes().await.unwrap_or_default();
        sent.answer = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if status < 500 {
            break;
        }
    }
    sent
}

fn config(rig: &Rig) -> String {
    let template = rig.dir("templates").join("title.tmpl");
    std::fs::write(&template, "{{.title}}").expect("write template");
    rig.yaml(&Setup {
        template,
        ..Setup::redis_port(6379)
    })
}

/// The titles Slack shows in `channel`, in the order they were posted.
fn shown(rig: &Rig, channel: &str) -> Vec<String> {
    rig.slack
        .posted()
        .iter()
        .filter(|p| p["channel"] == channel)
        .map(|p| p["text"].as_str().unwrap_or_default().to_string())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storm_reaches_every_channel_once_in_order_and_pages_on_time() {
    let rig = Rig::with_slack(Mode::RateLimit { burst: 3 }).await;
    let gw = Process::start(&rig.dir("gw"), &config(&rig), &rig.env()).await;
    let started = Instant::now();

    // One sender per channel, each sending its notifications one after the
    // other, all channels at once.
    let senders = (1..=CHANNELS).map(|c| {
        let gw = &gw;
        async move {
            let channel = format!("C{c}");
            let mut all = Vec::new();
            for n in 1..=PER_CHANNEL {
                all.push(send(gw, &channel, &format!("{channel} alert {n}")).await);
            }
            all
        }
    });
    let sent: Vec<Sent> = futures::future::join_all(senders)
        .await
        .into_iter()
        .flatten()
        .collect();
    let answered = started.elapsed();

    // Every sender got success at once: no retry, no 5xx.
    for s in &sent {
        assert_eq!(s.statuses, [201], "{}: {}\n{}", s.title, s.answer, gw.log());
    }
    let status_of = |s: &Sent| s.answer["channels"][0]["status"].clone();
    let queued = sent.iter().filter(|s| status_of(s) == "queued").count();
    let delivered = sent.iter().filter(|s| status_of(s) == "delivered").count();
    assert_eq!(queued + delivered, sent.len());
    // Past each channel's burst, notifications wait for their turn.
    assert!(
        queued >= CHANNELS * (PER_CHANNEL - 3) - CHANNELS,
        "only {queued} queued"
    );

    // Each channel shows its notifications once each, in the order sent.
    let total = CHANNELS * PER_CHANNEL;
    let all_posted = wait_for(Duration::from_secs(60), || {
        rig.slack.posted().len() >= total
    })
    .await;
    let drained = started.elapsed();
    assert!(
        all_posted,
        "{} of {total} posted\n{}",
        rig.slack.posted().len(),
        gw.log()
    );
    for c in 1..=CHANNELS {
        let channel = format!("C{c}");
        let expected: Vec<String> = (1..=PER_CHANNEL)
            .map(|n| format!("{channel} alert {n}"))
            .collect();
        assert_eq!(shown(&rig, &channel), expected, "{channel}");
    }
    // Nothing more comes: exactly once.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(rig.slack.posted().len(), total);
    // As fast as the limit allows: a burst of 3, then one a second.
    assert!(
        drained >= Duration::from_secs((PER_CHANNEL - 3) as u64 - 1),
        "drained in {drained:?}: faster than the emulator's limit"
    );

    // Every page went out once, and not before its wait.
    assert!(
        wait_for(Duration::from_secs(30), || rig.ssm.calls().len() >= total).await,
        "{} of {total} paged",
        rig.ssm.calls().len()
    );
    for s in &sent {
        let id = s.answer["id"].as_str().expect("id");
        let pages = rig.ssm.calls_for(id);
        assert_eq!(pages.len(), 1, "{} paged {} times", s.title, pages.len());
        let after = pages[0].at.duration_since(s.at);
        assert!(
            after >= WAIT,
            "{} paged {after:?} after it was sent",
            s.title
        );
    }

    // The queues' own count agrees, and nothing is left in Redis.
    let series = |outcome| {
        format!("versus_outbox_notifications_total{{channel=\"slack\",outcome=\"{outcome}\"}}")
    };
    assert_eq!(
        crate::common::metric(&gw.base(), &series("queued")).await,
        queued as f64
    );
    assert_eq!(
        crate::common::metric(&gw.base(), &series("delivered")).await,
        queued as f64
    );
    let client = redis::Client::open("redis://127.0.0.1:6379/").expect("redis");
    let mut con = client
        .get_multiplexed_async_connection()
        .await
        .expect("connect");
    let left: Vec<String> = redis::cmd("KEYS")
        .arg(format!("{}{{outbox}}*", rig.prefix))
        .query_async(&mut con)
        .await
        .expect("KEYS");
    assert!(left.is_empty(), "left in Redis: {left:?}");
    eprintln!(
        "storm: {total} notifications over {CHANNELS} channels, answered in {answered:?}, \
         {queued} queued, all posted after {drained:?}"
    );
}

/// The storm of the issue that filed this work: every sender at once.
/// None waits for its message, so none times out and sends again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn senders_all_at_once_are_each_answered_at_once_and_posted_once() {
    let rig = Rig::with_slack(Mode::RateLimit { burst: 3 }).await;
    let gw = Process::start(&rig.dir("gw"), &config(&rig), &rig.env()).await;
    let total = CHANNELS * PER_CHANNEL;
    let sent = futures::future::join_all((0..total).map(|n| {
        let gw = &gw;
        async move {
            let channel = format!("C{}", n % CHANNELS + 1);
            send(gw, &channel, &format!("{channel} alert {n}")).await
        }
    }))
    .await;
    for s in &sent {
        assert_eq!(s.statuses, [201], "{}: {}\n{}", s.title, s.answer, gw.log());
    }
    assert!(
        wait_for(Duration::from_secs(60), || rig.slack.posted().len()
            >= total)
        .await,
        "{} of {total} posted\n{}",
        rig.slack.posted().len(),
        gw.log()
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut posted: Vec<String> = rig
        .slack
        .posted()
        .iter()
        .map(|p| p["text"].as_str().unwrap_or_default().to_string())
        .collect();
    posted.sort();
    let mut expected: Vec<String> = sent.iter().map(|s| s.title.clone()).collect();
    expected.sort();
    assert_eq!(posted, expected);
}

/// Sends "C1 alert 1" to "C1 alert {count}" to channel C1, one after the
/// other; each is answered 201.
async fn send_to_c1(gw: &Process, count: usize) {
    for n in 1..=count {
        let s = send(gw, "C1", &format!("C1 alert {n}")).await;
        assert_eq!(s.statuses, [201], "{}", s.answer);
    }
}

/// A replica that was sent `count` notifications for channel C1 and has
/// posted 5 of them: it is draining the rest from its queue.
async fn draining(rig: &Rig, count: usize) -> Process {
    let gw = Process::start(&rig.dir("a"), &config(rig), &rig.env()).await;
    send_to_c1(&gw, count).await;
    assert!(
        wait_for(Duration::from_secs(20), || rig.slack.posted().len() >= 5).await,
        "{}",
        gw.log()
    );
    gw
}

/// A replica killed while draining: another takes its queue over once the
/// lease lapses. Only the message being posted at the kill may show twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queue_outlives_the_replica_that_drained_it() {
    const COUNT: usize = 10;
    let rig = Rig::with_slack(Mode::RateLimit { burst: 3 }).await;
    let mut first = draining(&rig, COUNT).await;
    first.kill9();
    let at_kill = rig.slack.posted().len();
    assert!(at_kill < COUNT, "drained before the kill: {at_kill}");

    let second = Process::start(&rig.dir("b"), &config(&rig), &rig.env()).await;
    let expected: Vec<String> = (1..=COUNT).map(|n| format!("C1 alert {n}")).collect();
    let complete = || {
        let mut shown = shown(&rig, "C1");
        shown.dedup();
        shown == expected
    };
    // The lease (15 s) lapses, then one message a second.
    assert!(
        wait_for(Duration::from_secs(45), complete).await,
        "shown: {:?}\n{}",
        shown(&rig, "C1"),
        second.log()
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let duplicates = shown(&rig, "C1").len() - COUNT;
    assert!(
        duplicates <= 1,
        "{duplicates} posted twice: {:?}",
        shown(&rig, "C1")
    );
}

/// With `storm_digest`, what waits behind the limit is posted as one
/// message at the channel's next turn, which says how many it merges.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_storm_digest_merges_what_waits_into_one_message() {
    const COUNT: usize = 12;
    let rig = Rig::with_slack(Mode::RateLimit { burst: 3 }).await;
    let yaml = config(&rig).replacen(
        "  slack:\n    enable: true\n",
        "  slack:\n    enable: true\n    storm_digest: true\n",
        1,
    );
    assert!(
        yaml.contains("storm_digest"),
        "the rig's config changed shape"
    );
    let gw = Process::start(&rig.dir("gw"), &yaml, &rig.env()).await;
    send_to_c1(&gw, COUNT).await;
    // The burst's 3 go out at once; the 9 behind them wait for the one
    // second Slack asked for, then go as one message.
    assert!(
        wait_for(Duration::from_secs(10), || rig.slack.posted().len() >= 4).await,
        "{}",
        gw.log()
    );
    tokio::time::sleep(Duration::from_secs(3)).await;
    let posted = rig.slack.posted();
    assert_eq!(posted.len(), 4, "{posted:#?}");
    let digest = posted[3]["attachments"][0]["blocks"].to_string();
    assert!(
        posted[3]["text"].as_str().is_some_and(
            |t| t.starts_with("9 alerts arrived faster than this channel's rate limit")
        ),
        "{}",
        posted[3]
    );
    let mut at = 0;
    for n in 4..=COUNT {
        let title = format!("C1 alert {n}");
        let found = digest[at..].find(&title);
        assert!(
            found.is_some(),
            "{title} missing or out of order in {digest}"
        );
        at += found.unwrap_or_default() + title.len();
    }
    assert_eq!(
        crate::common::metric(
            &gw.base(),
            "versus_outbox_notifications_total{channel=\"slack\",outcome=\"delivered\"}"
        )
        .await,
        9.0
    );
}

/// A replica stopped with SIGTERM finishes the post under way and hands its
/// queue over at once: the next replica drains it long before the lease
/// (15 s) would lapse, and nothing shows twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_stopping_hands_its_queue_over_at_once() {
    const COUNT: usize = 16;
    let rig = Rig::with_slack(Mode::RateLimit { burst: 3 }).await;
    let mut first = draining(&rig, COUNT).await;
    // Started while the first one drains: it cannot take the lease yet.
    let second = Process::start(&rig.dir("b"), &config(&rig), &rig.env()).await;
    first.terminate();
    assert!(
        first.wait_exit(Duration::from_secs(30)).is_some(),
        "{}",
        first.log()
    );
    let handed_over = Instant::now();
    let at_stop = rig.slack.posted().len();
    assert!(at_stop < COUNT, "drained before the stop: {at_stop}");
    assert!(
        wait_for(Duration::from_secs(40), || shown(&rig, "C1").len() >= COUNT).await,
        "shown: {:?}\n{}",
        shown(&rig, "C1"),
        second.log()
    );
    let took = handed_over.elapsed();
    // One a second for what was left, plus a scan: far less than the
    // lease's 15 s before the first post would be possible.
    let limit = Duration::from_secs((COUNT - at_stop) as u64 + 5);
    assert!(
        took < limit,
        "{} left took {took:?}: the lease was not released",
        COUNT - at_stop
    );
    assert!(second.log().contains("queued notification delivered"));
    tokio::time::sleep(Duration::from_secs(2)).await;
    let expected: Vec<String> = (1..=COUNT).map(|n| format!("C1 alert {n}")).collect();
    assert_eq!(shown(&rig, "C1"), expected);
}
