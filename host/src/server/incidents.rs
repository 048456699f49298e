//! `POST /api/incidents`: accept an alert (a JSON object, or an array of
//! them), run it through the pipeline and report per-channel results.

use std::sync::Arc;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use serde_json::value::RawValue;
use serde_json::{Value, json};

use super::error::ApiError;
use super::{AppState, auth, limits};
use crate::config::Config;
use crate::incident::flow::{Request, Services, run};
use crate::incident::{Incident, Outcome, Overrides};

/// Handles `POST /api/incidents`.
pub async fn create(
    State(state): State<Arc<AppState>>,
    query: Result<Query<Overrides>, QueryRejection>,
    uri: Uri,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let config = state.reloader.config();
    let ingest = &config.ingest;
    let pending = auth::check_headers(ingest, &headers)?;
    let Query(overrides) =
        query.map_err(|e| ApiError::BadRequest(format!("bad query string: {}", e.body_text())))?;
    check_content_type(&headers)?;
    let bytes = read_body(&config, body).await?;
    pending.finish(ingest, &headers, &bytes, &overrides, unix_now())?;
    limits::check_depth(&bytes, ingest.max_json_depth)?;
    if config.alert.debug_body {
        tracing::info!(body = %String::from_utf8_lossy(&bytes), "incoming alert body");
    }
    let alerts = parse_alerts(&bytes)?;
    deliver(
        &state,
        &config,
        alerts,
        overrides,
        uri.query().unwrap_or_default(),
        &bytes,
    )
    .await
}

/// Reads a request body within `alert.max_body_bytes` and
/// `ingest.body_read_timeout`.
pub(super) async fn read_body(config: &Config, body: Body) -> Result<Bytes, ApiError> {
    let limit = config.alert.max_body_bytes;
    let wait = config.ingest.body_read_timeout;
    let read = tokio::time::timeout(wait, Limited::new(body, limit).collect());
    match read.await.map_err(|_| ApiError::BodyTimeout(wait))? {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.downcast_ref::<LengthLimitError>().is_some() => Err(ApiError::TooLarge(limit)),
        Err(e) => Err(ApiError::BadRequest(format!(
            "could not read the request body: {e}"
        ))),
    }
}

/// One alert from another front door (SNS), delivered as `POST
/// /api/incidents` delivers it.
pub(super) async fn deliver_one(
    state: &AppState,
    config: &Config,
    payload: Box<RawValue>,
    overrides: Overrides,
    query: &str,
    body: &[u8],
) -> Result<Response, ApiError> {
    limits::check_depth(payload.get().as_bytes(), config.ingest.max_json_depth)?;
    deliver(state, config, Alerts::One(payload), overrides, query, body).await
}

/// Runs the alerts through the pipeline and answers.
async fn deliver(
    state: &AppState,
    config: &Config,
    alerts: Alerts,
    overrides: Overrides,
    query: &str,
    body: &[u8],
) -> Result<Response, ApiError> {
    let ingest = &config.ingest;
    check_other_plan(config, &overrides)?;
    check_route(config, &overrides)?;
    let oncall_missing = overrides.oncall_enable == Some(true) && state.oncall.is_none();
    if oncall_missing {
        crate::metrics::get().oncall_not_configured.inc();
        tracing::warn!(
            "oncall_enable=true but on-call is off on this gateway (oncall.enable, \
             oncall.initialized_only): delivering without escalation"
        );
    }
    let request = Request { query, body };
    let services = Services {
        reloader: &state.reloader,
        oncall: state.oncall.as_ref(),
        ledger: &state.ledger,
        outbox: &state.outbox,
        gate: &state.gate,
    };
    let (status, mut answer) = match alerts {
        Alerts::One(payload) => {
            let incident = Incident::new(payload, overrides);
            let mut outcomes = run(&services, vec![incident], &request)
                .await
                .map_err(unavailable)?;
            let (id, outcome) = outcomes
                .pop()
                .unwrap_or_else(|| (String::new(), Outcome::Delivered { channels: vec![] }));
            single_response(&id, &outcome)
        }
        Alerts::Many(payloads) => {
            limits::check_count(payloads.len(), ingest.max_alerts)?;
            let incidents: Vec<Incident> = payloads
                .into_iter()
                .map(|p| Incident::new(p, overrides.clone()))
                .collect();
            let outcomes = run(&services, incidents, &request)
                .await
                .map_err(unavailable)?;
            let count = outcomes.len();
            if outcomes.iter().all(|(_, o)| o.ok()) {
                (
                    StatusCode::CREATED,
                    json!({ "status": "Incidents created", "count": count }),
                )
            } else {
                let results: Vec<Value> =
                    outcomes.iter().map(|(id, o)| outcome_json(id, o)).collect();
                (
                    StatusCode::BAD_GATEWAY,
                    json!({ "status": "Delivery failed", "count": count, "incidents": results }),
                )
            }
        }
    };
    // The sender asked for paging it will not get: say so, rather than
    // answer as if it would.
    if oncall_missing {
        answer["oncall"] = json!("not configured");
    }
    Ok((status, Json(answer)).into_response())
}

/// `?awsim_other_response_plan=NAME` must name an entry of
/// `oncall.aws_incident_manager.other_response_plan_arns`: an unknown name
/// is refused before anything is sent, never served by the default plan.
fn check_other_plan(config: &crate::config::Config, overrides: &Overrides) -> Result<(), ApiError> {
    let Some(name) = overrides
        .awsim_other_response_plan
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
    else {
        return Ok(());
    };
    let plans = &config.oncall.aws_incident_manager.other_response_plan_arns;
    if plans.contains_key(name) {
        return Ok(());
    }
    let known: Vec<&str> = plans.keys().map(String::as_str).collect();
    Err(ApiError::BadRequest(format!(
        "awsim_other_response_plan `{name}` is not in oncall.aws_incident_manager.other_response_plan_arns (known: {})",
        if known.is_empty() {
            "none".to_string()
        } else {
            known.join(", ")
        }
    )))
}

/// A provider's route override (`?pagerduty_other_routing_key=NAME`) must
/// name a configured entry of a provider in use, and is refused for any
/// other provider: never served by the default target.
fn check_route(config: &crate::config::Config, overrides: &Overrides) -> Result<(), ApiError> {
    let targets = crate::config::targets(&config.oncall);
    for (name, route) in crate::escalator::ROUTES {
        let Some(given) = overrides.channel(route.query) else {
            continue;
        };
        if !targets.iter().any(|t| t == name) {
            return Err(ApiError::BadRequest(format!(
                "{} applies only when on-call pages {name} (it pages {})",
                route.query,
                targets.join(", ")
            )));
        }
        config
            .oncall
            .sections
            .route(name, Some(given))
            .map_err(ApiError::BadRequest)?;
    }
    Ok(())
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn unavailable(e: crate::oncall::StoreError) -> ApiError {
    tracing::error!(error = %e, "on-call store unavailable; answering 503");
    ApiError::Unavailable
}

fn single_response(id: &str, outcome: &Outcome) -> (StatusCode, Value) {
    let status = match outcome {
        Outcome::Dropped { .. } => StatusCode::ACCEPTED,
        o if o.ok() => StatusCode::CREATED,
        _ => StatusCode::BAD_GATEWAY,
    };
    (status, outcome_json(id, outcome))
}

fn outcome_json(id: &str, outcome: &Outcome) -> Value {
    match outcome {
        Outcome::Dropped { reason } => {
            json!({ "status": "Incident dropped", "id": id, "reason": reason })
        }
        Outcome::Delivered { channels } if outcome.ok() => {
            json!({ "status": "Incident created", "id": id, "channels": channels })
        }
        Outcome::Delivered { channels } => {
            json!({ "status": "Delivery failed", "id": id, "channels": channels })
        }
    }
}

/// JSON, or no content type at all. `text/plain` and curl's default form
/// type are accepted too: many senders label a JSON body that way. Anything
/// else (XML, multipart, images) is refused.
fn check_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    let essence = value
        .to_str()
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim();
    let is = |name: &str| essence.eq_ignore_ascii_case(name);
    let suffix = essence.get(essence.len().saturating_sub(5)..);
    let ok = is("application/json")
        || suffix.is_some_and(|s| s.eq_ignore_ascii_case("+json"))
        || is("application/x-www-form-urlencoded")
        || is("text/plain");
    if ok {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType(essence.to_ascii_lowercase()))
    }
}

/// The alerts in one request body, each as the JSON text it was sent as.
enum Alerts {
    /// A single JSON object.
    One(Box<RawValue>),
    /// A JSON array of objects.
    Many(Vec<Box<RawValue>>),
}

/// Parses the body into one or more alert objects, with messages that say
/// exactly what is wrong. The whole body is checked; each alert is kept as
/// its text, which is what the plugins get.
fn parse_alerts(bytes: &[u8]) -> Result<Alerts, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Err(ApiError::BadRequest(
            "request body is empty: send a JSON object".into(),
        ));
    }
    let malformed = |e: serde_json::Error| ApiError::BadRequest(format!("malformed JSON: {e}"));
    // One pass either way: an array is split into its elements as it is read.
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
        let items: Vec<Box<RawValue>> = serde_json::from_slice(bytes).map_err(malformed)?;
        if items.is_empty() {
            return Err(ApiError::BadRequest(
                "the JSON array is empty: send at least one alert object".into(),
            ));
        }
        if let Some(i) = items.iter().position(|v| kind(v) != "an object") {
            return Err(ApiError::BadRequest(format!(
                "element {i} of the array is {}, not a JSON object",
                kind(&items[i])
            )));
        }
        return Ok(Alerts::Many(items));
    }
    let value: Box<RawValue> = serde_json::from_slice(bytes).map_err(malformed)?;
    match kind(&value) {
        "an object" => Ok(Alerts::One(value)),
        other => Err(ApiError::BadRequest(format!(
            "expected a JSON object (or an array of objects), got {other}"
        ))),
    }
}

/// What a valid JSON text is, from its first character.
fn kind(v: &RawValue) -> &'static str {
    match v.get().as_bytes().first() {
        Some(b'n') => "null",
        Some(b't' | b'f') => "a boolean",
        Some(b'"') => "a string",
        Some(b'[') => "an array",
        Some(b'{') => "an object",
        _ => "a number",
    }
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderMap, HeaderValue, header};

    use super::check_content_type;
    use crate::server::error::ApiError;

    fn check(value: &'static str) -> Result<(), String> {
        let mut headers = HeaderMap::new();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(value));
        check_content_type(&headers).map_err(|e| match e {
            ApiError::UnsupportedMediaType(essence) => essence,
            other => panic!("{other:?}"),
        })
    }

    #[test]
    fn json_and_the_types_senders_label_json_with_pass_in_any_case() {
        for ok in [
            "application/json",
            "Application/JSON; charset=utf-8",
            " application/json ;",
            "application/vnd.api+JSON",
            "+json",
            "TEXT/PLAIN",
            "application/x-www-form-urlencoded; charset=UTF-8",
        ] {
            assert_eq!(check(ok), Ok(()), "{ok}");
        }
        assert_eq!(check("Application/XML; q=1"), Err("application/xml".into()));
        assert_eq!(check("json"), Err("json".into()));
        assert_eq!(check("application/json5"), Err("application/json5".into()));
        assert_eq!(check(""), Err(String::new()));
    }
}
