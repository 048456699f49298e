//! Email end to end: the real binary sending through a local SMTP server
//! (`smtp_server.rs`) over STARTTLS, implicit TLS and plain SMTP, with the
//! test's own certificate. The envelope and DATA the server recorded are
//! checked, and so are `email_to`, `email_subject` and header injection.

use std::path::{Path, PathBuf};

use crate::chat_rig::{ChatGateway, alertmanager, channel, config_template};
use crate::redis_tls::self_signed;
use crate::smtp_server::{Mode, Received, SmtpServer};

/// `AUTH PLAIN` of `ops@example.org` / `s3cret`.
const PLAIN_AUTH: &str = "PLAIN AG9wc0BleGFtcGxlLm9yZwBzM2NyZXQ=";

struct Setup {
    server: SmtpServer,
    cert: PathBuf,
    _dir: tempfile::TempDir,
}

async fn server(mode: Mode) -> Setup {
    let dir = tempfile::tempdir().expect("tempdir");
    let (cert, key) = self_signed(dir.path(), "smtp");
    let server = SmtpServer::start(mode, &cert, &key).await;
    Setup {
        server,
        cert,
        _dir: dir,
    }
}

fn section(port: u16, tls: &str, extra: &str) -> String {
    format!(
        "  email:\n    enable: true\n    smtp_host: localhost\n    smtp_port: {port}\n    \
         to: \"oncall@example.org, lead@example.org\"\n    subject: Versus alert\n    \
         template_path: {}\n    tls: {tls}\n{extra}",
        config_template("email_message.tmpl")
    )
}

const AUTH: &str = "    username: ops@example.org\n    password: s3cret\n";

fn trust(cert: &Path) -> Vec<(&'static str, String)> {
    vec![("SSL_CERT_FILE", cert.display().to_string())]
}

/// The header lines of a mail's DATA (up to the blank line).
fn headers(mail: &Received) -> Vec<&str> {
    mail.data
        .split("\r\n")
        .take_while(|l| !l.is_empty())
        .collect()
}

fn body(mail: &Received) -> &str {
    mail.data.split_once("\r\n\r\n").map_or("", |(_, b)| b)
}

fn assert_alert_mail(mail: &Received, subject: &str) {
    let headers = headers(mail);
    assert!(
        headers.contains(&format!("Subject: {subject}").as_str()),
        "{headers:#?}"
    );
    assert!(headers.contains(&"From: ops@example.org"), "{headers:#?}");
    assert!(
        headers.contains(&"Content-Type: text/html; charset=utf-8"),
        "{headers:#?}"
    );
    assert!(
        headers.iter().any(|h| h.starts_with("Message-ID: <")),
        "{headers:#?}"
    );
    let body = body(mail);
    assert!(
        body.starts_with("<h2>CRITICAL: HighErrorRate</h2>"),
        "{body}"
    );
    assert!(
        body.contains("<li>api has an error rate above 0.5 for 2 minutes.</li>"),
        "{body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn starttls_with_authentication() {
    let s = server(Mode::StartTls).await;
    let gw = ChatGateway::start(&section(s.server.port, "starttls", AUTH), &trust(&s.cert)).await;
    let (status, body) = gw.post("", &alertmanager("critical")).await;
    assert_eq!(status, 201, "{body}\n{}", gw.log());
    let receipt = channel(&body, "email");
    assert_eq!(receipt["status"], "delivered");
    let mails = s.server.mails();
    assert_eq!(mails.len(), 1, "{mails:#?}");
    let mail = &mails[0];
    assert!(mail.tls, "DATA must come after STARTTLS");
    assert_eq!(mail.auth.as_deref(), Some(PLAIN_AUTH));
    assert_eq!(mail.from, "ops@example.org");
    assert_eq!(mail.to, ["oncall@example.org", "lead@example.org"]);
    assert_alert_mail(mail, "Versus alert");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn implicit_tls_from_the_first_byte() {
    let s = server(Mode::Implicit).await;
    let gw = ChatGateway::start(&section(s.server.port, "implicit", AUTH), &trust(&s.cert)).await;
    let (status, body) = gw.post("", &alertmanager("critical")).await;
    assert_eq!(status, 201, "{body}\n{}", gw.log());
    let mails = s.server.mails();
    assert_eq!(mails.len(), 1, "{mails:#?}");
    assert!(mails[0].tls);
    assert_eq!(mails[0].auth.as_deref(), Some(PLAIN_AUTH));
    assert_alert_mail(&mails[0], "Versus alert");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_untrusted_certificate_is_refused() {
    let s = server(Mode::StartTls).await;
    // No SSL_CERT_FILE: the test certificate is not trusted.
    let gw =
        ChatGateway::start_with_budget(&section(s.server.port, "starttls", AUTH), &[], "2s").await;
    let (status, body) = gw.post("", &alertmanager("critical")).await;
    assert_eq!(status, 502, "{body}\n{}", gw.log());
    assert_eq!(channel(&body, "email")["status"], "failed");
    assert!(
        s.server.mails().is_empty(),
        "nothing may be sent without a trusted TLS session"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overrides_pick_recipients_and_subject_but_never_add_headers() {
    let s = server(Mode::Plain).await;
    let from = "    from: ops@example.org\n";
    let gw = ChatGateway::start(&section(s.server.port, "none", from), &[]).await;
    let query = "email_to=dev@example.org&email_subject=Disk%20full%0D%0ABcc:%20evil@example.org%0AX-Injected:%201";
    let (status, body) = gw.post(query, &alertmanager("critical")).await;
    assert_eq!(status, 201, "{body}\n{}", gw.log());
    let mails = s.server.mails();
    assert_eq!(mails.len(), 1, "{mails:#?}");
    let mail = &mails[0];
    assert!(!mail.tls && mail.auth.is_none());
    assert_eq!(
        mail.to,
        ["dev@example.org"],
        "only the override's recipient"
    );
    let headers = headers(mail);
    let subjects: Vec<_> = headers
        .iter()
        .filter(|h| h.starts_with("Subject:"))
        .collect();
    assert_eq!(
        subjects,
        [&"Subject: Disk full Bcc: evil@example.org X-Injected: 1"],
        "{headers:#?}"
    );
    for h in &headers {
        let name = h.split(':').next().unwrap_or("").to_ascii_lowercase();
        assert!(
            name != "bcc" && name != "x-injected",
            "injected header: {h}"
        );
    }
    assert_alert_mail(mail, "Disk full Bcc: evil@example.org X-Injected: 1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upstream_environment_variables_configure_email() {
    let s = server(Mode::StartTls).await;
    let alert = format!(
        "  email:\n    enable: false\n    smtp_host: ${{SMTP_HOST}}\n    smtp_port: ${{SMTP_PORT}}\n    \
         username: ${{SMTP_USERNAME}}\n    password: ${{SMTP_PASSWORD}}\n    to: ${{EMAIL_TO}}\n    \
         subject: ${{EMAIL_SUBJECT}}\n    template_path: {}\n",
        config_template("email_message.tmpl")
    );
    let mut env = trust(&s.cert);
    env.extend([
        ("EMAIL_ENABLE", "true".to_string()),
        ("SMTP_HOST", "localhost".to_string()),
        ("SMTP_PORT", s.server.port.to_string()),
        ("SMTP_USERNAME", "ops@example.org".to_string()),
        ("SMTP_PASSWORD", "s3cret".to_string()),
        ("EMAIL_TO", "oncall@example.org".to_string()),
        ("EMAIL_SUBJECT", "From the environment".to_string()),
    ]);
    let gw = ChatGateway::start(&alert, &env).await;
    let (status, body) = gw.post("", &alertmanager("critical")).await;
    assert_eq!(status, 201, "{body}\n{}", gw.log());
    let mails = s.server.mails();
    assert_eq!(mails.len(), 1, "{mails:#?}");
    assert!(mails[0].tls, "STARTTLS is the default away from port 465");
    assert_alert_mail(&mails[0], "From the environment");
}
