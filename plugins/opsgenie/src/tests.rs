use serde_json::json;
use versus_plugin_sdk::oncall::fake::{self, header, json_of};
use versus_plugin_sdk::oncall::{
    Error, Escalator, HttpError, Incident, Receipt, Request, Send, Urgency,
};

use super::Opsgenie;

/// The sample incident, with a label that is a number.
fn incident() -> Incident {
    Incident {
        labels_json: r#"{"service":"api","replicas":3}"#.into(),
        ..fake::incident()
    }
}

const KEY: &str = "0a1b2c3d-0000-4000-8000-000000000001";
const INFRA_KEY: &str = "0a1b2c3d-0000-4000-8000-000000000002";

const CONFIG: &str = r#"{"api_key": "0a1b2c3d-0000-4000-8000-000000000001",
    "other_api_keys": {"infra": "0a1b2c3d-0000-4000-8000-000000000002"},
    "api_url": "http://127.0.0.1:9/"}"#;

const ACCEPTED: &str = r#"{"result":"Request will be processed","took":0.1,
    "requestId":"43a29c5c-3dbf-4fa4-9c26-f4f71023e120"}"#;

fn receipt() -> Receipt {
    Receipt {
        id: "am:abc/ü x".into(),
        url: None,
    }
}

#[test]
fn a_page_creates_one_alert_aliased_by_the_dedup_key() {
    let (receipt, sent) = with(202, ACCEPTED, |send| {
        Opsgenie::start(&incident(), CONFIG, send)
    });
    assert_eq!(
        receipt.expect("started"),
        Receipt {
            id: "am:abc".into(),
            url: None
        }
    );
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].method, "POST");
    assert_eq!(sent[0].url, "http://127.0.0.1:9/v2/alerts");
    assert_eq!(
        header(&sent[0], "authorization"),
        Some(format!("GenieKey {KEY}").as_str())
    );
    assert_eq!(header(&sent[0], "content-type"), Some("application/json"));
    assert_eq!(
        json_of(&sent[0]),
        json!({
            "message": "[CRITICAL] HighErrorRate on api",
            "alias": "am:abc",
            "description": "5xx above 5%\n\n\
                Acknowledge in Versus: https://versus.example/api/ack/x?exp=1&sig=s\n\
                Alert source: http://prometheus.example/graph",
            "source": "alertmanager",
            "priority": "P1",
            "details": {
                "versus_incident_id": "0b9f6c1e-1111-4c2a-9d51-2f0e5a7c9e11",
                "service": "api",
                "replicas": "3"
            },
            "tags": ["versus", "severity:critical"]
        })
    );
}

#[test]
fn long_fields_are_cut_to_opsgenies_limits() {
    let mut i = incident();
    i.title = "t".repeat(200);
    i.summary = "s".repeat(20_000);
    i.source = "x".repeat(150);
    i.severity = None;
    let (_, sent) = with(202, ACCEPTED, |send| Opsgenie::start(&i, CONFIG, send));
    let body = json_of(&sent[0]);
    let chars = |key: &str| body[key].as_str().expect(key).chars().count();
    assert_eq!(chars("message"), 130);
    assert_eq!(chars("source"), 100);
    assert_eq!(chars("description"), 15_000);
    let description = body["description"].as_str().expect("description");
    assert!(
        description.ends_with("Alert source: http://prometheus.example/graph"),
        "the links outlive the summary"
    );
    assert_eq!(body["tags"], json!(["versus"]));
}

#[test]
fn the_route_chooses_another_api_key() {
    let mut i = incident();
    i.route = Some("infra".into());
    let (_, sent) = with(202, ACCEPTED, |send| Opsgenie::start(&i, CONFIG, send));
    assert_eq!(
        header(&sent[0], "authorization"),
        Some(format!("GenieKey {INFRA_KEY}").as_str())
    );
    i.route = Some("nope".into());
    let (result, sent) = with(202, ACCEPTED, |send| Opsgenie::start(&i, CONFIG, send));
    assert!(matches!(result, Err(Error::Permanent(_))), "{result:?}");
    assert!(sent.is_empty());
}

#[test]
fn severities_map_onto_five_priorities() {
    for (alert, p) in [
        (Some("critical"), "P1"),
        (Some("page"), "P1"),
        (None, "P1"),
        (Some("error"), "P2"),
        (Some("Major"), "P2"),
        (Some("high"), "P2"),
        (Some("warning"), "P3"),
        (Some(" warn "), "P3"),
        (Some("minor"), "P3"),
        (Some("medium"), "P3"),
        (Some("low"), "P4"),
        (Some("notice"), "P4"),
        (Some("info"), "P5"),
        (Some("informational"), "P5"),
        (Some("none"), "P5"),
    ] {
        assert_eq!(super::priority(Urgency::of(alert)), p, "{alert:?}");
    }
}

#[test]
fn acknowledge_and_close_address_the_alert_by_its_encoded_alias() {
    let (ack, sent) = with(202, ACCEPTED, |send| {
        Opsgenie::acknowledge(&incident(), &receipt(), Some("alice"), CONFIG, send)
    });
    ack.expect("acknowledged");
    const { assert!(<Opsgenie as Escalator>::ACKNOWLEDGES) };
    assert_eq!(sent[0].method, "POST");
    assert_eq!(
        sent[0].url,
        "http://127.0.0.1:9/v2/alerts/am%3Aabc%2F%C3%BC%20x/acknowledge?identifierType=alias"
    );
    assert_eq!(
        header(&sent[0], "authorization"),
        Some(format!("GenieKey {KEY}").as_str())
    );
    assert_eq!(
        json_of(&sent[0]),
        json!({"source": "Versus", "user": "alice",
               "note": "Acknowledged in Versus by alice after the page"})
    );

    let (ack, sent) = with(202, ACCEPTED, |send| {
        Opsgenie::acknowledge(&incident(), &receipt(), None, CONFIG, send)
    });
    ack.expect("acknowledged");
    assert_eq!(
        json_of(&sent[0]),
        json!({"source": "Versus", "user": "Versus",
               "note": "Acknowledged in Versus after the page"})
    );

    let (closed, sent) = with(202, ACCEPTED, |send| {
        Opsgenie::resolve(&incident(), &receipt(), CONFIG, send)
    });
    closed.expect("closed");
    assert_eq!(
        sent[0].url,
        "http://127.0.0.1:9/v2/alerts/am%3Aabc%2F%C3%BC%20x/close?identifierType=alias"
    );
    assert_eq!(
        json_of(&sent[0]),
        json!({"source": "Versus", "user": "Versus", "note": "The alert resolved"})
    );
}

#[test]
fn percent_encoding_keeps_only_unreserved_bytes() {
    assert_eq!(super::percent_encode("Az09-_.~"), "Az09-_.~");
    assert_eq!(super::percent_encode("a b/c?d#e%"), "a%20b%2Fc%3Fd%23e%25");
    assert_eq!(super::percent_encode("é"), "%C3%A9");
    assert_eq!(super::percent_encode(".."), "%2E%2E");
    assert_eq!(super::percent_encode("a.b"), "a.b");
}

#[test]
fn a_422_is_permanent_and_quotes_the_errors() {
    let body = r#"{"message":"Request body is not processable. Please check the errors.",
        "errors":{"message":"Message can not be empty."},"took":0.01,
        "requestId":"43a29c5c-3dbf-4fa4-9c26-f4f71023e120"}"#;
    for status in [400, 422] {
        let (result, _) = with(status, body, |send| {
            Opsgenie::start(&incident(), CONFIG, send)
        });
        match result {
            Err(Error::Permanent(m)) => {
                assert!(m.contains(&format!("http {status}")), "{m}");
                assert!(m.contains("Please check the errors"), "{m}");
                assert!(m.contains("message: Message can not be empty."), "{m}")
            }
            other => panic!("{status}: {other:?}"),
        }
    }
    let (result, _) = with(
        422,
        r#"{"message":"Key format is not valid!","took":0.0}"#,
        |send| Opsgenie::resolve(&incident(), &receipt(), CONFIG, send),
    );
    match result {
        Err(Error::Permanent(m)) => assert!(m.ends_with("Key format is not valid!"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_429_or_5xx_is_transient_with_its_retry_after() {
    for status in [408, 429, 500, 503] {
        let (result, _) = with(status, "{}", |send| {
            Opsgenie::start(&incident(), CONFIG, send)
        });
        match result {
            Err(Error::Transient { retry_after_ms, .. }) => {
                assert_eq!(retry_after_ms, Some(7000), "{status}")
            }
            other => panic!("{status}: {other:?}"),
        }
    }
    for status in [401, 403, 404] {
        let (result, _) = with(status, r#"{"message":"Could not authenticate"}"#, |send| {
            Opsgenie::acknowledge(&incident(), &receipt(), None, CONFIG, send)
        });
        assert!(
            matches!(&result, Err(Error::Permanent(m)) if m.contains("Could not authenticate")),
            "{status}: {result:?}"
        );
    }
}

#[test]
fn a_transport_failure_is_transient() {
    let mut send = |_: Request| Err(HttpError::Transport("connection refused".into()));
    let result = Opsgenie::start(&incident(), CONFIG, &mut send);
    assert!(matches!(result, Err(Error::Transient { .. })), "{result:?}");
}

#[test]
fn an_over_long_alias_gives_way_to_the_incident_id() {
    let mut i = incident();
    i.dedup_key = "k".repeat(513);
    let (receipt, sent) = with(202, ACCEPTED, |send| Opsgenie::start(&i, CONFIG, send));
    assert_eq!(json_of(&sent[0])["alias"], i.id.as_str());
    assert_eq!(receipt.expect("started").id, i.id);
    i.dedup_key = "k".repeat(512);
    let (_, sent) = with(202, ACCEPTED, |send| Opsgenie::start(&i, CONFIG, send));
    assert_eq!(json_of(&sent[0])["alias"], i.dedup_key.as_str());
}

#[test]
fn details_stay_within_opsgenies_limit() {
    let mut i = incident();
    i.labels_json = json!({
        "a": "x".repeat(5_000),
        "b": "y".repeat(5_000),
        "c": "small",
        "versus_incident_id": "spoofed",
    })
    .to_string();
    let (_, sent) = with(202, ACCEPTED, |send| Opsgenie::start(&i, CONFIG, send));
    let details = json_of(&sent[0])["details"].clone();
    assert_eq!(details["versus_incident_id"], i.id.as_str());
    assert_eq!(details["c"], "small");
    assert!(details.get("a").is_some());
    assert!(details.get("b").is_none(), "over the limit");
}

#[test]
fn the_config_needs_an_api_key_and_a_map_of_others() {
    Opsgenie::validate_config(CONFIG).expect("valid");
    Opsgenie::validate_config(r#"{"api_key":"k"}"#).expect("defaults");
    Opsgenie::validate_config(r#"{"api_key":"k","api_url":"https://api.eu.opsgenie.com"}"#)
        .expect("eu");
    for (config, key) in [
        (r#"{}"#, "api_key"),
        (r#"{"api_key":" "}"#, "api_key"),
        (r#"{"api_key":"k","api_url":"ftp://x"}"#, "api_url"),
        (r#"{"api_key":"k","other_api_keys":"x"}"#, "other_api_keys"),
        (
            r#"{"api_key":"k","other_api_keys":{"infra":["x"]}}"#,
            "other_api_keys.infra",
        ),
    ] {
        let err = Opsgenie::validate_config(config).expect_err(config);
        assert!(matches!(err, Error::Config(_)), "{config}: {err}");
        assert!(err.to_string().contains(key), "{config}: {err}");
    }
}

/// Runs `f` against a provider answering `status` and `body`.
fn with<T>(status: u16, body: &str, f: impl FnOnce(&mut Send<'_>) -> T) -> (T, Vec<Request>) {
    fake::answering(&[(status, body)], f)
}
