//! A page that could not be started is told, not hidden: AWS refuses the
//! response plan for good. The Slack and Telegram messages
//! (`versus:gateway@0.2.0` channels) are changed in place to say that
//! paging failed; a channel built on 0.1.0 (the test plugin, which cannot
//! be told) gets a message of its own from the gateway, and the email
//! channel (`versus:mail@0.2.0`) mails one itself. The ACK page and its
//! button say so, and `/metrics` and the log at error level raise it.
//! Each chat hears it exactly once.

use std::time::Duration;

use crate::chat_emulator::{ChatEmulator, Mode};
use crate::common::{built_plugin, eventually, fixture, plugin_dir_with};
use crate::gateway::Process;
use crate::oncall_rig::{Rig, ack, ack_url_of, get, payload, post, state_of};
use crate::smtp_server::SmtpServer;
use crate::ssm_emulator::Failure;

use crate::oncall_rig::TELEGRAM_OK;

/// The texts of the Bot API calls to `method` Telegram received.
fn telegram_texts(telegram: &ChatEmulator, method: &str) -> Vec<String> {
    telegram
        .requests()
        .iter()
        .filter(|r| r.path.ends_with(&format!("/{method}")))
        .map(|r| r.json()["text"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// The rig's config with Telegram and email (plain SMTP to `smtp`), plus a
/// `channels:` entry on the 0.1.0 test plugin that POSTs each message to
/// `legacy`.
fn config(rig: &Rig, telegram: &ChatEmulator, legacy: &ChatEmulator, smtp: u16) -> String {
    let plugins = plugin_dir_with(
        &rig.dir("plugins"),
        &built_plugin("test_channel"),
        "legacy_hook",
    );
    let entry = format!(
        "plugins:\n  watch: false\n  dir: {}\nchannels:\n  - name: legacy\n    plugin: legacy_hook\n    \
         template_path: {}\n    allowed_hosts: [\"{}\"]\n    config:\n      url: {}/legacy\n      \
         method: POST\n",
        plugins.display(),
        fixture("templates/slack_message.tmpl").display(),
        legacy.base(),
        legacy.base()
    );
    let email = format!(
        "alert:\n  email:\n    enable: true\n    smtp_host: 127.0.0.1\n    smtp_port: {smtp}\n    \
         tls: none\n    from: versus@example.org\n    to: oncall@example.org\n    \
         template_path: {}\n",
        crate::chat_rig::config_template("email_message.tmpl")
    );
    let yaml = rig
        .yaml_with_telegram(telegram)
        .replacen("alert:\n", &email, 1);
    assert!(
        yaml.contains("plugins:\n  watch: false\n"),
        "the rig's config changed shape"
    );
    yaml.replacen("plugins:\n  watch: false\n", &entry, 1)
}

/// A mail body as written, undoing quoted-printable (the encoding the
/// mailer picks for long lines): soft line breaks and `=XX` bytes.
fn unquote(body: &str) -> String {
    let joined = body.replace("=\r\n", "");
    let mut bytes = Vec::new();
    let mut rest = joined.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        let hex = tail.get(..2).and_then(|h| std::str::from_utf8(h).ok());
        match (b, hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'=', Some(decoded)) => {
                bytes.push(decoded);
                rest = &tail[2..];
            }
            _ => {
                bytes.push(b);
                rest = tail;
            }
        }
    }
    String::from_utf8_lossy(&bytes).into_owned()
}

/// The bodies the 0.1.0 channel posted.
fn legacy_bodies(legacy: &ChatEmulator) -> Vec<String> {
    legacy
        .requests()
        .iter()
        .map(|r| String::from_utf8_lossy(&r.body).into_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_that_failed_is_shown_in_every_chat_once_and_on_the_ack_page() {
    let rig = Rig::new().await;
    rig.ssm.fail_next(usize::MAX, Failure::AccessDenied);
    let telegram = ChatEmulator::start(Mode::Ok(TELEGRAM_OK)).await;
    let legacy = ChatEmulator::start(Mode::Ok("ok")).await;
    let dir = tempfile::tempdir().expect("tempdir");
    let (cert, key) = crate::redis_tls::self_signed(dir.path(), "smtp");
    let smtp = SmtpServer::start(crate::smtp_server::Mode::Plain, &cert, &key).await;
    let yaml = config(&rig, &telegram, &legacy, smtp.port);
    let gw = Process::start(&rig.dir("gw"), &yaml, &rig.env()).await;

    // 1.2 s to acknowledge, and nobody does.
    let (status, body) = post(
        &gw,
        "oncall_wait_minutes=0.02",
        payload("critical", "paging-failed"),
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_str().expect("id").to_string();
    let link = ack_url_of(&rig.slack, 0).expect("the Slack message has an ACK button");

    let failed = eventually(Duration::from_secs(10), async || {
        state_of(&gw, &id).await == "escalation_failed"
    })
    .await;
    assert!(failed, "not marked escalation_failed:\n{}", gw.log());
    let told = eventually(Duration::from_secs(10), async || {
        !rig.slack.calls("chat.update").is_empty()
            && !telegram_texts(&telegram, "editMessageText").is_empty()
            && legacy_bodies(&legacy).len() == 2
            && smtp.mails().len() == 2
    })
    .await;
    assert!(told, "the chats were not told:\n{}", gw.log());
    // Well past any late duplicate.
    tokio::time::sleep(Duration::from_millis(1000)).await;

    // Slack: the one message, changed in place, once.
    let updates = rig.slack.calls("chat.update");
    assert_eq!(updates.len(), 1, "{updates:#?}");
    let attachment = &updates[0]["attachments"][0];
    assert_eq!(attachment["color"], "#1D1C1D", "{attachment}");
    let blocks = attachment["blocks"].as_array().expect("blocks");
    assert_eq!(
        blocks.last().expect("a block")["elements"][0]["text"],
        "⛔ *Paging failed* — nobody was paged. Page the on-call team by hand.",
        "{attachment}"
    );
    assert!(
        blocks.iter().all(|b| b["type"] != "actions"),
        "the ACK button is still there: {attachment}"
    );
    assert_eq!(rig.slack.posted().len(), 1);

    // Telegram: the one message, edited once.
    let sent = telegram_texts(&telegram, "sendMessage");
    let edits = telegram_texts(&telegram, "editMessageText");
    assert_eq!((sent.len(), edits.len()), (1, 1), "{sent:#?} {edits:#?}");
    assert_eq!(
        edits[0],
        format!(
            "{}\n\n⛔ <b>Paging failed</b> — nobody was paged. Page the on-call team by hand.",
            sent[0].trim_end()
        )
    );

    // The 0.1.0 channel: the alert, then one notice of its own that names
    // the incident and repeats the alert.
    let bodies = legacy_bodies(&legacy);
    assert_eq!(bodies.len(), 2, "{bodies:#?}");
    let notice = &bodies[1];
    assert!(
        notice.starts_with("PAGING FAILED: ") && notice.contains("Page the on-call team by hand"),
        "{notice}"
    );
    assert!(notice.contains(&id), "{notice}");
    assert!(notice.ends_with(bodies[0].as_str()), "{notice}");

    // Email: the alert, then one notice the plugin mailed itself, with the
    // same words and the alert repeated below them.
    let mails = smtp.mails();
    assert_eq!(mails.len(), 2, "{mails:#?}");
    let subject = |m: &crate::smtp_server::Received| {
        m.data
            .split("\r\n")
            .find_map(|l| l.strip_prefix("Subject: "))
            .unwrap_or_default()
            .to_string()
    };
    assert!(
        subject(&mails[1]).starts_with("PAGING FAILED: "),
        "{mails:#?}"
    );
    let body = unquote(mails[1].data.split_once("\r\n\r\n").map_or("", |(_, b)| b));
    assert!(
        body.starts_with("PAGING FAILED: ") && body.contains(&format!("(incident {id})")),
        "{body}"
    );
    let alert = unquote(mails[0].data.split_once("\r\n\r\n").map_or("", |(_, b)| b));
    assert!(
        body.trim_end().ends_with(alert.trim_end()),
        "{body}\n---\n{alert}"
    );

    // The ACK page, before and after its button.
    let (status, page) = get(&link, "text/html").await;
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("Paging failed"), "{page}");
    let (status, answer) = ack(&link, "text/html").await;
    assert_eq!(status, 409, "{answer}");
    assert!(
        answer.contains("Paging failed")
            && answer.contains("nobody was paged")
            && answer.contains("Page the on-call engineers by hand"),
        "{answer}"
    );

    // Counted and logged at error level; AWS was asked once.
    let (_, metrics) = crate::metrics::scrape(&gw).await;
    assert_eq!(
        crate::metrics::sample(&metrics, "versus_escalations_failed_total"),
        Some(1.0),
        "{metrics}"
    );
    // The email plugin (versus:mail@0.2.0) was told, through `update`; the
    // gateway did not deliver a notice for it.
    let email_calls = |stage: &str| {
        crate::metrics::sample(
            &metrics,
            &format!(
                "versus_plugin_call_duration_seconds_count{{plugin=\"email\",stage=\"{stage}\"}}"
            ),
        )
    };
    assert_eq!(
        (email_calls("deliver"), email_calls("update")),
        (Some(1.0), Some(1.0)),
        "{metrics}"
    );
    let log = gw.log();
    assert!(
        log.lines()
            .any(|l| l.contains("ERROR") && l.contains("ESCALATION FAILED")),
        "{log}"
    );
    assert_eq!(rig.ssm.attempts().len(), 1);
    assert!(rig.ssm.calls().is_empty());
}
