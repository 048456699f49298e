//! [`PluginError`]: why a plugin call failed, from the guest's own
//! `plugin-error` or from the host's sandbox (trap, time, memory, output,
//! a full instance pool).

use std::time::Duration;

use super::bindings::types;

/// Why a plugin call failed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum PluginError {
    /// The guest rejected its input.
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// The guest reported a configuration problem.
    #[error("configuration: {0}")]
    Config(String),
    /// A temporary failure; worth retrying.
    #[error("transient: {message}")]
    Transient {
        /// Guest's message.
        message: String,
        /// Wait the remote side asked for.
        retry_after: Option<Duration>,
    },
    /// A failure retrying will not fix.
    #[error("permanent: {0}")]
    Permanent(String),
    /// The guest trapped (a plugin bug): the store was dropped.
    #[error("plugin trapped: {0}")]
    Trap(String),
    /// The call ran past its deadline.
    #[error("plugin exceeded its {0:?} time limit")]
    Timeout(Duration),
    /// The guest tried to grow memory past its cap.
    #[error("plugin exceeded its {0} MiB memory limit")]
    MemoryLimit(u32),
    /// The guest returned more than `max_output_bytes`.
    #[error("plugin output of {size} bytes exceeds the {limit}-byte limit")]
    OutputTooLarge {
        /// Bytes returned.
        size: usize,
        /// The cap.
        limit: usize,
    },
    /// The component could not be instantiated.
    #[error("plugin could not be instantiated: {0}")]
    Instantiate(String),
    /// Every pooled instance stayed in use for the whole wait.
    #[error(
        "no free plugin instance within {0:?}: more plugin calls are in flight than the instance pool holds"
    )]
    Busy(Duration),
}

impl PluginError {
    /// A short label for logs and metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::InvalidInput(_) => "invalid_input",
            Self::Config(_) => "config",
            Self::Transient { .. } => "transient",
            Self::Permanent(_) => "permanent",
            Self::Trap(_) => "trap",
            Self::Timeout(_) => "timeout",
            Self::MemoryLimit(_) => "memory",
            Self::OutputTooLarge { .. } => "output_too_large",
            Self::Instantiate(_) => "instantiate",
            Self::Busy(_) => "busy",
        }
    }
}

impl From<types::PluginError> for PluginError {
    fn from(e: types::PluginError) -> Self {
        match e {
            types::PluginError::InvalidInput(m) => Self::InvalidInput(m),
            types::PluginError::Config(m) => Self::Config(m),
            types::PluginError::Transient(r) => Self::Transient {
                message: r.message,
                retry_after: r.retry_after_ms.map(Duration::from_millis),
            },
            types::PluginError::Permanent(m) => Self::Permanent(m),
        }
    }
}
