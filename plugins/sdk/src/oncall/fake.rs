//! For an escalator's own tests: a sample incident as the gateway passes
//! it, and a provider that answers as told, so each request the escalator
//! builds and each answer it reads is checked with `cargo test`.

use super::{HttpError, Incident, Link, Request, Response};

/// A critical Alertmanager incident with an ACK link and a link to its
/// source: dedup key `am:abc`, labels `{"service":"api"}`.
pub fn incident() -> Incident {
    Incident {
        id: "0b9f6c1e-1111-4c2a-9d51-2f0e5a7c9e11".into(),
        title: "[CRITICAL] HighErrorRate on api".into(),
        severity: Some("critical".into()),
        dedup_key: "am:abc".into(),
        summary: "5xx above 5%".into(),
        source: "alertmanager".into(),
        labels_json: r#"{"service":"api"}"#.into(),
        links: vec![
            Link {
                text: "Acknowledge in Versus".into(),
                url: "https://versus.example/api/ack/x?exp=1&sig=s".into(),
            },
            Link {
                text: "Alert source".into(),
                url: "http://prometheus.example/graph".into(),
            },
        ],
        route: None,
    }
}

/// Runs `f` against a provider that gives the `answers` (status and body,
/// each with `Retry-After: 7`) in order, the last one again once they run
/// out; returns `f`'s result and the requests it sent.
pub fn answering<T>(
    answers: &[(u16, &str)],
    f: impl FnOnce(&mut dyn FnMut(Request) -> Result<Response, HttpError>) -> T,
) -> (T, Vec<Request>) {
    let mut sent = Vec::new();
    let mut send = |r: Request| {
        let (status, body) = answers
            .get(sent.len())
            .or(answers.last())
            .copied()
            .unwrap_or((200, ""));
        sent.push(r);
        Ok(Response {
            status,
            headers: vec![("retry-after".into(), "7".into())],
            body: body.as_bytes().to_vec(),
        })
    };
    let out = f(&mut send);
    (out, sent)
}

/// The request's body as JSON; panics when it is not.
pub fn json_of(request: &Request) -> serde_json::Value {
    serde_json::from_slice(&request.body).unwrap_or_else(|e| {
        panic!(
            "the body is not JSON ({e}): {}",
            String::from_utf8_lossy(&request.body)
        )
    })
}

/// The request's first header of that name (any case).
pub fn header<'r>(request: &'r Request, name: &str) -> Option<&'r str> {
    request
        .headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}
