//! Starting AWS Incident Manager response plans with the real
//! `aws-sdk-ssmincidents` client. Credentials and region come from the
//! standard AWS chain; `endpoint_url` (or `AWS_ENDPOINT_URL_SSM_INCIDENTS`)
//! redirects it, e.g. to a local test endpoint.

use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_ssmincidents::Client;

use super::record::NewIncident;
use crate::config::AwsIncidentManagerConfig;

/// Starts response plans.
#[derive(Clone)]
pub enum Escalator {
    /// The real AWS client.
    Aws(Client),
    /// Records calls instead (scheduler unit tests under paused time,
    /// where real sockets and timeouts do not mix).
    #[cfg(test)]
    Record(
        std::sync::Arc<std::sync::Mutex<Vec<(String, i64)>>>,
        super::Clock,
    ),
}

impl Escalator {
    /// A client from the AWS chain plus our overrides.
    pub async fn new(cfg: &AwsIncidentManagerConfig) -> Self {
        let mut loader = aws_config::defaults(BehaviorVersion::latest()).timeout_config(
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
    pub async fn start(&self, incident: &NewIncident) -> Result<String, String> {
        let client = match self {
            Self::Aws(client) => client,
            #[cfg(test)]
            Self::Record(calls, clock) => {
                if let Ok(mut c) = calls.lock() {
                    c.push((incident.id.clone(), clock.now_ms()));
                }
                return Ok(format!("recorded/{}", incident.id));
            }
        };
        let resp = client
            .start_incident()
            .response_plan_arn(&incident.response_plan_arn)
            .title(&incident.title)
            .client_token(&incident.id)
            .set_impact(incident.impact)
            .send()
            .await
            .map_err(|e| format!("{}", aws_sdk_ssmincidents::error::DisplayErrorContext(e)))?;
        Ok(resp.incident_record_arn)
    }
}
