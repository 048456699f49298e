//! `proxy:` with a channel's `use_proxy: true` (upstream v1.3.7+), through
//! a real forward proxy on 127.0.0.1: an HTTPS API is reached with
//! `CONNECT` and the proxy's credentials, a plain HTTP one by absolute URL,
//! a channel without `use_proxy` goes direct, and the address policy still
//! applies to the real target behind the proxy.

use crate::chat_emulator::{ChatEmulator, Mode};
use crate::chat_rig::{ChatGateway, alertmanager, config_template};
use crate::http_proxy::HttpProxy;

const OK: &str = r#"{"ok":true,"result":{"message_id":42,"chat":{"id":-1001}}}"#;
/// `Basic` of `ops:s3cret`.
const AUTH: &str = "Basic b3BzOnMzY3JldA==";

/// A Telegram section sending to `api_url`, through the proxy or not.
fn telegram(api_url: &str, use_proxy: bool) -> String {
    format!(
        "  telegram:\n    enable: true\n    bot_token: \"123:abc\"\n    chat_id: \"-1001\"\n    \
         template_path: {}\n    api_url: {api_url}/\n    use_proxy: {use_proxy}\n",
        config_template("telegram_message.tmpl")
    )
}

fn proxy_env(proxy: &HttpProxy) -> Vec<(&'static str, String)> {
    vec![
        ("PROXY_URL", proxy.url()),
        ("PROXY_USERNAME", "ops".into()),
        ("PROXY_PASSWORD", "s3cret".into()),
    ]
}

fn sends(api: &ChatEmulator) -> usize {
    api.requests()
        .iter()
        .filter(|r| r.path.ends_with("/sendMessage"))
        .count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_https_api_is_reached_through_the_proxy_with_connect() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (cert, key) = crate::redis_tls::self_signed(dir.path(), "api");
    let api = ChatEmulator::start_tls(Mode::Ok(OK), &cert, &key).await;
    let proxy = HttpProxy::start(AUTH).await;
    let mut env = proxy_env(&proxy);
    // The API's certificate is the test's own: trusted as a private CA is.
    env.push(("SSL_CERT_FILE", cert.display().to_string()));
    let gw = ChatGateway::start(&telegram(api.base(), true), &env).await;

    let (status, answer) = gw.post("", &alertmanager("critical")).await;
    assert_eq!(status, 201, "{answer}\n{}", gw.log());
    assert_eq!(sends(&api), 1);
    let port = api
        .base()
        .rsplit(':')
        .next()
        .unwrap_or_default()
        .to_string();
    let seen = proxy.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].line, format!("CONNECT 127.0.0.1:{port} HTTP/1.1"));
    assert_eq!(seen[0].auth.as_deref(), Some(AUTH));
    assert!(
        !gw.log().contains("s3cret"),
        "the proxy password reached the log:\n{}",
        gw.log()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plain_http_api_gets_an_absolute_url_and_other_channels_go_direct() {
    let proxied = ChatEmulator::start(Mode::Ok(OK)).await;
    let direct = ChatEmulator::start(Mode::Ok(r#"{"code":0,"msg":"success"}"#)).await;
    let proxy = HttpProxy::start(AUTH).await;
    let lark = format!(
        "  lark:\n    enable: true\n    webhook_url: {}/open-apis/bot/v2/hook/k\n    \
         template_path: {}\n    use_proxy: false\n",
        direct.base(),
        config_template("lark_message.tmpl")
    );
    let alert = format!("{}{lark}", telegram(proxied.base(), true));
    let gw = ChatGateway::start(&alert, &proxy_env(&proxy)).await;

    let (status, answer) = gw.post("", &alertmanager("critical")).await;
    assert_eq!(status, 201, "{answer}\n{}", gw.log());
    assert_eq!(sends(&proxied), 1);
    assert_eq!(direct.requests().len(), 1);
    let seen = proxy.seen();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(
        seen[0].line,
        format!("POST {}/bot123:abc/sendMessage HTTP/1.1", proxied.base())
    );
    assert_eq!(seen[0].auth.as_deref(), Some(AUTH));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_whose_name_points_inside_is_refused_before_the_proxy() {
    let api = ChatEmulator::start(Mode::Ok(OK)).await;
    let proxy = HttpProxy::start(AUTH).await;
    // `localhost` is allowed by name (it is the API URL's origin), but it
    // resolves to a loopback address, which the policy refuses, proxy or
    // not.
    let by_name = api.base().replace("127.0.0.1", "localhost");
    let gw = ChatGateway::start(&telegram(&by_name, true), &proxy_env(&proxy)).await;

    let (status, answer) = gw.post("", &alertmanager("critical")).await;
    assert_eq!(status, 502, "{answer}");
    let channel = &answer["channels"][0];
    assert!(
        channel["error"]
            .as_str()
            .is_some_and(|e| e.contains("non-public")),
        "{answer}"
    );
    assert!(proxy.seen().is_empty(), "{:?}", proxy.seen());
    assert_eq!(sends(&api), 0);
}
