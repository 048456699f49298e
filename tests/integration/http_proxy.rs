//! A small forward proxy on 127.0.0.1, as a corporate egress proxy would
//! be: `CONNECT host:port` opens a tunnel (HTTPS targets), a request in
//! absolute form (`POST http://host:port/path`) is passed on (plain HTTP
//! targets). It records each request head it gets, with its
//! `Proxy-Authorization`, and answers 407 when that is not the one it wants.

use std::sync::{Arc, Mutex};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// One request head the proxy received.
#[derive(Debug, Clone)]
pub struct Seen {
    /// The request line, e.g. `CONNECT 127.0.0.1:4443 HTTP/1.1`.
    pub line: String,
    /// The `Proxy-Authorization` value, if any.
    pub auth: Option<String>,
}

/// A running proxy; it serves until the test's runtime shuts down.
pub struct HttpProxy {
    /// Its port on 127.0.0.1.
    pub port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl HttpProxy {
    /// Starts a proxy that wants `Proxy-Authorization: <auth>`.
    pub async fn start(auth: &str) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let port = listener.local_addr().expect("address").port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (record, wanted) = (seen.clone(), auth.to_string());
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let (record, wanted) = (record.clone(), wanted.clone());
                tokio::spawn(async move { relay(stream, &wanted, &record).await });
            }
        });
        Self { port, seen }
    }

    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Every request head so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

async fn relay(stream: TcpStream, wanted: &str, record: &Mutex<Vec<Seen>>) {
    let mut client = BufReader::new(stream);
    let mut head = Vec::new();
    loop {
        let mut line = String::new();
        match client.read_line(&mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) if line == "\r\n" => break,
            Ok(_) => head.push(line),
        }
    }
    let Some(first) = head.first().map(|l| l.trim_end().to_string()) else {
        return;
    };
    let auth = head.iter().find_map(|l| {
        let (name, value) = l.split_once(':')?;
        name.eq_ignore_ascii_case("proxy-authorization")
            .then(|| value.trim().to_string())
    });
    record
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .push(Seen {
            line: first.clone(),
            auth: auth.clone(),
        });
    if auth.as_deref() != Some(wanted) {
        let _ = client
            .get_mut()
            .write_all(b"HTTP/1.1 407 Proxy Authentication Required\r\ncontent-length: 0\r\n\r\n")
            .await;
        return;
    }
    let mut parts = first.split(' ');
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let authority = if method == "CONNECT" {
        target.to_string()
    } else {
        // Absolute form: http://host:port/path.
        let rest = target.strip_prefix("http://").unwrap_or(target);
        rest.split('/').next().unwrap_or("").to_string()
    };
    let Ok(mut upstream) = TcpStream::connect(&authority).await else {
        let _ = client
            .get_mut()
            .write_all(b"HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n")
            .await;
        return;
    };
    if method == "CONNECT" {
        let reply = b"HTTP/1.1 200 Connection established\r\n\r\n";
        if client.get_mut().write_all(reply).await.is_err() {
            return;
        }
    } else {
        // Pass the head on without the proxy's own credentials.
        let kept: String = head
            .iter()
            .filter(|l| !l.to_ascii_lowercase().starts_with("proxy-"))
            .map(String::as_str)
            .collect();
        if upstream
            .write_all(format!("{kept}\r\n").as_bytes())
            .await
            .is_err()
        {
            return;
        }
    }
    // Bytes already read past the head belong to the target.
    let buffered = client.buffer().to_vec();
    if !buffered.is_empty() && upstream.write_all(&buffered).await.is_err() {
        return;
    }
    let mut client = client.into_inner();
    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
}
