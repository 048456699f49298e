//! Channel plugins: the `channel` world of `versus:gateway@0.2.0` or
//! `@0.1.0`, or `versus:mail/email-channel@0.2.0` or `@0.1.0`, behind one
//! type.

use std::time::Instant;

use tracing::Instrument;
use wasmtime::Store;

use super::{PluginBase, PluginError, PluginParts};
use crate::pipeline::bindings::{
    Channel, ChannelPre, ChannelV2, ChannelV2Pre, EmailChannel, EmailChannelPre, EmailChannelV2,
    EmailChannelV2Pre, StatusChange, types,
};
use crate::pipeline::ctx::PluginCtx;
use crate::pipeline::engine::PluginEngine;
use crate::pipeline::warm::{Instance, Warm};

/// A `channel` plugin: the `channel` world of `versus:gateway@0.2.0` or
/// `@0.1.0`, or `versus:mail/email-channel` for a channel that sends mail.
pub struct ChannelPlugin {
    /// Shared plugin data.
    pub base: PluginBase,
    pre: ChannelWorld,
    warm: Warm<ChannelInstance>,
}

/// The world a channel plugin was linked against.
enum ChannelWorld {
    /// `versus:gateway/channel@0.1.0`.
    Chat(ChannelPre<PluginCtx>),
    /// `versus:gateway/channel@0.2.0`.
    ChatV2(ChannelV2Pre<PluginCtx>),
    /// `versus:mail/email-channel@0.1.0` (a 0.1.0 channel plus `smtp`).
    Email(EmailChannelPre<PluginCtx>),
    /// `versus:mail/email-channel@0.2.0` (a 0.2.0 channel plus `smtp`).
    EmailV2(EmailChannelV2Pre<PluginCtx>),
}

/// An instantiated channel of any of those worlds.
enum ChannelInstance {
    Chat(Channel),
    ChatV2(ChannelV2),
    Email(EmailChannel),
    EmailV2(EmailChannelV2),
}

impl ChannelPlugin {
    /// Links `parts` against the channel world: 0.2.0 when its `update`
    /// takes 0.2.0's status change, else 0.1.0.
    pub fn new(engine: &PluginEngine, parts: PluginParts) -> wasmtime::Result<Self> {
        let (base, component) = parts.into_base(engine);
        // One linker serves both: 0.2.0 imports 0.1.0's interfaces and adds
        // a types-only one. The exports tell the two apart.
        let pre = engine.channel_linker().instantiate_pre(&component)?;
        let world = match ChannelV2Pre::new(pre.clone()) {
            Ok(v2) => ChannelWorld::ChatV2(v2),
            Err(_) => ChannelWorld::Chat(ChannelPre::new(pre)?),
        };
        Ok(Self::with_world(base, world))
    }

    /// Links `parts` against `versus:mail/email-channel`, which adds the
    /// `smtp` import to the channel world: 0.2.0 when its exports are
    /// 0.2.0's, else 0.1.0.
    pub fn new_email(engine: &PluginEngine, parts: PluginParts) -> wasmtime::Result<Self> {
        let (base, component) = parts.into_base(engine);
        let pre = engine.email_channel_linker().instantiate_pre(&component)?;
        let world = match EmailChannelV2Pre::new(pre.clone()) {
            Ok(v2) => ChannelWorld::EmailV2(v2),
            Err(_) => ChannelWorld::Email(EmailChannelPre::new(pre)?),
        };
        Ok(Self::with_world(base, world))
    }

    /// Whether the channel was built on `versus:gateway@0.2.0` (directly or
    /// through `versus:mail@0.2.0`).
    fn is_v2(&self) -> bool {
        matches!(self.pre, ChannelWorld::ChatV2(_) | ChannelWorld::EmailV2(_))
    }

    fn with_world(base: PluginBase, pre: ChannelWorld) -> Self {
        Self {
            base,
            pre,
            warm: Warm::default(),
        }
    }

    /// Checks the channel's configuration, for a `versus:gateway@0.2.0`
    /// channel; a 0.1.0 one has no such check and sees its configuration
    /// first when it delivers.
    pub async fn validate_config(&self, config_json: &str) -> Result<(), PluginError> {
        if !self.is_v2() {
            return Ok(());
        }
        call!(self, "validate", |c, store| match &c {
            ChannelInstance::ChatV2(c) => c.call_validate_config(&mut *store, config_json).await,
            ChannelInstance::EmailV2(c) => c.call_validate_config(&mut *store, config_json).await,
            ChannelInstance::Chat(_) | ChannelInstance::Email(_) => Ok(Ok(())),
        })
    }

    /// Whether `update` can show `change`: a 0.1.0 channel has no way to
    /// show that paging failed.
    pub fn shows(&self, change: StatusChange) -> bool {
        change != StatusChange::PagingFailed || self.is_v2()
    }

    async fn instantiate(&self, store: &mut Store<PluginCtx>) -> wasmtime::Result<ChannelInstance> {
        Ok(match &self.pre {
            ChannelWorld::Chat(pre) => ChannelInstance::Chat(pre.instantiate_async(store).await?),
            ChannelWorld::ChatV2(pre) => {
                ChannelInstance::ChatV2(pre.instantiate_async(store).await?)
            }
            ChannelWorld::Email(pre) => ChannelInstance::Email(pre.instantiate_async(store).await?),
            ChannelWorld::EmailV2(pre) => {
                ChannelInstance::EmailV2(pre.instantiate_async(store).await?)
            }
        })
    }

    /// Delivers `message` for `event`.
    pub async fn deliver(
        &self,
        message: &str,
        event: &types::Event,
        config_json: &str,
    ) -> Result<types::Receipt, PluginError> {
        let receipt = call!(self, "deliver", |c, store| match &c {
            ChannelInstance::Chat(c) =>
                c.call_deliver(&mut *store, message, event, config_json)
                    .await,
            ChannelInstance::ChatV2(c) =>
                c.call_deliver(&mut *store, message, event, config_json)
                    .await,
            ChannelInstance::Email(c) =>
                c.call_deliver(&mut *store, message, event, config_json)
                    .await,
            ChannelInstance::EmailV2(c) =>
                c.call_deliver(&mut *store, message, event, config_json)
                    .await,
        })?;
        self.base
            .check_output(receipt.destination.len() + receipt.message_id.len())?;
        Ok(receipt)
    }

    /// Shows `change` on a message delivered earlier. A change the channel
    /// cannot show (see [`Self::shows`]) is an `invalid input` error.
    pub async fn update(
        &self,
        receipt: &types::Receipt,
        change: StatusChange,
        message: &str,
        event: &types::Event,
        config_json: &str,
    ) -> Result<(), PluginError> {
        if !self.shows(change) {
            return Err(PluginError::InvalidInput(cannot_show(change)));
        }
        call!(self, "update", |c, store| match &c {
            ChannelInstance::Chat(c) => match v1_change(change) {
                Some(old) => {
                    c.call_update(&mut *store, receipt, old, message, event, config_json)
                        .await
                }
                None => Ok(Err(types::PluginError::InvalidInput(cannot_show(change)))),
            },
            ChannelInstance::ChatV2(c) => {
                c.call_update(&mut *store, receipt, change, message, event, config_json)
                    .await
            }
            ChannelInstance::Email(c) => match v1_change(change) {
                Some(old) => {
                    c.call_update(&mut *store, receipt, old, message, event, config_json)
                        .await
                }
                None => Ok(Err(types::PluginError::InvalidInput(cannot_show(change)))),
            },
            ChannelInstance::EmailV2(c) => {
                c.call_update(&mut *store, receipt, change, message, event, config_json)
                    .await
            }
        })
    }
}

/// `change` as `versus:gateway@0.1.0` names it, if 0.1.0 has it.
fn v1_change(change: StatusChange) -> Option<types::StatusChange> {
    match change {
        StatusChange::Acknowledged => Some(types::StatusChange::Acknowledged),
        StatusChange::Escalated => Some(types::StatusChange::Escalated),
        StatusChange::Resolved => Some(types::StatusChange::Resolved),
        StatusChange::PagingFailed => None,
    }
}

fn cannot_show(change: StatusChange) -> String {
    format!(
        "this channel is built against versus:gateway@0.1.0, which cannot show {change:?}; build it against @0.2.0"
    )
}
