//! `versus plugin test`: one call of one plugin outside the gateway, with
//! its HTTP shown on stdout and, in a dry run, answered locally.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, bail};
use serde_json::Value;

use crate::cli::{PluginTestArgs, TestChange, TestFollowUp, TestWorld};
use crate::config::PluginsConfig;
use crate::pipeline::bindings::StatusChange;
use crate::pipeline::bindings::types::{Event, TransformOutcome};
use crate::pipeline::inspect::{CannedAnswer, Inspect};
use crate::pipeline::loader::file_stem;
use crate::pipeline::{
    ChannelPlugin, EscalatorPlugin, LoadError, Loader, RendererPlugin, TransformerPlugin,
};

/// A plugin loaded as one of the worlds.
enum Loaded {
    Channel(ChannelPlugin),
    Transformer(TransformerPlugin),
    Renderer(RendererPlugin),
    Escalator(EscalatorPlugin),
}

/// Runs the test; `Ok(false)` when the plugin call failed (already printed).
/// `config` is the text given as `--config`, if any.
pub async fn run(
    args: &PluginTestArgs,
    config: Option<&str>,
    cache_dir: Option<PathBuf>,
) -> anyhow::Result<bool> {
    let config_json = plugin_config(config)?;
    let data = std::fs::read_to_string(&args.data)
        .with_context(|| format!("cannot read data {}", args.data.display()))?;
    // The text as given, as the gateway passes an alert on.
    let payload: Box<serde_json::value::RawValue> = serde_json::from_str(&data)
        .with_context(|| format!("data {} is not JSON", args.data.display()))?;
    let event = Event {
        id: uuid::Uuid::new_v4().to_string(),
        payload: payload.get().to_owned(),
        resolved: crate::incident::is_resolved(&data),
        severity: args.severity.clone(),
        ack_url: args.ack_url.clone(),
        dedup_key: None,
    };

    let dry_run = args.dry_run.then(|| CannedAnswer {
        status: args.dry_run_status,
        body: args.dry_run_body.clone().into_bytes(),
    });
    let loader = Loader::new(cache_dir)?.inspecting(Inspect { dry_run });
    let plugins = limits(args)?;
    let (name, file) = locate(&args.plugin);
    let plugin = load(&loader, &plugins, &name, file.as_deref(), args.world).await?;

    match plugin {
        Loaded::Channel(channel) => {
            let message = message(&loader, args, &event).await?;
            println!("deliver ({name}, channel)");
            let receipt = match channel.deliver(&message, &event, &config_json).await {
                Ok(r) => r,
                Err(e) => return Ok(failed("deliver", &e)),
            };
            println!(
                "deliver: ok, receipt destination={:?} message_id={:?}",
                receipt.destination, receipt.message_id
            );
            let Some(change) = args.update else {
                return Ok(true);
            };
            let (change, word) = status_change(change);
            println!("update ({name}, {word})");
            match channel
                .update(&receipt, change, &message, &event, &config_json)
                .await
            {
                Ok(()) => println!("update: ok"),
                Err(e) => return Ok(failed("update", &e)),
            }
        }
        Loaded::Transformer(transformer) => {
            println!("transform ({name}, transformer)");
            match transformer.transform(&event).await {
                Ok(TransformOutcome::Keep(e)) => {
                    println!("transform: keep");
                    println!("{}", event_json(&e));
                }
                Ok(TransformOutcome::Drop(reason)) => println!("transform: drop: {reason}"),
                Err(e) => return Ok(failed("transform", &e)),
            }
        }
        Loaded::Renderer(renderer) => {
            let Some(template) = &args.template else {
                bail!("a renderer needs the template to render: add --template FILE");
            };
            let text = read(template)?;
            println!("render ({name}, renderer)");
            let data = crate::incident::template_data(&event, true, false);
            match renderer.render(&text, &data).await {
                Ok(out) => {
                    println!("render: ok");
                    println!("{out}");
                }
                Err(e) => return Ok(failed("render", &e)),
            }
        }
        Loaded::Escalator(escalator) => {
            return escalate(&escalator, &name, args, &event, &config_json).await;
        }
    }
    Ok(true)
}

/// An escalator: `validate-config`, `start`, then each `--follow-up` with
/// the receipt `start` gave.
async fn escalate(
    escalator: &EscalatorPlugin,
    name: &str,
    args: &PluginTestArgs,
    event: &Event,
    config_json: &str,
) -> anyhow::Result<bool> {
    use crate::oncall::target::{links, page};
    if let Err(e) = escalator.validate_config(config_json).await {
        return Ok(failed("validate-config", &e));
    }
    let payload: Value = serde_json::from_str(&event.payload).unwrap_or_default();
    let severity = event.severity.as_deref();
    let routes = args.route.iter().map(|r| (name.to_string(), r.clone()));
    let details = crate::oncall::title::details(&payload, routes.collect());
    let source_url = details.source_url.clone();
    let record = crate::oncall::NewIncident {
        id: event.id.clone(),
        created_ms: 0,
        deadline_ms: 0,
        response_plan_arn: String::new(),
        title: crate::oncall::title::title(&payload, severity),
        severity: crate::oncall::title::severity(&payload, severity).map(str::to_owned),
        impact: None,
        dedup_key: args.dedup_key.clone(),
        ack_exp: 0,
        ack_expiry_ms: 0,
        details,
    };
    let incident = page(
        &record,
        name,
        links(args.ack_url.clone(), source_url.as_deref()),
    );
    println!("start ({name}, escalator)");
    let receipt = match escalator.start(&incident, config_json).await {
        Ok(r) => r,
        Err(e) => return Ok(failed("start", &e)),
    };
    println!(
        "start: ok, receipt id={:?} url={:?}",
        receipt.id,
        receipt.url.as_deref().unwrap_or("")
    );
    for follow_up in &args.follow_ups {
        let result = match follow_up {
            TestFollowUp::Acknowledge => {
                match escalator.acknowledges().await {
                    Ok(true) => {}
                    Ok(false) => {
                        println!("acknowledge: skipped, the plugin has no acknowledge");
                        continue;
                    }
                    Err(e) => return Ok(failed("acknowledges", &e)),
                }
                println!("acknowledge ({name})");
                escalator
                    .acknowledge(&incident, &receipt, args.who.as_deref(), config_json)
                    .await
                    .map(|()| "acknowledge")
                    .map_err(|e| ("acknowledge", e))
            }
            TestFollowUp::Resolve => {
                println!("resolve ({name})");
                escalator
                    .resolve(&incident, &receipt, config_json)
                    .await
                    .map(|()| "resolve")
                    .map_err(|e| ("resolve", e))
            }
        };
        match result {
            Ok(op) => println!("{op}: ok"),
            Err((op, e)) => return Ok(failed(op, &e)),
        }
    }
    Ok(true)
}

fn failed(op: &str, e: &crate::pipeline::PluginError) -> bool {
    println!("{op}: failed ({}): {e}", e.kind());
    if matches!(e, crate::pipeline::PluginError::Transient { .. }) {
        println!("(the gateway would retry this within alert.retry)");
    }
    false
}

/// The plugin's config as JSON text: `--config` is JSON text, or a JSON or
/// YAML file holding the mapping.
fn plugin_config(config: Option<&str>) -> anyhow::Result<String> {
    let Some(config) = config else {
        return Ok("{}".into());
    };
    let value: Value = if config.trim_start().starts_with('{') {
        serde_json::from_str(config).context("--config is not valid JSON")?
    } else {
        let text = read(Path::new(config))?;
        serde_yaml_ng::from_str(&text)
            .with_context(|| format!("{config} is neither JSON nor YAML"))?
    };
    if !value.is_object() {
        bail!("--config must be a mapping, like the `config:` of a channels entry");
    }
    Ok(value.to_string())
}

/// Plugin limits from the command line.
fn limits(args: &PluginTestArgs) -> anyhow::Result<PluginsConfig> {
    if !(args.timeout.is_finite() && args.timeout > 0.0) {
        bail!("--timeout must be a number of seconds > 0");
    }
    let mut plugins = PluginsConfig::default();
    let d = &mut plugins.defaults;
    d.allowed_hosts = if args.allow_hosts.is_empty() {
        vec!["*://*:*".into()]
    } else {
        args.allow_hosts.clone()
    };
    d.allow_private_networks = args.allow_private_networks;
    d.timeout = Duration::from_secs_f64(args.timeout);
    d.http_timeout = d.http_timeout.min(d.timeout);
    d.memory_mb = args.memory_mb;
    Ok(plugins)
}

/// A path that exists (or looks like a file) is a file; anything else is a
/// built-in's name.
fn locate(spec: &str) -> (String, Option<PathBuf>) {
    let path = Path::new(spec);
    if path.exists() || spec.ends_with(".wasm") || spec.contains('/') {
        (file_stem(path), Some(path.to_path_buf()))
    } else {
        (spec.to_string(), None)
    }
}

/// Loads the plugin as `world`, or as the first world it implements.
async fn load(
    loader: &Loader,
    plugins: &PluginsConfig,
    name: &str,
    file: Option<&Path>,
    world: Option<TestWorld>,
) -> anyhow::Result<Loaded> {
    let worlds = match world {
        Some(w) => vec![w],
        None => vec![
            TestWorld::Channel,
            TestWorld::Transformer,
            TestWorld::Renderer,
            TestWorld::Escalator,
        ],
    };
    let mut causes = Vec::new();
    for w in worlds {
        let loaded = match w {
            TestWorld::Channel => loader
                .channel(plugins, name, file)
                .await
                .map(Loaded::Channel),
            TestWorld::Transformer => loader
                .transformer(plugins, name, file)
                .await
                .map(Loaded::Transformer),
            TestWorld::Renderer => loader
                .renderer(plugins, name, file)
                .await
                .map(Loaded::Renderer),
            TestWorld::Escalator => loader
                .escalator_plugin(plugins, name, file)
                .await
                .map(Loaded::Escalator),
        };
        match loaded {
            Ok(p) => return Ok(p),
            Err(LoadError::World { cause, .. }) => causes.push(format!("{w:?}: {cause}")),
            Err(other) => return Err(other.into()),
        }
    }
    let mut message = format!(
        "plugin `{name}` does not implement {}:\n  {}",
        match world {
            Some(_) => "that world",
            None => "the channel, transformer, renderer or escalator world",
        },
        causes.join("\n  ")
    );
    if causes.iter().any(|c| c.contains("versus:mail")) {
        message.push_str(
            "\nan email channel (versus:mail/email-channel) needs an SMTP server: test it through the gateway",
        );
    }
    bail!(message)
}

/// The message to deliver: `--message`, or `--template` rendered with the
/// data by the built-in renderer, with `AckURL` as the gateway adds it.
async fn message(loader: &Loader, args: &PluginTestArgs, event: &Event) -> anyhow::Result<String> {
    if let Some(m) = &args.message {
        return Ok(m.clone());
    }
    let Some(template) = &args.template else {
        bail!(
            "a channel needs the message to deliver: add --message TEXT, or --template FILE to render it from the data"
        );
    };
    let text = read(template)?;
    let plugins = PluginsConfig::default();
    let renderer = loader.renderer(&plugins, &plugins.renderer, None).await?;
    let data = crate::incident::template_data(event, true, false);
    renderer
        .render(&text, &data)
        .await
        .with_context(|| format!("cannot render {}", template.display()))
}

fn read(path: &Path) -> anyhow::Result<String> {
    std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))
}

fn status_change(change: TestChange) -> (StatusChange, &'static str) {
    match change {
        TestChange::Acknowledged => (StatusChange::Acknowledged, "acknowledged"),
        TestChange::Escalated => (StatusChange::Escalated, "escalated"),
        TestChange::Resolved => (StatusChange::Resolved, "resolved"),
        TestChange::PagingFailed => (StatusChange::PagingFailed, "paging-failed"),
    }
}

/// The event a transformer kept, as JSON, its payload parsed when it is JSON.
fn event_json(e: &Event) -> String {
    let payload = serde_json::from_str::<Value>(&e.payload)
        .unwrap_or_else(|_| Value::String(e.payload.clone()));
    let v = serde_json::json!({
        "id": e.id,
        "resolved": e.resolved,
        "severity": e.severity,
        "ack_url": e.ack_url,
        "dedup_key": e.dedup_key,
        "payload": payload,
    });
    serde_json::to_string_pretty(&v).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::{locate, plugin_config};

    #[test]
    fn config_is_json_text_or_a_file() {
        assert_eq!(plugin_config(None).ok().as_deref(), Some("{}"));
        assert_eq!(
            plugin_config(Some(r#" {"url": "https://h"} "#))
                .ok()
                .as_deref(),
            Some(r#"{"url":"https://h"}"#)
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("c.yaml");
        std::fs::write(&file, "url: https://h\nchat_id: -100\n").expect("write");
        assert_eq!(
            plugin_config(file.to_str()).ok().as_deref(),
            Some(r#"{"chat_id":-100,"url":"https://h"}"#)
        );
        std::fs::write(&file, "- a\n").expect("write");
        let err = plugin_config(file.to_str()).expect_err("a list");
        assert!(err.to_string().contains("must be a mapping"), "{err}");
        let err = plugin_config(Some("{nope")).expect_err("bad json");
        assert!(err.to_string().contains("not valid JSON"), "{err}");
    }

    #[test]
    fn files_and_builtin_names() {
        assert_eq!(locate("slack"), ("slack".into(), None));
        let (name, file) = locate("out/hook.wasm");
        assert_eq!(name, "hook");
        assert_eq!(file.as_deref(), Some(std::path::Path::new("out/hook.wasm")));
    }
}
