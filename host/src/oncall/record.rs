//! The on-call record of one incident, as stored, and its states.

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
    /// The `other_*` target the query chose (`?pagerduty_other_routing_key=`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<String>,
}

/// A started page, as the provider knows it: kept with the incident so an
/// ACK after the page and the resolve reach the same page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Escalation {
    /// The provider that paged (`aws_incident_manager`, `pagerduty`, …).
    pub provider: String,
    /// The provider's id of the page: the incident record ARN, the
    /// PagerDuty dedup key, …
    pub id: String,
    /// A link to it in the provider's UI, if known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
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
    /// The page, once the provider started it.
    pub escalation: Option<Escalation>,
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

    /// A just-created incident: pending, nothing happened to it yet.
    pub fn pending(record: NewIncident) -> Self {
        Self {
            record,
            state: State::Pending,
            acked_ms: None,
            escalated_ms: None,
            resolved_ms: None,
            failed_ms: None,
            attempts: 0,
            attempt_log: Vec::new(),
            last_error: None,
            repeats: 0,
            receipts: Vec::new(),
            escalation: None,
        }
    }
}

/// One StartIncident attempt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttemptEntry {
    /// When the call was made, Unix ms.
    pub at_ms: i64,
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
