//! The on-call record of one incident, as stored, and its states.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Where an incident stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    /// Waiting for an ACK; the deadline is in the due-set.
    Pending,
    /// Claimed by a scheduler; the response plan is being started.
    Escalating,
    /// Someone acknowledged in time.
    Acknowledged,
    /// The response plan was started.
    Escalated,
    /// Starting the response plan failed for good: after the last attempt,
    /// or at once for an error no retry can fix.
    EscalationFailed,
    /// The alert resolved before escalation.
    Resolved,
}

impl State {
    /// The name used in Redis and in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Escalating => "escalating",
            Self::Acknowledged => "acknowledged",
            Self::Escalated => "escalated",
            Self::EscalationFailed => "escalation_failed",
            Self::Resolved => "resolved",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "pending" => Self::Pending,
            "escalating" => Self::Escalating,
            "acknowledged" => Self::Acknowledged,
            "escalated" => Self::Escalated,
            "escalation_failed" => Self::EscalationFailed,
            "resolved" => Self::Resolved,
            _ => return None,
        })
    }
}

/// What is written once, when the incident is created.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewIncident {
    /// Incident id.
    pub id: String,
    /// Creation time, Unix ms.
    pub created_ms: i64,
    /// When to escalate if not acknowledged, Unix ms.
    pub deadline_ms: i64,
    /// Response plan to start.
    pub response_plan_arn: String,
    /// Incident title for AWS.
    pub title: String,
    /// The alert's severity, as the ACK page shows it. Records written
    /// before it was kept have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<String>,
    /// AWS impact (1 = critical … 5 = no impact), if mapped.
    pub impact: Option<i32>,
    /// Groups repeated notifications of one problem.
    pub dedup_key: Option<String>,
    /// The ACK link's expiry, Unix seconds.
    pub ack_exp: i64,
    /// How long an acknowledged incident with the same dedup key absorbs
    /// this notification instead of it opening a new incident, in ms
    /// (`oncall.ack_expiry`). A setting of the moment, not stored.
    #[serde(skip)]
    pub ack_expiry_ms: i64,
    /// What an escalator plugin is told besides the title (records
    /// written before it was kept have none).
    #[serde(default, flatten)]
    pub details: PageDetails,
}

/// What a provider's page carries besides the title: kept with the
/// incident when it is created, from the alert as it arrived.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageDetails {
    /// A short summary of the alert (its `summary` or `description`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub summary: String,
    /// What sent the alert (`alertmanager`, a `source` field, …).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub source: String,
    /// The alert's labels as a JSON object.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub labels: String,
    /// A link to the alert at its source (Alertmanager's `generatorURL`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_url: Option<String>,
    /// The `other_*` target the query chose, by provider
    /// (`?pagerduty_other_routing_key=NAME`: `pagerduty` → NAME).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub routes: BTreeMap<String, String>,
}

/// Where one escalation target stands in an incident's escalation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetState {
    /// Not paged yet: its first call, or a retry, is still to come.
    Paging,
    /// The provider started the page.
    Paged,
    /// Paging through it failed for good.
    Failed,
}

/// One escalation target (`oncall.provider`, or each of
/// `oncall.providers`) of an incident: how its paging went, and the page
/// once the provider started it, kept so an ACK after the page and the
/// resolve reach the same page. Each target is retried on its own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Target {
    /// The provider (`aws_incident_manager`, `pagerduty`, …).
    pub provider: String,
    /// Where it stands.
    pub state: TargetState,
    /// Calls made to start its page.
    #[serde(default)]
    pub attempts: u32,
    /// When its next call is due while it is still paging, Unix ms.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_at_ms: Option<i64>,
    /// Its last error.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// The provider's id of the page: the incident record ARN, the
    /// PagerDuty dedup key, …
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// A link to the page in the provider's UI, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
}

impl Target {
    /// A target not called yet.
    pub fn new(provider: &str) -> Self {
        Self {
            provider: provider.to_string(),
            state: TargetState::Paging,
            attempts: 0,
            retry_at_ms: None,
            last_error: None,
            id: None,
            url: None,
        }
    }

    /// Whether its next call is due at `now_ms`.
    pub fn due(&self, now_ms: i64) -> bool {
        self.state == TargetState::Paging && self.retry_at_ms.is_none_or(|at| at <= now_ms)
    }
}

/// A delivered message, kept so the channel can update it later.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredReceipt {
    /// Channel name.
    pub channel: String,
    /// The channel's destination id.
    pub destination: String,
    /// The channel's message id.
    pub message_id: String,
    /// The rendered text, so the message can be rebuilt.
    pub message: String,
}

impl StoredReceipt {
    /// Names this message among the incident's: channel, destination and
    /// message id (separated by a character none of them contains).
    pub fn key(&self) -> String {
        format!(
            "{}\u{1f}{}\u{1f}{}",
            self.channel, self.destination, self.message_id
        )
    }
}

/// Everything known about an incident.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IncidentView {
    /// The creation record.
    #[serde(flatten)]
    pub record: NewIncident,
    /// Current state.
    pub state: State,
    /// When it was acknowledged, Unix ms.
    pub acked_ms: Option<i64>,
    /// Who acknowledged it, when the gateway knows (a Slack click).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acked_by: Option<Actor>,
    /// Who asked to page at once ("Escalate now"), and when.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub escalate_now: Option<Asked>,
    /// When the response plan was started, Unix ms.
    pub escalated_ms: Option<i64>,
    /// When it resolved, Unix ms.
    pub resolved_ms: Option<i64>,
    /// When escalation was given up, Unix ms.
    pub failed_ms: Option<i64>,
    /// StartIncident attempts so far.
    pub attempts: u32,
    /// Each StartIncident attempt, oldest first.
    pub attempt_log: Vec<AttemptEntry>,
    /// The last escalation error.
    pub last_error: Option<String>,
    /// Repeated notifications that joined this incident.
    pub repeats: u32,
    /// Delivered messages.
    pub receipts: Vec<StoredReceipt>,
    /// Each escalation target, once the escalation began.
    pub targets: Vec<Target>,
}

impl IncidentView {
    /// Whether a repeat notification arriving at `now_ms` joins this
    /// incident: it is pending, being escalated or escalated, or it was
    /// acknowledged less than `ack_expiry_ms` ago. The Redis store's
    /// `CREATE` script decides the same way.
    pub fn absorbs_repeat(&self, now_ms: i64, ack_expiry_ms: i64) -> bool {
        match self.state {
            State::Pending | State::Escalating | State::Escalated => true,
            State::Acknowledged => self
                .acked_ms
                .is_some_and(|acked| acked.saturating_add(ack_expiry_ms) > now_ms),
            State::EscalationFailed | State::Resolved => false,
        }
    }

    /// Escalated through one target while another is still to be called
    /// (and the alert has not resolved): its next round is in the due-set.
    pub fn still_paging(&self) -> bool {
        self.state == State::Escalated
            && self.resolved_ms.is_none()
            && self.targets.iter().any(|t| t.state == TargetState::Paging)
    }

    /// Whether an escalation round may record its end: the incident is
    /// being escalated, or still paging a target.
    pub fn escalating(&self) -> bool {
        self.state == State::Escalating || self.still_paging()
    }

    /// The targets that paged.
    pub fn paged(&self) -> impl Iterator<Item = &Target> {
        self.targets
            .iter()
            .filter(|t| t.state == TargetState::Paged)
    }

    /// A just-created incident: pending, nothing happened to it yet.
    pub fn pending(record: NewIncident) -> Self {
        Self {
            record,
            state: State::Pending,
            acked_ms: None,
            acked_by: None,
            escalate_now: None,
            escalated_ms: None,
            resolved_ms: None,
            failed_ms: None,
            attempts: 0,
            attempt_log: Vec::new(),
            last_error: None,
            repeats: 0,
            receipts: Vec::new(),
            targets: Vec::new(),
        }
    }
}

/// A person who acted on an incident from a chat app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    /// Where they acted: `slack`.
    pub source: String,
    /// Their id there (Slack: `U…`).
    pub user_id: String,
    /// Their name there, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Actor {
    /// How logs, timelines and on-call providers name them:
    /// `alice (Slack U123)`, or the id alone.
    pub fn label(&self) -> String {
        let source = match self.source.as_str() {
            "slack" => "Slack",
            other => other,
        };
        match &self.name {
            Some(name) if !name.is_empty() => format!("{name} ({source} {})", self.user_id),
            _ => format!("{source} user {}", self.user_id),
        }
    }
}

/// Someone's request, and when it was made.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Asked {
    /// Who asked.
    pub by: Actor,
    /// When, Unix ms.
    pub at_ms: i64,
}

/// One call to start a page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttemptEntry {
    /// When the call was made, Unix ms.
    pub at_ms: i64,
    /// The target called (entries written before targets were kept have
    /// none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// Why it failed; `None` when it started the response plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// Result of creating an incident.
#[derive(Debug, Clone, PartialEq)]
pub enum Created {
    /// A new incident with its own deadline.
    New,
    /// A repeat of an open incident with the same dedup key: no new timer.
    Joined {
        /// The open incident's id.
        id: String,
        /// Its state.
        state: State,
        /// Its ACK link expiry, to show the same link again.
        ack_exp: i64,
    },
}

/// Result of an ACK.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Acked {
    /// Moved from pending to acknowledged: escalation cancelled.
    Done,
    /// Not pending: nothing changed. Carries the state it was in.
    NotPending(State),
    /// No such incident.
    Unknown,
}

/// Result of a resolved notification.
#[derive(Debug, Clone, PartialEq)]
pub enum ResolvedOutcome {
    /// No open incident has that dedup key.
    NoIncident,
    /// The incident was pending; its escalation is cancelled.
    Cancelled(String),
    /// The incident was already acknowledged or escalated; marked resolved.
    Closed(String, State),
}
