use serde_json::{Value, json};
use versus_plugin_sdk::chat::{HttpError, Response};

use super::card::{adaptive_card, has_markdown};
use super::*;

fn event(payload: &str) -> EventInfo {
    EventInfo {
        payload: payload.into(),
        ..EventInfo::default()
    }
}

#[test]
fn connector_urls_get_plain_text() {
    let body = payload(
        "https://acme.webhook.office.com/webhookb2/x",
        "**hi**",
        &event("{}"),
    );
    assert_eq!(body, json!({"text": "**hi**"}));
}

#[test]
fn plain_text_goes_to_the_flow_with_the_alert_fields() {
    let body = payload(
        "https://prod.westus.logic.azure.com/workflows/1",
        "just text",
        &event(r#"{"status":"firing","messageText":"theirs","n":1}"#),
    );
    assert_eq!(
        body,
        json!({"status": "firing", "messageText": "just text", "n": 1})
    );
}

#[test]
fn markdown_detection_is_upstreams() {
    for yes in [
        "**b**",
        "```x",
        "# h",
        "see [a](b)",
        "- i",
        "* i",
        "1. i",
        "a ## b",
    ] {
        assert!(has_markdown(yes), "{yes}");
    }
    for no in ["plain", "a-b", "[x]", "1.5", "#tag"] {
        assert!(!has_markdown(no), "{no}");
    }
}

#[test]
fn card_blocks() {
    let md = "# Title\n**Bold line**\nSome *text* here\n\n- one\n* two\n1. first\n2. second\n\n```\ncode  \n  x\n```\nSee [runbook](https://rb/1) and [dash](https://d/2)\n### Small\n";
    let card = adaptive_card(md);
    let tb = |text: &str| json!({"type": "TextBlock", "text": text, "wrap": true});
    assert_eq!(
        card["body"],
        json!([
            {"type": "TextBlock", "text": "Title", "size": "ExtraLarge", "weight": "Bolder", "wrap": true},
            {"type": "TextBlock", "text": "Bold line", "weight": "Bolder", "wrap": true},
            tb("Some *text* here"),
            {"type": "Container", "items": [tb("• one"), tb("• two")]},
            {"type": "Container", "style": "default", "items": [tb("1. first"), tb("2. second")]},
            {"type": "Container", "style": "emphasis", "items": [
                {"type": "TextBlock", "text": "code\nx\n", "wrap": true, "fontType": "Monospace"}]},
            {"type": "Container", "items": [tb("See runbook and dash")],
             "selectAction": {"type": "Action.OpenUrl", "url": "https://rb/1"}},
            {"type": "TextBlock", "text": "Small", "size": "Medium", "weight": "Bolder", "wrap": true},
        ])
    );
    assert_eq!(card["type"], "AdaptiveCard");
    assert_eq!(card["version"], "1.5");
    assert_eq!(
        card["$schema"],
        "http://adaptivecards.io/schemas/adaptive-card.json"
    );
    assert_eq!(card["summary"], "Title");
    assert_eq!(
        card["text"],
        "Title\nBold line\nSome *text* here\n\n• one\n• two\n1. first\n2. second\n\ncode  \n  x\nSee runbook and dash\nSmall\n\n"
    );
}

#[test]
fn summary_falls_back_to_the_first_line_without_markdown() {
    let card = adaptive_card("\n  **🔥 FIRING: [Disk](http://x) full**\n- a");
    assert_eq!(card["summary"], "🔥 FIRING: Disk full");
    // A list that runs to the end is closed.
    assert_eq!(card["body"][1]["items"][0]["text"], "• a");
}

#[test]
fn delivery_posts_json_and_reports_the_host_only() {
    let mut sent: Vec<Request> = Vec::new();
    let mut send = |r: Request| -> Result<Response, HttpError> {
        sent.push(r);
        Ok(Response {
            status: 202,
            ..Response::default()
        })
    };
    let config = r#"{"power_automate_url":"https://flow.example/workflows/abc?sig=SECRET"}"#;
    let receipt = MsTeams::deliver("**x**", &event("{}"), config, &mut send).expect("ok");
    assert_eq!(receipt.destination, "https://flow.example");
    assert_eq!(sent.len(), 1);
    let body: Value = serde_json::from_slice(&sent[0].body).expect("json");
    assert_eq!(body["type"], "AdaptiveCard");

    let mut fail = |_r: Request| -> Result<Response, HttpError> {
        Ok(Response {
            status: 400,
            body: b"bad flow".to_vec(),
            ..Response::default()
        })
    };
    assert_eq!(
        MsTeams::deliver("x", &event("{}"), config, &mut fail),
        Err(Error::Permanent("msteams http 400: bad flow".into()))
    );
    assert!(matches!(
        MsTeams::deliver("x", &event("{}"), "{}", &mut fail),
        Err(Error::Config(_))
    ));
}
