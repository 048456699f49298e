//! On-call: durable escalation to AWS Incident Manager or an escalator
//! plugin (PagerDuty, …). Owns the incident store (Redis, or memory for a
//! single process), signed ACK links, the scheduler and the AWS call. An
//! escalator plugin is told only what to page for, when to.

pub mod ack;
mod aws;
pub mod clock;
mod memory_store;
mod messages;
pub mod record;
pub mod redis_con;
pub mod redis_link;
pub mod redis_sentinel;
mod redis_server;
mod redis_store;
pub mod scheduler;
mod scripts;
pub mod setup;
pub mod shard;
mod stats;
pub mod store;
pub(crate) mod target;
pub mod timeline;
pub mod title;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Notify;

pub use ack::{AckLinkError, AckSigner};
pub use aws::Escalator;
#[cfg(test)]
pub use aws::Recorder;
pub use clock::Clock;
pub use memory_store::MemoryStore;
pub use record::{
    Acked, Actor, Asked, AttemptEntry, Created, IncidentView, NewIncident, PageDetails,
    ResolvedOutcome, State, StoredReceipt, Target, TargetState,
};
pub use redis_store::RedisStore;
pub use stats::{EscalationStats, StatsSnapshot};
pub use store::{Outcome, Retention, Round, Shown, Store, StoreError};
pub use target::FollowUp;

use crate::config::Config;
use crate::incident::Incident;
use crate::pipeline::Reloader;
use crate::pipeline::bindings::types::Event;

/// ACK links stay valid this long after the deadline, so a late click is
/// told "already escalated" (409) rather than "expired" (403).
const ACK_GRACE: Duration = Duration::from_secs(24 * 3600);

/// Longest wait accepted; beyond it an alert is not really on-call.
const MAX_WAIT: Duration = Duration::from_secs(30 * 24 * 3600);

/// On-call settings, fixed at startup.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Where pages go, each of them: `aws_incident_manager`, or an
    /// escalator plugin's provider.
    pub targets: Vec<String>,
    /// On for every alert unless the query says otherwise.
    pub enable: bool,
    /// Default wait before escalating.
    pub wait: Duration,
    /// Default response plan.
    pub response_plan_arn: String,
    /// Base URL for ACK links.
    pub public_host: String,
    /// Attempts to start a page before giving up (at least 1).
    pub max_attempts: u32,
    /// Wait before the first retry; doubles on each further retry.
    pub initial_backoff: Duration,
    /// Cap on one wait between attempts.
    pub max_backoff: Duration,
    /// Severity → AWS impact, see [`title::impact`].
    pub impact: BTreeMap<String, u32>,
    /// How long an acknowledged incident absorbs repeats of its group.
    pub ack_expiry: Duration,
    /// Plans chosen per alert with `?awsim_other_response_plan=NAME`.
    pub other_response_plan_arns: BTreeMap<String, String>,
    /// Set an AWS incident record RESOLVED when its alert resolves.
    pub resolve_on_alert_resolved: bool,
}

impl Settings {
    /// From the config file.
    pub fn from_config(config: &Config) -> Self {
        let aws = &config.oncall.aws_incident_manager;
        Self {
            targets: crate::config::targets(&config.oncall),
            enable: config.oncall.enable && !config.oncall.initialized_only,
            wait: config.oncall.wait(),
            response_plan_arn: aws.response_plan_arn.clone(),
            public_host: config.public_host.clone(),
            max_attempts: aws.max_attempts.max(1),
            initial_backoff: aws.initial_backoff,
            max_backoff: aws.max_backoff,
            impact: aws.impact.clone(),
            ack_expiry: config.oncall.ack_expiry,
            other_response_plan_arns: aws.other_response_plan_arns.clone(),
            resolve_on_alert_resolved: aws.resolve_on_alert_resolved,
        }
    }

    /// The wait after failed attempt number `attempt` (1-based):
    /// `initial_backoff`, doubled for each earlier failure, capped at
    /// `max_backoff`.
    pub fn backoff(&self, attempt: u32) -> Duration {
        let doublings = attempt.saturating_sub(1).min(31);
        self.initial_backoff
            .saturating_mul(1 << doublings)
            .min(self.max_backoff)
    }
}

impl Default for Settings {
    /// The settings of the default config.
    fn default() -> Self {
        Self::from_config(&Config::default())
    }
}

/// What registering an alert did.
#[derive(Debug, Clone, PartialEq)]
pub struct Registration {
    /// The incident the alert belongs to (its own, or the open one it joined).
    pub incident_id: String,
    /// The ACK link to show, if escalation is pending.
    pub ack_url: Option<String>,
    /// True when the alert joined an open incident (a repeat).
    pub joined: bool,
}

/// The on-call service.
pub struct OnCall {
    /// Incident state.
    pub store: Store,
    /// ACK link signer.
    pub signer: AckSigner,
    /// AWS client.
    pub escalator: Escalator,
    /// Time source.
    pub clock: Clock,
    /// Settings.
    pub settings: Settings,
    /// For channel updates.
    pub reloader: Arc<Reloader>,
    /// Wakes the scheduler when a deadline is added.
    pub wake: Arc<Notify>,
    /// Escalation counters of this process.
    pub stats: EscalationStats,
}

impl OnCall {
    /// Whether on-call applies to this alert.
    pub fn applies(&self, incident: &Incident, resolved: bool) -> bool {
        !resolved
            && incident
                .overrides
                .oncall_enable
                .unwrap_or(self.settings.enable)
    }

    /// Writes the incident and its deadline before any channel is called.
    /// `None` when no response plan is configured for it.
    pub async fn register(
        &self,
        incident: &Incident,
        event: &Event,
    ) -> Result<Option<Registration>, StoreError> {
        let overrides = &incident.overrides;
        let named = overrides
            .awsim_other_response_plan
            .as_deref()
            .map(str::trim)
            .and_then(|name| self.settings.other_response_plan_arns.get(name));
        let plan = overrides
            .awsim_response_plan_arn
            .clone()
            .filter(|p| !p.is_empty())
            .or_else(|| named.cloned())
            .unwrap_or_else(|| self.settings.response_plan_arn.clone());
        let aws = self.pages_aws();
        if aws && plan.is_empty() {
            tracing::warn!(
                "on-call applies but no response plan ARN is configured; not escalating"
            );
            return Ok(None);
        }
        let wait = incident
            .overrides
            .oncall_wait_minutes
            .map_or(self.settings.wait, |m| {
                Duration::try_from_secs_f64(m * 60.0).unwrap_or(MAX_WAIT)
            })
            .min(MAX_WAIT);
        let now = self.clock.now_ms();
        let deadline_ms = now + wait.as_millis() as i64;
        let ack_exp = (deadline_ms + ACK_GRACE.as_millis() as i64) / 1000;
        let payload = serde_json::from_str(incident.payload.get()).unwrap_or_default();
        let routes = self
            .settings
            .targets
            .iter()
            .filter_map(|t| {
                let route = crate::escalator::route_of(t)?;
                Some((t.clone(), overrides.channel(route.query)?.to_owned()))
            })
            .collect();
        let new = NewIncident {
            // In the dedup key's shard (a transform may have changed the
            // key since the id was made).
            id: shard::fit(&incident.id, event.dedup_key.as_deref()),
            created_ms: now,
            deadline_ms,
            response_plan_arn: if aws { plan } else { String::new() },
            title: title::title(&payload, event.severity.as_deref()),
            severity: title::severity(&payload, event.severity.as_deref()).map(str::to_owned),
            impact: title::impact(&self.settings.impact, event.severity.as_deref()),
            dedup_key: event.dedup_key.clone(),
            ack_exp,
            ack_expiry_ms: self.settings.ack_expiry.as_millis() as i64,
            details: title::details(&payload, routes),
        };
        // With no wait there is nothing to acknowledge: no link, as upstream.
        let link = |id: &str, exp: i64| {
            (!wait.is_zero()).then(|| self.signer.url(&self.settings.public_host, id, exp))
        };
        match self.store.create(&new).await? {
            Created::New => {
                self.wake.notify_one();
                tracing::info!(incident_id = %new.id, wait_ms = wait.as_millis() as u64, "escalation scheduled");
                Ok(Some(Registration {
                    incident_id: new.id.clone(),
                    ack_url: link(&new.id, ack_exp),
                    joined: false,
                }))
            }
            Created::Joined { id, state, ack_exp } => {
                tracing::info!(incident_id = %id, state = state.as_str(), "repeat notification joined the open incident");
                Ok(Some(Registration {
                    ack_url: (state == State::Pending)
                        .then(|| link(&id, ack_exp))
                        .flatten(),
                    incident_id: id,
                    joined: true,
                }))
            }
        }
    }
}
