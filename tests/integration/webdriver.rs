//! A headless Chromium for end-to-end tests, driven over W3C WebDriver by
//! a minimal client on `reqwest`: `chromedriver` on a free port, one
//! session with a fresh profile, navigate, find by CSS, click, read text
//! and source. Dropping it ends the session and kills the process group it
//! started. Needs Debian's `chromium` and `chromium-driver`.

use std::os::unix::process::CommandExt;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use crate::gateway::free_port;

/// Debian's paths.
const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// The W3C key of an element reference.
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// Chromium's first start on a busy 2-core machine takes a few seconds.
const START_TIMEOUT: Duration = Duration::from_secs(60);

/// One WebDriver command, page loads included.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

/// A Chromium session.
pub struct Browser {
    driver: Child,
    base: String,
    session: String,
    http: reqwest::Client,
    dir: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver and a headless Chromium session.
    pub async fn start() -> Self {
        assert!(
            std::path::Path::new(CHROMEDRIVER).exists() && std::path::Path::new(CHROMIUM).exists(),
            "chromium and chromedriver must be installed (apt-get install chromium chromium-driver)"
        );
        let dir = tempfile::tempdir().expect("tempdir");
        let port = free_port();
        let log = std::fs::File::create(dir.path().join("chromedriver.log")).expect("log file");
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .arg(format!(
                "--log-path={}",
                dir.path().join("chromedriver.log").display()
            ))
            .stdout(Stdio::null())
            .stderr(log)
            // Its own process group, so Drop can end Chromium with it.
            .process_group(0)
            .spawn()
            .expect("spawn chromedriver");
        let mut browser = Self {
            driver,
            base: format!("http://127.0.0.1:{port}"),
            session: String::new(),
            http: reqwest::Client::builder()
                .timeout(COMMAND_TIMEOUT)
                .build()
                .expect("client"),
            dir,
        };
        browser.wait_ready().await;
        let profile = browser.dir.path().join("profile");
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                    "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                    "--disable-dev-shm-usage",
                    format!("--user-data-dir={}", profile.display()),
                ],
            },
        }}});
        let value = browser.command("POST", "/session", Some(caps)).await;
        browser.session = value["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {value}\n{}", browser.log()))
            .to_string();
        browser
    }

    async fn wait_ready(&self) {
        let start = Instant::now();
        while start.elapsed() < START_TIMEOUT {
            let status = self.http.get(format!("{}/status", self.base)).send().await;
            if let Ok(resp) = status
                && let Ok(bytes) = resp.bytes().await
                && let Ok(body) = serde_json::from_slice::<Value>(&bytes)
                && body["value"]["ready"] == true
            {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("chromedriver did not start:\n{}", self.log());
    }

    /// chromedriver's log so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("chromedriver.log")).unwrap_or_default()
    }

    /// Sends one command; its `value`. Panics on a WebDriver error.
    async fn command(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        match self.try_command(method, path, body).await {
            Ok(value) => value,
            Err(e) => panic!("{method} {path}: {e}"),
        }
    }

    /// Sends one command; its `value`, or the WebDriver error's name and
    /// the whole answer.
    async fn try_command(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, String> {
        let url = format!("{}{path}", self.base);
        let request = match method {
            "GET" => self.http.get(&url),
            "DELETE" => self.http.delete(&url),
            _ => post_json(self.http.post(&url), &body.unwrap_or_else(|| json!({}))),
        };
        let resp = request.send().await.map_err(|e| e.to_string())?;
        let status = resp.status();
        let body = read_json(resp).await;
        if !status.is_success() {
            return Err(format!("{status} {body}"));
        }
        Ok(body["value"].clone())
    }

    fn at(&self, path: &str) -> String {
        format!("/session/{}{path}", self.session)
    }

    /// Opens `url` and waits for it to load.
    pub async fn goto(&self, url: &str) {
        self.command("POST", &self.at("/url"), Some(json!({ "url": url })))
            .await;
    }

    /// The first element matching `css`, if there is one now.
    pub async fn find(&self, css: &str) -> Option<String> {
        let request = self
            .http
            .post(format!("{}{}", self.base, self.at("/element")));
        let body = json!({"using": "css selector", "value": css});
        let resp = post_json(request, &body)
            .send()
            .await
            .expect("find element");
        let body = read_json(resp).await;
        body["value"][ELEMENT].as_str().map(str::to_string)
    }

    /// How many elements match `css`.
    pub async fn count(&self, css: &str) -> usize {
        let body = json!({"using": "css selector", "value": css});
        let found = self
            .command("POST", &self.at("/elements"), Some(body))
            .await;
        found.as_array().map_or(0, Vec::len)
    }

    /// Clicks the element `css`.
    pub async fn click(&self, css: &str) {
        let Some(element) = self.find(css).await else {
            panic!("no {css} on the page:\n{}", self.source().await);
        };
        self.command("POST", &self.at(&format!("/element/{element}/click")), None)
            .await;
    }

    /// The rendered text of the element `css`, if there is one now. An
    /// element found on a page that a navigation then replaced is stale:
    /// that is "none now" too.
    pub async fn text(&self, css: &str) -> Option<String> {
        let element = self.find(css).await?;
        let path = self.at(&format!("/element/{element}/text"));
        match self.try_command("GET", &path, None).await {
            Ok(value) => value.as_str().map(str::to_string),
            Err(e) if e.contains("stale element reference") => None,
            Err(e) => panic!("GET {path}: {e}"),
        }
    }

    /// Polls until the element `css` reads `want`, for up to `timeout`
    /// (a click's navigation may still be under way). Its last text.
    pub async fn wait_text(&self, css: &str, want: &str, timeout: Duration) -> Option<String> {
        let start = Instant::now();
        loop {
            let text = self.text(css).await;
            if text.as_deref() == Some(want) || start.elapsed() > timeout {
                return text;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The current page's source.
    pub async fn source(&self) -> String {
        let value = self.command("GET", &self.at("/source"), None).await;
        value.as_str().unwrap_or_default().to_string()
    }

    /// Ends the session over a plain blocking socket: Drop cannot await.
    fn delete_session(&self) {
        use std::io::{Read, Write};
        let Some(addr) = self.base.strip_prefix("http://") else {
            return;
        };
        let Ok(mut stream) = std::net::TcpStream::connect(addr) else {
            return;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
        let request = format!(
            "DELETE /session/{} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
            self.session
        );
        if stream.write_all(request.as_bytes()).is_ok() {
            let _ = stream.read_to_end(&mut Vec::new());
        }
    }
}

/// `request` with `body` as its JSON.
fn post_json(request: reqwest::RequestBuilder, body: &Value) -> reqwest::RequestBuilder {
    request
        .header("content-type", "application/json")
        .body(body.to_string())
}

/// The answer's JSON, or null.
async fn read_json(resp: reqwest::Response) -> Value {
    let bytes = resp.bytes().await.unwrap_or_default();
    serde_json::from_slice(&bytes).unwrap_or(Value::Null)
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            self.delete_session();
        }
        // Whatever is left of chromedriver's group (Chromium, if the
        // session did not end cleanly): only processes this test started.
        let _ = Command::new("kill")
            .args(["-KILL", "--", &format!("-{}", self.driver.id())])
            .status();
        let _ = self.driver.wait();
    }
}
