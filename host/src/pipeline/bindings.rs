//! The only `bindgen!` calls: host-side bindings for the three plugin worlds
//! of `versus:gateway@0.1.0`. The `channel` world generates the shared
//! interfaces; the other worlds reuse them through `with`, so one Rust type
//! serves every world.

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

pub use channel::versus::gateway::{http, log, types};
pub use channel::{Channel, ChannelPre};
pub use renderer::{Renderer, RendererPre};
pub use transformer::{Transformer, TransformerPre};
