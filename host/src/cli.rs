//! Command-line interface: `versus` (serve), `versus check`, `versus render`.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// Incident alert gateway: receives alerts over HTTP, renders them with your
/// Go-syntax templates and posts them to chat, with every customisable step
/// running as a sandboxed WebAssembly plugin.
#[derive(Debug, Parser)]
#[command(name = "versus", version, propagate_version = true)]
pub struct Cli {
    /// Config file (upstream Versus `config.yaml` format plus `plugins:`).
    #[arg(
        long,
        short,
        global = true,
        env = "VERSUS_CONFIG",
        default_value = "config/config.yaml"
    )]
    pub config: PathBuf,

    /// Log format; default: `log.format` from the config, else text.
    #[arg(long, global = true, env = "VERSUS_LOG_FORMAT")]
    pub log_format: Option<LogFormat>,

    /// What to do; serves when omitted.
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// Log output format.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the gateway (the default). Reloads plugins, templates and config
    /// when their files change or on SIGHUP.
    Serve,
    /// Validate the config, compile every plugin it uses and parse every
    /// template, then exit: 0 when all is well, 1 with the problem otherwise.
    Check,
    /// Render a template with a JSON data file through the renderer plugin
    /// and print exactly the result on stdout. Use it to preview templates.
    Render {
        /// Template file (Go text/template syntax).
        #[arg(long)]
        template: PathBuf,
        /// JSON data file, e.g. an Alertmanager webhook payload.
        #[arg(long)]
        data: PathBuf,
        /// Renderer plugin file; defaults to the built-in `gotemplate`.
        #[arg(long)]
        renderer: Option<PathBuf>,
    },
}
