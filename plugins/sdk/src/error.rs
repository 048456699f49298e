//! Constructors for [`PluginError`]: the host acts on the case, so each one
//! says what the host will do.

use crate::{PluginError, Retryable};

impl PluginError {
    /// The event or message cannot be handled; the host does not retry.
    pub fn invalid_input(message: impl Into<String>) -> Self {
        Self::InvalidInput(message.into())
    }

    /// The channel's settings are wrong; the host does not retry.
    pub fn config(message: impl Into<String>) -> Self {
        Self::Config(message.into())
    }

    /// The remote side refused for good; the host does not retry.
    pub fn permanent(message: impl Into<String>) -> Self {
        Self::Permanent(message.into())
    }

    /// A temporary failure; the host retries with backoff.
    pub fn transient(message: impl Into<String>) -> Self {
        Self::Transient(Retryable {
            message: message.into(),
            retry_after_ms: None,
        })
    }

    /// A temporary failure where the remote side asked to wait `ms`
    /// milliseconds; the host retries no sooner.
    pub fn retry_after(message: impl Into<String>, ms: u64) -> Self {
        Self::Transient(Retryable {
            message: message.into(),
            retry_after_ms: Some(ms),
        })
    }

    /// Whether the host will retry the call.
    pub fn is_retried(&self) -> bool {
        matches!(self, Self::Transient(_))
    }
}
