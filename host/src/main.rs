//! The `versus` binary: parse the CLI, set up logging, then serve, check,
//! render or test a plugin.

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use anyhow::Context;
use clap::parser::ValueSource;
use clap::{CommandFactory, FromArgMatches};
use versus::cli::{Cli, Command, PluginCommand};
use versus::config::{Config, PluginsConfig};
use versus::pipeline::{Loader, Reloader, cache};
use versus::{AppState, app};

/// How long in-flight requests may run after SIGTERM/SIGINT: the usual
/// container stop grace period is 30 s, and a delivery's retry budget
/// (`alert.retry.max_elapsed`) defaults to 30 s too.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(25);

/// See the workspace `Cargo.toml` for why not the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    // `plugin test --config` is the plugin's config, not the gateway's, so
    // only a value given on its command line counts (not the default or
    // VERSUS_CONFIG).
    let plugin_config = matches
        .subcommand_matches("plugin")
        .and_then(|m| m.subcommand_matches("test"))
        .filter(|m| m.value_source("config") == Some(ValueSource::CommandLine))
        .map(|_| cli.config.to_string_lossy().into_owned());
    let quiet = matches!(cli.command, Some(Command::Render { .. }));
    // Serving and `check` read the config file once, here: its `log.format`
    // picks the log format before anything is logged.
    let loaded = matches!(
        cli.command,
        None | Some(Command::Serve) | Some(Command::Check { .. })
    )
    .then(|| Config::load_with_warnings(&cli.config));
    let config = loaded
        .as_ref()
        .and_then(|l| l.as_ref().ok())
        .map(|(c, _)| c);
    versus::logging::init(versus::logging::format_for(cli.log_format, config), quiet);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            None | Some(Command::Serve) => serve(cli.config, loaded).await,
            Some(Command::Check { data }) => check(cli.config, loaded, data).await,
            Some(Command::Render {
                template,
                data,
                renderer,
            }) => render(template, data, renderer).await,
            Some(Command::Plugin {
                command: PluginCommand::Test(args),
            }) => {
                let cache = cache_dir(&PluginsConfig::default());
                match versus::plugin_test::run(&args, plugin_config.as_deref(), cache).await {
                    Ok(true) => Ok(()),
                    Ok(false) => Err(anyhow::anyhow!("the plugin call failed")),
                    Err(e) => Err(e),
                }
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let message = format!("error: {e:#}");
            eprintln!("{}", versus::logging::redact::redact(&message));
            ExitCode::FAILURE
        }
    }
}

/// The cache directory from the config, else the default. `none` disables it.
fn cache_dir(plugins: &PluginsConfig) -> Option<std::path::PathBuf> {
    match &plugins.cache_dir {
        Some(d) if d.as_os_str() == "none" => None,
        Some(d) => Some(d.clone()),
        None => cache::default_dir(),
    }
}

/// The config file as `main` read it: the config and its warnings, or
/// why it could not be used; `None` when the command does not read it.
type Loaded = Option<Result<(Config, Vec<String>), versus::config::ConfigError>>;

/// The config `main` read, or the error to stop with.
fn loaded_config(loaded: Loaded, path: &std::path::Path) -> anyhow::Result<(Config, Vec<String>)> {
    match loaded {
        Some(result) => Ok(result?),
        None => Ok(Config::load_with_warnings(path)?),
    }
}

async fn serve(config_path: std::path::PathBuf, loaded: Loaded) -> anyhow::Result<()> {
    let (config, warnings) = loaded_config(loaded, &config_path)?;
    let config = versus::logging::adopt_config(config, &warnings, &config_path);
    let loader = Arc::new(Loader::new(cache_dir(&config.plugins))?);
    let reloader = Reloader::start_with(config_path, config.clone(), loader).await?;
    if config.plugins.watch {
        reloader.watch().context("cannot start the file watcher")?;
    }
    reloader
        .reload_on_sighup()
        .context("cannot listen for SIGHUP")?;
    let oncall = versus::oncall::setup::build(&config, reloader.clone()).await?;
    let shutdown = Arc::new(tokio::sync::Notify::new());
    if let Some(oc) = &oncall {
        tokio::spawn(versus::oncall::scheduler::run(
            oc.clone(),
            oc.wake.clone(),
            shutdown.clone(),
        ));
    }

    let addr = format!("{}:{}", config.host, config.port);
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .with_context(|| format!("cannot listen on {addr} (set `host`/`port` in the config)"))?;
    let summary = versus::summary::startup(&addr, &reloader.config(), &reloader.pipeline());
    tracing::info!(%addr, "{summary}");
    let mut state = AppState::new(reloader);
    if let Some(oc) = &oncall {
        state.ledger = Arc::new(oc.store.ledger());
        state.outbox = Arc::new(oc.store.outbox());
    }
    state.oncall = oncall;
    let gate = state.gate.clone();
    let stopping = Arc::new(tokio::sync::Notify::new());
    let signalled = stopping.clone();
    let (stop_polling, polling) = tokio::sync::watch::channel(false);
    versus::outbox::start(
        state.outbox.clone(),
        state.reloader.clone(),
        state.oncall.clone(),
        gate.clone(),
        polling.clone(),
    );
    if let Some(sqs) = config.queue.sqs() {
        tokio::spawn(versus::server::sqs::run(
            state.clone(),
            sqs.clone(),
            polling,
        ));
    }
    let header_timeout = config.ingest.header_read_timeout;
    let server = versus::server::listen::serve(listener, app(state), header_timeout, async move {
        shutdown_signal().await;
        stop_polling.send_replace(true);
        signalled.notify_one();
    });
    // Strategy: after the signal, in-flight requests get SHUTDOWN_GRACE to
    // finish, including alerts whose sender already hung up (they run in
    // their own tasks, see `server::limits::shed`) and deliveries that
    // outlived their request (`in_flight::Gate::hold`); a connection that
    // never finishes cannot hold the process up past it.
    let grace = async {
        stopping.notified().await;
        tokio::time::sleep(SHUTDOWN_GRACE).await;
    };
    tokio::select! {
        () = server => {
            if tokio::time::timeout(SHUTDOWN_GRACE, gate.wait_idle()).await.is_err() {
                tracing::warn!(
                    in_flight = gate.in_flight(),
                    background = gate.background(),
                    "alerts still being processed at shutdown"
                );
            }
        }
        () = grace => tracing::warn!(
            in_flight = gate.in_flight(),
            background = gate.background(),
            "requests still running {SHUTDOWN_GRACE:?} after the shutdown signal; exiting anyway"
        ),
    }
    shutdown.notify_waiters();
    tracing::info!("shut down cleanly");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = ctrl_c => {},
                _ = term.recv() => {},
            }
        }
        Err(_) => {
            let _ = ctrl_c.await;
        }
    }
    tracing::info!("shutdown requested; finishing in-flight requests");
}

async fn check(
    config_path: std::path::PathBuf,
    loaded: Loaded,
    data: Option<std::path::PathBuf>,
) -> anyhow::Result<()> {
    let (config, mut warnings) = loaded_config(loaded, &config_path)?;
    warnings.extend(versus::oncall::setup::warnings(&config));
    // The report and any error below are masked like the log.
    versus::logging::remember_secrets(&config);
    let loader = Loader::new(cache_dir(&config.plugins))?;
    let pipeline = loader.build(&config, 1).await?;
    let stats = &loader.cache().stats;
    use versus::summary;
    let mut report = format!("config {} is valid\n", config_path.display());
    report += &format!("  listen:   {}:{}\n", config.host, config.port);
    report += &format!("  channels: {}\n", summary::channels(&pipeline));
    report += &format!("  on-call:  {}\n", summary::oncall(&config));
    report += &format!("  plugins:  {}\n", summary::plugins(&pipeline));
    report += &format!(
        "components: {} compiled, {} loaded from cache\n",
        stats.compiled.load(Ordering::Relaxed),
        stats.disk_hits.load(Ordering::Relaxed) + stats.memory_hits.load(Ordering::Relaxed)
    );
    if !warnings.is_empty() {
        report += &format!("{} warning(s):\n", warnings.len());
        for w in &warnings {
            report += &format!("  - {w}\n");
        }
    }
    print!("{}", versus::logging::redact::redact(&report));
    if let Some(data) = data {
        let text = std::fs::read_to_string(&data)
            .with_context(|| format!("cannot read data {}", data.display()))?;
        let failed = versus::incident::render_all(&pipeline, &text).await?;
        if failed > 0 {
            anyhow::bail!(
                "{failed} template(s) fail to render {}: fix them before deploying",
                data.display()
            );
        }
    }
    Ok(())
}

async fn render(
    template: std::path::PathBuf,
    data: std::path::PathBuf,
    renderer: Option<std::path::PathBuf>,
) -> anyhow::Result<()> {
    let template_text = std::fs::read_to_string(&template)
        .with_context(|| format!("cannot read template {}", template.display()))?;
    let data_text = std::fs::read_to_string(&data)
        .with_context(|| format!("cannot read data {}", data.display()))?;
    let plugins = PluginsConfig::default();
    let loader = Loader::new(cache_dir(&plugins))?;
    let plugin = loader
        .renderer(&plugins, &plugins.renderer, renderer.as_deref())
        .await?;
    let text = plugin.render(&template_text, &data_text).await?;
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(())
}
