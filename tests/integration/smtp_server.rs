//! A small SMTP server for the email tests, on 127.0.0.1: plain, STARTTLS
//! or TLS from the first byte (a certificate made for the test), `AUTH
//! PLAIN` and `AUTH LOGIN`, and a record of every mail's envelope and DATA.

use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

/// A TLS acceptor serving the certificate and key in PEM files.
pub(crate) fn tls_acceptor(cert: &Path, key: &Path) -> TlsAcceptor {
    let cert = std::fs::read(cert).expect("read cert");
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert)
        .collect::<Result<_, _>>()
        .expect("parse cert");
    let key =
        PrivateKeyDer::from_pem_slice(&std::fs::read(key).expect("read key")).expect("parse key");
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("protocol versions")
    .with_no_client_auth()
    .with_single_cert(certs, key)
    .expect("server config");
    TlsAcceptor::from(Arc::new(config))
}

/// How the server protects connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// No TLS.
    Plain,
    /// Plain, offering `STARTTLS`.
    StartTls,
    /// TLS from the first byte.
    Implicit,
}

/// One mail the server accepted.
#[derive(Debug, Clone, Default)]
pub struct Received {
    /// `MAIL FROM` address.
    pub from: String,
    /// `RCPT TO` addresses.
    pub to: Vec<String>,
    /// The DATA, dot-stuffing undone, lines joined with CRLF.
    pub data: String,
    /// Whether the session was under TLS when DATA came.
    pub tls: bool,
    /// The `AUTH` exchange: `PLAIN <b64>` or `LOGIN <b64 user> <b64 pass>`.
    pub auth: Option<String>,
}

#[derive(Default)]
struct Shared {
    mails: Mutex<Vec<Received>>,
}

impl Shared {
    fn mails(&self) -> MutexGuard<'_, Vec<Received>> {
        self.mails
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A running server; it serves until the test's runtime shuts down.
pub struct SmtpServer {
    /// Its port on 127.0.0.1.
    pub port: u16,
    shared: Arc<Shared>,
}

impl SmtpServer {
    /// Starts a server in `mode` with the certificate and key in PEM files.
    pub async fn start(mode: Mode, cert: &Path, key: &Path) -> Self {
        let acceptor = tls_acceptor(cert, key);
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind smtp");
        let port = listener.local_addr().expect("address").port();
        let shared = Arc::new(Shared::default());
        let state = shared.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (acceptor, state) = (acceptor.clone(), state.clone());
                tokio::spawn(async move { session(stream, mode, acceptor, state).await });
            }
        });
        Self { port, shared }
    }

    /// Every mail so far.
    pub fn mails(&self) -> Vec<Received> {
        self.shared.mails().clone()
    }
}

/// What ended one phase of a session.
enum End<S> {
    /// The client asked for `STARTTLS`: upgrade this stream.
    StartTls(S),
    /// The client quit or went away.
    Done,
}

async fn session(stream: TcpStream, mode: Mode, acceptor: TlsAcceptor, shared: Arc<Shared>) {
    match mode {
        Mode::Implicit => {
            if let Ok(tls) = acceptor.accept(stream).await {
                serve(tls, false, true, true, &shared).await;
            }
        }
        Mode::Plain | Mode::StartTls => {
            let starttls = mode == Mode::StartTls;
            if let End::StartTls(plain) = serve(stream, starttls, false, true, &shared).await
                && let Ok(tls) = acceptor.accept(plain).await
            {
                serve(tls, false, true, false, &shared).await;
            }
        }
    }
}

/// Speaks SMTP on `io` until QUIT, EOF or STARTTLS.
async fn serve<S: AsyncRead + AsyncWrite + Unpin>(
    io: S,
    offer_starttls: bool,
    tls: bool,
    greet: bool,
    shared: &Shared,
) -> End<S> {
    let mut io = BufReader::new(io);
    if greet && send(&mut io, "220 localhost ESMTP test\r\n").await.is_err() {
        return End::Done;
    }
    let mut mail = Received {
        tls,
        ..Received::default()
    };
    loop {
        let Some(line) = read_line(&mut io).await else {
            return End::Done;
        };
        let upper = line.to_ascii_uppercase();
        let reply: String = if upper.starts_with("EHLO") || upper.starts_with("HELO") {
            let mut r = String::from("250-localhost\r\n");
            if offer_starttls {
                r.push_str("250-STARTTLS\r\n");
            }
            r.push_str("250-8BITMIME\r\n250 AUTH PLAIN LOGIN\r\n");
            r
        } else if upper == "STARTTLS" && offer_starttls {
            if send(&mut io, "220 ready to start TLS\r\n").await.is_err() {
                return End::Done;
            }
            return End::StartTls(io.into_inner());
        } else if let Some(b64) = upper.strip_prefix("AUTH PLAIN ").map(|_| &line[11..]) {
            mail.auth = Some(format!("PLAIN {b64}"));
            "235 authenticated\r\n".into()
        } else if upper == "AUTH LOGIN" {
            let mut parts = Vec::new();
            for prompt in ["334 VXNlcm5hbWU6\r\n", "334 UGFzc3dvcmQ6\r\n"] {
                if send(&mut io, prompt).await.is_err() {
                    return End::Done;
                }
                match read_line(&mut io).await {
                    Some(l) => parts.push(l),
                    None => return End::Done,
                }
            }
            mail.auth = Some(format!("LOGIN {}", parts.join(" ")));
            "235 authenticated\r\n".into()
        } else if upper.starts_with("MAIL FROM:") {
            mail.from = address(&line);
            "250 ok\r\n".into()
        } else if upper.starts_with("RCPT TO:") {
            mail.to.push(address(&line));
            "250 ok\r\n".into()
        } else if upper == "DATA" {
            if send(&mut io, "354 end with <CRLF>.<CRLF>\r\n")
                .await
                .is_err()
            {
                return End::Done;
            }
            let mut lines = Vec::new();
            loop {
                match read_line(&mut io).await {
                    Some(l) if l == "." => break,
                    Some(l) => lines.push(l.strip_prefix('.').map_or(l.clone(), str::to_owned)),
                    None => return End::Done,
                }
            }
            mail.data = lines.join("\r\n");
            shared.mails().push(mail.clone());
            mail = Received {
                tls,
                auth: mail.auth.take(),
                ..Received::default()
            };
            "250 queued\r\n".into()
        } else if upper == "RSET" || upper == "NOOP" {
            "250 ok\r\n".into()
        } else if upper == "QUIT" {
            let _ = send(&mut io, "221 bye\r\n").await;
            return End::Done;
        } else {
            "502 command not implemented\r\n".into()
        };
        if send(&mut io, &reply).await.is_err() {
            return End::Done;
        }
    }
}

/// One line without its CRLF; `None` at EOF or on an error.
async fn read_line<S: AsyncRead + AsyncWrite + Unpin>(io: &mut BufReader<S>) -> Option<String> {
    let mut line = String::new();
    match io.read_line(&mut line).await {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(line.trim_end_matches(['\r', '\n']).to_string()),
    }
}

async fn send<S: AsyncRead + AsyncWrite + Unpin>(
    io: &mut BufReader<S>,
    text: &str,
) -> std::io::Result<()> {
    io.get_mut().write_all(text.as_bytes()).await?;
    io.get_mut().flush().await
}

/// The address in `MAIL FROM:<a>` / `RCPT TO:<a>`.
fn address(line: &str) -> String {
    let start = line.find('<').map_or(0, |i| i + 1);
    let end = line[start..].find('>').map_or(line.len(), |i| start + i);
    line[start..end].to_string()
}
