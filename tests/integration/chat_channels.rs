//! Webhook, Microsoft Teams, Lark and Viber end to end: the real binary
//! posting to a local emulator of each API, with golden request bodies,
//! their query overrides and their failure answers.

use serde_json::json;

use crate::chat_emulator::{ChatEmulator, Mode};
use crate::chat_rig::{ChatGateway, alertmanager, assert_golden, channel, config_template};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_sends_the_envelope_text_or_the_template_json() {
    let api = ChatEmulator::start(Mode::Ok("{}")).await;
    let tmpl = config_template("slack_message.tmpl");
    let alert = format!(
        "channels:\n  - name: ops\n    plugin: webhook\n    template_path: {tmpl}\n    \
         allowed_hosts: [\"{base}\"]\n    config:\n      url: {base}/hooks/ops?key=s3cret\n      \
         headers:\n        Authorization: Bearer ${{HOOK_TOKEN}}\n  - name: plain\n    \
         plugin: webhook\n    template_path: {tmpl}\n    allowed_hosts: [\"{base}\"]\n    \
         config:\n      url: {base}/plain\n      method: PUT\n      format: text\n",
        base = api.base()
    );
    // `channels:` is a top-level key: close the alert section first.
    let section = format!("  console:\n    enable: false\n{alert}");
    let gw = ChatGateway::start(&section, &[("HOOK_TOKEN", "t0k".to_string())]).await;
    let (status, body) = gw.post("", &alertmanager("critical")).await;
    assert_eq!(status, 201, "{body}\n{}", gw.log());
    assert_eq!(channel(&body, "ops")["status"], "delivered");
    let mut requests = api.requests();
    requests.sort_by(|a, b| a.path.cmp(&b.path));
    assert_eq!(requests.len(), 2, "{requests:#?}");

    let hook = &requests[0];
    assert_eq!(hook.path, "/hooks/ops?key=s3cret");
    assert_eq!(hook.header("authorization"), "Bearer t0k");
    assert_eq!(hook.header("content-type"), "application/json");
    let mut envelope = hook.json();
    let id = envelope["incident_id"].as_str().expect("id").to_string();
    assert_eq!(id, body["id"], "the envelope names the incident");
    envelope["incident_id"] = json!("<id>");
    assert_eq!(
        envelope["alert"]["groupKey"],
        "{}/{severity=\"critical\"}:{alertname=\"HighErrorRate\"}"
    );
    assert_eq!(envelope["severity"], "critical");
    assert_golden("webhook", "critical", &envelope);

    let plain = &requests[1];
    assert_eq!(plain.method, "PUT");
    assert_eq!(plain.header("content-type"), "text/plain; charset=utf-8");
    let rendered = std::fs::read_to_string(crate::common::fixture(
        "rendered/slack_message.critical.txt",
    ))
    .expect("rendered");
    assert_eq!(String::from_utf8_lossy(&plain.body), rendered);
}

fn teams_section(api: &ChatEmulator, extra: &str) -> String {
    format!(
        "  msteams:\n    enable: true\n    power_automate_url: {}/workflows/main?sig=abc\n    \
         template_path: {}\n{extra}",
        api.base(),
        config_template("msteams_message.tmpl")
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn teams_gets_an_adaptive_card_and_other_power_urls_pick_the_flow() {
    let api = ChatEmulator::start(Mode::Ok("")).await;
    let extra = format!(
        "    other_power_urls:\n      qc: {}/workflows/qc\n      unset: ${{MSTEAMS_OTHER_POWER_URL_UNSET}}\n",
        api.base()
    );
    let gw = ChatGateway::start(&teams_section(&api, &extra), &[]).await;
    for (query, name) in [
        ("", "critical"),
        ("msteams_other_power_url=qc", "resolved"),
        ("msteams_other_power_url=nope", "warning"),
    ] {
        let (status, body) = gw.post(query, &alertmanager(name)).await;
        assert_eq!(status, 201, "{name}: {body}\n{}", gw.log());
    }
    let requests = api.requests();
    let paths: Vec<_> = requests.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "/workflows/main?sig=abc",
            "/workflows/qc",
            "/workflows/main?sig=abc"
        ]
    );
    let card = requests[0].json();
    assert_eq!(card["type"], "AdaptiveCard");
    assert_eq!(card["version"], "1.5");
    assert_eq!(card["summary"], "🔥 CRITICAL: HighErrorRate");
    assert_eq!(card["body"][0]["weight"], "Bolder");
    assert_golden("msteams", "critical", &card);
    assert_golden("msteams", "resolved", &requests[1].json());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn teams_refusals_fail_and_server_errors_are_retried() {
    let api = ChatEmulator::start(Mode::FailOnce {
        status: 502,
        body: "flow hiccup",
        retry_after: None,
        ok: "",
    })
    .await;
    let gw = ChatGateway::start(&teams_section(&api, ""), &[]).await;
    let (status, body) = gw.post("", &alertmanager("critical")).await;
    assert_eq!(status, 201, "{body}\n{}", gw.log());
    assert_eq!(channel(&body, "msteams")["attempts"], 2);

    let api = ChatEmulator::start(Mode::Always(404, "no such flow")).await;
    let gw = ChatGateway::start(&teams_section(&api, ""), &[]).await;
    let (status, body) = gw.post("", &alertmanager("critical")).await;
    assert_eq!(status, 502, "{body}");
    let t = channel(&body, "msteams");
    assert_eq!(
        (t["attempts"].clone(), t["error_kind"].clone()),
        (json!(1), json!("permanent"))
    );
    assert!(
        t["error"].as_str().unwrap_or("").contains("no such flow"),
        "{t}"
    );
    assert!(
        !gw.log().contains("sig=abc"),
        "the flow's signature leaked into the log"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lark_gets_an_interactive_card_and_other_webhook_urls() {
    let api = ChatEmulator::start(Mode::Ok(r#"{"code":0,"msg":"success"}"#)).await;
    let alert = format!(
        "  lark:\n    enable: ${{LARK_ENABLE}}\n    webhook_url: {base}/open-apis/bot/v2/hook/main\n    \
         template_path: {}\n    other_webhook_urls:\n      dev: {base}/open-apis/bot/v2/hook/dev\n",
        config_template("lark_message.tmpl"),
        base = api.base()
    );
    let gw = ChatGateway::start(&alert, &[("LARK_ENABLE", "true".to_string())]).await;
    for (query, name) in [("", "critical"), ("lark_other_webhook_url=dev", "resolved")] {
        let (status, body) = gw.post(query, &alertmanager(name)).await;
        assert_eq!(status, 201, "{name}: {body}\n{}", gw.log());
    }
    let requests = api.requests();
    assert_eq!(requests[0].path, "/open-apis/bot/v2/hook/main");
    assert_eq!(requests[1].path, "/open-apis/bot/v2/hook/dev");
    let firing = requests[0].json();
    assert_eq!(firing["msg_type"], "interactive");
    assert_eq!(
        firing["card"]["header"]["title"]["content"],
        "🔴 Firing Alert"
    );
    let resolved = requests[1].json();
    assert_eq!(
        resolved["card"]["header"]["title"]["content"],
        "🟢 Resolved Alert"
    );
    assert_golden("lark", "critical", &firing);
    assert_golden("lark", "resolved", &resolved);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lark_refusal_in_a_200_is_a_failure() {
    let api = ChatEmulator::start(Mode::Always(
        200,
        r#"{"code":19021,"msg":"sign match fail"}"#,
    ))
    .await;
    let alert = format!(
        "  lark:\n    enable: true\n    webhook_url: {}/hook\n    template_path: {}\n",
        api.base(),
        config_template("lark_message.tmpl")
    );
    let gw = ChatGateway::start(&alert, &[]).await;
    let (status, body) = gw.post("", &alertmanager("critical")).await;
    assert_eq!(status, 502, "{body}");
    let l = channel(&body, "lark");
    assert_eq!(l["error_kind"], "permanent");
    assert!(
        l["error"]
            .as_str()
            .unwrap_or("")
            .contains("lark error 19021"),
        "{l}"
    );
}

fn viber_env(api: &ChatEmulator, api_type: &str) -> Vec<(&'static str, String)> {
    vec![
        ("VIBER_ENABLE", "true".into()),
        ("VIBER_API_TYPE", api_type.into()),
        ("VIBER_BOT_TOKEN", "viber-tok".into()),
        ("VIBER_USER_ID", "user-1==".into()),
        ("VIBER_CHANNEL_ID", "chan-1".into()),
        ("VIBER_API_URL", format!("{}/pa/", api.base())),
    ]
}

fn viber_section() -> String {
    // The upstream sample's section, with every value from the environment.
    format!(
        "  viber:\n    enable: false\n    api_type: ${{VIBER_API_TYPE}}\n    bot_token: ${{VIBER_BOT_TOKEN}}\n    \
         user_id: ${{VIBER_USER_ID}}\n    channel_id: ${{VIBER_CHANNEL_ID}}\n    template_path: {}\n    \
         use_proxy: false\n",
        config_template("viber_message.tmpl")
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viber_bot_and_channel_apis_with_their_overrides() {
    let ok = r#"{"status":0,"status_message":"ok","message_token":5491}"#;
    let api = ChatEmulator::start(Mode::Ok(ok)).await;
    let gw = ChatGateway::start(&viber_section(), &viber_env(&api, "")).await;
    for query in ["", "viber_user_id=user-2"] {
        let (status, body) = gw.post(query, &alertmanager("critical")).await;
        assert_eq!(status, 201, "{body}\n{}", gw.log());
    }
    let requests = api.requests();
    assert_eq!(requests[0].path, "/pa/send_message");
    assert_eq!(requests[0].header("x-viber-auth-token"), "viber-tok");
    let body = requests[0].json();
    assert_eq!(body["receiver"], "user-1==");
    assert_eq!(body["sender"]["name"], "Versus Incident");
    assert_golden("viber", "bot-critical", &body);
    assert_eq!(requests[1].json()["receiver"], "user-2");

    let api = ChatEmulator::start(Mode::Ok(ok)).await;
    let gw = ChatGateway::start(&viber_section(), &viber_env(&api, "channel")).await;
    for query in ["", "viber_channel_id=chan-9"] {
        let (status, body) = gw.post(query, &alertmanager("resolved")).await;
        assert_eq!(status, 201, "{body}\n{}", gw.log());
    }
    let requests = api.requests();
    assert_eq!(requests[0].path, "/pa/post_to_channel/chan-1");
    assert_eq!(requests[1].path, "/pa/post_to_channel/chan-9");
    assert_golden("viber", "channel-resolved", &requests[0].json());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn viber_status_errors_fail_the_delivery() {
    let api = ChatEmulator::start(Mode::Always(
        200,
        r#"{"status":2,"status_message":"invalidAuthToken"}"#,
    ))
    .await;
    let gw = ChatGateway::start(&viber_section(), &viber_env(&api, "bot")).await;
    let (status, body) = gw.post("", &alertmanager("critical")).await;
    assert_eq!(status, 502, "{body}");
    let v = channel(&body, "viber");
    assert_eq!(v["error_kind"], "permanent");
    assert!(
        v["error"]
            .as_str()
            .unwrap_or("")
            .contains("invalidAuthToken"),
        "{v}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_templates_render_unchanged_on_teams_lark_and_viber() {
    let api = ChatEmulator::start(Mode::Ok(r#"{"code":0,"status":0}"#)).await;
    let up = |name: &str| crate::chat_rig::template(&format!("upstream/{name}_message.tmpl"));
    let alert = format!(
        "  msteams:\n    enable: true\n    power_automate_url: {base}/teams\n    template_path: {}\n  \
         lark:\n    enable: true\n    webhook_url: {base}/lark\n    template_path: {}\n  \
         viber:\n    enable: true\n    bot_token: t\n    user_id: u\n    api_url: {base}/pa/\n    \
         template_path: {}\n",
        up("msteams"),
        up("lark"),
        up("viber"),
        base = api.base()
    );
    let gw = ChatGateway::start(&alert, &[]).await;
    let (status, body) = gw.post("", &alertmanager("critical")).await;
    assert_eq!(status, 201, "{body}\n{}", gw.log());
    let sent = |path: &str| {
        api.requests()
            .into_iter()
            .find(|r| r.path == path)
            .unwrap_or_else(|| panic!("nothing sent to {path}"))
            .json()
    };
    let title = "🔥 FIRING: HighErrorRate (Prometheus)";
    let card = sent("/teams");
    assert_eq!(card["type"], "AdaptiveCard");
    assert_eq!(card["summary"], title);
    assert_golden("msteams", "upstream-template", &card);

    let lark = sent("/lark");
    let content = lark["card"]["elements"][0]["content"]
        .as_str()
        .expect("content");
    assert!(
        content.starts_with(&format!("**{title}**\n**🔴 Severity:** CRITICAL\n")),
        "{content}"
    );
    assert!(
        content.contains("**Time:** 2026-11-23T23:44:03.608Z"),
        "{content}"
    );
    assert_golden("lark", "upstream-template", &lark);

    let viber = sent("/pa/send_message");
    let text = viber["text"].as_str().expect("text");
    // The template's leading comments leave two newlines, in Go as here.
    assert!(text.starts_with(&format!("\n\n{title}\n")), "{text}");
    assert!(text.contains("Severity: CRITICAL"), "{text}");
    assert!(
        text.contains("Runbook: https://runbooks.example.com/high-error-rate"),
        "{text}"
    );
    assert_golden("viber", "upstream-template", &viber);
}
