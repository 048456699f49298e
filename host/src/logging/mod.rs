//! Logging: `tracing` events to stderr, human-readable or one JSON object
//! per line, with every secret the gateway knows masked on the way out.
//!
//! Strategy: the gateway avoids logging secrets in the first place (URLs
//! are logged without their query, Redis URLs without their password, the
//! request span without its query string). As a last line of defence every
//! formatted line passes through [`redact::redact`] before it is written:
//! every secret the config holds (the keys the config schema marks secret,
//! read by [`Config::secrets`]: tokens, passwords, the ACK secret, ingest
//! credentials, Teams and Lark webhook URLs, secrets in plugin settings
//! and their headers), the AWS secret key and session token from the
//! environment, and the shapes secrets come in (`sig=…`, `Bearer …`, Slack
//! `xox…-` tokens, `scheme://user:password@` in URLs) are replaced with
//! `[redacted]`. `alert.debug_body` logs request bodies as sent; the same
//! masking applies to them.

pub mod redact;

use std::io::{IsTerminal, Write};
use std::path::Path;

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::cli::LogFormat;
use crate::config::{Config, ConfigError, SECRET_ENV_VARS, SecretKind};

/// The log format: the command line or `VERSUS_LOG_FORMAT` if given, else
/// `log.format` of `config` (when it loaded), else text.
pub fn format_for(cli: Option<LogFormat>, config: Option<&Config>) -> LogFormat {
    cli.or_else(|| config.and_then(|c| parse_format(&c.log.format)))
        .unwrap_or(LogFormat::Text)
}

/// `text` or `json`, in any case; `None` for anything else.
pub fn parse_format(text: &str) -> Option<LogFormat> {
    match text.trim().to_ascii_lowercase().as_str() {
        "text" => Some(LogFormat::Text),
        "json" => Some(LogFormat::Json),
        _ => None,
    }
}

/// Loads the config at `path`, as serving and every reload do: its secrets
/// are masked in every later log line, then each of its warnings is logged,
/// once.
pub fn load_config(path: &Path) -> Result<Config, ConfigError> {
    let (config, warnings) = Config::load_with_warnings(path)?;
    Ok(adopt_config(config, &warnings, path))
}

/// A config loaded from `path` with `warnings`: remembers its secrets, then
/// logs the warnings.
pub fn adopt_config(config: Config, warnings: &[String], path: &Path) -> Config {
    remember_secrets(&config);
    for warning in warnings {
        tracing::warn!(config = %path.display(), "{warning}");
    }
    config
}

/// Installs the global subscriber: `RUST_LOG` filters (default `info`, or
/// `warn` when `quiet`), output goes to stderr through the redacting writer.
pub fn init(format: LogFormat, quiet: bool) {
    let default = if quiet { "warn" } else { "info" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    // Colours only on a terminal: log files and collectors get plain text.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(RedactingStderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(true)
            .init(),
    }
}

/// Remembers the secrets in `config`, so that they are masked in every
/// later log line. Called on every (re)load, before anything about that
/// config is logged; secrets are never forgotten while the process runs.
pub fn remember_secrets(config: &Config) {
    for secret in config.secrets() {
        match secret.kind {
            SecretKind::Text => redact::remember(secret.value),
            SecretKind::Url => redact::remember_url(secret.value),
            SecretKind::UrlPassword => redact::remember_url_password(secret.value),
        }
    }
    for var in SECRET_ENV_VARS {
        if let Ok(v) = std::env::var(var) {
            redact::remember(&v);
        }
    }
}

/// Writes each formatted line to stderr with secrets masked.
struct RedactingStderr;

impl<'a> MakeWriter<'a> for RedactingStderr {
    type Writer = RedactingWriter;

    fn make_writer(&'a self) -> Self::Writer {
        RedactingWriter
    }
}

/// One event's writer. `tracing-subscriber` formats a whole event into one
/// buffer and writes it with one `write_all`, so a secret is never split
/// across two calls.
struct RedactingWriter;

impl Write for RedactingWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let text = String::from_utf8_lossy(buf);
        std::io::stderr().write_all(redact::redact(&text).as_bytes())?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_command_line_wins_then_the_config_then_text() {
        let json = Config::parse("log:\n  format: JSON\n", Path::new("j.yaml")).expect("json");
        let plain = Config::default();
        assert!(matches!(format_for(None, Some(&json)), LogFormat::Json));
        assert!(matches!(
            format_for(Some(LogFormat::Text), Some(&json)),
            LogFormat::Text
        ));
        assert!(matches!(format_for(None, Some(&plain)), LogFormat::Text));
        assert!(matches!(format_for(None, None), LogFormat::Text));
        assert!(matches!(
            format_for(Some(LogFormat::Json), None),
            LogFormat::Json
        ));
    }
}
