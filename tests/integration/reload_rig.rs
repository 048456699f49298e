//! A gateway for the hot-reload tests and the reload-latency benchmark
//! (`host/benches/reload.rs` includes this file): its config folder holds
//! the config, the template, a plugin folder and the gateway's own log,
//! while a steady stream of alerts flows and files are replaced the ways
//! editors and Kubernetes replace them.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::gateway::Process;
use crate::slack_emulator::{Mode, SlackEmulator};

/// How often the stream sends an alert.
pub const PERIOD: Duration = Duration::from_millis(100);

/// A gateway whose log is written into its config folder.
pub struct ReloadGateway {
    /// The config folder: `config.yaml`, `msg.tmpl`, `plugins/`, `versus.log`.
    pub cfg: PathBuf,
    /// The Slack stand-in the gateway posts to.
    pub slack: SlackEmulator,
    /// The process.
    pub process: Process,
    _dir: tempfile::TempDir,
}

impl ReloadGateway {
    /// Serves Slack with `template` as `msg.tmpl`, `alert.debug_body` on
    /// and `extra` (top-level YAML) appended to the config.
    pub async fn start(template: &str, extra: &str, env: &[(&str, String)]) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let cfg = dir.path().join("cfg");
        std::fs::create_dir_all(cfg.join("plugins")).expect("mkdir");
        std::fs::write(cfg.join("msg.tmpl"), template).expect("write template");
        let slack = SlackEmulator::start(Mode::Ok).await;
        let process = Process::start_logging_to(
            &cfg,
            &config_yaml(&cfg, slack.api_url(), extra),
            env,
            &cfg.join("versus.log"),
        )
        .await;
        Self {
            cfg,
            slack,
            process,
            _dir: dir,
        }
    }

    /// The template file.
    pub fn template(&self) -> PathBuf {
        self.cfg.join("msg.tmpl")
    }

    /// The texts of the Slack messages posted so far, with when they
    /// arrived, in order.
    pub fn posted(&self) -> Vec<(Instant, String)> {
        self.slack
            .requests()
            .into_iter()
            .filter(|r| r.path.ends_with("chat.postMessage"))
            .map(|r| {
                (
                    r.at,
                    r.body["text"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    }

    /// Waits up to `timeout` for a message that starts with `prefix` and
    /// arrived after `since`; when it arrived.
    pub async fn first_after(
        &self,
        since: Instant,
        prefix: &str,
        timeout: Duration,
    ) -> Option<Instant> {
        let give_up = Instant::now() + timeout;
        loop {
            let seen = self
                .posted()
                .into_iter()
                .find(|(at, text)| *at >= since && text.starts_with(prefix));
            if let Some((at, _)) = seen {
                return Some(at);
            }
            if Instant::now() > give_up {
                return None;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
}

/// The config: Slack to the emulator, templates and plugins in `cfg`.
pub fn config_yaml(cfg: &Path, slack_api: &str, extra: &str) -> String {
    format!(
        "host: 127.0.0.1\nport: {{port}}\nalert:\n  debug_body: true\n  slack:\n    enable: true\n    \
         token: xoxb-test\n    channel_id: C123\n    template_path: {}\n    api_url: {slack_api}\n\
         plugins:\n  dir: {}\n{extra}",
        cfg.join("msg.tmpl").display(),
        cfg.join("plugins").display(),
    )
}

/// Alerts posted one after another every [`PERIOD`] until stopped.
pub struct Stream {
    stop: Arc<AtomicBool>,
    task: tokio::task::JoinHandle<Vec<u16>>,
}

impl Stream {
    /// Starts posting `body` to `{base}/api/incidents`.
    pub fn start(base: String, body: Vec<u8>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let task = tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut tick = tokio::time::interval(PERIOD);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut statuses = Vec::new();
            while !flag.load(Ordering::Relaxed) {
                tick.tick().await;
                let sent = client
                    .post(format!("{base}/api/incidents"))
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .timeout(Duration::from_secs(30))
                    .send()
                    .await;
                statuses.push(sent.map_or(0, |r| r.status().as_u16()));
            }
            statuses
        });
        Self { stop, task }
    }

    /// Stops the stream; the status of every alert it sent (0: no answer).
    pub async fn stop(self) -> Vec<u16> {
        self.stop.store(true, Ordering::Relaxed);
        self.task.await.expect("the stream task")
    }
}

/// How a file is replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteStyle {
    /// Truncated and rewritten where it is (`echo … > file`, many editors).
    InPlace,
    /// Written beside it, then renamed over it (vim, emacs, `sed -i`).
    AtomicRename,
    /// A Kubernetes ConfigMap volume: the file is a symlink through
    /// `..data`, itself a symlink to a timestamped folder; an update writes
    /// a new folder and renames a new `..data` link over the old one.
    ConfigMapSwap,
}

impl WriteStyle {
    /// Replaces `path` with `bytes` in this style. For
    /// [`WriteStyle::ConfigMapSwap`], a file that is not yet a link through
    /// `..data` is first turned into one (by a rename, as the kubelet's
    /// first sync does).
    pub fn write(self, path: &Path, bytes: &[u8]) {
        match self {
            Self::InPlace => std::fs::write(path, bytes).expect("write in place"),
            Self::AtomicRename => {
                let mut aside = path.as_os_str().to_owned();
                aside.push(".part");
                std::fs::write(&aside, bytes).expect("write aside");
                std::fs::rename(&aside, path).expect("rename over");
            }
            Self::ConfigMapSwap => configmap_swap(path, bytes),
        }
    }
}

fn configmap_swap(path: &Path, bytes: &[u8]) {
    use std::os::unix::fs::symlink;
    let volume = path.parent().expect("the file's folder");
    let name = path.file_name().expect("a file name");
    let stamp = format!(
        "..{}",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos())
    );
    std::fs::create_dir(volume.join(&stamp)).expect("mkdir the new version");
    std::fs::write(volume.join(&stamp).join(name), bytes).expect("write the new version");
    let old = std::fs::read_link(volume.join("..data")).ok();
    symlink(&stamp, volume.join("..data_tmp")).expect("link ..data_tmp");
    std::fs::rename(volume.join("..data_tmp"), volume.join("..data")).expect("swap ..data");
    let through_data = Path::new("..data").join(name);
    if std::fs::read_link(path).ok().as_deref() != Some(through_data.as_path()) {
        let link = volume.join("..link_tmp");
        symlink(&through_data, &link).expect("link the file");
        std::fs::rename(&link, path).expect("rename the link over the file");
    }
    if let Some(old) = old {
        std::fs::remove_dir_all(volume.join(old)).expect("drop the old version");
    }
}
