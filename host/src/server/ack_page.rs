//! The HTML pages behind ACK links: the confirmation page a `GET` shows,
//! with the one button that POSTs, and the page that says what a `POST`
//! did. Server-rendered, no JavaScript, sized for a phone. Everything that
//! comes from an alert is escaped with [`escape`].

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};

use crate::oncall::{IncidentView, State};

/// Lines of the chat message the page shows: enough to recognise the
/// alert, few enough to keep the button on a phone's first screen.
const EXCERPT_LINES: usize = 6;

/// Characters of the chat message the page shows, across those lines.
const EXCERPT_CHARS: usize = 600;

/// No script, no frames, no outside resources, and the form may only post
/// back to the gateway: the page needs nothing else.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; \
                   frame-ancestors 'none'; base-uri 'none'";

const STYLE: &str = "body{font:18px/1.5 system-ui,-apple-system,'Segoe UI',sans-serif;\
margin:0;padding:1rem;color:#1a1a1a;background:#f6f6f6}\
main{max-width:36rem;margin:0 auto;background:#fff;border-radius:.75rem;padding:1.25rem}\
h1{font-size:1.5rem;margin:0 0 .5rem}p{margin:.5rem 0}\
dl{display:grid;grid-template-columns:auto 1fr;gap:.25rem 1rem;margin:1rem 0}\
dt{color:#555}dd{margin:0;overflow-wrap:anywhere}\
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#f0f0f0;padding:.75rem;\
border-radius:.5rem;font-size:.9rem}\
button{display:block;width:100%;min-height:3.5rem;font-size:1.25rem;font-weight:600;\
color:#fff;background:#c62828;border:0;border-radius:.5rem;margin:1rem 0 .5rem;cursor:pointer}\
.hint{color:#555;font-size:.9rem}";

/// `s` with `&`, `<`, `>`, `"` and `'` replaced by entities, safe in text
/// and in quoted attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// What a page says: a heading, one sentence, and optionally the incident.
pub struct Page<'a> {
    /// The heading: what happened, in a few words.
    pub heading: &'a str,
    /// One or two sentences under it.
    pub text: &'a str,
    /// The incident, when the link checked out and it was found.
    pub incident: Option<&'a IncidentView>,
    /// Whether to show the "Acknowledge" button.
    pub button: bool,
}

impl Page<'_> {
    /// The page as an HTML response with `status`, never cached, and with
    /// headers that keep the signed URL from leaking (no referrer) and the
    /// page from being framed.
    pub fn into_response(self, status: StatusCode, now_ms: i64) -> Response {
        let mut response = (status, Html(self.render(now_ms))).into_response();
        let headers = response.headers_mut();
        for (name, value) in [
            (header::CACHE_CONTROL, "no-store"),
            (header::CONTENT_SECURITY_POLICY, CSP),
            (header::REFERRER_POLICY, "no-referrer"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        ] {
            headers.insert(name, HeaderValue::from_static(value));
        }
        response
    }

    /// The HTML text of the page at `now_ms`.
    pub fn render(&self, now_ms: i64) -> String {
        let mut body = format!(
            "<h1>{}</h1>\n<p>{}</p>\n",
            escape(self.heading),
            escape(self.text)
        );
        if let Some(view) = self.incident {
            body.push_str(&details(view, now_ms));
        }
        if self.button {
            // No `action`: the form posts to this very URL, query included,
            // whatever host or path prefix the link came through.
            body.push_str(
                "<form method=\"post\"><button type=\"submit\">Acknowledge</button></form>\n\
                 <p class=\"hint\">Acknowledging cancels the page to the on-call engineers.</p>\n",
            );
        }
        format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <meta name=\"robots\" content=\"noindex, nofollow\">\
             <meta name=\"referrer\" content=\"no-referrer\">\
             <title>{} · Versus</title><style>{STYLE}</style></head>\n\
             <body><main>\n{body}</main></body></html>\n",
            escape(self.heading)
        )
    }
}

/// The incident's title, severity, state, time left and message excerpt.
fn details(view: &IncidentView, now_ms: i64) -> String {
    let mut out = format!(
        "<dl>\n<dt>Incident</dt><dd id=\"title\">{}</dd>\n",
        escape(&view.record.title)
    );
    if let Some(severity) = &view.record.severity {
        out.push_str(&format!(
            "<dt>Severity</dt><dd id=\"severity\">{}</dd>\n",
            escape(&severity.to_uppercase())
        ));
    }
    out.push_str(&format!(
        "<dt>State</dt><dd id=\"state\">{}</dd>\n",
        state_label(view.state)
    ));
    if view.state == State::Pending {
        out.push_str(&format!(
            "<dt>Pages on-call</dt><dd id=\"time-left\">{}</dd>\n",
            time_left(view.record.deadline_ms - now_ms)
        ));
    }
    out.push_str("</dl>\n");
    if let Some(excerpt) = excerpt(view) {
        out.push_str(&format!("<pre id=\"message\">{}</pre>\n", escape(&excerpt)));
    }
    out
}

/// How a state reads on the page.
fn state_label(state: State) -> &'static str {
    match state {
        State::Pending => "Waiting for acknowledgement",
        State::Escalating => "Paging on-call now",
        State::Acknowledged => "Acknowledged",
        State::Escalated => "Escalated to on-call",
        State::EscalationFailed => "Paging failed",
        State::Resolved => "Resolved",
    }
}

/// `left_ms` until paging, as a person reads it: "in 2 min 5 s".
pub fn time_left(left_ms: i64) -> String {
    if left_ms <= 0 {
        return "now".into();
    }
    // Round up: "in 0 s" would read as "now" while there is still time.
    let secs = (left_ms + 999) / 1000;
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    match (h, m) {
        (0, 0) => format!("in {s} s"),
        (0, _) => format!("in {m} min {s} s"),
        _ => format!("in {h} h {m} min"),
    }
}

/// The first lines of the message a channel delivered for the incident,
/// without blank lines, rules (`-----`) and the ACK link itself; `None`
/// before any channel delivered.
pub fn excerpt(view: &IncidentView) -> Option<String> {
    let message = &view.receipts.first()?.message;
    let mut out = String::new();
    let mut chars = 0;
    for line in message
        .lines()
        .map(str::trim_end)
        .filter(|l| l.chars().any(char::is_alphanumeric) && !l.contains("/api/ack/"))
        .take(EXCERPT_LINES)
    {
        let room = EXCERPT_CHARS.saturating_sub(chars);
        if room == 0 {
            break;
        }
        if !out.is_empty() {
            out.push('\n');
        }
        let cut: String = line.chars().take(room).collect();
        chars += cut.chars().count();
        let truncated = cut.len() < line.len();
        out.push_str(&cut);
        if truncated {
            out.push('…');
        }
    }
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests;
