//! Prometheus metrics for `GET /metrics`: one registry for the process.
//!
//! Strategy: the counters live in a process-wide [`Metrics`] so that the
//! places that count (the incident handler, plugin calls, the scheduler,
//! reload) need no handle threaded through them. Every replica exposes its
//! own counts; Prometheus adds them up across replicas.

use std::sync::LazyLock;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Registry, Unit};

/// Labels of `versus_incidents_received_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct IncidentLabels {
    /// What sent it, from the payload's shape: see
    /// [`crate::incident::source_kind`].
    pub source: &'static str,
    /// `firing` or `resolved`.
    pub status: &'static str,
}

/// Labels of `versus_deliveries_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DeliveryLabels {
    /// Channel name.
    pub channel: String,
    /// `delivered` or `failed`; for the outbound queues, `queued`,
    /// `delivered` or `dropped`.
    pub outcome: &'static str,
}

/// Labels of `versus_template_errors_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ChannelLabels {
    /// Channel name.
    pub channel: String,
}

/// Labels of `versus_plugin_errors_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PluginErrorLabels {
    /// Plugin name.
    pub plugin: String,
    /// `trap`, `timeout`, `memory`, `transient`, `permanent`, …
    pub kind: &'static str,
}

/// Labels of `versus_reloads_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReloadLabels {
    /// `ok`, `restart_required` (applied, but a startup-only setting
    /// changed and keeps its running value) or `failed`.
    pub outcome: &'static str,
}

/// Labels of `versus_restart_required`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SettingLabels {
    /// The dotted config key, e.g. `oncall.wait_minutes`.
    pub key: String,
}

/// Labels of `versus_plugin_call_duration_seconds`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StageLabels {
    /// Plugin name.
    pub plugin: String,
    /// `transform`, `render`, `deliver` or `update`.
    pub stage: &'static str,
}

/// Labels of `versus_acks_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AckLabels {
    /// `acknowledged`, `bad_signature`, `expired`, `unknown`, `conflict`,
    /// `unavailable`, or `viewed` (a `GET` that showed the confirmation
    /// page: a person, or a link scanner).
    pub outcome: &'static str,
}

/// Labels of `versus_queue_messages_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct QueueLabels {
    /// `sqs`.
    pub queue: &'static str,
    /// `handled` (deleted after success), `refused` (deleted: sending it
    /// again cannot help) or `kept` (left for SQS to hand out again).
    pub outcome: &'static str,
}

/// Labels of `versus_slack_interactions_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SlackLabels {
    /// `acknowledge`, `escalate`, or `none` (refused, or not a button of
    /// ours).
    pub action: &'static str,
    /// What came of it: an ACK outcome (`acknowledged`, `conflict`, …),
    /// `escalating`, `ignored`, or why the request was refused
    /// (`bad_signature`, `stale`, `replayed`, `malformed`).
    pub outcome: &'static str,
}

/// Labels of `versus_component_cache_lookups_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CacheLabels {
    /// `memory_hit`, `disk_hit` or `miss` (compiled).
    pub result: &'static str,
}

/// Labels of `versus_redis_errors_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RedisLabels {
    /// The store operation: `create`, `ack`, `claim_due`, …
    pub op: &'static str,
}

/// Bounds of the plugin call histogram, in seconds: an empty call takes
/// about 10 µs, a render 40 µs, a Slack delivery a network round trip, and
/// a call may run up to its `timeout` (10 s by default).
const CALL_BUCKETS: [f64; 16] = [
    0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1,
    0.25, 1.0, 2.5, 10.0,
];

/// Bounds of the escalation lateness histogram, in seconds: the scheduler
/// normally starts a response plan a few ms after its deadline; the target
/// is under 1 s; beyond a minute something is wrong (Redis down, replicas
/// gone).
const LATENESS_BUCKETS: [f64; 13] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

fn call_histogram() -> Histogram {
    Histogram::new(CALL_BUCKETS)
}

/// Every metric the gateway exposes.
pub struct Metrics {
    registry: Registry,
    /// Alerts accepted by `POST /api/incidents`, one per alert of an array.
    pub incidents: Family<IncidentLabels, Counter>,
    /// Channel deliveries, after retries.
    pub deliveries: Family<DeliveryLabels, Counter>,
    /// Retried delivery attempts.
    pub delivery_retries: Counter,
    /// Failed plugin calls by plugin and kind.
    pub plugin_errors: Family<PluginErrorLabels, Counter>,
    /// Renders that failed, so the channel got the fallback message.
    pub template_errors: Family<ChannelLabels, Counter>,
    /// Response plans started.
    pub escalations_started: Counter,
    /// Incidents given up on (`escalation_failed`).
    pub escalations_failed: Counter,
    /// StartIncident calls that failed, retried or not.
    pub escalation_attempt_errors: Counter,
    /// Pipeline reloads.
    pub reloads: Family<ReloadLabels, Counter>,
    /// 1 for each startup-only setting whose value in the config file
    /// differs from the running one (0 once it matches again).
    pub restart_required: Family<SettingLabels, Gauge>,
    /// Duration of each plugin call, by plugin and stage.
    pub plugin_calls: Family<StageLabels, Histogram, fn() -> Histogram>,
    /// ACK requests by outcome.
    pub acks: Family<AckLabels, Counter>,
    /// Requests from the Slack app by action and outcome.
    pub slack_interactions: Family<SlackLabels, Counter>,
    /// Messages received from a polled queue, by what came of them.
    pub queue_messages: Family<QueueLabels, Counter>,
    /// Notifications through a destination's outbound queue (`queued`,
    /// then `delivered` or `dropped`).
    pub outbox: Family<DeliveryLabels, Counter>,
    /// Incidents in the due-set (pending or being escalated), as last read.
    pub escalations_pending: Gauge,
    /// Deadline → first StartIncident call.
    pub escalation_lateness: Histogram,
    /// Compiled-component cache lookups.
    pub cache_lookups: Family<CacheLabels, Counter>,
    /// Cache files present but unusable.
    pub cache_rejected: Counter,
    /// Failed Redis operations.
    pub redis_errors: Family<RedisLabels, Counter>,
    /// Requests that asked for on-call (`oncall_enable=true`) on a gateway
    /// where it is off: delivered without escalation.
    pub oncall_not_configured: Counter,
}

impl Metrics {
    fn new() -> Self {
        let mut m = Self {
            registry: Registry::with_prefix("versus"),
            incidents: Family::default(),
            deliveries: Family::default(),
            delivery_retries: Counter::default(),
            plugin_errors: Family::default(),
            template_errors: Family::default(),
            escalations_started: Counter::default(),
            escalations_failed: Counter::default(),
            escalation_attempt_errors: Counter::default(),
            reloads: Family::default(),
            restart_required: Family::default(),
            plugin_calls: Family::new_with_constructor(call_histogram),
            acks: Family::default(),
            slack_interactions: Family::default(),
            queue_messages: Family::default(),
            outbox: Family::default(),
            escalations_pending: Gauge::default(),
            escalation_lateness: Histogram::new(LATENESS_BUCKETS),
            cache_lookups: Family::default(),
            cache_rejected: Counter::default(),
            redis_errors: Family::default(),
            oncall_not_configured: Counter::default(),
        };
        let r = &mut m.registry;
        r.register(
            "incidents_received",
            "Alerts accepted by POST /api/incidents",
            m.incidents.clone(),
        );
        r.register(
            "deliveries",
            "Channel deliveries by outcome, after retries",
            m.deliveries.clone(),
        );
        r.register(
            "delivery_retries",
            "Delivery attempts retried after a transient failure",
            m.delivery_retries.clone(),
        );
        r.register(
            "plugin_errors",
            "Failed plugin calls by plugin and kind",
            m.plugin_errors.clone(),
        );
        r.register(
            "template_errors",
            "Templates that failed at render time; the channel got the fallback message",
            m.template_errors.clone(),
        );
        r.register(
            "escalations_started",
            "AWS Incident Manager response plans started",
            m.escalations_started.clone(),
        );
        r.register(
            "escalations_failed",
            "Incidents marked escalation_failed: nobody was paged",
            m.escalations_failed.clone(),
        );
        r.register(
            "escalation_attempt_errors",
            "StartIncident calls that failed, retried or not",
            m.escalation_attempt_errors.clone(),
        );
        r.register("reloads", "Pipeline reloads by outcome", m.reloads.clone());
        r.register(
            "restart_required",
            "Startup-only settings changed in the config file: 1 until the gateway restarts",
            m.restart_required.clone(),
        );
        r.register_with_unit(
            "plugin_call_duration",
            "Duration of plugin calls (instantiate and run) by plugin and stage",
            Unit::Seconds,
            m.plugin_calls.clone(),
        );
        r.register("acks", "ACK requests by outcome", m.acks.clone());
        r.register(
            "slack_interactions",
            "Requests from the Slack app (button clicks) by action and outcome",
            m.slack_interactions.clone(),
        );
        r.register(
            "queue_messages",
            "Messages received from a polled queue (SQS), by what came of them",
            m.queue_messages.clone(),
        );
        r.register(
            "outbox_notifications",
            "Notifications through a rate-limited destination's outbound queue: queued, then delivered or dropped",
            m.outbox.clone(),
        );
        r.register(
            "escalations_pending",
            "Incidents waiting for their escalation deadline or being escalated (shared by every replica on one Redis)",
            m.escalations_pending.clone(),
        );
        r.register_with_unit(
            "escalation_lateness",
            "Time from an incident's deadline to its first StartIncident call",
            Unit::Seconds,
            m.escalation_lateness.clone(),
        );
        r.register(
            "component_cache_lookups",
            "Compiled-component cache lookups by result",
            m.cache_lookups.clone(),
        );
        r.register(
            "component_cache_rejected",
            "Compiled-component cache files ignored as unusable",
            m.cache_rejected.clone(),
        );
        r.register(
            "redis_errors",
            "Failed Redis operations by store operation",
            m.redis_errors.clone(),
        );
        r.register(
            "oncall_not_configured",
            "Requests with oncall_enable=true on a gateway where on-call is off (delivered, not escalated)",
            m.oncall_not_configured.clone(),
        );
        m
    }

    /// Records one plugin call of `stage` that took `elapsed`.
    pub fn plugin_call(&self, plugin: &str, stage: &'static str, elapsed: std::time::Duration) {
        self.plugin_calls
            .get_or_create(&StageLabels {
                plugin: plugin.to_string(),
                stage,
            })
            .observe(elapsed.as_secs_f64());
    }

    /// Counts one ACK request.
    pub fn ack(&self, outcome: &'static str) {
        self.acks.get_or_create(&AckLabels { outcome }).inc();
    }

    /// Counts one request from the Slack app.
    pub fn slack_interaction(&self, action: &'static str, outcome: &'static str) {
        self.slack_interactions
            .get_or_create(&SlackLabels { action, outcome })
            .inc();
    }

    /// Counts one message received from a polled queue.
    pub fn queue_message(&self, queue: &'static str, outcome: &'static str) {
        self.queue_messages
            .get_or_create(&QueueLabels { queue, outcome })
            .inc();
    }

    /// Counts one notification through `channel`'s outbound queue:
    /// `queued`, `delivered` or `dropped` (see [`crate::outbox`]).
    pub fn outbox(&self, channel: &str, outcome: &'static str) {
        self.outbox
            .get_or_create(&DeliveryLabels {
                channel: channel.to_string(),
                outcome,
            })
            .inc();
    }

    /// Counts one compiled-component cache lookup.
    pub fn cache_lookup(&self, result: &'static str) {
        self.cache_lookups
            .get_or_create(&CacheLabels { result })
            .inc();
    }

    /// Counts one failed Redis operation.
    pub fn redis_error(&self, op: &'static str) {
        self.redis_errors.get_or_create(&RedisLabels { op }).inc();
    }

    /// Counts one failed plugin call.
    pub fn plugin_error(&self, plugin: &str, kind: &'static str) {
        self.plugin_errors
            .get_or_create(&PluginErrorLabels {
                plugin: plugin.to_string(),
                kind,
            })
            .inc();
    }

    /// Counts one template that failed to render for `channel`.
    pub fn template_error(&self, channel: &str) {
        self.template_errors
            .get_or_create(&ChannelLabels {
                channel: channel.to_string(),
            })
            .inc();
    }

    /// Counts one delivery on `channel`.
    pub fn delivery(&self, channel: &str, delivered: bool) {
        let outcome = if delivered { "delivered" } else { "failed" };
        self.deliveries
            .get_or_create(&DeliveryLabels {
                channel: channel.to_string(),
                outcome,
            })
            .inc();
    }

    /// The Prometheus text exposition of every metric.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = encode(&mut out, &self.registry);
        out
    }
}

/// The process's metrics.
pub fn get() -> &'static Metrics {
    static METRICS: LazyLock<Metrics> = LazyLock::new(Metrics::new);
    &METRICS
}
