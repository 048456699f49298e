use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use super::{Lookup, ServiceNowEmulator, check_create, check_update, lookup};

fn record() -> Value {
    json!({"short_description": "disk full", "description": "d",
        "correlation_id": "am:abc", "correlation_display": "Versus",
        "urgency": "1", "impact": "2"})
}

#[test]
fn a_create_needs_the_mandatory_fields() {
    assert!(
        check_create(&record()).is_empty(),
        "{:?}",
        check_create(&record())
    );
    let with = |key: &str, value: Value| {
        let mut body = record();
        body[key] = value;
        body
    };
    let without = |key: &str| {
        let mut body = record();
        body.as_object_mut().map(|o| o.remove(key));
        body
    };
    for (bad, why) in [
        (without("short_description"), "short_description"),
        (with("short_description", json!("")), "short_description"),
        (
            with("short_description", json!("x".repeat(161))),
            "short_description",
        ),
        (without("correlation_id"), "correlation_id"),
        (
            with("correlation_id", json!("k".repeat(101))),
            "correlation_id",
        ),
        (with("urgency", json!("4")), "urgency"),
        (with("urgency", json!(1)), "urgency"),
        (without("impact"), "impact"),
        (with("description", json!({"a": 1})), "description"),
        (json!([1]), "JSON object"),
    ] {
        let errors = check_create(&bad).join("; ");
        assert!(errors.contains(why), "{bad}: {errors}");
    }
    assert!(check_create(&with("correlation_id", json!("k".repeat(100)))).is_empty());
}

#[test]
fn an_update_sets_in_progress_or_resolves_with_a_close_code_and_notes() {
    for good in [
        json!({"state": "2", "work_notes": "Acknowledged in Versus after the page"}),
        json!({"state": "6", "close_code": "Resolved by caller", "close_notes": "done"}),
        json!({"work_notes": "just a note"}),
    ] {
        assert!(check_update(&good).is_empty(), "{good}");
    }
    for (bad, why) in [
        (json!({"state": "3"}), "state must be"),
        (json!({"state": "7"}), "state must be"),
        (json!({"state": "6", "close_notes": "done"}), "close_code"),
        (
            json!({"state": "6", "close_code": "Resolved by caller", "close_notes": " "}),
            "close_notes",
        ),
        (json!({"state": "2", "work_notes": ["a"]}), "work_notes"),
        (json!("state=2"), "JSON object"),
    ] {
        let errors = check_update(&bad).join("; ");
        assert!(errors.contains(why), "{bad}: {errors}");
    }
}

#[test]
fn a_lookup_is_one_encoded_query_form() {
    assert_eq!(
        lookup(Some(
            "sysparm_query=correlation_id%3Dam%3Aabc%5Eactive%3Dtrue%5EstateNOT%20IN6%2C7%2C8\
             &sysparm_limit=1&sysparm_fields=sys_id,number"
        )),
        Ok(Lookup {
            correlation_id: "am:abc".into(),
            limit: Some(1),
            fields: Some(vec!["sys_id".into(), "number".into()]),
        })
    );
    assert_eq!(
        lookup(Some(
            "sysparm_query=correlation_id=a+b%2Fc^active=true^stateNOT%20IN6,7,8"
        )),
        Ok(Lookup {
            correlation_id: "a b/c".into(),
            limit: None,
            fields: None,
        })
    );
    for bad in [
        None,
        Some("sysparm_limit=1"),
        Some("sysparm_query=correlation_id%3Dk"),
        Some("sysparm_query=active%3Dtrue%5Ecorrelation_id%3Dk"),
        Some("sysparm_query=correlation_id%3D%5Eactive%3Dtrue%5EstateNOT%20IN6%2C7%2C8"),
        Some("sysparm_query=correlation_id%3Da%5Eb%5Eactive%3Dtrue%5EstateNOT%20IN6%2C7%2C8"),
        Some(
            "sysparm_query=correlation_id%3Dk%5Eactive%3Dtrue%5EstateNOT%20IN6%2C7%2C8&sysparm_limit=one",
        ),
    ] {
        assert!(lookup(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn credentials_and_query_components_are_coded_as_on_the_wire() {
    // RFC 7617's example.
    assert_eq!(
        super::base64(b"Aladdin:open sesame"),
        "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
    );
    assert_eq!(super::base64(b"ab"), "YWI=");
    assert_eq!(super::percent_decode("a%20b+c%5E%zz%C3%A9"), "a b c^%zzé");
}

#[test]
fn a_record_shows_every_value_as_a_string() {
    let r = super::Record {
        sys_id: "9d385017c611228701d22104cc95c371".into(),
        number: "INC0010001".into(),
        table: "incident".into(),
        correlation_id: "am:abc".into(),
        correlation_display: "Versus".into(),
        short_description: "disk full".into(),
        description: String::new(),
        urgency: "1".into(),
        impact: "2".into(),
        state: "6".into(),
        work_notes: vec!["n".into()],
        close_code: "Resolved by caller".into(),
        close_notes: "done".into(),
    };
    let shown = r.to_json();
    assert_eq!(shown["priority"], "2");
    assert_eq!(shown["active"], "false");
    assert!(!r.active());
    let fields = ["sys_id".to_string(), "number".to_string()];
    assert_eq!(
        super::project(shown, Some(&fields)),
        json!({"sys_id": "9d385017c611228701d22104cc95c371", "number": "INC0010001"})
    );
}

/// Sends one call as `user:password`; returns the status, the
/// `retry-after` header and the JSON body (`null` when not JSON).
async fn call(
    method: Method,
    url: &str,
    credentials: &str,
    body: Option<Value>,
) -> (u16, Option<String>, Value) {
    let authorization = format!("Basic {}", super::base64(credentials.as_bytes()));
    let mut request = reqwest::Client::new()
        .request(method, url)
        .header("Authorization", authorization)
        .header("Accept", "application/json");
    if let Some(body) = body {
        request = request
            .header("Content-Type", "application/json")
            .body(body.to_string());
    }
    let response = request.send().await.expect("the emulator answers");
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let body = response.bytes().await.expect("a body");
    (
        status,
        retry_after,
        serde_json::from_slice(&body).unwrap_or_default(),
    )
}

#[tokio::test]
async fn a_record_is_found_again_worked_on_and_resolved_over_http() {
    let sn = ServiceNowEmulator::start("versus", "s3cret").await;
    let auth = "versus:s3cret";
    let table = format!("{}/api/now/table/incident", sn.url);
    let query = "/api/now/table/incident?sysparm_query=correlation_id%3Dam%3Aabc%5Eactive%3Dtrue%5EstateNOT%20IN6%2C7%2C8\
                 &sysparm_limit=1&sysparm_fields=sys_id,number";
    let find = format!("{}{query}", sn.url);
    let (status, _, body) = call(Method::GET, &find, auth, None).await;
    assert_eq!((status, body), (200, json!({"result": []})));

    let (status, _, body) = call(Method::POST, &table, auth, Some(record())).await;
    assert_eq!(status, 201, "{body}");
    let sys_id = body["result"]["sys_id"].as_str().unwrap_or("").to_string();
    assert!(
        sys_id.len() == 32 && sys_id.chars().all(|c| c.is_ascii_hexdigit()),
        "{sys_id}"
    );
    assert_eq!(body["result"]["number"], "INC0010001");
    assert_eq!(body["result"]["priority"], "2");

    let (status, _, body) = call(Method::GET, &find, auth, None).await;
    let found = json!({"result": [{"sys_id": sys_id, "number": "INC0010001"}]});
    assert_eq!((status, body), (200, found));

    let record_url = format!("{table}/{sys_id}");
    let ack = json!({"state": "2", "work_notes": "Acknowledged"});
    let (status, _, body) = call(Method::PATCH, &record_url, auth, Some(ack)).await;
    assert_eq!((status, &body["result"]["state"]), (200, &json!("2")));
    let resolve = json!({"state": "6", "close_code": "Resolved by caller",
        "close_notes": "done"});
    let (status, _, _) = call(Method::PATCH, &record_url, auth, Some(resolve)).await;
    assert_eq!(status, 200);
    let (_, _, body) = call(Method::GET, &find, auth, None).await;
    assert_eq!(
        body,
        json!({"result": []}),
        "a resolved record is not active"
    );

    assert_eq!(sn.created(), 1);
    let records = sn.records();
    let r = &records[0];
    assert_eq!(
        (
            r.table.as_str(),
            r.number.as_str(),
            r.correlation_id.as_str()
        ),
        ("incident", "INC0010001", "am:abc")
    );
    assert_eq!(
        (r.state.as_str(), r.work_notes.clone()),
        ("6", vec!["Acknowledged".to_string()])
    );
    assert_eq!(
        (r.close_code.as_str(), r.close_notes.as_str()),
        ("Resolved by caller", "done")
    );

    let (status, _, body) = call(Method::GET, &find, "versus:wrong", None).await;
    assert_eq!(
        (status, &body["error"]["message"]),
        (401, &json!("User Not Authenticated"))
    );
    let unknown = format!("{table}/{}", "0".repeat(32));
    let (status, _, body) = call(Method::PATCH, &unknown, auth, Some(json!({"state": "2"}))).await;
    assert_eq!(
        (status, &body["error"]["message"]),
        (404, &json!("No Record found"))
    );
    let short = json!({"short_description": "x"});
    let (status, _, body) = call(Method::POST, &table, auth, Some(short)).await;
    assert_eq!((status, &body["status"]), (400, &json!("failure")));
    let invalid = sn.invalid();
    let seen: Vec<_> = invalid.iter().map(|r| (r.method, r.status)).collect();
    assert_eq!(seen, [("GET", 401), ("PATCH", 404), ("POST", 400)]);
    assert_eq!(invalid[0].message, "User Not Authenticated");
    assert!(
        invalid[1].path.ends_with(&"0".repeat(32)),
        "{}",
        invalid[1].path
    );
    assert!(
        invalid[2].detail.contains("correlation_id"),
        "{}",
        invalid[2].detail
    );
    assert_eq!(invalid[2].body, json!({"short_description": "x"}));

    sn.fail_next(&[(429, Some(7)), (503, None)]);
    let (status, retry_after, _) = call(Method::POST, &table, auth, Some(record())).await;
    assert_eq!((status, retry_after.as_deref()), (429, Some("7")));
    let (status, retry_after, _) = call(Method::GET, &find, auth, None).await;
    assert_eq!((status, retry_after), (503, None));
    assert_eq!(sn.created(), 1, "a failed call changes nothing");

    sn.slow_creates(1, Duration::from_millis(200));
    let (status, _, body) = call(Method::POST, &table, auth, Some(record())).await;
    assert_eq!(
        (status, &body["result"]["number"]),
        (201, &json!("INC0010002"))
    );
    let requests = sn.requests();
    assert_eq!(requests[0].path, query);
    assert_eq!((requests[0].method, requests[0].status), ("GET", 200));
    let last = requests.last().expect("requests");
    assert_eq!(
        (last.method, last.path.as_str()),
        ("POST", "/api/now/table/incident")
    );
    assert_eq!((last.status, &last.body), (201, &record()));
    assert!(last.at.elapsed() >= Duration::from_millis(200));
    let statuses: Vec<u16> = requests.iter().map(|r| r.status).collect();
    assert_eq!(
        statuses,
        [200, 201, 200, 200, 200, 200, 401, 404, 400, 429, 503, 201]
    );
}
