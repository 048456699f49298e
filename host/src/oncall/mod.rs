//! On-call: durable escalation to AWS Incident Manager or an escalator
//! plugin (PagerDuty, …). Owns the incident store (Redis, or memory for a
//! single process), signed ACK links, the scheduler and the AWS call. An
//! escalator plugin is told only what to page for, when to.

pub mod ack;
mod aws;
pub mod clock;
mod memory_store;
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

use std::collections::{BTreeMap, HashMap};
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
use crate::incident::{ChannelOutcome, Incident, ReplyTo};
use crate::pipeline::Reloader;
use crate::pipeline::bindings::StatusChange;
use crate::pipeline::bindings::types::{Event, Receipt};

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

    /// Remembers where each channel delivered, for later updates.
    ///
    /// An ACK or an escalation can land while the channels are still
    /// delivering the incident's first message (with
    /// `oncall_wait_minutes=0` the page often goes out first); its own
    /// update then found no message to change. With `first`, the messages
    /// are brought up to date here, from the state the store says the
    /// receipts were added in. (A repeat joining an incident that is
    /// already acknowledged or escalated is shown as it is.)
    pub async fn record_receipts(
        &self,
        incident_id: &str,
        outcomes: &[ChannelOutcome],
        first: bool,
    ) {
        let receipts: Vec<StoredReceipt> = outcomes
            .iter()
            .filter(|o| !o.in_thread)
            .filter_map(|o| {
                Some(StoredReceipt {
                    channel: o.channel.clone(),
                    destination: o.receipt.as_ref()?.destination.clone(),
                    message_id: o.receipt.as_ref()?.message_id.clone(),
                    message: o.message.clone()?,
                })
            })
            .collect();
        if receipts.is_empty() {
            return;
        }
        let change = match self.store.add_receipts(incident_id, &receipts).await {
            Ok(Some(State::Acknowledged)) if first => StatusChange::Acknowledged,
            Ok(Some(State::Escalated)) if first => StatusChange::Escalated,
            Ok(Some(State::EscalationFailed)) if first => StatusChange::PagingFailed,
            Ok(_) => return,
            Err(e) => {
                tracing::warn!(error = %e, "cannot store message receipts; later updates of these messages are skipped");
                return;
            }
        };
        tracing::debug!(
            incident_id,
            ?change,
            "incident changed while delivering; updating the new messages"
        );
        // What the message shows of the change: who acknowledged, or the
        // targets' statuses.
        let view = self.store.get(incident_id).await.ok().flatten();
        let facts = change_facts(change, view.as_ref());
        self.update_receipts(incident_id, change.into(), &receipts, None, facts)
            .await;
    }

    /// Per channel of `channels` that threads, the first message it posted
    /// for incident `id`: where a repeat or resolve of it replies. No
    /// store read when no channel threads.
    pub async fn thread_parents(
        &self,
        id: &str,
        channels: &[crate::pipeline::ChannelRuntime],
    ) -> HashMap<String, ReplyTo> {
        if !channels.iter().any(|c| c.threads) {
            return HashMap::new();
        }
        let receipts = match self.store.get(id).await {
            Ok(Some(view)) => view.receipts,
            Ok(None) => return HashMap::new(),
            Err(e) => {
                tracing::warn!(incident_id = id, error = %e, "cannot read the incident's messages; this notification is posted outside their threads");
                return HashMap::new();
            }
        };
        channels
            .iter()
            .filter(|c| c.threads)
            .filter_map(|c| {
                let first = receipts.iter().find(|r| r.channel == c.name)?;
                let parent = ReplyTo {
                    destination: first.destination.clone(),
                    message_id: first.message_id.clone(),
                };
                Some((c.name.clone(), parent))
            })
            .collect()
    }

    /// Tells every channel that delivered a message for `id` about
    /// `step`: a change, or the escalation settled.
    pub async fn update_channels(&self, id: &str, step: impl Into<Shown>) {
        let view = match self.store.get(id).await {
            Ok(Some(v)) => v,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(error = %e, "cannot load receipts; channel messages not updated");
                return;
            }
        };
        let step = step.into();
        let dedup_key = view.record.dedup_key.clone();
        let facts = change_facts(step.change(), Some(&view));
        self.update_receipts(id, step, &view.receipts, dedup_key, facts)
            .await;
    }

    /// Shows `step` on each message, all at once; each call is retried
    /// like a delivery (`alert.retry`), so a rate limit or a blip does not
    /// leave a message saying less than what happened. `facts` is the
    /// event payload: what the message can show of the change (see
    /// [`change_facts`]).
    async fn update_receipts(
        &self,
        id: &str,
        step: Shown,
        receipts: &[StoredReceipt],
        dedup_key: Option<String>,
        facts: String,
    ) {
        let pipeline = self.reloader.pipeline();
        let retry = self.reloader.config().alert.retry.clone();
        let change = step.change();
        let event = Event {
            id: id.to_string(),
            payload: facts,
            resolved: change == StatusChange::Resolved,
            severity: None,
            ack_url: None,
            dedup_key,
        };
        let updates = receipts.iter().filter_map(|r| {
            let channel = pipeline.channels.iter().find(|c| c.name == r.channel)?;
            Some(self.update_receipt(id, step, r, channel, &event, &retry))
        });
        futures::future::join_all(updates).await;
    }

    async fn update_receipt(
        &self,
        id: &str,
        step: Shown,
        r: &StoredReceipt,
        channel: &crate::pipeline::ChannelRuntime,
        event: &Event,
        retry: &crate::incident::RetryPolicy,
    ) {
        let change = step.change();
        // Each step is shown once per message, whichever of the racing
        // paths (this change, or the first delivery's receipts finding it
        // already made) gets here first.
        match self.store.mark_shown(id, r, step).await {
            Ok(true) => {}
            Ok(false) => {
                tracing::debug!(channel = %r.channel, ?change, "message already shows this change");
                return;
            }
            Err(e) => tracing::warn!(
                channel = %r.channel,
                error = %e,
                "cannot record the message's state; updating it anyway"
            ),
        }
        let receipt = Receipt {
            destination: r.destination.clone(),
            message_id: r.message_id.clone(),
        };
        let plugin = &channel.plugin;
        let config = &channel.config_json;
        let result = if plugin.shows(change) {
            retry
                .run(|| plugin.update(&receipt, change, &r.message, event, config))
                .await
        } else {
            // A 0.1.0 channel cannot change its message to say that
            // paging failed: it gets a message of its own instead.
            let notice = paging_failed_notice(id, &r.message);
            retry
                .run(|| plugin.deliver(&notice, event, config))
                .await
                .map(drop)
        };
        if let Err(e) = result {
            tracing::warn!(channel = %r.channel, ?change, error = %e, "channel update failed");
        }
    }
}

/// The payload of an escalation's update: `{"oncall_targets": [{"provider",
/// "state", "last_error"?}, …]}` when there are several targets (a chat
/// message then says how each went), else `{}`.
/// An update's event payload: with several on-call targets, an
/// escalation's carries each target's status (`oncall_targets`, see
/// [`targets_payload`]); an acknowledgement made in a chat app carries who
/// made it and when (`acknowledged_by`, `acknowledged_ms`). Otherwise `{}`.
fn change_facts(change: StatusChange, view: Option<&IncidentView>) -> String {
    let Some(view) = view else {
        return "{}".into();
    };
    match change {
        StatusChange::Escalated | StatusChange::PagingFailed => targets_payload(&view.targets),
        StatusChange::Acknowledged => match (&view.acked_by, view.acked_ms) {
            (Some(by), Some(at)) => {
                serde_json::json!({ "acknowledged_by": by, "acknowledged_ms": at }).to_string()
            }
            _ => "{}".into(),
        },
        StatusChange::Resolved => "{}".into(),
    }
}

fn targets_payload(targets: &[Target]) -> String {
    if targets.len() < 2 {
        return "{}".into();
    }
    let list: Vec<serde_json::Value> = targets
        .iter()
        .map(|t| {
            let mut v = serde_json::json!({ "provider": t.provider, "state": t.state });
            if t.state != TargetState::Paged
                && let Some(e) = &t.last_error
            {
                v["last_error"] = e.as_str().into();
            }
            v
        })
        .collect();
    serde_json::json!({ "oncall_targets": list }).to_string()
}

/// What a channel that cannot show "paging failed" on its message gets as
/// a message of its own: the news first, then the incident's message as
/// first rendered (in the channel's own format), so it says which alert.
fn paging_failed_notice(id: &str, message: &str) -> String {
    format!(
        "PAGING FAILED: nobody acknowledged in time and the on-call response plan could not be \
         started, so nobody was paged. Page the on-call team by hand. (incident {id})\n\n{message}"
    )
}
