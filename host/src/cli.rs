//! Command-line interface: `versus` (serve), `versus check`, `versus render`,
//! `versus plugin test`.

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
    /// Config file (upstream Versus `config.yaml` format plus `plugins:`);
    /// for `plugin test`, the plugin's own config instead.
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
    Check {
        /// A sample alert (JSON, as a sender would POST it): every channel's
        /// template is also rendered with it, after the transforms, and a
        /// render-time error fails the check.
        #[arg(long)]
        data: Option<PathBuf>,
    },
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
    /// Work with one plugin on its own, outside the gateway.
    Plugin {
        /// What to do with the plugin.
        #[command(subcommand)]
        command: PluginCommand,
    },
}

/// `versus plugin` subcommands.
#[derive(Debug, Subcommand)]
pub enum PluginCommand {
    /// Run one call of a plugin against an alert and print the result and
    /// every HTTP request the plugin makes (sent for real, or answered
    /// locally with --dry-run). Exit status 0 when the call succeeds.
    #[command(after_help = PLUGIN_TEST_HELP)]
    Test(Box<PluginTestArgs>),
}

/// Options of `versus plugin test`.
#[derive(Debug, clap::Args)]
pub struct PluginTestArgs {
    /// The plugin: a `.wasm` file, or a built-in's name (e.g. `slack`).
    #[arg(long)]
    pub plugin: String,
    /// JSON data file: the alert, as a sender would POST it.
    #[arg(long)]
    pub data: PathBuf,
    /// The world to call the plugin as; found from the component if omitted.
    #[arg(long)]
    pub world: Option<TestWorld>,
    /// Channel: the message to deliver.
    #[arg(long, conflicts_with = "template")]
    pub message: Option<String>,
    /// Channel: a template rendered with the data to make the message.
    /// Renderer: the template to render.
    #[arg(long)]
    pub template: Option<PathBuf>,
    /// Channel: after a delivery, also call `update` with this change.
    #[arg(long)]
    pub update: Option<TestChange>,
    /// The incident's ACK link, as while an on-call escalation is pending
    /// (an escalator's page links to it).
    #[arg(long)]
    pub ack_url: Option<String>,
    /// Escalator: after `start`, also call `acknowledge` or `resolve` with
    /// its receipt (repeatable; called in the order given).
    #[arg(long = "follow-up", value_name = "ACTION")]
    pub follow_ups: Vec<TestFollowUp>,
    /// Escalator: who acknowledged, for --follow-up acknowledge.
    #[arg(long, value_name = "NAME")]
    pub who: Option<String>,
    /// Escalator: the incident's dedup key (default: the incident id).
    #[arg(long, value_name = "KEY")]
    pub dedup_key: Option<String>,
    /// Escalator: the `other_*` target a query would choose, e.g. the
    /// NAME of `?pagerduty_other_routing_key=NAME`.
    #[arg(long, value_name = "NAME")]
    pub route: Option<String>,
    /// The event's severity, as a transform would set it.
    #[arg(long)]
    pub severity: Option<String>,
    /// Send nothing: print each request and answer it with
    /// --dry-run-status and --dry-run-body.
    #[arg(long)]
    pub dry_run: bool,
    /// Dry run: the status of every answer.
    #[arg(long, default_value_t = 200)]
    pub dry_run_status: u16,
    /// Dry run: the body of every answer (JSON).
    #[arg(long, default_value = r#"{"ok":true}"#)]
    pub dry_run_body: String,
    /// A host the plugin may call, `scheme://host[:port]` as in
    /// `allowed_hosts` (repeatable). Default: any host.
    #[arg(long = "allow-host", value_name = "PATTERN")]
    pub allow_hosts: Vec<String>,
    /// Let the plugin reach loopback and private addresses, e.g. a test
    /// server on 127.0.0.1.
    #[arg(long)]
    pub allow_private_networks: bool,
    /// Time limit of the call, in seconds.
    #[arg(long, default_value_t = 10.0, value_name = "SECONDS")]
    pub timeout: f64,
    /// Memory limit of the call, in MiB.
    #[arg(long, default_value_t = 64, value_name = "MIB")]
    pub memory_mb: u32,
}

/// The world `versus plugin test` calls a plugin as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TestWorld {
    /// `deliver` (and `update` with --update).
    Channel,
    /// `transform`.
    Transformer,
    /// `render`.
    Renderer,
    /// `start` (then `acknowledge` or `resolve` with --follow-up).
    Escalator,
}

/// What `versus plugin test --follow-up` tells an escalator after `start`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TestFollowUp {
    /// Someone acknowledged after the page went out.
    Acknowledge,
    /// The alert resolved.
    Resolve,
}

/// A state change for `versus plugin test --update`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TestChange {
    /// Someone acknowledged the incident.
    Acknowledged,
    /// Nobody did: the on-call response plan started.
    Escalated,
    /// The alert resolved.
    Resolved,
    /// Starting the response plan failed for good: nobody was paged
    /// (a `versus:gateway@0.2.0` channel shows it; an older one cannot).
    PagingFailed,
}

const MAIN_HELP: &str = "\
Examples:
  versus                                   serve with config/config.yaml on :3000
  versus --config /etc/versus/config.yaml  serve with another config
  versus check                             validate the config, then exit
  versus render --template config/slack_message.tmpl \\
      --data tests/fixtures/alertmanager/critical.json
  versus plugin test --plugin my_channel.wasm --data alert.json \\
      --config '{\"url\": \"https://hooks.example.com/x\"}' --message hi --dry-run

Environment variables such as PORT, SLACK_TOKEN, REDIS_HOST and ONCALL_ENABLE
override the config file (see docs/configuration.md). RUST_LOG sets the log
level, e.g. RUST_LOG=debug.";

const SERVE_HELP: &str = "\
Routes: POST /api/incidents, GET /api/ack/{id} (confirmation page),
POST /api/ack/{id} (acknowledge), GET /api/incidents/{id}, GET /healthz,
GET /readyz, GET /metrics.

Examples:
  versus serve
  PORT=8080 SLACK_ENABLE=true SLACK_TOKEN=xoxb-... SLACK_CHANNEL_ID=C0123 versus serve
  kill -HUP <pid>          reload config, templates and plugins now

A reload happens when the content of the config file, a template in use or
a plugin in use in plugins.dir changes; other files in those folders (a log
file, editor files) never trigger one. host, port, public_host, oncall,
redis, plugins.cache_dir, plugins.watch, ingest.header_read_timeout and log
are read at startup: a reload that changes them logs a warning naming each
key and keeps the running value until a restart.

SIGTERM or Ctrl-C stops accepting, finishes requests in flight and exits 0.";

const CHECK_HELP: &str = "\
Reads the config with the same environment overrides as serve, compiles the
plugins it names and parses every template; prints every warning serving
would log at startup (ignored keys, on-call without Redis, ...). Use it in
CI or before a reload. It does not connect to Redis, Slack or AWS.

Examples:
  versus check
  versus check --data tests/fixtures/alertmanager/critical.json
  SLACK_TOKEN=xoxb-test SLACK_CHANNEL_ID=C0123 versus check --config examples/config.yaml";

const RENDER_HELP: &str = "\
Prints exactly what the template renders, byte for byte, so you can compare
it with a golden file. Errors go to stderr with exit status 1. Add \"AckURL\"
or \"Repeat\": true to the data to preview on-call messages.

Examples:
  versus render --template config/slack_message.tmpl \\
      --data tests/fixtures/alertmanager/critical.json
  versus render --template my.tmpl --data alert.json --renderer my_renderer.wasm";

const PLUGIN_TEST_HELP: &str = "\
Here --config is the plugin's own config, what a `channels:` entry has under
`config:`: JSON text, or a JSON or YAML file holding that mapping (default:
empty). A channel needs the message: --message TEXT, or --template FILE to
render it from the data with the built-in gotemplate renderer.

Requests and answers are printed in full, secrets included, on stdout
(`>` lines are sent, `<` lines received); the plugin's log lines go to
stderr. A transient error is reported once: the gateway would retry it.

Examples:
  versus plugin test --plugin target/my_channel.wasm --data alert.json \\
      --config '{\"url\": \"https://hooks.example.com/x\"}' --message 'disk full' --dry-run
  versus plugin test --plugin slack --data alert.json --template slack.tmpl \\
      --config '{\"token\": \"xoxb-...\", \"channel_id\": \"C0123\"}' --update acknowledged \\
      --dry-run --dry-run-body '{\"ok\": true, \"channel\": \"C0123\", \"ts\": \"1.2\"}'
  versus plugin test --plugin alertmanager --data alert.json
  versus plugin test --plugin webhook --data alert.json --message hi \\
      --config '{\"url\": \"http://127.0.0.1:9000/hook\"}' --allow-private-networks
  versus plugin test --plugin pagerduty --data alert.json \\
      --config '{\"routing_key\": \"R0UTING\"}' --follow-up acknowledge --who alice --dry-run

An escalator (an on-call provider: pagerduty, opsgenie, my_pager.wasm, ...)
gets the incident the gateway would build from the data: its title,
severity, summary, labels and source link, with --ack-url, --dedup-key and
--route as given. Its --config is the JSON object the gateway passes it,
the keys of its oncall.<provider> section (docs/oncall-providers.md).";
