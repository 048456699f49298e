//! The only `bindgen!` calls: host-side bindings for the three plugin worlds
//! of `versus:gateway@0.1.0`, the `channel` world of `versus:gateway@0.2.0`,
//! the `email-channel` worlds of `versus:mail@0.1.0` and `@0.2.0` and the
//! `escalator` world of `versus:oncall@0.1.0`. The 0.1.0
//! `channel` world generates the shared interfaces; the other worlds reuse
//! them through `with`, so one Rust type serves every world.

/// Bindings for the `channel` world, plus the shared interfaces.
pub mod channel {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "channel",
        imports: { default: async },
        exports: { default: async },
    });
}

/// Bindings for the `renderer` world.
pub mod renderer {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "renderer",
        imports: { default: async },
        exports: { default: async },
        with: {
            "versus:gateway/types": super::channel::versus::gateway::types,
            "versus:gateway/log": super::channel::versus::gateway::log,
        },
    });
}

/// Bindings for the `transformer` world.
pub mod transformer {
    wasmtime::component::bindgen!({
        path: "../wit",
        world: "transformer",
        imports: { default: async },
        exports: { default: async },
        with: {
            "versus:gateway/types": super::channel::versus::gateway::types,
            "versus:gateway/log": super::channel::versus::gateway::log,
            "versus:gateway/http": super::channel::versus::gateway::http,
        },
    });
}

/// Bindings for the `channel` world of `versus:gateway@0.2.0`: 0.1.0's
/// imports and records, and a status change that can say paging failed.
pub mod channel_v2 {
    wasmtime::component::bindgen!({
        path: ["../wit", "../wit-0.2"],
        world: "versus:gateway/channel@0.2.0",
        imports: { default: async },
        exports: { default: async },
        with: {
            "versus:gateway/types": super::channel::versus::gateway::types,
            "versus:gateway/log": super::channel::versus::gateway::log,
            "versus:gateway/http": super::channel::versus::gateway::http,
        },
    });
}

/// Bindings for `versus:mail/email-channel`: the channel world plus the
/// `smtp` import (a package of its own, so `versus:gateway@0.1.0` keeps its
/// shape).
pub mod email_channel {
    wasmtime::component::bindgen!({
        path: ["../wit", "../wit-mail"],
        world: "versus:mail/email-channel",
        imports: { default: async },
        exports: { default: async },
        with: {
            "versus:gateway/types": super::channel::versus::gateway::types,
            "versus:gateway/log": super::channel::versus::gateway::log,
            "versus:gateway/http": super::channel::versus::gateway::http,
        },
    });
}

/// Bindings for `versus:mail/email-channel@0.2.0`: the 0.2.0 channel world
/// plus 0.1.0's `smtp` import.
pub mod email_channel_v2 {
    wasmtime::component::bindgen!({
        path: ["../wit", "../wit-0.2", "../wit-mail", "../wit-mail-0.2"],
        world: "versus:mail/email-channel@0.2.0",
        imports: { default: async },
        exports: { default: async },
        with: {
            "versus:gateway/types": super::channel::versus::gateway::types,
            "versus:gateway/log": super::channel::versus::gateway::log,
            "versus:gateway/http": super::channel::versus::gateway::http,
            "versus:gateway/status": super::channel_v2::versus::gateway0_2_0::status,
            "versus:mail/smtp": super::email_channel::versus::mail::smtp,
        },
    });
}

/// Bindings for `versus:oncall/escalator@0.1.0`: an on-call target, with
/// `versus:gateway@0.1.0`'s imports and error type.
pub mod escalator {
    wasmtime::component::bindgen!({
        path: ["../wit", "../wit-oncall"],
        world: "versus:oncall/escalator",
        imports: { default: async },
        exports: { default: async },
        with: {
            "versus:gateway/types": super::channel::versus::gateway::types,
            "versus:gateway/log": super::channel::versus::gateway::log,
            "versus:gateway/http": super::channel::versus::gateway::http,
        },
    });
}

pub use channel::versus::gateway::{http, log, types};
pub use channel::{Channel, ChannelPre};
pub use channel_v2::versus::gateway0_2_0::status::StatusChange;
pub use channel_v2::{Channel as ChannelV2, ChannelPre as ChannelV2Pre};
pub use email_channel::versus::mail::smtp;
pub use email_channel::{EmailChannel, EmailChannelPre};
pub use email_channel_v2::{EmailChannel as EmailChannelV2, EmailChannelPre as EmailChannelV2Pre};
pub use escalator::versus::oncall::types as oncall_types;
pub use escalator::{Escalator, EscalatorPre};
pub use renderer::{Renderer, RendererPre};
pub use transformer::{Transformer, TransformerPre};
