//! Where a page goes: AWS Incident Manager, called from the host, or the
//! provider's escalator plugin (`oncall.provider: pagerduty`, see
//! `escalator`). The scheduler starts the page here; an ACK after the page
//! and the alert's resolve are passed on from here.

use std::time::Duration;

use super::OnCall;
use super::aws::StartError;
use super::record::{Escalation, IncidentView};
use crate::config::AWS_INCIDENT_MANAGER;
use crate::pipeline::bindings::oncall_types::{EscalationReceipt, Incident, Link};
use crate::pipeline::{EscalatorRuntime, PluginError};

/// What happens after the page that the provider is told of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowUp {
    /// Someone acknowledged after the page went out.
    Acknowledge,
    /// The alert resolved after the page went out.
    Resolve,
}

impl FollowUp {
    fn as_str(self) -> &'static str {
        match self {
            Self::Acknowledge => "acknowledge",
            Self::Resolve => "resolve",
        }
    }
}

impl OnCall {
    /// The provider pages go to.
    pub fn provider(&self) -> &str {
        &self.settings.provider
    }

    /// Whether pages go through an escalator plugin (not AWS).
    pub(super) fn through_plugin(&self) -> bool {
        self.settings.provider != AWS_INCIDENT_MANAGER
    }

    /// The provider's plugin as the current pipeline holds it.
    fn plugin(&self) -> Result<EscalatorRuntime, StartError> {
        let pipeline = self.reloader.pipeline();
        pipeline.escalator.clone().ok_or_else(|| StartError {
            message: format!(
                "the escalator plugin of on-call provider `{}` is not loaded",
                self.settings.provider
            ),
            permanent: false,
            retry_after: None,
        })
    }

    /// Starts the page for a claimed incident: one call, whose failure the
    /// scheduler retries.
    pub async fn start(&self, view: &IncidentView) -> Result<Escalation, StartError> {
        if !self.through_plugin() {
            let links = self.links(view);
            let links: Vec<(&str, &str)> = links
                .iter()
                .map(|l| (l.text.as_str(), l.url.as_str()))
                .collect();
            let arn = self.escalator.start(&view.record, &links).await?;
            return Ok(Escalation {
                provider: AWS_INCIDENT_MANAGER.into(),
                id: arn,
                url: None,
            });
        }
        let runtime = self.plugin()?;
        let receipt = runtime
            .plugin
            .start(&self.incident(view), &runtime.config_json)
            .await
            .map_err(start_error)?;
        Ok(Escalation {
            provider: runtime.name,
            id: receipt.id,
            url: receipt.url,
        })
    }

    /// The provider that paged for `view` and can be told of an ACK after
    /// the page, by name: AWS Incident Manager (a timeline event), or an
    /// escalator plugin that is still configured and has an acknowledge.
    pub fn acknowledgeable(&self, view: &IncidentView) -> Option<String> {
        let escalation = view.escalation.as_ref()?;
        if escalation.provider == AWS_INCIDENT_MANAGER {
            // A timeline event on the incident record.
            return Some(escalation.provider.clone());
        }
        let runtime = self.plugin().ok()?;
        (runtime.name == escalation.provider && runtime.acknowledges).then_some(runtime.name)
    }

    /// Loads incident `id` and tells its provider about `follow_up` (see
    /// [`Self::follow_up`]).
    pub async fn follow_up_id(&self, id: &str, follow_up: FollowUp) {
        match self.store.get(id).await {
            Ok(Some(view)) => self.follow_up(&view, follow_up, None).await,
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(incident_id = id, error = %e, action = follow_up.as_str(), "cannot load the incident; its provider is not told")
            }
        }
    }

    /// Tells the provider that paged for `view` about `follow_up`: AWS
    /// through [`Self::follow_up_aws`], a plugin through its `acknowledge`
    /// or `resolve`. The call is retried like a channel update
    /// (`alert.retry`).
    pub async fn follow_up(&self, view: &IncidentView, follow_up: FollowUp, who: Option<&str>) {
        let id = view.record.id.as_str();
        let Some(escalation) = &view.escalation else {
            return;
        };
        if escalation.provider == AWS_INCIDENT_MANAGER {
            return self
                .follow_up_aws(view, &escalation.id, follow_up, who)
                .await;
        }
        let runtime = match self.plugin() {
            Ok(r) if r.name == escalation.provider => r,
            _ => {
                tracing::warn!(incident_id = id, provider = %escalation.provider, action = follow_up.as_str(), "the provider that paged is no longer configured; it is not told");
                return;
            }
        };
        if follow_up == FollowUp::Acknowledge && !runtime.acknowledges {
            return;
        }
        let incident = self.incident(view);
        let receipt = EscalationReceipt {
            id: escalation.id.clone(),
            url: escalation.url.clone(),
        };
        let retry = self.reloader.config().alert.retry.clone();
        let config = &runtime.config_json;
        let plugin = &runtime.plugin;
        let result = retry
            .run(|| async {
                match follow_up {
                    FollowUp::Acknowledge => {
                        plugin.acknowledge(&incident, &receipt, who, config).await
                    }
                    FollowUp::Resolve => plugin.resolve(&incident, &receipt, config).await,
                }
            })
            .await;
        match result {
            Ok(()) => {
                tracing::info!(incident_id = id, provider = %runtime.name, action = follow_up.as_str(), "provider told")
            }
            Err(e) => {
                tracing::warn!(incident_id = id, provider = %runtime.name, action = follow_up.as_str(), error = %e, "the provider could not be told")
            }
        }
    }

    /// Tells AWS Incident Manager about `follow_up` on the record `arn`: a
    /// timeline event, and on resolve with `resolve_on_alert_resolved` the
    /// record's status. Each call is retried like a channel update, with the
    /// same client token, so a retry adds nothing twice.
    async fn follow_up_aws(
        &self,
        view: &IncidentView,
        arn: &str,
        follow_up: FollowUp,
        who: Option<&str>,
    ) {
        let id = view.record.id.as_str();
        let text = match (follow_up, who) {
            (FollowUp::Acknowledge, Some(who)) => {
                format!("Acknowledged in Versus by {who} after the page")
            }
            (FollowUp::Acknowledge, None) => "Acknowledged in Versus after the page".to_string(),
            (FollowUp::Resolve, _) => "The alert resolved (Versus)".to_string(),
        };
        let retry = self.reloader.config().alert.retry.clone();
        let now = self.clock.now_ms();
        // One token per follow-up (its retries reuse it): a second ACK click
        // is an event of its own, a retried call is not.
        let token = format!("{id}-{}-{now}", follow_up.as_str());
        let told = retry
            .run(|| async {
                self.escalator
                    .timeline_event(arn, &token, now, &text)
                    .await
                    .map_err(plugin_error)
            })
            .await;
        let resolved = if follow_up == FollowUp::Resolve && self.settings.resolve_on_alert_resolved
        {
            let token = format!("{id}-status-resolved");
            retry
                .run(|| async {
                    self.escalator
                        .resolve(arn, &token)
                        .await
                        .map_err(plugin_error)
                })
                .await
        } else {
            Ok(())
        };
        match told.and(resolved) {
            Ok(()) => {
                tracing::info!(
                    incident_id = id,
                    incident_arn = arn,
                    action = follow_up.as_str(),
                    "incident record updated"
                )
            }
            Err(e) => {
                tracing::warn!(incident_id = id, incident_arn = arn, action = follow_up.as_str(), error = %e, "the incident record could not be updated")
            }
        }
    }

    /// What a page links back to: the ACK page (while its link is valid)
    /// and the alert at its source.
    fn links(&self, view: &IncidentView) -> Vec<Link> {
        let record = &view.record;
        let mut links = Vec::new();
        if !self.settings.public_host.is_empty() && record.ack_exp > 0 {
            links.push(Link {
                text: "Acknowledge in Versus".into(),
                url: self
                    .signer
                    .url(&self.settings.public_host, &record.id, record.ack_exp),
            });
        }
        if let Some(url) = &record.details.source_url {
            links.push(Link {
                text: "Alert source".into(),
                url: url.clone(),
            });
        }
        links
    }

    /// The incident as an escalator plugin sees it.
    fn incident(&self, view: &IncidentView) -> Incident {
        let record = &view.record;
        let details = &record.details;
        let links = self.links(view);
        Incident {
            id: record.id.clone(),
            title: record.title.clone(),
            severity: record.severity.clone(),
            dedup_key: record
                .dedup_key
                .clone()
                .unwrap_or_else(|| record.id.clone()),
            summary: details.summary.clone(),
            source: if details.source.is_empty() {
                "versus".into()
            } else {
                details.source.clone()
            },
            labels_json: if details.labels.is_empty() {
                "{}".into()
            } else {
                details.labels.clone()
            },
            links,
            route: details.route.clone(),
        }
    }
}

/// A plugin's failure as the scheduler weighs it: transient errors,
/// timeouts, a full instance pool and traps are retried (a page matters
/// more than a wasted call, and the provider's dedup key makes a retry
/// safe); a refusal, a bad config or a bad input is final.
fn start_error(e: PluginError) -> StartError {
    let retry_after = crate::incident::retry_after(&e);
    let permanent = matches!(
        e,
        PluginError::Permanent(_) | PluginError::Config(_) | PluginError::InvalidInput(_)
    );
    StartError {
        message: e.to_string(),
        permanent,
        retry_after,
    }
}

/// An AWS failure as the retry policy weighs it.
fn plugin_error(e: StartError) -> PluginError {
    if e.permanent {
        PluginError::Permanent(e.message)
    } else {
        PluginError::Transient {
            message: e.message,
            retry_after: e.retry_after,
        }
    }
}

/// The wait before the next attempt: the backoff, or longer when the
/// provider asked for it.
pub fn next_wait(backoff: Duration, retry_after: Option<Duration>) -> Duration {
    retry_after.map_or(backoff, |asked| asked.max(backoff))
}
