use super::*;
use crate::oncall::{NewIncident, StoredReceipt};

const NOW: i64 = 1_800_000_000_000;

fn view(title: &str, message: Option<&str>) -> IncidentView {
    let mut view = IncidentView::pending(NewIncident {
        id: "inc-1".into(),
        created_ms: NOW,
        deadline_ms: NOW + 125_000,
        response_plan_arn: "arn:plan".into(),
        title: title.into(),
        severity: Some("critical".into()),
        impact: None,
        dedup_key: None,
        ack_exp: 0,
        ack_expiry_ms: 0,
        details: Default::default(),
    });
    if let Some(message) = message {
        view.receipts.push(StoredReceipt {
            channel: "slack".into(),
            destination: "C1".into(),
            message_id: "1".into(),
            message: message.into(),
        });
    }
    view
}

#[test]
fn escape_covers_markup_quotes_and_ampersands() {
    assert_eq!(
        escape("<script>alert(\"x\")</script>"),
        "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"
    );
    assert_eq!(escape("Tom & Jerry's"), "Tom &amp; Jerry&#39;s");
    assert_eq!(escape("&amp;"), "&amp;amp;");
    assert_eq!(
        escape("\" onmouseover='x'"),
        "&quot; onmouseover=&#39;x&#39;"
    );
    assert_eq!(escape("🔥 plain é"), "🔥 plain é");
    assert_eq!(escape(""), "");
}

#[test]
fn time_left_reads_as_a_person_says_it() {
    assert_eq!(time_left(-5), "now");
    assert_eq!(time_left(0), "now");
    assert_eq!(time_left(1), "in 1 s");
    assert_eq!(time_left(59_000), "in 59 s");
    assert_eq!(time_left(60_000), "in 1 min 0 s");
    assert_eq!(time_left(125_000), "in 2 min 5 s");
    assert_eq!(time_left(3_600_000), "in 1 h 0 min");
    assert_eq!(time_left(2 * 86_400_000 + 90_000), "in 48 h 1 min");
}

#[test]
fn excerpt_is_the_first_lines_without_blanks_rules_or_the_link() {
    let message = "🔥 *CRITICAL*\n\n🌐 Instance: web-1\n  \n----------\n<http://gw/api/ack/inc-1?exp=1&sig=s|ack>\n\
                   1\n2\n3\n4\n5\n6";
    assert_eq!(
        excerpt(&view("t", Some(message))).as_deref(),
        Some("🔥 *CRITICAL*\n🌐 Instance: web-1\n1\n2\n3\n4")
    );
    assert_eq!(excerpt(&view("t", None)), None);
    assert_eq!(excerpt(&view("t", Some("\n \n"))), None);
    let long = "é".repeat(2 * EXCERPT_CHARS);
    let cut = excerpt(&view("t", Some(&long))).expect("excerpt");
    assert_eq!(cut.chars().count(), EXCERPT_CHARS + 1);
    assert!(cut.ends_with('…'));
}

#[test]
fn confirmation_page_escapes_the_alert_and_posts_back() {
    let hostile = "<script>alert('t')</script> & \"quoted\"";
    let page = Page {
        heading: "Acknowledge this incident?",
        text: "Nothing has been acknowledged yet.",
        incident: Some(&view(
            hostile,
            Some("<img src=x onerror=alert(1)>\nline two"),
        )),
        button: true,
    }
    .render(NOW);
    assert!(!page.contains("<script"), "{page}");
    assert!(!page.contains("<img"), "{page}");
    assert!(
        page.contains("&lt;script&gt;alert(&#39;t&#39;)&lt;/script&gt; &amp; &quot;quoted&quot;"),
        "{page}"
    );
    assert!(page.contains("&lt;img src=x onerror=alert(1)&gt;\nline two"));
    assert!(page.contains("<dd id=\"severity\">CRITICAL</dd>"), "{page}");
    assert!(
        page.contains("<dd id=\"time-left\">in 2 min 5 s</dd>"),
        "{page}"
    );
    assert!(page.contains("name=\"viewport\""));
    assert_eq!(page.matches("<form method=\"post\">").count(), 1);
    assert_eq!(page.matches("<button").count(), 1);
    assert!(page.contains(">Acknowledge</button>"));
}

#[test]
fn outcome_pages_have_no_button_and_no_time_left_unless_pending() {
    let mut acked = view("HighErrorRate", None);
    acked.state = State::Acknowledged;
    let page = Page {
        heading: "Already acknowledged",
        text: "Someone acknowledged this incident before you.",
        incident: Some(&acked),
        button: false,
    }
    .render(NOW);
    assert!(!page.contains("<form"), "{page}");
    assert!(!page.contains("time-left"), "{page}");
    assert!(
        page.contains("<dd id=\"state\">Acknowledged</dd>"),
        "{page}"
    );
    assert!(!page.contains("id=\"message\""), "{page}");
}

#[test]
fn responses_are_not_cached_framed_or_referred() {
    let response = Page {
        heading: "Invalid link",
        text: "This ACK link is not valid.",
        incident: None,
        button: false,
    }
    .into_response(StatusCode::UNAUTHORIZED, NOW);
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let h = response.headers();
    assert_eq!(h[header::CACHE_CONTROL], "no-store");
    assert_eq!(h[header::REFERRER_POLICY], "no-referrer");
    assert!(
        h[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .is_ok_and(|v| v.contains("frame-ancestors 'none'") && !v.contains("script-src"))
    );
    assert!(
        h[header::CONTENT_TYPE]
            .to_str()
            .is_ok_and(|v| v.starts_with("text/html"))
    );
}
