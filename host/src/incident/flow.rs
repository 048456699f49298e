//! One request's incidents through the pipeline: transforms, then on-call
//! (register or cancel), then every channel, then the receipts and the
//! ledger of notification copies; attempts the retry budget cut short are
//! finished in the background. The HTTP layer only reads the request and
//! writes the answer.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures::future::join_all;
use tracing::Instrument;

use super::ledger::{Copy, Ledger, Prior, fingerprint};
use super::queueing::Queueing;
use super::{ChannelOutcome, Incident, LateDelivery, Outcome, Transformed, deliver, transform};
use crate::oncall::{OnCall, ResolvedOutcome, StoreError};
use crate::pipeline::Reloader;
use crate::pipeline::bindings::StatusChange;
use crate::pipeline::bindings::types::Event;

/// What the flow works with: the pipeline, on-call, the ledger, and the
/// work counter shutdown waits on.
pub struct Services<'a> {
    /// The current pipeline and config.
    pub reloader: &'a Reloader,
    /// On-call, when configured.
    pub oncall: Option<&'a Arc<OnCall>>,
    /// Which channels have each notification.
    pub ledger: &'a Arc<Ledger>,
    /// Where notifications wait for a rate-limiting destination.
    pub outbox: &'a crate::outbox::Outbox,
    /// Work in flight: a delivery that outlives its request is counted
    /// here, so a graceful shutdown waits for it.
    pub gate: &'a Arc<crate::in_flight::Gate>,
}

/// The request as sent, which identifies a sender's retry of it.
pub struct Request<'a> {
    /// The raw query string.
    pub query: &'a str,
    /// The raw body.
    pub body: &'a [u8],
}

/// One incident ready for its channels.
struct Ready<'a> {
    incident: &'a Incident,
    /// The on-call incident its messages belong to.
    oncall_id: Option<String>,
    /// The event, or why a transform dropped it.
    event: Result<Event, String>,
    /// Its notification's fingerprint, when the ledger tracks it.
    fp: Option<String>,
    /// What earlier copies of the notification did, per channel.
    priors: HashMap<String, Prior>,
}

/// Runs incidents through the pipeline. Every on-call write happens before
/// any channel is called, so when the store is away the error comes back
/// with nothing sent.
/// A copy of a notification sent before (see [`crate::incident::ledger`])
/// joins that one's incident, is not escalated again, and goes only to the
/// channels that do not have it.
pub async fn run(
    state: &Services<'_>,
    mut incidents: Vec<Incident>,
    request: &Request<'_>,
) -> Result<Vec<(String, Outcome)>, StoreError> {
    let metrics = crate::metrics::get();
    for i in &incidents {
        let status = if i.resolved { "resolved" } else { "firing" };
        let source = i.source;
        metrics
            .incidents
            .get_or_create(&crate::metrics::IncidentLabels { source, status })
            .inc();
    }
    let pipeline = state.reloader.pipeline();
    // `alert.retry` and `alert.dedup_window` follow reloads: each request
    // uses the values current when it started.
    let config = state.reloader.config();
    let retry = &config.alert.retry;
    let window = config.alert.dedup_window;
    let ledger: Option<&Ledger> = (!window.is_zero()).then_some(state.ledger);
    let names: Vec<&str> = pipeline.channels.iter().map(|c| c.name.as_str()).collect();
    // A channel stays claimed while a delivery can still be running: the
    // budget, then an attempt that outlives it by up to its plugin's limit.
    let longest_call = pipeline
        .channels
        .iter()
        .map(|c| c.plugin.base.limits.timeout)
        .max()
        .unwrap_or_default();
    let lease = retry.max_elapsed + longest_call + Duration::from_secs(1);
    for incident in &mut incidents {
        super::cloudwatch::prepare(&config.queue.cloudwatch, incident);
    }
    let transformed = join_all(incidents.iter().map(|i| {
        let span = tracing::info_span!("incident", incident_id = %i.id);
        transform(&pipeline, i).instrument(span)
    }))
    .await;

    // On-call first: register pending escalations, cancel resolved ones.
    let mut ready = Vec::new();
    let mut resolved_updates = Vec::new();
    // Notifications of this request claimed so far, with the channels each
    // claimed: freed again if a later alert of the request is refused.
    let mut claimed: Vec<(String, Vec<&str>)> = Vec::new();
    for (index, (incident, t)) in incidents.iter_mut().zip(transformed).enumerate() {
        let mut event = match t {
            Transformed::Dropped(reason) => {
                ready.push(Ready {
                    incident: &*incident,
                    oncall_id: None,
                    event: Err(reason),
                    fp: None,
                    priors: HashMap::new(),
                });
                continue;
            }
            Transformed::Keep(e) => e,
        };
        let fp = ledger.map(|_| fingerprint(request.query, request.body, index));
        let copy = match (ledger, &fp) {
            (Some(l), Some(fp)) => l.begin(fp, &names, lease, window).await,
            _ => Copy::First,
        };
        let mut oncall_id = None;
        let mut priors = HashMap::new();
        match copy {
            Copy::Busy => {
                tracing::info!(
                    "an earlier copy of this notification is still being registered; nothing sent"
                );
                priors = names
                    .iter()
                    .map(|n| ((*n).to_string(), Prior::InFlight))
                    .collect();
            }
            Copy::Retry(earlier) => {
                tracing::info!(incident_id = %earlier.incident_id, "a copy of a notification sent before: no new escalation, and only the channels that do not have it");
                incident.id.clone_from(&earlier.incident_id);
                event.id.clone_from(&earlier.incident_id);
                event.ack_url = earlier.ack_url;
                oncall_id = earlier.oncall.then(|| earlier.incident_id.clone());
                if let Some(fp) = &fp {
                    let go = names
                        .iter()
                        .copied()
                        .filter(|n| earlier.channels.get(*n) == Some(&Prior::Go))
                        .collect();
                    claimed.push((fp.clone(), go));
                }
                priors = earlier.channels;
            }
            Copy::First => {
                if let Some(oncall) = state.oncall {
                    let step = register(oncall, incident, &mut event).await;
                    // A repeat, or the resolve, of an incident goes in its
                    // thread on the channels that thread.
                    if let Ok(Step::Resolved(id)) | Ok(Step::Registered(id)) = &step
                        && (incident.repeat || event.resolved)
                    {
                        incident.reply_to = oncall.thread_parents(id, &pipeline.channels).await;
                    }
                    match step {
                        Ok(Step::Registered(id)) => oncall_id = Some(id),
                        Ok(Step::Resolved(id)) => resolved_updates.push(id),
                        Ok(Step::Nothing) => {}
                        Err(e) => {
                            // Nothing is sent. The sender's retry registers
                            // this alert afresh, and finds the alerts before
                            // it in the body registered, with the channels
                            // they claimed free again: no second escalation
                            // for them, and no wait for a lapsed claim.
                            if let (Some(l), Some(fp)) = (ledger, &fp) {
                                l.forget(fp).await;
                                for (fp, channels) in &claimed {
                                    let free: Vec<(&str, bool)> =
                                        channels.iter().map(|c| (*c, false)).collect();
                                    l.settled(fp, &free).await;
                                }
                            }
                            return Err(e);
                        }
                    }
                }
                if let (Some(l), Some(fp)) = (ledger, &fp) {
                    l.registered(
                        fp,
                        &incident.id,
                        oncall_id.is_some(),
                        event.ack_url.as_deref(),
                    )
                    .await;
                    claimed.push((fp.clone(), names.clone()));
                }
            }
        }
        ready.push(Ready {
            incident: &*incident,
            oncall_id,
            event: Ok(event),
            fp,
            priors,
        });
    }

    let pipeline = &pipeline;
    let mut outcomes = join_all(ready.iter().map(|r| async move {
        let span = tracing::info_span!("incident", incident_id = %r.incident.id);
        match &r.event {
            Err(reason) => Outcome::Dropped {
                reason: reason.clone(),
            },
            Ok(event) => {
                let queueing = Queueing {
                    outbox: state.outbox,
                    oncall_id: r.oncall_id.as_deref(),
                };
                deliver(
                    pipeline,
                    event,
                    r.incident,
                    retry,
                    &r.priors,
                    Some(queueing),
                )
                .instrument(span)
                .await
            }
        }
    }))
    .await;

    // The answer is a success only when every alert of the request went
    // through; until then the sender may send the whole request again.
    let answered_ok = outcomes.iter().all(Outcome::ok);
    for (r, outcome) in ready.iter().zip(&mut outcomes) {
        let Outcome::Delivered { channels } = outcome else {
            continue;
        };
        if let (Some(l), Some(fp)) = (ledger, &r.fp) {
            if answered_ok {
                // The sender is told it worked, so it will not retry: the
                // same body again is a new notification (a repeat).
                l.forget(fp).await;
            } else {
                // A queued channel has the notification: its queue posts it.
                let settled: Vec<(&str, bool)> = channels
                    .iter()
                    .filter(|c| c.settled_here())
                    .map(|c| (c.channel.as_str(), c.error.is_none()))
                    .collect();
                l.settled(fp, &settled).await;
            }
        }
        if let (Some(oncall), Some(id)) = (state.oncall, &r.oncall_id) {
            oncall
                .record_receipts(id, channels, !r.incident.repeat)
                .await;
        }
        for c in channels.iter_mut() {
            // A thread reply is not updated later: its thread's first
            // message is.
            let in_thread = c.in_thread;
            if let Some(late) = c.late.take() {
                tokio::spawn(finish_late(
                    state.gate.hold(),
                    late,
                    c.channel.clone(),
                    c.message.clone(),
                    state.ledger.clone(),
                    r.fp.clone().filter(|_| ledger.is_some()),
                    state
                        .oncall
                        .cloned()
                        .zip(r.oncall_id.clone())
                        .filter(|_| !in_thread),
                ));
            }
        }
    }
    if let Some(oncall) = state.oncall {
        for id in resolved_updates {
            let oncall = oncall.clone();
            tokio::spawn(async move {
                oncall.update_channels(&id, StatusChange::Resolved).await;
                oncall
                    .follow_up_id(&id, crate::oncall::FollowUp::Resolve)
                    .await;
            });
        }
    }
    Ok(ready
        .iter()
        .map(|r| r.incident.id.clone())
        .zip(outcomes)
        .collect())
}

/// What on-call did with a first copy.
enum Step {
    /// It is (or joined) this pending incident.
    Registered(String),
    /// It resolved this incident.
    Resolved(String),
    /// On-call does not apply.
    Nothing,
}

/// Registers a pending escalation for `incident`, or cancels one when it
/// resolved, and sets the event's id and ACK link to match.
async fn register(
    oncall: &OnCall,
    incident: &mut Incident,
    event: &mut Event,
) -> Result<Step, StoreError> {
    if event.resolved {
        let Some(key) = event.dedup_key.as_deref() else {
            return Ok(Step::Nothing);
        };
        let now = oncall.clock.now_ms();
        return match oncall.store.resolve(key, now).await? {
            ResolvedOutcome::NoIncident => Ok(Step::Nothing),
            ResolvedOutcome::Cancelled(id) | ResolvedOutcome::Closed(id, _) => {
                tracing::info!(incident_id = %id, "resolved notification closed the incident");
                Ok(Step::Resolved(id))
            }
        };
    }
    if !oncall.applies(incident, event.resolved) {
        return Ok(Step::Nothing);
    }
    let Some(reg) = oncall.register(incident, event).await? else {
        return Ok(Step::Nothing);
    };
    // A repeat belongs to the open incident: it is answered, shown and
    // later updated under that incident's id. A new incident's id may
    // differ from the one it was made with in its first digit (see
    // `oncall::shard::fit`).
    incident.id.clone_from(&reg.incident_id);
    if reg.joined {
        incident.repeat = true;
    }
    event.id.clone_from(&reg.incident_id);
    event.ack_url = reg.ack_url;
    Ok(Step::Registered(reg.incident_id))
}

/// Waits for an attempt the retry budget cut short, then records what it
/// did: in the ledger (so a retry of the notification does not post it
/// again), and its receipt, so the message is updated like any other.
async fn finish_late(
    _working: crate::in_flight::Permit,
    late: LateDelivery,
    channel: String,
    message: Option<String>,
    ledger: Arc<Ledger>,
    fp: Option<String>,
    oncall: Option<(Arc<OnCall>, String)>,
) {
    let result = late
        .await
        .unwrap_or_else(|e| Err(crate::pipeline::PluginError::Trap(e.to_string())));
    crate::metrics::get().delivery(&channel, result.is_ok());
    match &result {
        Ok(_) => tracing::info!(%channel, "delivered after the retry budget ran out"),
        Err(e) => {
            tracing::error!(%channel, error = %e, "delivery failed after the retry budget ran out")
        }
    }
    if let Some(fp) = &fp {
        ledger
            .settled(fp, &[(channel.as_str(), result.is_ok())])
            .await;
    }
    if let (Ok(receipt), Some((oncall, id))) = (result, oncall) {
        let outcome = ChannelOutcome {
            receipt: Some(receipt),
            message,
            ..ChannelOutcome::new(&channel, "delivered")
        };
        oncall.record_receipts(&id, &[outcome], true).await;
    }
}
