use serde_json::json;
use versus_plugin_sdk::oncall::fake::{self, header, json_of};
use versus_plugin_sdk::oncall::{Error, Escalator, Receipt, Request, Send};

use super::IncidentIo;

const CONFIG: &str = r#"{"api_key": "inc_test_key",
    "alert_source_config_id": "01SOURCE",
    "other_alert_source_config_ids": {"infra": "01INFRA"},
    "api_url": "http://127.0.0.1:9/"}"#;

const ACCEPTED: &str = r#"{"status":"success","message":"Event accepted for processing","deduplication_key":"am:abc"}"#;

#[test]
fn a_page_is_one_firing_event_keyed_by_the_dedup_key() {
    let (receipt, sent) = with(202, ACCEPTED, |send| {
        IncidentIo::start(&fake::incident(), CONFIG, send)
    });
    assert_eq!(receipt.expect("started").id, "am:abc");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].method, "POST");
    assert_eq!(
        sent[0].url,
        "http://127.0.0.1:9/v2/alert_events/http/01SOURCE"
    );
    assert_eq!(
        header(&sent[0], "authorization"),
        Some("Bearer inc_test_key")
    );
    assert_eq!(
        json_of(&sent[0]),
        json!({
            "title": "[CRITICAL] HighErrorRate on api",
            "status": "firing",
            "deduplication_key": "am:abc",
            "description": "5xx above 5%\nAcknowledge in Versus: https://versus.example/api/ack/x?exp=1&sig=s\n\
                            Alert source: http://prometheus.example/graph",
            "source_url": "http://prometheus.example/graph",
            "metadata": {
                "versus_incident_id": "0b9f6c1e-1111-4c2a-9d51-2f0e5a7c9e11",
                "source": "alertmanager",
                "severity": "critical",
                "labels": {"service": "api"}
            }
        })
    );
}

#[test]
fn the_route_chooses_another_alert_source() {
    let mut i = fake::incident();
    i.route = Some("infra".into());
    let (_, sent) = with(202, ACCEPTED, |send| IncidentIo::start(&i, CONFIG, send));
    assert!(
        sent[0].url.ends_with("/v2/alert_events/http/01INFRA"),
        "{}",
        sent[0].url
    );
}

#[test]
fn resolve_is_a_resolved_event_with_the_same_key_and_ack_sends_nothing() {
    let receipt = Receipt {
        id: "am:abc".into(),
        url: None,
    };
    let (resolved, sent) = with(202, ACCEPTED, |send| {
        IncidentIo::resolve(&fake::incident(), &receipt, CONFIG, send)
    });
    resolved.expect("resolved");
    let body = json_of(&sent[0]);
    assert_eq!(
        (&body["status"], &body["deduplication_key"]),
        (&json!("resolved"), &json!("am:abc"))
    );
    let (acked, sent) = with(202, ACCEPTED, |send| {
        IncidentIo::acknowledge(&fake::incident(), &receipt, Some("U1"), CONFIG, send)
    });
    acked.expect("no-op");
    assert!(sent.is_empty());
}

#[test]
fn a_422_is_permanent_and_names_the_field() {
    let body = r#"{"type":"validation_error","status":422,"request_id":"r1",
        "errors":[{"code":"is_required","message":"must be provided","source":{"field":"title"}}]}"#;
    let (result, _) = with(422, body, |send| {
        IncidentIo::start(&fake::incident(), CONFIG, send)
    });
    match result {
        Err(Error::Permanent(m)) => assert!(m.contains("title: must be provided"), "{m}"),
        other => panic!("{other:?}"),
    }
    let (result, _) = with(401, "{}", |send| {
        IncidentIo::start(&fake::incident(), CONFIG, send)
    });
    assert!(matches!(result, Err(Error::Permanent(_))), "{result:?}");
}

#[test]
fn a_429_or_5xx_is_transient_with_its_retry_after() {
    for status in [429, 500, 503] {
        let (result, _) = with(status, "{}", |send| {
            IncidentIo::start(&fake::incident(), CONFIG, send)
        });
        match result {
            Err(Error::Transient { retry_after_ms, .. }) => {
                assert_eq!(retry_after_ms, Some(7000), "{status}")
            }
            other => panic!("{status}: {other:?}"),
        }
    }
}

#[test]
fn the_alert_source_id_is_one_path_segment() {
    let config = r#"{"api_key":"k","alert_source_config_id":"a/b c"}"#;
    let (_, sent) = with(202, ACCEPTED, |send| {
        IncidentIo::start(&fake::incident(), config, send)
    });
    assert_eq!(
        sent[0].url,
        "https://api.incident.io/v2/alert_events/http/a%2Fb%20c"
    );
}

#[test]
fn the_config_needs_a_key_and_a_source() {
    IncidentIo::validate_config(CONFIG).expect("valid");
    for (config, key) in [
        (r#"{"alert_source_config_id":"s"}"#, "api_key"),
        (r#"{"api_key":"k"}"#, "alert_source_config_id"),
        (
            r#"{"api_key":"k","alert_source_config_id":"s","api_url":"x"}"#,
            "api_url",
        ),
        (
            r#"{"api_key":"k","alert_source_config_id":"s","other_alert_source_config_ids":[1]}"#,
            "other_alert_source_config_ids",
        ),
    ] {
        let err = IncidentIo::validate_config(config).expect_err(config);
        assert!(err.to_string().contains(key), "{config}: {err}");
    }
}

/// Runs `f` against a provider answering `status` and `body`.
fn with<T>(status: u16, body: &str, f: impl FnOnce(&mut Send<'_>) -> T) -> (T, Vec<Request>) {
    fake::answering(&[(status, body)], f)
}
