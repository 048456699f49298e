//! Hot reload: template and plugin files change while the pipeline runs; the
//! next call sees the new version, and a broken replacement is rejected
//! while the old version keeps serving.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::Duration;

use versus::pipeline::Reloader;

use crate::common::{built_plugin, eventually, loader};

const WAIT: Duration = Duration::from_secs(20);

fn write_config(dir: &Path) -> std::path::PathBuf {
    let config = dir.join("config.yaml");
    std::fs::create_dir_all(dir.join("plugins")).expect("mkdir");
    std::fs::create_dir_all(dir.join("templates")).expect("mkdir");
    std::fs::write(
        &config,
        format!(
            "alert:\n  console:\n    enable: true\n    template_path: {}\nplugins:\n  dir: {}\n  renderer: custom\n  transforms: []\n",
            dir.join("templates/msg.tmpl").display(),
            dir.join("plugins").display()
        ),
    )
    .expect("write config");
    config
}

/// Replaces a file the way editors and ConfigMaps do: write aside, rename over.
fn replace(path: &Path, bytes: &[u8]) {
    let tmp = path.with_extension("new");
    std::fs::write(&tmp, bytes).expect("write");
    std::fs::rename(&tmp, path).expect("rename");
}

async fn render_current(r: &Reloader) -> Result<String, versus::pipeline::PluginError> {
    let p = r.pipeline();
    let template = p.channels[0].template.clone();
    p.renderer.render(&template, r#"{"name":"db-1"}"#).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn template_and_plugin_changes_are_picked_up() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(dir.path());
    let template = dir.path().join("templates/msg.tmpl");
    let plugin = dir.path().join("plugins/custom.wasm");
    std::fs::write(&template, "v1 {{ .name }}").expect("write");
    std::fs::copy(built_plugin("gotemplate"), &plugin).expect("copy");

    let reloader = Reloader::start(config, loader()).await.expect("start");
    reloader.watch().expect("watch");
    assert_eq!(render_current(&reloader).await.expect("render"), "v1 db-1");

    // A new template version.
    replace(&template, b"v2 {{ .name | upper }}");
    let seen = eventually(WAIT, async || {
        render_current(&reloader).await.ok().as_deref() == Some("v2 DB-1")
    })
    .await;
    assert!(seen, "template change not picked up");

    // A template that does not parse: rejected, v2 keeps serving.
    let failed_before = reloader.stats.failed.load(Ordering::Relaxed);
    replace(&template, b"v3 {{ .name ");
    let rejected = eventually(WAIT, async || {
        reloader.stats.failed.load(Ordering::Relaxed) > failed_before
    })
    .await;
    assert!(rejected, "broken template was not rejected");
    assert_eq!(render_current(&reloader).await.expect("render"), "v2 DB-1");

    // Fix the template, then swap the plugin for a different component.
    replace(&template, b"echo");
    let seen = eventually(WAIT, async || {
        render_current(&reloader).await.ok().as_deref() == Some("echo")
    })
    .await;
    assert!(seen, "fixed template not picked up");
    let generation = reloader.pipeline().generation;
    replace(
        &plugin,
        &std::fs::read(built_plugin("test_renderer")).expect("read"),
    );
    let swapped = eventually(WAIT, async || {
        render_current(&reloader).await.ok().as_deref() == Some(r#"echo:{"name":"db-1"}"#)
    })
    .await;
    assert!(swapped, "plugin change not picked up");
    assert!(reloader.pipeline().generation > generation);

    // A plugin file that is not a component: rejected, old plugin serves.
    let failed_before = reloader.stats.failed.load(Ordering::Relaxed);
    replace(&plugin, b"definitely not wasm");
    let rejected = eventually(WAIT, async || {
        reloader.stats.failed.load(Ordering::Relaxed) > failed_before
    })
    .await;
    assert!(rejected, "broken plugin was not rejected");
    assert_eq!(
        render_current(&reloader).await.expect("render"),
        r#"echo:{"name":"db-1"}"#
    );

    // A component of the wrong world is rejected too.
    let failed_before = reloader.stats.failed.load(Ordering::Relaxed);
    replace(
        &plugin,
        &std::fs::read(built_plugin("test_channel")).expect("read"),
    );
    let rejected = eventually(WAIT, async || {
        reloader.stats.failed.load(Ordering::Relaxed) > failed_before
    })
    .await;
    assert!(rejected, "wrong-world plugin was not rejected");
    assert_eq!(
        render_current(&reloader).await.expect("render"),
        r#"echo:{"name":"db-1"}"#
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_flight_calls_finish_on_the_old_pipeline() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = write_config(dir.path());
    let template = dir.path().join("templates/msg.tmpl");
    std::fs::write(&template, "old {{ .name }}").expect("write");
    std::fs::copy(
        built_plugin("gotemplate"),
        dir.path().join("plugins/custom.wasm"),
    )
    .expect("copy");
    let reloader = Reloader::start(config, loader()).await.expect("start");

    let held = reloader.pipeline();
    std::fs::write(&template, "new {{ .name }}").expect("write");
    reloader.reload().await.expect("reload");
    let template_text = held.channels[0].template.clone();
    assert_eq!(
        held.renderer
            .render(&template_text, r#"{"name":"x"}"#)
            .await
            .expect("old"),
        "old x"
    );
    assert_eq!(render_current(&reloader).await.expect("new"), "new db-1");
}

/// A Kubernetes ConfigMap volume: each file is a symlink through `..data`,
/// itself a symlink to a timestamped directory, and an update swaps
/// `..data` to a new directory (new link aside, renamed over). The template
/// file's own path never changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn configmap_style_symlink_swap_is_picked_up() {
    use std::os::unix::fs::symlink;

    let dir = tempfile::tempdir().expect("tempdir");
    let volume = dir.path().join("volume");
    std::fs::create_dir_all(volume.join("..v1")).expect("mkdir");
    std::fs::write(volume.join("..v1/msg.tmpl"), "v1 {{ .name }}").expect("write");
    symlink("..v1", volume.join("..data")).expect("link ..data");
    symlink("..data/msg.tmpl", volume.join("msg.tmpl")).expect("link file");
    let config = dir.path().join("config.yaml");
    std::fs::write(
        &config,
        format!(
            "alert:\n  console:\n    enable: true\n    template_path: {}\nplugins:\n  transforms: []\n",
            volume.join("msg.tmpl").display()
        ),
    )
    .expect("write config");

    let reloader = Reloader::start(config, loader()).await.expect("start");
    reloader.watch().expect("watch");
    assert_eq!(render_current(&reloader).await.expect("render"), "v1 db-1");

    std::fs::create_dir_all(volume.join("..v2")).expect("mkdir");
    std::fs::write(volume.join("..v2/msg.tmpl"), "v2 {{ .name | upper }}").expect("write");
    symlink("..v2", volume.join("..data_tmp")).expect("link ..data_tmp");
    std::fs::rename(volume.join("..data_tmp"), volume.join("..data")).expect("swap ..data");
    std::fs::remove_dir_all(volume.join("..v1")).expect("drop old version");

    let seen = eventually(WAIT, async || {
        render_current(&reloader).await.ok().as_deref() == Some("v2 DB-1")
    })
    .await;
    assert!(seen, "ConfigMap-style swap not picked up");
}
