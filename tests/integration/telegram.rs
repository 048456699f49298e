//! Telegram end to end: the real binary posting `sendMessage` to a local
//! Bot API emulator. Golden bodies for the default and the upstream
//! template, `telegram_chat_id`, the environment overrides, retries and
//! permanent refusals.

use std::time::Duration;

use serde_json::json;

use crate::chat_emulator::{ChatEmulator, Mode};
use crate::chat_rig::{
    ChatGateway, alertmanager, assert_golden, channel, config_template, template,
};

const OK: &str = r#"{"ok":true,"result":{"message_id":42,"chat":{"id":-1001}}}"#;

fn section(api: &ChatEmulator, template_path: &str) -> String {
    format!(
        "  telegram:\n    enable: true\n    bot_token: \"123:abc\"\n    chat_id: \"-1001\"\n    \
         template_path: {template_path}\n    api_url: {}/\n",
        api.base()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn alertmanager_fixtures_reach_send_message_as_their_goldens() {
    let api = ChatEmulator::start(Mode::Ok(OK)).await;
    let gw = ChatGateway::start(
        &section(&api, &config_template("telegram_message.tmpl")),
        &[],
    )
    .await;
    for name in ["critical", "resolved"] {
        let (status, body) = gw.post("", &alertmanager(name)).await;
        assert_eq!(status, 201, "{name}: {body}\n{}", gw.log());
        assert_eq!(channel(&body, "telegram")["status"], "delivered");
    }
    let requests = api.requests();
    assert_eq!(requests.len(), 2, "{requests:#?}");
    for (r, name) in requests.iter().zip(["critical", "resolved"]) {
        assert_eq!(r.method, "POST");
        assert_eq!(r.path, "/bot123:abc/sendMessage");
        assert_eq!(r.header("content-type"), "application/json");
        let body = r.json();
        assert_eq!(body["chat_id"], "-1001");
        assert_eq!(body["parse_mode"], "HTML");
        // No preview: Telegram would fetch the links in the message.
        assert_eq!(body["link_preview_options"], json!({"is_disabled": true}));
        let text = body["text"].as_str().expect("text");
        assert!(text.contains("<b>"), "{text}");
        assert!(text.contains("HighErrorRate"), "{text}");
        assert_golden("telegram", name, &body);
    }
    assert!(
        requests[0].json()["text"]
            .as_str()
            .unwrap_or("")
            .starts_with("🔥")
    );
    assert!(
        requests[1].json()["text"]
            .as_str()
            .unwrap_or("")
            .starts_with("✅")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_upstream_template_renders_unchanged() {
    let api = ChatEmulator::start(Mode::Ok(OK)).await;
    let tmpl = template("upstream/telegram_message.early.tmpl");
    let gw = ChatGateway::start(&section(&api, &tmpl), &[]).await;
    let alert = json!({"ServiceName": "order-service", "Logs": "[ERROR] db <timeout> & retry"});
    let (status, body) = gw.post("", alert.to_string().as_bytes()).await;
    assert_eq!(status, 201, "{body}\n{}", gw.log());
    let sent = api.requests()[0].json();
    assert_eq!(
        sent["text"],
        "🚨 <b>Critical Error Detected!</b> 🚨\n📌 <b>Service:</b> order-service\n\
         ⚠️ <b>Error Details:</b>\n[ERROR] db <timeout> & retry\n"
    );
    assert_golden("telegram", "upstream-template", &sent);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn telegram_chat_id_overrides_the_chat_for_one_alert() {
    let api = ChatEmulator::start(Mode::Ok(OK)).await;
    let gw = ChatGateway::start(
        &section(&api, &config_template("telegram_message.tmpl")),
        &[],
    )
    .await;
    let (status, _) = gw
        .post("telegram_chat_id=-2002", &alertmanager("warning"))
        .await;
    assert_eq!(status, 201, "{}", gw.log());
    let (status, _) = gw.post("telegram_chat_id=", &alertmanager("warning")).await;
    assert_eq!(status, 201, "{}", gw.log());
    let chats: Vec<_> = api
        .requests()
        .iter()
        .map(|r| r.json()["chat_id"].clone())
        .collect();
    assert_eq!(chats, [json!("-2002"), json!("-1001")]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn environment_overrides_as_upstream() {
    let api = ChatEmulator::start(Mode::Ok(OK)).await;
    // As in upstream's sample config: off in the file, the token from
    // ${VAR}; the chat in the file is replaced by TELEGRAM_CHAT_ID.
    let alert = format!(
        "  telegram:\n    enable: false\n    bot_token: ${{TELEGRAM_BOT_TOKEN}}\n    \
         chat_id: \"-1\"\n    template_path: {}\n    use_proxy: false\n",
        config_template("telegram_message.tmpl")
    );
    let env = [
        ("TELEGRAM_ENABLE", "true".to_string()),
        ("TELEGRAM_BOT_TOKEN", "999:env".to_string()),
        ("TELEGRAM_CHAT_ID", "@ops".to_string()),
        ("TELEGRAM_API_URL", format!("{}/", api.base())),
    ];
    let gw = ChatGateway::start(&alert, &env).await;
    let (status, body) = gw.post("", &alertmanager("critical")).await;
    assert_eq!(status, 201, "{body}\n{}", gw.log());
    let r = &api.requests()[0];
    assert_eq!(r.path, "/bot999:env/sendMessage");
    assert_eq!(r.json()["chat_id"], "@ops");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_are_queued_and_refusals_are_not_retried() {
    let limited = r#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 1","parameters":{"retry_after":1}}"#;
    let api = ChatEmulator::start(Mode::FailOnce {
        status: 429,
        body: limited,
        retry_after: None,
        ok: OK,
    })
    .await;
    let gw = ChatGateway::start(
        &section(&api, &config_template("telegram_message.tmpl")),
        &[],
    )
    .await;
    let sent = std::time::Instant::now();
    let (status, body) = gw.post("", &alertmanager("critical")).await;
    assert_eq!(status, 201, "{body}\n{}", gw.log());
    // Told to wait (`parameters.retry_after`): the message waits in the
    // channel's queue, which sends it again after the wait.
    assert_eq!(channel(&body, "telegram")["status"], "queued", "{body}");
    assert_eq!(channel(&body, "telegram")["attempts"], 1);
    assert!(
        crate::common::eventually(Duration::from_secs(5), async || api.requests().len() == 2).await,
        "not sent again:\n{}",
        gw.log()
    );
    let waited = sent.elapsed();
    assert!(
        waited >= Duration::from_millis(950),
        "sent again after {waited:?}"
    );

    let missing = r#"{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}"#;
    let api = ChatEmulator::start(Mode::Always(400, missing)).await;
    let gw = ChatGateway::start(
        &section(&api, &config_template("telegram_message.tmpl")),
        &[],
    )
    .await;
    let (status, body) = gw.post("", &alertmanager("critical")).await;
    assert_eq!(status, 502, "{body}");
    let tg = channel(&body, "telegram");
    assert_eq!(tg["attempts"], 1);
    assert_eq!(tg["error_kind"], "permanent");
    let error = tg["error"].as_str().expect("error");
    assert!(error.contains("chat not found"), "{error}");
    assert!(
        !gw.log().contains("123:abc"),
        "the bot token leaked into the log"
    );
}
