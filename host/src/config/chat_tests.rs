//! Config tests for the upstream chat channels beyond Slack: the upstream
//! sample config with its variables set, warnings, allow-lists and errors.

use serde_json::{Value, json};

use super::tests::{
    UPSTREAM_V1_4_23, V1_4_23_UNIMPLEMENTED, env_of, from_yaml, load, sorted, strings,
};
use super::*;

fn config_of(spec: &ChannelSpec) -> Value {
    serde_json::from_str(&spec.config_json).expect("config json")
}

#[test]
fn upstream_telegram_section_turns_on_from_the_environment() {
    let vars = [
        ("TELEGRAM_ENABLE", "true"),
        ("TELEGRAM_BOT_TOKEN", "123:abc"),
        ("TELEGRAM_CHAT_ID", "-1001"),
    ];
    let (cfg, warnings) = load(UPSTREAM_V1_4_23, env_of(&vars));
    assert_eq!(sorted(warnings), strings(V1_4_23_UNIMPLEMENTED));
    let channels = cfg.channels();
    let tg = channels
        .iter()
        .find(|c| c.name == "telegram")
        .expect("telegram");
    assert_eq!(tg.plugin, "telegram");
    assert_eq!(
        tg.template_path,
        std::path::Path::new("config/telegram_message.tmpl")
    );
    assert_eq!(
        config_of(tg),
        json!({"bot_token": "123:abc", "chat_id": "-1001", "api_url": DEFAULT_TELEGRAM_API_URL})
    );
    assert_eq!(tg.allowed_hosts, ["https://api.telegram.org:443"]);
}

#[test]
fn telegram_without_chat_is_a_warning_and_stays_off() {
    let (cfg, warnings) =
        from_yaml("alert:\n  telegram:\n    enable: true\n    bot_token: x\n    use_proxy: true\n");
    assert_eq!(
        sorted(warnings),
        strings(&[
            "alert.telegram.enable is true but alert.telegram.bot_token or chat_id is empty: \
             Telegram is disabled; set TELEGRAM_BOT_TOKEN and TELEGRAM_CHAT_ID",
        ])
    );
    assert!(cfg.channels().is_empty());
}

#[test]
fn use_proxy_gives_the_channel_the_proxy_and_only_that_channel() {
    let (cfg, warnings) = from_yaml(
        "proxy:\n  url: http://10.0.0.8:3128\n  username: u\n  password: p\n\
         alert:\n  telegram:\n    enable: true\n    bot_token: x\n    chat_id: '5'\n    \
         use_proxy: true\n  lark:\n    enable: true\n    webhook_url: https://open.larksuite.com/hook/k\n",
    );
    assert!(warnings.is_empty(), "{warnings:?}");
    let channels = cfg.channels();
    let proxy_of = |name: &str| {
        channels
            .iter()
            .find(|c| c.name == name)
            .map(|c| c.proxy.clone())
            .expect("channel")
    };
    let proxy = proxy_of("telegram").expect("telegram goes through the proxy");
    assert_eq!(
        (
            proxy.url.as_str(),
            proxy.username.as_str(),
            proxy.password.as_str()
        ),
        ("http://10.0.0.8:3128", "u", "p")
    );
    assert_eq!(proxy_of("lark"), None);
}

#[test]
fn telegram_api_url_sets_the_allow_list_and_must_be_http() {
    let text = "alert:\n  telegram:\n    enable: true\n    bot_token: x\n    chat_id: 5\n    \
                api_url: http://127.0.0.1:8081/\n";
    let (cfg, _) = from_yaml(text);
    let channels = cfg.channels();
    assert_eq!(channels[0].allowed_hosts, ["http://127.0.0.1:8081"]);
    assert_eq!(config_of(&channels[0])["chat_id"], "5");

    let bad = text.replace("http://127.0.0.1:8081/", "api.telegram.org");
    let err = Config::from_yaml(&bad, std::path::Path::new("t.yaml"), super::tests::no_env)
        .expect_err("rejected")
        .to_string();
    assert_eq!(
        err,
        "config key `alert.telegram.api_url`: `api.telegram.org` is not an http(s) URL: it must \
         be like https://api.telegram.org/ (or set TELEGRAM_API_URL)"
    );
}

#[test]
fn built_in_chat_names_are_reserved_for_custom_channels() {
    let err = Config::from_yaml(
        "channels:\n  - name: telegram\n    template_path: t\n",
        std::path::Path::new("t.yaml"),
        super::tests::no_env,
    )
    .expect_err("rejected")
    .to_string();
    assert!(err.contains("alert.telegram"), "{err}");
}

#[test]
fn teams_and_lark_may_call_every_configured_url() {
    let text = r#"
alert:
  msteams:
    enable: true
    power_automate_url: https://prod.logic.azure.com/workflows/a?sig=x
    other_power_urls:
      qc: https://qc.logic.azure.com:8443/workflows/b
      empty: ""
  lark:
    enable: true
    webhook_url: https://open.larksuite.com/open-apis/bot/v2/hook/a
    other_webhook_urls:
      dev: https://open.feishu.cn/open-apis/bot/v2/hook/b
"#;
    let (cfg, warnings) = from_yaml(text);
    assert_eq!(warnings, Vec::<String>::new());
    let channels = cfg.channels();
    let names: Vec<_> = channels.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["msteams", "lark"]);
    assert_eq!(
        channels[0].allowed_hosts,
        [
            "https://prod.logic.azure.com:443",
            "https://qc.logic.azure.com:8443"
        ]
    );
    assert_eq!(
        config_of(&channels[0])["other_power_urls"],
        json!({"qc": "https://qc.logic.azure.com:8443/workflows/b"})
    );
    assert_eq!(
        channels[1].allowed_hosts,
        [
            "https://open.feishu.cn:443",
            "https://open.larksuite.com:443"
        ]
    );

    let bad = text.replace(
        "https://open.feishu.cn/open-apis/bot/v2/hook/b",
        "open.feishu.cn/x",
    );
    let err = Config::from_yaml(&bad, std::path::Path::new("t.yaml"), super::tests::no_env)
        .expect_err("rejected")
        .to_string();
    assert!(
        err.starts_with("config key `alert.lark.other_webhook_urls.dev`"),
        "{err}"
    );
}

#[test]
fn upstream_v1_2_0_spelling_of_other_power_urls() {
    let (cfg, _) = from_yaml(
        "alert:\n  msteams:\n    enable: true\n    power_automate_url: https://a/x\n    \
         other_power_url:\n      qc: https://b/y\n",
    );
    assert_eq!(cfg.alert.channels.msteams.other_power_urls.len(), 1);
    assert_eq!(
        cfg.channels()[0].allowed_hosts,
        ["https://a:443", "https://b:443"]
    );
}

#[test]
fn viber_needs_the_receiver_of_its_api_type() {
    let (cfg, warnings) = from_yaml(
        "alert:\n  viber:\n    enable: true\n    api_type: channel\n    bot_token: t\n    user_id: u\n",
    );
    assert_eq!(
        warnings,
        [
            "alert.viber.enable is true but alert.viber.bot_token or channel_id is empty: Viber is \
          disabled; set VIBER_BOT_TOKEN and VIBER_CHANNEL_ID"
        ]
    );
    assert!(cfg.channels().is_empty());

    let vars = [
        ("VIBER_ENABLE", "yes"),
        ("VIBER_BOT_TOKEN", "tok"),
        ("VIBER_USER_ID", "u1"),
    ];
    let (cfg, warnings) = load(UPSTREAM_V1_4_23, env_of(&vars));
    assert_eq!(sorted(warnings), strings(V1_4_23_UNIMPLEMENTED));
    let channels = cfg.channels();
    let viber = channels.iter().find(|c| c.name == "viber").expect("viber");
    assert_eq!(
        config_of(viber),
        json!({"api_type": "bot", "bot_token": "tok", "user_id": "u1", "channel_id": "",
               "api_url": DEFAULT_VIBER_API_URL})
    );
    assert_eq!(viber.allowed_hosts, ["https://chatapi.viber.com:443"]);

    let err = Config::from_yaml(
        "alert:\n  viber:\n    enable: true\n    api_type: group\n    bot_token: t\n    user_id: u\n",
        std::path::Path::new("t.yaml"),
        super::tests::no_env,
    )
    .expect_err("rejected")
    .to_string();
    assert_eq!(
        err,
        "config key `alert.viber.api_type`: `group` is not an API type: use bot or channel (or set \
         VIBER_API_TYPE)"
    );
}
