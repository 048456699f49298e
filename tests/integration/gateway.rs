//! A `versus serve` process for end-to-end tests: started with a given
//! config and environment, its log captured, killed on drop.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Startup may compile every plugin (cold cache) in a debug build on a
/// busy machine.
const START_TIMEOUT: Duration = Duration::from_secs(90);

/// A running gateway process.
pub struct Process {
    child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
    log: Log,
}

/// Where the process's log goes.
enum Log {
    /// Read from its pipes by the test.
    Captured(Arc<Mutex<String>>),
    /// Written by the process into a file, as `versus > file 2>&1` does.
    File(std::path::PathBuf),
}

impl Process {
    /// Starts `versus --config <dir>/config.yaml` with `yaml` as the config
    /// (with `{port}` replaced) and `env` added to a clean environment.
    pub async fn start(dir: &Path, yaml: &str, env: &[(&str, String)]) -> Self {
        Self::start_with_args(dir, yaml, env, &[]).await
    }

    /// [`Process::start`] with extra command-line `args`; stdout is
    /// captured into the log too.
    pub async fn start_with_args(
        dir: &Path,
        yaml: &str,
        env: &[(&str, String)],
        args: &[&str],
    ) -> Self {
        let port = free_port();
        let config = dir.join("config.yaml");
        std::fs::write(&config, yaml.replace("{port}", &port.to_string())).expect("write config");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_versus"));
        cmd.arg("--config").arg(&config).args(args);
        if !args.is_empty() {
            cmd.stdout(Stdio::piped());
        }
        Self::spawn(cmd, port, &dir.join("..").join("cache"), env).await
    }

    /// Starts `versus --config <config>` as it is, from the working
    /// directory `cwd` (relative paths in the config resolve against it),
    /// listening on 127.0.0.1 and a free port through the `HOST` and
    /// `PORT` overrides.
    pub async fn start_file(
        config: &Path,
        cwd: &Path,
        cache: &Path,
        env: &[(&str, String)],
    ) -> Self {
        let port = free_port();
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_versus"));
        cmd.arg("--config").arg(config).current_dir(cwd);
        let mut env = env.to_vec();
        env.push(("HOST", "127.0.0.1".into()));
        env.push(("PORT", port.to_string()));
        Self::spawn(cmd, port, cache, &env).await
    }

    /// [`Process::start`] with stdout and stderr appended to `log_file`
    /// by the process itself, the way `versus > log 2>&1` runs it: the
    /// file may sit in a folder the gateway watches.
    pub async fn start_logging_to(
        dir: &Path,
        yaml: &str,
        env: &[(&str, String)],
        log_file: &Path,
    ) -> Self {
        let port = free_port();
        let config = dir.join("config.yaml");
        std::fs::write(&config, yaml.replace("{port}", &port.to_string())).expect("write config");
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(log_file)
            .expect("open the log file");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_versus"));
        cmd.arg("--config").arg(&config);
        cmd.stdout(file.try_clone().expect("dup the log file"));
        Self::clean_env(&mut cmd, &dir.join("..").join("cache"), env);
        cmd.stderr(file);
        let child = cmd.spawn().expect("spawn versus");
        let p = Self {
            child,
            port,
            log: Log::File(log_file.to_path_buf()),
        };
        let start = std::time::Instant::now();
        while !p.log().contains("versus listening") {
            assert!(
                start.elapsed() < START_TIMEOUT,
                "versus did not start:\n{}",
                p.log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        p
    }

    fn clean_env(cmd: &mut Command, cache: &Path, env: &[(&str, String)]) {
        cmd.env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("VERSUS_CACHE_DIR", cache)
            .env("RUST_LOG", "info");
        for (k, v) in env {
            cmd.env(k, v);
        }
    }

    async fn spawn(mut cmd: Command, port: u16, cache: &Path, env: &[(&str, String)]) -> Self {
        Self::clean_env(&mut cmd, cache, env);
        cmd.stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn versus");
        let stderr = child.stderr.take().expect("stderr");
        let log = Arc::new(Mutex::new(String::new()));
        if let Some(stdout) = child.stdout.take() {
            let sink = log.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                    if let Ok(mut l) = sink.lock() {
                        l.push_str(&line);
                        l.push('\n');
                    }
                }
            });
        }
        let (tx, rx) = tokio::sync::oneshot::channel();
        let sink = log.clone();
        std::thread::spawn(move || {
            let mut ready = Some(tx);
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let listening = line.contains("versus listening");
                if let Ok(mut l) = sink.lock() {
                    l.push_str(&line);
                    l.push('\n');
                }
                if listening && let Some(tx) = ready.take() {
                    let _ = tx.send(());
                }
            }
        });
        let p = Self {
            child,
            port,
            log: Log::Captured(log),
        };
        let started = tokio::time::timeout(START_TIMEOUT, rx).await;
        assert!(
            matches!(started, Ok(Ok(()))),
            "versus did not start:\n{}",
            p.log()
        );
        p
    }

    /// The captured log so far.
    pub fn log(&self) -> String {
        match &self.log {
            Log::Captured(log) => log.lock().map(|l| l.clone()).unwrap_or_default(),
            Log::File(path) => std::fs::read(path)
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .unwrap_or_default(),
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// `http://127.0.0.1:{port}`.
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Sends SIGTERM (a graceful stop).
    pub fn terminate(&self) {
        self.signal("-TERM");
    }

    /// Sends SIGHUP (a reload).
    pub fn hangup(&self) {
        self.signal("-HUP");
    }

    fn signal(&self, signal: &str) {
        send_signal(self.pid(), signal);
    }

    /// Waits up to `timeout` for the process to exit; its status, if it did.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let start = std::time::Instant::now();
        while start.elapsed() < timeout {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Kills the process with SIGKILL (a crash).
    pub fn kill9(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// Sends `signal` (`-TERM`, `-STOP`, …) to process `pid`.
pub fn send_signal(pid: u32, signal: &str) {
    let status = Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill {signal} {pid} failed");
}

/// A free port on 127.0.0.1.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}
