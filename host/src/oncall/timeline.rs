//! An incident's timeline for operators: what happened to it, in order,
//! built from the stored record and its attempt log.

use std::time::{Duration, UNIX_EPOCH};

use serde::Serialize;

use super::record::{Actor, IncidentView};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Milestone {
    /// The incident was registered and its deadline set.
    Created,
    /// Someone acknowledged it in time.
    Acknowledged,
    /// Someone asked to page at once ("Escalate now").
    EscalationRequested,
    /// One call to start a page (with its target and, if it failed, its
    /// error).
    EscalationAttempt,
    /// The response plan was started.
    Escalated,
    /// Escalation was given up after the last attempt.
    EscalationFailed,
    /// The alert resolved.
    Resolved,
}

/// One timeline entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Entry {
    /// What happened.
    pub event: Milestone,
    /// When, Unix ms.
    pub at_ms: i64,
    /// When, RFC 3339 in UTC with milliseconds.
    pub at: String,
    /// The attempt number (1, 2, …), for escalation attempts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempt: Option<u32>,
    /// The target called, for escalation attempts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub provider: Option<String>,
    /// Why the attempt failed, for failed escalation attempts.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Who acknowledged or asked, when the gateway knows (a Slack click).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub by: Option<Actor>,
}

impl Entry {
    fn new(event: Milestone, at_ms: i64) -> Self {
        Self {
            event,
            at_ms,
            at: rfc3339(at_ms),
            attempt: None,
            provider: None,
            error: None,
            by: None,
        }
    }
}

/// Everything that happened to the incident, oldest first. Entries with
/// the same time keep their natural order (an attempt before the
/// escalation it caused).
pub fn timeline(view: &IncidentView) -> Vec<Entry> {
    let mut entries = vec![Entry::new(Milestone::Created, view.record.created_ms)];
    if let Some(asked) = &view.escalate_now {
        entries.push(Entry {
            by: Some(asked.by.clone()),
            ..Entry::new(Milestone::EscalationRequested, asked.at_ms)
        });
    }
    if let Some(at) = view.acked_ms {
        entries.push(Entry {
            by: view.acked_by.clone(),
            ..Entry::new(Milestone::Acknowledged, at)
        });
    }
    for (i, attempt) in view.attempt_log.iter().enumerate() {
        entries.push(Entry {
            attempt: u32::try_from(i + 1).ok(),
            provider: attempt.provider.clone(),
            error: attempt.error.clone(),
            ..Entry::new(Milestone::EscalationAttempt, attempt.at_ms)
        });
    }
    let finished = [
        (Milestone::Escalated, view.escalated_ms),
        (Milestone::EscalationFailed, view.failed_ms),
        (Milestone::Resolved, view.resolved_ms),
    ];
    for (event, at) in finished {
        if let Some(at) = at {
            entries.push(Entry::new(event, at));
        }
    }
    // A stable sort: equal times keep the order above.
    entries.sort_by_key(|e| e.at_ms);
    entries
}

/// `2026-01-02T03:04:05.678Z`; times before 1970 show as the epoch.
fn rfc3339(ms: i64) -> String {
    let since_epoch = Duration::from_millis(u64::try_from(ms).unwrap_or(0));
    humantime_serde::re::humantime::format_rfc3339_millis(UNIX_EPOCH + since_epoch).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oncall::{AttemptEntry, NewIncident, State};

    const T: i64 = 1_767_323_045_000; // 2026-01-02T03:04:05Z

    fn view() -> IncidentView {
        IncidentView::pending(NewIncident {
            id: "i".into(),
            created_ms: T,
            deadline_ms: T + 1000,
            response_plan_arn: "arn:plan".into(),
            title: "t".into(),
            severity: None,
            impact: None,
            dedup_key: None,
            ack_exp: 0,
            ack_expiry_ms: 0,
            details: Default::default(),
        })
    }

    fn events(v: &IncidentView) -> Vec<(Milestone, i64, Option<u32>, Option<String>)> {
        timeline(v)
            .into_iter()
            .map(|e| (e.event, e.at_ms - T, e.attempt, e.error))
            .collect()
    }

    #[test]
    fn a_new_incident_was_only_created() {
        let t = timeline(&view());
        assert_eq!(t.len(), 1);
        assert_eq!(t[0].event, Milestone::Created);
        assert_eq!(t[0].at, "2026-01-02T03:04:05.000Z");
    }

    #[test]
    fn retries_then_escalation_then_resolve_in_order() {
        let mut v = view();
        v.state = State::Escalated;
        v.attempts = 2;
        v.attempt_log = vec![
            AttemptEntry {
                at_ms: T + 1000,
                provider: None,
                error: Some("throttled".into()),
            },
            AttemptEntry {
                at_ms: T + 3000,
                provider: None,
                error: None,
            },
        ];
        v.escalated_ms = Some(T + 3000);
        v.resolved_ms = Some(T + 9000);
        assert_eq!(
            events(&v),
            [
                (Milestone::Created, 0, None, None),
                (
                    Milestone::EscalationAttempt,
                    1000,
                    Some(1),
                    Some("throttled".into())
                ),
                (Milestone::EscalationAttempt, 3000, Some(2), None),
                (Milestone::Escalated, 3000, None, None),
                (Milestone::Resolved, 9000, None, None),
            ]
        );
    }

    #[test]
    fn an_ack_and_a_failed_escalation() {
        let mut v = view();
        v.acked_ms = Some(T + 500);
        assert_eq!(
            events(&v),
            [
                (Milestone::Created, 0, None, None),
                (Milestone::Acknowledged, 500, None, None)
            ]
        );
        let mut v = view();
        v.acked_ms = Some(T + 500);
        v.acked_by = Some(Actor {
            source: "slack".into(),
            user_id: "U123".into(),
            name: Some("alice".into()),
        });
        let t = timeline(&v);
        assert_eq!(
            t[1].by.as_ref().map(Actor::label).as_deref(),
            Some("alice (Slack U123)")
        );
        let mut v = view();
        v.attempt_log = vec![AttemptEntry {
            at_ms: T + 1000,
            provider: None,
            error: Some("boom".into()),
        }];
        v.failed_ms = Some(T + 1200);
        assert_eq!(
            events(&v).last().map(|e| e.0),
            Some(Milestone::EscalationFailed)
        );
    }
}
