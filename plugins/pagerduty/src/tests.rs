use serde_json::json;
use versus_plugin_sdk::oncall::fake::{self, json_of};
use versus_plugin_sdk::oncall::{Error, Escalator, Receipt, Request, Send, Urgency};

use super::PagerDuty;

const CONFIG: &str = r#"{"routing_key": "R0UTINGKEY0000000000000000000001",
    "other_routing_keys": {"infra": "R0UTINGKEY0000000000000000000002"},
    "api_url": "http://127.0.0.1:9/"}"#;

const ACCEPTED: &str = r#"{"status":"success","message":"Event processed","dedup_key":"am:abc"}"#;

#[test]
fn a_page_is_one_trigger_keyed_by_the_dedup_key() {
    let (receipt, sent) = with(202, ACCEPTED, |send| {
        PagerDuty::start(&fake::incident(), CONFIG, send)
    });
    assert_eq!(receipt.expect("started").id, "am:abc");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].method, "POST");
    assert_eq!(sent[0].url, "http://127.0.0.1:9/v2/enqueue");
    assert_eq!(
        json_of(&sent[0]),
        json!({
            "routing_key": "R0UTINGKEY0000000000000000000001",
            "event_action": "trigger",
            "dedup_key": "am:abc",
            "client": "Versus Incident",
            "client_url": "https://versus.example/api/ack/x?exp=1&sig=s",
            "payload": {
                "summary": "[CRITICAL] HighErrorRate on api",
                "source": "alertmanager",
                "severity": "critical",
                "custom_details": {
                    "versus_incident_id": "0b9f6c1e-1111-4c2a-9d51-2f0e5a7c9e11",
                    "labels": {"service": "api"},
                    "summary": "5xx above 5%"
                }
            },
            "links": [{"href": "https://versus.example/api/ack/x?exp=1&sig=s",
                       "text": "Acknowledge in Versus"},
                      {"href": "http://prometheus.example/graph", "text": "Alert source"}]
        })
    );
}

#[test]
fn the_route_chooses_another_routing_key() {
    let mut i = fake::incident();
    i.route = Some("infra".into());
    let (_, sent) = with(202, ACCEPTED, |send| PagerDuty::start(&i, CONFIG, send));
    assert_eq!(
        json_of(&sent[0])["routing_key"],
        "R0UTINGKEY0000000000000000000002"
    );
}

#[test]
fn acknowledge_and_resolve_name_the_receipt() {
    let receipt = Receipt {
        id: "am:abc".into(),
        url: None,
    };
    let (ack, sent) = with(202, ACCEPTED, |send| {
        PagerDuty::acknowledge(&fake::incident(), &receipt, Some("U123"), CONFIG, send)
    });
    ack.expect("acknowledged");
    assert_eq!(
        json_of(&sent[0]),
        json!({"routing_key": "R0UTINGKEY0000000000000000000001",
               "event_action": "acknowledge", "dedup_key": "am:abc"})
    );
    let (resolved, sent) = with(202, ACCEPTED, |send| {
        PagerDuty::resolve(&fake::incident(), &receipt, CONFIG, send)
    });
    resolved.expect("resolved");
    assert_eq!(json_of(&sent[0])["event_action"], "resolve");
}

#[test]
fn a_400_is_permanent_and_quotes_the_errors() {
    let body = r#"{"status":"invalid event","message":"Event object is invalid",
        "errors":["Length of 'routing_key' is incorrect (should be 32 characters)"]}"#;
    let (result, _) = with(400, body, |send| {
        PagerDuty::start(&fake::incident(), CONFIG, send)
    });
    match result {
        Err(Error::Permanent(m)) => assert!(m.contains("should be 32 characters"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_429_or_5xx_is_transient_with_its_retry_after() {
    for status in [429, 500, 503] {
        let (result, _) = with(status, "{}", |send| {
            PagerDuty::start(&fake::incident(), CONFIG, send)
        });
        match result {
            Err(Error::Transient { retry_after_ms, .. }) => {
                assert_eq!(retry_after_ms, Some(7000), "{status}")
            }
            other => panic!("{status}: {other:?}"),
        }
    }
    let (result, _) = with(403, "{}", |send| {
        PagerDuty::start(&fake::incident(), CONFIG, send)
    });
    assert!(matches!(result, Err(Error::Permanent(_))), "{result:?}");
}

#[test]
fn severities_map_onto_pagerdutys_four() {
    for (alert, pd) in [
        (Some("critical"), "critical"),
        (Some("Warning"), "warning"),
        (Some("error"), "error"),
        (Some("info"), "info"),
        (Some("page"), "critical"),
        (None, "critical"),
    ] {
        assert_eq!(super::severity(Urgency::of(alert)), pd, "{alert:?}");
    }
}

#[test]
fn an_over_long_dedup_key_gives_way_to_the_incident_id() {
    let mut i = fake::incident();
    i.dedup_key = "k".repeat(256);
    let (_, sent) = with(202, "{}", |send| PagerDuty::start(&i, CONFIG, send));
    assert_eq!(json_of(&sent[0])["dedup_key"], i.id.as_str());
}

#[test]
fn the_config_needs_a_routing_key_and_a_map_of_others() {
    PagerDuty::validate_config(CONFIG).expect("valid");
    PagerDuty::validate_config(r#"{"routing_key":"k"}"#).expect("defaults");
    for (config, key) in [
        (r#"{}"#, "routing_key"),
        (r#"{"routing_key":"k","api_url":"ftp://x"}"#, "api_url"),
        (
            r#"{"routing_key":"k","other_routing_keys":"x"}"#,
            "other_routing_keys",
        ),
    ] {
        let err = PagerDuty::validate_config(config).expect_err(config);
        assert!(err.to_string().contains(key), "{config}: {err}");
    }
}

/// Runs `f` against a provider answering `status` and `body`.
fn with<T>(status: u16, body: &str, f: impl FnOnce(&mut Send<'_>) -> T) -> (T, Vec<Request>) {
    fake::answering(&[(status, body)], f)
}
