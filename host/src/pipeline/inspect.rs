//! Shows a plugin's outbound HTTP on stdout, for `versus plugin test`, and
//! in a dry run answers each request itself instead of sending it.

use std::io::Write;

use super::bindings::http;

/// Bodies longer than this are cut in the printout.
const MAX_SHOWN_BODY: usize = 64 * 1024;

/// What `versus plugin test` does with a plugin's requests.
#[derive(Debug, Clone)]
pub struct Inspect {
    /// When set, nothing is sent: every allowed request gets this answer.
    pub dry_run: Option<CannedAnswer>,
}

/// The answer a dry run gives.
#[derive(Debug, Clone)]
pub struct CannedAnswer {
    /// HTTP status.
    pub status: u16,
    /// Body (sent with `content-type: application/json`).
    pub body: Vec<u8>,
}

impl CannedAnswer {
    /// The answer as the plugin will see it.
    pub fn response(&self) -> http::Response {
        http::Response {
            status: self.status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: self.body.clone(),
        }
    }
}

impl Inspect {
    /// Prints the request, `>`-prefixed: the request line, the headers, a
    /// blank line and the body.
    pub fn show_request(&self, req: &http::Request) {
        let mut text = format!("> {} {}\n", req.method, req.url);
        for (name, value) in &req.headers {
            text.push_str(&format!("> {name}: {value}\n"));
        }
        push_body(&mut text, '>', &req.body);
        print(&text);
    }

    /// Prints the answer, `<`-prefixed, or the error the plugin got.
    pub fn show_result(&self, result: &Result<http::Response, http::Error>) {
        let mut text = String::new();
        match result {
            Ok(r) => {
                let note = if self.dry_run.is_some() {
                    " (dry run: not sent)"
                } else {
                    ""
                };
                text.push_str(&format!("< {}{note}\n", r.status));
                for (name, value) in &r.headers {
                    text.push_str(&format!("< {name}: {value}\n"));
                }
                push_body(&mut text, '<', &r.body);
            }
            Err(e) => {
                let (kind, message) = match e {
                    http::Error::Denied(m) => ("denied", m),
                    http::Error::InvalidRequest(m) => ("invalid request", m),
                    http::Error::Timeout(m) => ("timeout", m),
                    http::Error::TooLarge(m) => ("too large", m),
                    http::Error::Transport(m) => ("transport", m),
                };
                text.push_str(&format!("< not sent ({kind}): {message}\n"));
            }
        }
        print(&text);
    }
}

fn push_body(text: &mut String, mark: char, body: &[u8]) {
    if body.is_empty() {
        return;
    }
    text.push_str(&format!("{mark}\n"));
    let shown = &body[..body.len().min(MAX_SHOWN_BODY)];
    match std::str::from_utf8(shown) {
        Ok(s) => {
            for line in s.lines() {
                text.push_str(&format!("{mark} {line}\n"));
            }
        }
        Err(_) => text.push_str(&format!("{mark} <{} bytes, not UTF-8>\n", body.len())),
    }
    if body.len() > MAX_SHOWN_BODY {
        text.push_str(&format!("{mark} … ({} bytes in all)\n", body.len()));
    }
}

fn print(text: &str) {
    let mut out = std::io::stdout().lock();
    // stdout closed (e.g. piped into `head`): nothing useful to do.
    let _ = out.write_all(text.as_bytes());
    let _ = out.flush();
}
