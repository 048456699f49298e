//! Command-line interface: `versus` (serve), `versus check`, `versus render`.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// Incident alert gateway: receives alerts over HTTP, renders them with your
/// Go-syntax templates and posts them to chat, with every customisable step
/// running as a sandboxed WebAssembly plugin.
#[derive(Debug, Parser)]
#[command(
    name = "versus",
    version,
    propagate_version = true,
    after_help = MAIN_HELP
)]
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
    #[command(after_help = SERVE_HELP)]
    Serve,
    /// Validate the config, compile every plugin it uses and parse every
    /// template, then exit: 0 when all is well, 1 with the problem otherwise.
    #[command(after_help = CHECK_HELP)]
    Check,
    /// Render a template with a JSON data file through the renderer plugin
    /// and print exactly the result on stdout. Use it to preview templates.
    #[command(after_help = RENDER_HELP)]
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

const MAIN_HELP: &str = "\
Examples:
  versus                                   serve with config/config.yaml on :3000
  versus --config /etc/versus/config.yaml  serve with another config
  versus check                             validate the config, then exit
  versus render --template config/slack_message.tmpl \\
      --data tests/fixtures/alertmanager/critical.json

Environment variables such as PORT, SLACK_TOKEN, REDIS_HOST and ONCALL_ENABLE
override the config file (see docs/configuration.md). RUST_LOG sets the log
level, e.g. RUST_LOG=debug.";

const SERVE_HELP: &str = "\
Routes: POST /api/incidents, GET|POST /api/ack/{id}, GET /api/incidents/{id},
GET /healthz, GET /readyz, GET /metrics.

Examples:
  versus serve
  PORT=8080 SLACK_ENABLE=true SLACK_TOKEN=xoxb-... SLACK_CHANNEL_ID=C0123 versus serve
  kill -HUP <pid>          reload config, templates and plugins now

SIGTERM or Ctrl-C stops accepting, finishes requests in flight and exits 0.";

const CHECK_HELP: &str = "\
Reads the config with the same environment overrides as serve, compiles the
plugins it names and parses every template; lists the keys it ignores. Use
it in CI or before a reload. It does not connect to Redis, Slack or AWS.

Examples:
  versus check
  SLACK_TOKEN=xoxb-test SLACK_CHANNEL_ID=C0123 versus check --config examples/config.yaml";

const RENDER_HELP: &str = "\
Prints exactly what the template renders, byte for byte, so you can compare
it with a golden file. Errors go to stderr with exit status 1. Add \"AckURL\"
or \"Repeat\": true to the data to preview on-call messages.

Examples:
  versus render --template config/slack_message.tmpl \\
      --data tests/fixtures/alertmanager/critical.json
  versus render --template my.tmpl --data alert.json --renderer my_renderer.wasm";
