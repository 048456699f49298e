//! Versus: an incident alert gateway whose transforms, templates and chat
//! channels run as sandboxed WebAssembly components.

pub mod channel;
pub mod cli;
pub mod config;
pub mod escalator;
pub mod in_flight;
pub mod incident;
pub mod logging;
pub mod metrics;
pub mod oncall;
pub mod outbox;
pub mod pipeline;
pub mod plugin_test;
pub mod server;
pub mod summary;
#[cfg(test)]
mod testing;

pub use server::{AppState, app};
