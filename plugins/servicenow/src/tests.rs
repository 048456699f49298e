use serde_json::json;
use versus_plugin_sdk::oncall::fake::{self, answering, json_of};
use versus_plugin_sdk::oncall::{Error, Escalator, Receipt, Urgency};

use super::ServiceNow;

const CONFIG: &str = r#"{"instance_url": "http://127.0.0.1:9/",
    "username": "versus", "password": "s3cret",
    "other_instance_urls": {"infra": "https://infra.service-now.com"}}"#;

/// `Basic base64("versus:s3cret")`.
const AUTHORIZATION: &str = "Basic dmVyc3VzOnMzY3JldA==";

const SYS_ID: &str = "9d385017c611228701d22104cc95c371";

/// What the lookup answers when no record carries the key.
const NOTHING: &str = r#"{"result":[]}"#;

/// What a create answers.
const CREATED: &str = r#"{"result":{"sys_id":"9d385017c611228701d22104cc95c371",
    "number":"INC0010001","state":"1","correlation_id":"am:abc"}}"#;

fn receipt() -> Receipt {
    Receipt {
        id: SYS_ID.into(),
        url: None,
    }
}

fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

#[test]
fn a_fresh_incident_is_looked_up_then_created() {
    let (receipt, sent) = answering(&[(200, NOTHING), (201, CREATED)], |send| {
        ServiceNow::start(&fake::incident(), CONFIG, send)
    });
    assert_eq!(
        receipt.expect("started"),
        Receipt {
            id: SYS_ID.into(),
            url: Some(format!(
                "http://127.0.0.1:9/nav_to.do?uri=incident.do?sys_id={SYS_ID}"
            )),
        }
    );
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].method, "GET");
    assert_eq!(
        sent[0].url,
        "http://127.0.0.1:9/api/now/table/incident\
         ?sysparm_query=correlation_id%3Dam%3Aabc%5Eactive%3Dtrue%5EstateNOT%20IN6%2C7%2C8\
         &sysparm_limit=1&sysparm_fields=sys_id,number"
    );
    assert_eq!(
        sent[0].headers,
        headers(&[
            ("Accept", "application/json"),
            ("Authorization", AUTHORIZATION)
        ])
    );
    assert!(sent[0].body.is_empty());
    assert_eq!(sent[1].method, "POST");
    assert_eq!(sent[1].url, "http://127.0.0.1:9/api/now/table/incident");
    assert_eq!(
        sent[1].headers,
        headers(&[
            ("Accept", "application/json"),
            ("Authorization", AUTHORIZATION),
            ("Content-Type", "application/json"),
        ])
    );
    assert_eq!(
        json_of(&sent[1]),
        json!({
            "short_description": "[CRITICAL] HighErrorRate on api",
            "description": "5xx above 5%\n\
                Acknowledge in Versus: https://versus.example/api/ack/x?exp=1&sig=s\n\
                Alert source: http://prometheus.example/graph\n\
                Versus incident: 0b9f6c1e-1111-4c2a-9d51-2f0e5a7c9e11",
            "correlation_id": "am:abc",
            "correlation_display": "Versus",
            "urgency": "1",
            "impact": "1"
        })
    );
}

#[test]
fn an_active_record_with_the_key_is_the_receipt_and_nothing_is_created() {
    let found =
        r#"{"result":[{"sys_id":"46d44a23a9fe19810012d100cca80666","number":"INC0010007"}]}"#;
    let (receipt, sent) = answering(&[(200, found), (201, CREATED)], |send| {
        ServiceNow::start(&fake::incident(), CONFIG, send)
    });
    let receipt = receipt.expect("started");
    assert_eq!(receipt.id, "46d44a23a9fe19810012d100cca80666");
    assert_eq!(
        receipt.url.as_deref(),
        Some(
            "http://127.0.0.1:9/nav_to.do?uri=incident.do?sys_id=46d44a23a9fe19810012d100cca80666"
        )
    );
    assert_eq!(sent.len(), 1, "{sent:?}");
    assert_eq!(sent[0].method, "GET");
}

#[test]
fn the_route_chooses_another_instance_and_the_table_is_configurable() {
    let mut i = fake::incident();
    i.route = Some("infra".into());
    let (receipt, sent) = answering(&[(200, NOTHING), (201, CREATED)], |send| {
        ServiceNow::start(&i, CONFIG, send)
    });
    assert!(
        sent[0]
            .url
            .starts_with("https://infra.service-now.com/api/now/table/incident?"),
        "{}",
        sent[0].url
    );
    assert_eq!(
        sent[1].url,
        "https://infra.service-now.com/api/now/table/incident"
    );
    assert!(
        receipt
            .expect("started")
            .url
            .is_some_and(|u| u.starts_with("https://infra.service-now.com/nav_to.do"))
    );

    i.route = Some("nope".into());
    let (result, sent) = answering(&[(200, NOTHING)], |send| {
        ServiceNow::start(&i, CONFIG, send)
    });
    match result {
        Err(Error::Permanent(m)) => assert!(m.contains("nope"), "{m}"),
        other => panic!("{other:?}"),
    }
    assert!(sent.is_empty());

    let config = r#"{"instance_url":"https://acme.service-now.com","username":"versus",
        "password":"s3cret","table":"u_versus_page"}"#;
    let (receipt, sent) = answering(&[(200, NOTHING), (201, CREATED)], |send| {
        ServiceNow::start(&fake::incident(), config, send)
    });
    assert_eq!(
        sent[1].url,
        "https://acme.service-now.com/api/now/table/u_versus_page"
    );
    assert_eq!(
        receipt.expect("started").url.as_deref(),
        Some(
            "https://acme.service-now.com/nav_to.do?uri=u_versus_page.do?\
             sys_id=9d385017c611228701d22104cc95c371"
        )
    );
}

#[test]
fn severities_map_onto_urgency_and_impact() {
    for (alert, level) in [
        (Some("critical"), "1"),
        (Some("page"), "1"),
        (None, "1"),
        (Some("error"), "2"),
        (Some("major"), "2"),
        (Some("High"), "2"),
        (Some("Warning"), "2"),
        (Some("warn"), "2"),
        (Some("minor"), "2"),
        (Some("medium"), "2"),
        (Some("info"), "3"),
        (Some("low"), "3"),
        (Some(" notice "), "3"),
    ] {
        assert_eq!(super::urgency(Urgency::of(alert)), level, "{alert:?}");
    }
    let mut i = fake::incident();
    i.severity = Some("warning".into());
    let body = super::record(&i);
    assert_eq!(
        (&body["urgency"], &body["impact"]),
        (&json!("2"), &json!("2"))
    );
}

#[test]
fn acknowledge_and_resolve_patch_the_record() {
    let updated = r#"{"result":{"sys_id":"9d385017c611228701d22104cc95c371","state":"2"}}"#;
    let record_url = format!("http://127.0.0.1:9/api/now/table/incident/{SYS_ID}");
    let (ack, sent) = answering(&[(200, updated)], |send| {
        ServiceNow::acknowledge(&fake::incident(), &receipt(), Some("U123"), CONFIG, send)
    });
    ack.expect("acknowledged");
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].method, "PATCH");
    assert_eq!(sent[0].url, record_url);
    assert_eq!(
        sent[0].headers,
        headers(&[
            ("Accept", "application/json"),
            ("Authorization", AUTHORIZATION),
            ("Content-Type", "application/json"),
        ])
    );
    assert_eq!(
        json_of(&sent[0]),
        json!({"state": "2", "work_notes": "Acknowledged in Versus after the page by U123"})
    );

    let (ack, sent) = answering(&[(200, updated)], |send| {
        ServiceNow::acknowledge(&fake::incident(), &receipt(), None, CONFIG, send)
    });
    ack.expect("acknowledged");
    assert_eq!(
        json_of(&sent[0])["work_notes"],
        "Acknowledged in Versus after the page"
    );

    let (resolved, sent) = answering(&[(200, updated)], |send| {
        ServiceNow::resolve(&fake::incident(), &receipt(), CONFIG, send)
    });
    resolved.expect("resolved");
    assert_eq!(sent[0].method, "PATCH");
    assert_eq!(sent[0].url, record_url);
    assert_eq!(
        json_of(&sent[0]),
        json!({"state": "6", "close_code": "Resolved by caller",
               "close_notes": "The alert resolved (Versus)"})
    );

    let empty = Receipt::default();
    let (result, sent) = answering(&[(200, updated)], |send| {
        ServiceNow::resolve(&fake::incident(), &empty, CONFIG, send)
    });
    assert!(matches!(result, Err(Error::Permanent(_))), "{result:?}");
    assert!(sent.is_empty());
}

#[test]
fn a_refusal_is_permanent_and_quotes_servicenows_error() {
    let invalid = r#"{"error":{"message":"Invalid class","detail":"Invalid table name u_nope"},
        "status":"failure"}"#;
    let (result, sent) = answering(&[(200, NOTHING), (400, invalid)], |send| {
        ServiceNow::start(&fake::incident(), CONFIG, send)
    });
    assert_eq!(sent.len(), 2);
    assert_eq!(
        result,
        Err(Error::Permanent(
            "servicenow refused the request (http 400): Invalid class: Invalid table name u_nope"
                .into()
        ))
    );

    let unauthenticated = r#"{"error":{"message":"User Not Authenticated",
        "detail":"Required to provide Auth information"},"status":"failure"}"#;
    let (result, _) = answering(&[(401, unauthenticated)], |send| {
        ServiceNow::start(&fake::incident(), CONFIG, send)
    });
    match result {
        Err(Error::Permanent(m)) => {
            assert!(m.contains("User Not Authenticated"), "{m}");
            assert!(m.contains("servicenow.password"), "{m}");
        }
        other => panic!("{other:?}"),
    }

    let missing = r#"{"error":{"message":"No Record found",
        "detail":"Record doesn't exist or ACL restricts the record retrieval"},"status":"failure"}"#;
    for status in [403, 404] {
        let (result, _) = answering(&[(status, missing)], |send| {
            ServiceNow::resolve(&fake::incident(), &receipt(), CONFIG, send)
        });
        match result {
            Err(Error::Permanent(m)) => assert!(m.contains("No Record found"), "{m}"),
            other => panic!("{status}: {other:?}"),
        }
    }

    let (result, _) = answering(&[(400, "<html>Bad Request</html>")], |send| {
        ServiceNow::start(&fake::incident(), CONFIG, send)
    });
    match result {
        Err(Error::Permanent(m)) => assert!(m.contains("<html>Bad Request"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_429_or_5xx_is_transient_with_its_retry_after() {
    for status in [429, 500, 503] {
        for answers in [vec![(status, "{}")], vec![(200, NOTHING), (status, "{}")]] {
            let (result, _) = answering(&answers, |send| {
                ServiceNow::start(&fake::incident(), CONFIG, send)
            });
            match result {
                Err(Error::Transient { retry_after_ms, .. }) => {
                    assert_eq!(retry_after_ms, Some(7000), "{status}")
                }
                other => panic!("{status}: {other:?}"),
            }
        }
        let (result, _) = answering(&[(status, "{}")], |send| {
            ServiceNow::acknowledge(&fake::incident(), &receipt(), None, CONFIG, send)
        });
        assert!(
            matches!(
                result,
                Err(Error::Transient {
                    retry_after_ms: Some(7000),
                    ..
                })
            ),
            "{status}: {result:?}"
        );
    }
}

#[test]
fn a_create_answer_without_a_sys_id_or_a_lookup_that_is_not_json_is_permanent() {
    let (result, _) = answering(&[(200, NOTHING), (201, r#"{"result":{}}"#)], |send| {
        ServiceNow::start(&fake::incident(), CONFIG, send)
    });
    assert!(matches!(result, Err(Error::Permanent(_))), "{result:?}");
    let (result, sent) = answering(&[(200, "<html>Instance Hibernating</html>")], |send| {
        ServiceNow::start(&fake::incident(), CONFIG, send)
    });
    assert!(matches!(result, Err(Error::Permanent(_))), "{result:?}");
    assert_eq!(
        sent.len(),
        1,
        "nothing is created after a lookup that failed"
    );
}

#[test]
fn a_key_the_column_or_the_query_cannot_hold_gives_way_to_the_incident_id() {
    for key in ["k".repeat(101), "a^b".to_string()] {
        let mut i = fake::incident();
        i.dedup_key = key.clone();
        let (_, sent) = answering(&[(200, NOTHING), (201, CREATED)], |send| {
            ServiceNow::start(&i, CONFIG, send)
        });
        assert!(
            sent[0].url.contains(
                "sysparm_query=correlation_id%3D0b9f6c1e-1111-4c2a-9d51-2f0e5a7c9e11%5Eactive"
            ),
            "{key}: {}",
            sent[0].url
        );
        assert_eq!(json_of(&sent[1])["correlation_id"], i.id.as_str(), "{key}");
    }
    let mut i = fake::incident();
    i.dedup_key = "k".repeat(100);
    assert_eq!(super::record(&i)["correlation_id"], "k".repeat(100));
}

#[test]
fn a_long_title_is_cut_to_the_column() {
    let mut i = fake::incident();
    i.title = "x".repeat(300);
    let short = super::record(&i)["short_description"]
        .as_str()
        .map(|s| s.chars().count());
    assert_eq!(short, Some(160));
    i.title = " ".into();
    i.summary = String::new();
    i.links.clear();
    let body = super::record(&i);
    assert_eq!(
        body["short_description"],
        "Versus incident 0b9f6c1e-1111-4c2a-9d51-2f0e5a7c9e11"
    );
    assert_eq!(
        body["description"],
        "Versus incident: 0b9f6c1e-1111-4c2a-9d51-2f0e5a7c9e11"
    );
}

#[test]
fn the_config_needs_an_instance_credentials_and_a_plain_table() {
    ServiceNow::validate_config(CONFIG).expect("valid");
    ServiceNow::validate_config(
        r#"{"instance_url":"https://x.service-now.com","username":"u","password":"p"}"#,
    )
    .expect("defaults");
    ServiceNow::validate_config(
        r#"{"instance_url":"https://x","username":"u","password":"p","table":"u_page_2",
            "other_instance_urls":{"infra":null,"blank":""}}"#,
    )
    .expect("a custom table, unset others");
    for (config, key) in [
        (r#"{"username":"u","password":"p"}"#, "instance_url"),
        (
            r#"{"instance_url":"ftp://x","username":"u","password":"p"}"#,
            "instance_url",
        ),
        (r#"{"instance_url":"https://x","password":"p"}"#, "username"),
        (
            r#"{"instance_url":"https://x","username":" ","password":"p"}"#,
            "username",
        ),
        (r#"{"instance_url":"https://x","username":"u"}"#, "password"),
        (
            r#"{"instance_url":"https://x","username":"u","password":"p","table":"incident?x=1"}"#,
            "table",
        ),
        (
            r#"{"instance_url":"https://x","username":"u","password":"p","table":"../sys_user"}"#,
            "table",
        ),
        (
            r#"{"instance_url":"https://x","username":"u","password":"p","other_instance_urls":"x"}"#,
            "other_instance_urls",
        ),
        (
            r#"{"instance_url":"https://x","username":"u","password":"p",
                "other_instance_urls":{"infra":"infra.service-now.com"}}"#,
            "other_instance_urls.infra",
        ),
    ] {
        let err = ServiceNow::validate_config(config).expect_err(config);
        assert!(matches!(err, Error::Config(_)), "{config}: {err}");
        assert!(err.to_string().contains(key), "{config}: {err}");
    }
}

#[test]
fn basic_credentials_and_query_values_are_encoded() {
    for (plain, encoded) in [
        ("", ""),
        ("f", "Zg=="),
        ("fo", "Zm8="),
        ("foo", "Zm9v"),
        ("foob", "Zm9vYg=="),
        ("fooba", "Zm9vYmE="),
        ("foobar", "Zm9vYmFy"),
        ("admin:Pa$$w0rd:x", "YWRtaW46UGEkJHcwcmQ6eA=="),
    ] {
        assert_eq!(super::base64(plain.as_bytes()), encoded, "{plain}");
    }
    assert_eq!(
        versus_plugin_sdk::oncall::percent_encode("correlation_id=a b/é^active=true~-."),
        "correlation_id%3Da%20b%2F%C3%A9%5Eactive%3Dtrue~-."
    );
}
