//! Where a page goes: AWS Incident Manager, called from the host, or a
//! provider's escalator plugin (`oncall.provider: pagerduty`, see
//! `escalator`); with `oncall.providers`, each of several. The scheduler
//! starts each target's page here; an ACK after the page and the alert's
//! resolve are passed on from here to every target that paged.

use std::time::Duration;

use super::OnCall;
use super::aws::StartError;
use super::record::{IncidentView, NewIncident, Target};
use crate::config::AWS_INCIDENT_MANAGER;
use crate::pipeline::bindings::oncall_types::{EscalationReceipt, Incident, Link};
use crate::pipeline::{EscalatorRuntime, PluginError};

/// The built-in Slack channel's name, as its receipts carry it.
const SLACK: &str = "slack";

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
    /// The providers pages go to, each of them.
    pub fn targets(&self) -> &[String] {
        &self.settings.targets
    }

    /// Whether AWS Incident Manager is one of them (it needs a response
    /// plan).
    pub(super) fn pages_aws(&self) -> bool {
        self.settings
            .targets
            .iter()
            .any(|t| t == AWS_INCIDENT_MANAGER)
    }

    /// The plugin of provider `name` as the current pipeline holds it.
    fn plugin(&self, name: &str) -> Option<EscalatorRuntime> {
        let pipeline = self.reloader.pipeline();
        pipeline.escalators.iter().find(|e| e.name == name).cloned()
    }

    /// Starts the page of a claimed incident through `provider`: one call,
    /// whose failure the scheduler retries.
    pub async fn start(
        &self,
        view: &IncidentView,
        provider: &str,
    ) -> Result<EscalationReceipt, StartError> {
        if provider == AWS_INCIDENT_MANAGER {
            let links = self.links(view);
            let links: Vec<(&str, &str)> = links
                .iter()
                .map(|l| (l.text.as_str(), l.url.as_str()))
                .collect();
            let arn = self.escalator.start(&view.record, &links).await?;
            return Ok(EscalationReceipt { id: arn, url: None });
        }
        let runtime = self.plugin(provider).ok_or_else(|| StartError {
            message: format!("the escalator plugin of on-call provider `{provider}` is not loaded"),
            permanent: false,
            retry_after: None,
        })?;
        runtime
            .plugin
            .start(&self.incident(view, provider), &runtime.config_json)
            .await
            .map_err(start_error)
    }

    /// The providers that paged for `view` and can be told of an ACK after
    /// the page, by name: AWS Incident Manager (a timeline event), and
    /// each escalator plugin that is still configured and has an
    /// acknowledge.
    pub fn acknowledgeable(&self, view: &IncidentView) -> Vec<String> {
        view.paged()
            .filter(|t| {
                t.provider == AWS_INCIDENT_MANAGER
                    || self.plugin(&t.provider).is_some_and(|r| r.acknowledges)
            })
            .map(|t| t.provider.clone())
            .collect()
    }

    /// Loads incident `id` and tells the providers that paged about
    /// `follow_up` (see [`Self::follow_up`]).
    pub async fn follow_up_id(&self, id: &str, follow_up: FollowUp) {
        match self.store.get(id).await {
            Ok(Some(view)) => self.follow_up(&view, follow_up, None).await,
            Ok(None) => {}
            Err(e) => {
                tracing::warn!(incident_id = id, error = %e, action = follow_up.as_str(), "cannot load the incident; its providers are not told")
            }
        }
    }

    /// Tells each provider that paged for `view` about `follow_up`, all at
    /// once (see [`Self::follow_up_target`]).
    pub async fn follow_up(&self, view: &IncidentView, follow_up: FollowUp, who: Option<&str>) {
        let calls = view
            .paged()
            .map(|t| self.follow_up_target(view, t, follow_up, who));
        futures::future::join_all(calls).await;
    }

    /// Tells `target`, which paged for `view`, about `follow_up`: AWS
    /// through [`Self::follow_up_aws`], a plugin through its `acknowledge`
    /// or `resolve`. The call is retried like a channel update
    /// (`alert.retry`).
    async fn follow_up_target(
        &self,
        view: &IncidentView,
        target: &Target,
        follow_up: FollowUp,
        who: Option<&str>,
    ) {
        let id = view.record.id.as_str();
        let page_id = target.id.clone().unwrap_or_default();
        if target.provider == AWS_INCIDENT_MANAGER {
            return self.follow_up_aws(view, &page_id, follow_up, who).await;
        }
        let Some(runtime) = self.plugin(&target.provider) else {
            tracing::warn!(incident_id = id, provider = %target.provider, action = follow_up.as_str(), "the provider that paged is no longer configured; it is not told");
            return;
        };
        if follow_up == FollowUp::Acknowledge && !runtime.acknowledges {
            return;
        }
        let incident = self.incident(view, &target.provider);
        let receipt = EscalationReceipt {
            id: page_id,
            url: target.url.clone(),
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

    /// What a page links back to: the ACK page (while its link is valid),
    /// the alert at its source, and the Slack message when it was posted
    /// by then and `alert.slack.workspace_url` is set.
    fn links(&self, view: &IncidentView) -> Vec<Link> {
        let record = &view.record;
        let ack = (!self.settings.public_host.is_empty() && record.ack_exp > 0).then(|| {
            self.signer
                .url(&self.settings.public_host, &record.id, record.ack_exp)
        });
        let config = self.reloader.config();
        let chat = view
            .receipts
            .iter()
            .find(|r| r.channel == SLACK)
            .and_then(|r| {
                let workspace = &config.alert.channels.slack.workspace_url;
                crate::channel::slack::permalink(workspace, &r.destination, &r.message_id)
            });
        let mut links = links(ack, record.details.source_url.as_deref());
        links.extend(chat.map(|url| Link {
            text: "Slack message".into(),
            url,
        }));
        links
    }

    /// The incident as the escalator plugin of `provider` sees it.
    fn incident(&self, view: &IncidentView, provider: &str) -> Incident {
        page(&view.record, provider, self.links(view))
    }
}

/// The links a page carries: the ACK page, when it has a link, and the
/// alert at its source.
pub fn links(ack_url: Option<String>, source_url: Option<&str>) -> Vec<Link> {
    let ack = ack_url.map(|url| Link {
        text: "Acknowledge in Versus".into(),
        url,
    });
    let source = source_url.map(|url| Link {
        text: "Alert source".into(),
        url: url.to_string(),
    });
    ack.into_iter().chain(source).collect()
}

/// The incident `record` as the escalator plugin of `provider` sees it,
/// with `links`.
pub fn page(record: &NewIncident, provider: &str, links: Vec<Link>) -> Incident {
    let details = &record.details;
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
        route: details.routes.get(provider).cloned(),
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
