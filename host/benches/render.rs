//! Renderer benchmark: the seed Slack template with the critical Alertmanager
//! payload, rendered natively and through the Wasm plugin, plus compile,
//! cache-load and reload latency. Two pairs are compared like for like:
//! - a fresh instance per call (`calls_per_instance: 1`), which parses the
//!   template every time, against a native parse + render;
//! - a reused instance (the default), which keeps the parsed template,
//!   against a native render of a template parsed once.
//!
//! Run with `cargo bench -p versus --bench render`; prints a Markdown table.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use versus::config::PluginsConfig;
use versus::pipeline::{Loader, Reloader};

const ITERS: usize = 5_000;

fn repo() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Times `f` [`ITERS`] times.
fn time_each(mut f: impl FnMut()) -> Vec<Duration> {
    (0..ITERS)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect()
}

fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn p99(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() * 99 / 100]
}

/// Times [`ITERS`] sequential calls of `call`.
async fn time_calls<F: Future>(mut call: impl FnMut() -> F) -> Vec<Duration> {
    let mut v = Vec::with_capacity(ITERS);
    for _ in 0..ITERS {
        let t = Instant::now();
        std::hint::black_box(call().await);
        v.push(t.elapsed());
    }
    v
}

fn main() -> anyhow::Result<()> {
    let template =
        std::fs::read_to_string(repo().join("tests/fixtures/templates/slack_message.tmpl"))?;
    let data = std::fs::read_to_string(repo().join("tests/fixtures/alertmanager/critical.json"))?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let mut rows: Vec<(String, String)> = Vec::new();

    // Native: parse + render, the same work the guest does per call.
    let mut native = Vec::with_capacity(ITERS);
    for _ in 0..ITERS {
        let t = Instant::now();
        let out = versus_plugin_gotemplate::render(&template, &data)?;
        native.push(t.elapsed());
        std::hint::black_box(out);
    }
    let native_med = median(native.clone());
    rows.push(("native render, median".into(), format!("{native_med:.1?}")));
    rows.push(("native render, p99".into(), format!("{:.1?}", p99(native))));
    // The same work split: parsing the template vs executing it.
    let prepared = versus_plugin_gotemplate::Prepared::parse(&template)?;
    let parse = median(time_each(|| {
        std::hint::black_box(versus_plugin_gotemplate::Prepared::parse(&template).ok());
    }));
    let exec = median(time_each(|| {
        std::hint::black_box(prepared.render_json(&data).ok());
    }));
    rows.push((
        "native split: parse / execute (with JSON decode), median".into(),
        format!("{parse:.1?} / {exec:.1?}"),
    ));

    let plugins = PluginsConfig::default();
    let cache_dir = tempfile::tempdir()?;

    // Compile (cache miss) and cache load (a second loader, same directory).
    let t = Instant::now();
    let loader = Loader::new(Some(cache_dir.path().to_path_buf()))?;
    let renderer = Arc::new(rt.block_on(loader.renderer(&plugins, "gotemplate", None))?);
    rows.push((
        "engine + compile gotemplate (cache miss)".into(),
        format!("{:.1?}", t.elapsed()),
    ));
    let t = Instant::now();
    let loader2 = Loader::new(Some(cache_dir.path().to_path_buf()))?;
    let _r2 = rt.block_on(loader2.renderer(&plugins, "gotemplate", None))?;
    rows.push((
        "engine + load gotemplate from disk cache".into(),
        format!("{:.1?}", t.elapsed()),
    ));

    // Wasm, sequential: a fresh instance per call, then a reused one.
    let mut fresh_plugins = plugins.clone();
    fresh_plugins.defaults.calls_per_instance = 1;
    let fresh = rt.block_on(loader.renderer(&fresh_plugins, "gotemplate", None))?;
    let wasm = rt.block_on(time_calls(|| fresh.render(&template, &data)));
    let wasm_med = median(wasm.clone());
    let reused = rt.block_on(time_calls(|| renderer.render(&template, &data)));
    let reused_med = median(reused.clone());

    // The sandbox's own cost: a trivial renderer (the test plugin's echo)
    // called with two bytes of data, in a fresh instance and in a reused one.
    let echo_file = Path::new(env!("VERSUS_PLUGIN_OUT_DIR")).join("test_renderer.wasm");
    let echo_fresh =
        rt.block_on(loader.renderer(&fresh_plugins, "test_renderer", Some(&echo_file)))?;
    let echo = rt.block_on(loader.renderer(&plugins, "test_renderer", Some(&echo_file)))?;
    let empty_fresh = median(rt.block_on(time_calls(|| echo_fresh.render("echo", "{}"))));
    let empty = median(rt.block_on(time_calls(|| echo.render("echo", "{}"))));
    rows.push((
        "wasm empty call, fresh instance (instantiate + call + drop) / reused, median".into(),
        format!("{empty_fresh:.1?} / {empty:.1?}"),
    ));
    rows.push((
        "wasm render, fresh instance (instantiate + parse + render + drop), median".into(),
        format!("{wasm_med:.1?}"),
    ));
    rows.push((
        "wasm render, fresh instance, p99".into(),
        format!("{:.1?}", p99(wasm)),
    ));
    rows.push((
        "wasm fresh / native parse + render (median)".into(),
        format!("{:.2}x", wasm_med.as_secs_f64() / native_med.as_secs_f64()),
    ));
    rows.push((
        "wasm render, reused instance (template kept parsed), median / p99".into(),
        format!("{reused_med:.1?} / {:.1?}", p99(reused)),
    ));
    rows.push((
        "wasm reused / native render of a parsed template (median)".into(),
        format!("{:.2}x", reused_med.as_secs_f64() / exec.as_secs_f64()),
    ));

    // Throughput: as many concurrent callers as cores, for two seconds.
    let window = Duration::from_secs(2);
    let total: usize = rt.block_on(async {
        let tasks: Vec<_> = (0..2)
            .map(|_| {
                let (r, t, d) = (renderer.clone(), template.clone(), data.clone());
                tokio::spawn(async move {
                    let start = Instant::now();
                    let mut n = 0usize;
                    while start.elapsed() < window {
                        if r.render(&t, &d).await.is_ok() {
                            n += 1;
                        }
                    }
                    n
                })
            })
            .collect();
        let mut sum = 0;
        for t in tasks {
            sum += t.await.unwrap_or(0);
        }
        sum
    });
    rows.push((
        "wasm renders/s, reused instances (2 tasks, 2 workers)".into(),
        format!("{:.0}", total as f64 / window.as_secs_f64()),
    ));

    // Reload latency: template write → new version serving (watcher path).
    let reload = rt.block_on(reload_latency(Arc::new(loader)))?;
    let mut lines = vec![
        format!("BENCH render_native_median_us {:.1} us", us(native_med)),
        format!("BENCH render_wasm_median_us {:.1} us", us(wasm_med)),
        format!(
            "BENCH render_ratio {:.2} x",
            wasm_med.as_secs_f64() / native_med.as_secs_f64()
        ),
        format!("BENCH render_native_exec_median_us {:.1} us", us(exec)),
        format!(
            "BENCH render_wasm_reused_median_us {:.1} us",
            us(reused_med)
        ),
        format!(
            "BENCH render_reused_ratio {:.2} x",
            reused_med.as_secs_f64() / exec.as_secs_f64()
        ),
        format!(
            "BENCH renders_per_s {:.0} renders/s",
            total as f64 / window.as_secs_f64()
        ),
    ];
    lines.push(format!(
        "BENCH reload_in_process_ms {:.1} ms",
        reload.as_secs_f64() * 1000.0
    ));
    rows.push((
        "reload: template write → new version serving, median of 5".into(),
        format!("{reload:.1?}"),
    ));

    println!("| measure | value |\n|---|---|");
    for (k, v) in rows {
        println!("| {k} | {v} |");
    }
    for l in lines {
        println!("{l}");
    }
    Ok(())
}

async fn reload_latency(loader: Arc<Loader>) -> anyhow::Result<Duration> {
    let dir = tempfile::tempdir()?;
    let template = dir.path().join("msg.tmpl");
    std::fs::write(&template, "v0")?;
    let config = dir.path().join("config.yaml");
    std::fs::write(
        &config,
        format!(
            "alert:\n  console:\n    enable: true\n    template_path: {}\nplugins:\n  transforms: []\n",
            template.display()
        ),
    )?;
    let reloader = Reloader::start(config, loader).await?;
    reloader.watch()?;
    let mut samples = Vec::new();
    for i in 1..=5 {
        let want = format!("v{i}");
        let t = Instant::now();
        std::fs::write(&template, &want)?;
        loop {
            if &*reloader.pipeline().channels[0].template == want.as_str() {
                break;
            }
            if t.elapsed() > Duration::from_secs(10) {
                anyhow::bail!("reload did not happen");
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        samples.push(t.elapsed());
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    Ok(median(samples))
}
