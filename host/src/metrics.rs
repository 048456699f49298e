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
use prometheus_client::registry::Registry;

/// Labels of `versus_incidents_received_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct IncidentLabels {
    /// `firing` or `resolved`.
    pub status: &'static str,
}

/// Labels of `versus_deliveries_total`.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DeliveryLabels {
    /// Channel name.
    pub channel: String,
    /// `delivered` or `failed`.
    pub outcome: &'static str,
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
    /// `ok` or `failed`.
    pub outcome: &'static str,
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
    /// Response plans started.
    pub escalations_started: Counter,
    /// Incidents given up on (`escalation_failed`).
    pub escalations_failed: Counter,
    /// StartIncident calls that failed, retried or not.
    pub escalation_attempt_errors: Counter,
    /// Pipeline reloads.
    pub reloads: Family<ReloadLabels, Counter>,
}

impl Metrics {
    fn new() -> Self {
        let mut m = Self {
            registry: Registry::with_prefix("versus"),
            incidents: Family::default(),
            deliveries: Family::default(),
            delivery_retries: Counter::default(),
            plugin_errors: Family::default(),
            escalations_started: Counter::default(),
            escalations_failed: Counter::default(),
            escalation_attempt_errors: Counter::default(),
            reloads: Family::default(),
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
            "escalations_started",
            "AWS Incident Manager response plans started",
            m.escalations_started.clone(),
        );
        r.register(
            "escalations_failed",
            "Incidents marked escalation_failed after every attempt",
            m.escalations_failed.clone(),
        );
        r.register(
            "escalation_attempt_errors",
            "StartIncident calls that failed, retried or not",
            m.escalation_attempt_errors.clone(),
        );
        r.register("reloads", "Pipeline reloads by outcome", m.reloads.clone());
        m
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
