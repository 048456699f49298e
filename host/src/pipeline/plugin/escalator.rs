//! Escalator plugins: the `escalator` world of `versus:oncall@0.1.0`, an
//! on-call target that pages through its provider's API.

use std::time::Instant;

use tracing::Instrument;
use wasmtime::Store;

use super::{PluginBase, PluginError, PluginParts};
use crate::pipeline::bindings::oncall_types::{EscalationReceipt, Incident};
use crate::pipeline::bindings::{Escalator, EscalatorPre};
use crate::pipeline::ctx::PluginCtx;
use crate::pipeline::engine::PluginEngine;
use crate::pipeline::warm::{Instance, Warm};

/// An `escalator` plugin.
pub struct EscalatorPlugin {
    /// Shared plugin data.
    pub base: PluginBase,
    pre: EscalatorPre<PluginCtx>,
    warm: Warm<Escalator>,
}

impl EscalatorPlugin {
    /// Links `parts` against the escalator world; fails if the component
    /// does not match it.
    pub fn new(engine: &PluginEngine, parts: PluginParts) -> wasmtime::Result<Self> {
        let (base, component) = parts.into_base(engine);
        let pre = EscalatorPre::new(engine.escalator_linker().instantiate_pre(&component)?)?;
        Ok(Self {
            base,
            pre,
            warm: Warm::default(),
        })
    }

    async fn instantiate(&self, store: &mut Store<PluginCtx>) -> wasmtime::Result<Escalator> {
        self.pre.instantiate_async(store).await
    }

    /// Checks the target's configuration, sending nothing.
    pub async fn validate_config(&self, config_json: &str) -> Result<(), PluginError> {
        call!(self, "validate", |e, store| {
            e.call_validate_config(&mut *store, config_json).await
        })
    }

    /// Pages for `incident`.
    pub async fn start(
        &self,
        incident: &Incident,
        config_json: &str,
    ) -> Result<EscalationReceipt, PluginError> {
        let receipt = call!(self, "start", |e, store| {
            e.call_start(&mut *store, incident, config_json).await
        })?;
        let url = receipt.url.as_deref().map_or(0, str::len);
        self.base.check_output(receipt.id.len() + url)?;
        Ok(receipt)
    }

    /// Whether `acknowledge` tells the provider anything.
    pub async fn acknowledges(&self) -> Result<bool, PluginError> {
        call!(self, "validate", |e, store| {
            e.call_acknowledges(&mut *store).await.map(Ok)
        })
    }

    /// Tells the provider that `who` acknowledged after the page.
    pub async fn acknowledge(
        &self,
        incident: &Incident,
        receipt: &EscalationReceipt,
        who: Option<&str>,
        config_json: &str,
    ) -> Result<(), PluginError> {
        call!(self, "acknowledge", |e, store| {
            e.call_acknowledge(&mut *store, incident, receipt, who, config_json)
                .await
        })
    }

    /// Tells the provider that the alert resolved after the page.
    pub async fn resolve(
        &self,
        incident: &Incident,
        receipt: &EscalationReceipt,
        config_json: &str,
    ) -> Result<(), PluginError> {
        call!(self, "resolve", |e, store| {
            e.call_resolve(&mut *store, incident, receipt, config_json)
                .await
        })
    }
}
