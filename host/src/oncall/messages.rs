//! An incident's chat messages: where each channel delivered, the thread
//! a repeat goes in, and each change shown on the messages.

use std::collections::HashMap;

use super::{IncidentView, OnCall, Shown, State, StoredReceipt, Target, TargetState};
use crate::incident::{ChannelOutcome, ReplyTo};
use crate::pipeline::bindings::StatusChange;
use crate::pipeline::bindings::types::{Event, Receipt};

impl OnCall {
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

/// The payload of an escalation's update: `{"oncall_targets": [{"provider",
/// "state", "last_error"?}, …]}` when there are several targets (a chat
/// message then says how each went), else `{}`.
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
