//! Starting AWS Incident Manager response plans with the real
//! `aws-sdk-ssmincidents` client. Credentials and region come from the
//! standard AWS chain; `endpoint_url` (or `AWS_ENDPOINT_URL_SSM_INCIDENTS`)
//! redirects it, e.g. to a local test endpoint.

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_ssmincidents::Client;
use aws_sdk_ssmincidents::config::http::HttpResponse;
use aws_sdk_ssmincidents::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_ssmincidents::primitives::DateTime;
use aws_sdk_ssmincidents::types::{
    IncidentRecordStatus, ItemIdentifier, ItemType, ItemValue, RelatedItem, TriggerDetails,
};

use super::record::NewIncident;
use crate::config::AwsIncidentManagerConfig;

/// Why StartIncident failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StartError {
    /// AWS's error code and message, or the SDK's account (timeout, …).
    pub message: String,
    /// Retrying cannot help: see [`PERMANENT_CODES`].
    pub permanent: bool,
    /// How long the provider asked to wait before the next attempt.
    pub retry_after: Option<std::time::Duration>,
}

/// AWS errors that the same request meets again on every retry: missing
/// permissions, a request AWS refuses as invalid, a response plan that does
/// not exist, a client token reused with other parameters. They fail the
/// escalation at once, so nobody waits through the retries to learn that
/// nobody was paged. Throttling, `InternalServerException`, other 5xx
/// answers, timeouts and network errors are retried.
pub const PERMANENT_CODES: &[&str] = &[
    "AccessDeniedException",
    "ValidationException",
    "ResourceNotFoundException",
    "ConflictException",
    "UnrecognizedClientException",
    "InvalidSignatureException",
];

/// Starts response plans.
#[derive(Clone)]
pub enum Escalator {
    /// The real AWS client.
    Aws(Client),
    /// Records calls instead (scheduler unit tests under paused time,
    /// where real sockets and timeouts do not mix).
    #[cfg(test)]
    Record(Recorder),
}

/// A stand-in for AWS in scheduler unit tests.
#[cfg(test)]
#[derive(Clone)]
pub struct Recorder {
    /// Every call: (client token, time in Unix ms).
    pub calls: std::sync::Arc<std::sync::Mutex<Vec<(String, i64)>>>,
    /// The clock that stamps calls.
    pub clock: super::Clock,
    /// Calls that fail before the first success.
    pub fail_first: usize,
}

impl Escalator {
    /// A client from the AWS chain plus our overrides.
    ///
    /// Strategy: the SDK's own retries are off. The scheduler retries
    /// instead (`oncall.aws_incident_manager.max_attempts` and backoff), so
    /// every call is one attempt in the incident's log, and a retry waits in
    /// the due-set, where it survives a restart, not in this process.
    pub async fn new(cfg: &AwsIncidentManagerConfig) -> Self {
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(RetryConfig::disabled())
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(3))
                    .operation_attempt_timeout(Duration::from_secs(10))
                    .operation_timeout(Duration::from_secs(25))
                    .build(),
            );
        if let Some(region) = cfg.region.as_deref().filter(|r| !r.is_empty()) {
            loader = loader.region(aws_config::Region::new(region.to_string()));
        }
        if let Some(url) = cfg.endpoint_url.as_deref().filter(|u| !u.is_empty()) {
            loader = loader.endpoint_url(url);
        }
        let sdk = loader.load().await;
        Self::Aws(Client::new(&sdk))
    }

    /// Calls StartIncident. `clientToken` is the incident id, so AWS
    /// deduplicates a retry after a crash: at-least-once calls, one page.
    /// `links` (title, URL) become related items, so the record links back
    /// to the ACK page and to the alert at its source; the trigger details
    /// name Versus and carry the incident id and dedup key.
    pub async fn start(
        &self,
        incident: &NewIncident,
        links: &[(&str, &str)],
    ) -> Result<String, StartError> {
        let client = match self {
            Self::Aws(client) => client,
            #[cfg(test)]
            Self::Record(r) => {
                let transient = |message: String| StartError {
                    message,
                    permanent: false,
                    retry_after: None,
                };
                let mut calls = r
                    .calls
                    .lock()
                    .map_err(|_| transient("recorder poisoned".to_string()))?;
                calls.push((incident.id.clone(), r.clock.now_ms()));
                if calls.len() <= r.fail_first {
                    return Err(transient(format!("recorded failure {}", calls.len())));
                }
                return Ok(format!("recorded/{}", incident.id));
            }
        };
        let related = links
            .iter()
            .filter_map(|(title, url)| {
                let identifier = ItemIdentifier::builder()
                    .r#type(ItemType::Other)
                    .value(ItemValue::Url((*url).to_string()))
                    .build()
                    .ok()?;
                Some(
                    RelatedItem::builder()
                        .identifier(identifier)
                        .title(*title)
                        .build(),
                )
            })
            .collect();
        let raw = serde_json::json!({
            "versus_incident_id": incident.id,
            "dedup_key": incident.dedup_key,
            "source": incident.details.source,
        });
        let trigger = TriggerDetails::builder()
            .source(TRIGGER_SOURCE)
            .timestamp(DateTime::from_millis(incident.created_ms))
            .raw_data(raw.to_string())
            .build()
            .ok();
        let resp = client
            .start_incident()
            .response_plan_arn(&incident.response_plan_arn)
            .title(&incident.title)
            .client_token(&incident.id)
            .set_impact(incident.impact)
            .set_related_items(Some(related))
            .set_trigger_details(trigger)
            .send()
            .await
            .map_err(describe)?;
        Ok(resp.incident_record_arn)
    }

    /// The AWS client (none under the scheduler tests' recorder).
    fn client(&self) -> Option<&Client> {
        match self {
            Self::Aws(client) => Some(client),
            #[cfg(test)]
            Self::Record(_) => None,
        }
    }

    /// Adds a custom event saying `text` to the timeline of the incident
    /// record `arn`, once per `token` (a retry adds nothing).
    pub async fn timeline_event(
        &self,
        arn: &str,
        token: &str,
        at_ms: i64,
        text: &str,
    ) -> Result<(), StartError> {
        let Some(client) = self.client() else {
            return Ok(());
        };
        client
            .create_timeline_event()
            .incident_record_arn(arn)
            .client_token(token)
            .event_time(DateTime::from_millis(at_ms))
            .event_type("Custom Event")
            .event_data(serde_json::json!({ "source": TRIGGER_SOURCE, "text": text }).to_string())
            .send()
            .await
            .map_err(describe)?;
        Ok(())
    }

    /// Sets the incident record `arn` RESOLVED, once per `token`.
    pub async fn resolve(&self, arn: &str, token: &str) -> Result<(), StartError> {
        let Some(client) = self.client() else {
            return Ok(());
        };
        client
            .update_incident_record()
            .arn(arn)
            .client_token(token)
            .status(IncidentRecordStatus::Resolved)
            .send()
            .await
            .map_err(describe)?;
        Ok(())
    }
}

/// What the trigger details and timeline events name as their source
/// (AWS reserves names starting `aws.` for its own services).
const TRIGGER_SOURCE: &str = "versus";

/// Longest error text kept: every attempt's error is stored with the
/// incident, and the SDK's full context (with the raw response) can run to
/// kilobytes.
const MAX_ERROR_CHARS: usize = 500;

/// A short error for logs and the incident's attempt log: AWS's error code
/// and message with the HTTP status when AWS answered, else the SDK's
/// account of what went wrong (timeout, connection refused, …); and
/// whether it is permanent.
fn describe<E>(e: SdkError<E, HttpResponse>) -> StartError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    let permanent = matches!(e, SdkError::ServiceError(_))
        && e.code().is_some_and(|code| PERMANENT_CODES.contains(&code));
    let status = match &e {
        SdkError::ServiceError(s) => format!(" (HTTP {})", s.raw().status().as_u16()),
        _ => String::new(),
    };
    let text = match e.code() {
        Some(code) => format!("{code}: {}{status}", e.message().unwrap_or("no message")),
        None => DisplayErrorContext(&e).to_string(),
    };
    StartError {
        message: text.chars().take(MAX_ERROR_CHARS).collect(),
        permanent,
        retry_after: None,
    }
}
