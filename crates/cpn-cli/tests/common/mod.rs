//! Helpers shared by the tests that run `cpn serve` as a user would: the real binary on
//! loopback, each with its own data directory, killed with SIGKILL when dropped; a small
//! blocking HTTP client; the event stream read on a thread; a real three-member etcd cluster.
//!
//! Each test binary uses only some of these, hence the `dead_code` allowance.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

/// The admin secret every test controller is started with (`CPN_ADMIN_TOKEN`).
pub(crate) const ADMIN: &str = "cpn_test_admin_secret_0123456789";

/// How long a controller may take to listen or to become ready: generous, for slow CI.
pub(crate) const STARTUP: Duration = Duration::from_secs(20);

pub(crate) fn cpn_bin() -> &'static str {
    env!("CARGO_BIN_EXE_cpn")
}

/// A `cpn` command with none of the caller's `CPN_*` settings leaking in.
pub(crate) fn cpn_command() -> Command {
    let mut c = Command::new(cpn_bin());
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("CPN_") {
            c.env_remove(key);
        }
    }
    c
}

/// Whether a tool a test needs is installed; under CI it must be, elsewhere the test says
/// SKIPPED loudly and passes.
pub(crate) fn have(what: &str, path: &Path, install: &str) -> bool {
    if path.exists() {
        return true;
    }
    assert!(
        std::env::var_os("CI").is_none(),
        "{what} not found at {} ({install}): CI must run this test",
        path.display()
    );
    eprintln!(
        "SKIPPED: {what} not found at {} ({install})",
        path.display()
    );
    false
}

/// `n` distinct free ports on loopback.
#[allow(unused_imports)]
pub(crate) use cpn_testdata::etcd::free_ports;

/// Waits for a child to exit, at most `limit`.
pub(crate) fn wait_exit(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return Some(status);
        }
        if Instant::now() > deadline {
            return None;
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// Polls `f` until it gives a value, at most `limit`.
pub(crate) fn wait_for<T>(limit: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(v) = f() {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(25));
    }
}

/// A child process killed with SIGKILL on drop, unless it already ended.
pub(crate) struct KillOnDrop(pub(crate) Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A running `cpn serve`, killed with SIGKILL on drop.
pub(crate) struct Server {
    child: Child,
    /// The base URL it printed, such as `http://127.0.0.1:40000`.
    pub(crate) url: String,
    log: Arc<Mutex<String>>,
}

impl Server {
    /// `cpn serve --listen 127.0.0.1:0 ARGS...` with the test admin token; returns once it
    /// printed where it listens.
    pub(crate) fn start(args: &[&str]) -> Server {
        let mut c = cpn_command();
        c.args(["serve", "--listen", "127.0.0.1:0"])
            .args(args)
            .env("CPN_ADMIN_TOKEN", ADMIN);
        Server::spawn(c)
    }

    /// `cpn serve` on a data directory with the national scenario.
    pub(crate) fn national(data: &Path) -> Server {
        let data = data.to_str().expect("UTF-8 path");
        Server::start(&["--data", data, "--scenario", "national"])
    }

    /// Spawns a command that prints `cpn controller listening on URL` to stderr and waits for
    /// that line.
    pub(crate) fn spawn(mut c: Command) -> Server {
        let mut child = c
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn cpn serve");
        let stderr = child.stderr.take().expect("piped stderr");
        let log = Arc::new(Mutex::new(String::new()));
        let (tx, rx) = mpsc::channel();
        let sink = log.clone();
        // Keep draining stderr for the process's whole life, so it never blocks on a full pipe.
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                if let Some(url) = line.split("cpn controller listening on ").nth(1) {
                    let _ = tx.send(url.trim().to_string());
                }
                let mut log = sink.lock().expect("log lock");
                log.push_str(&line);
                log.push('\n');
            }
        });
        let url = match rx.recv_timeout(STARTUP) {
            Ok(url) => url,
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                // Give the reader a moment to take the last lines.
                thread::sleep(Duration::from_millis(100));
                panic!(
                    "cpn serve did not say where it listens ({e:?}); its log:\n{}",
                    log.lock().expect("log lock")
                );
            }
        };
        Server { child, url, log }
    }

    /// Everything it wrote to stderr so far.
    pub(crate) fn log(&self) -> String {
        self.log.lock().expect("log lock").clone()
    }

    pub(crate) fn api(&self) -> Api {
        Api::new(&self.url)
    }

    /// Waits until `/readyz` answers 200.
    pub(crate) fn wait_ready(&self) {
        let api = self.api();
        let deadline = Instant::now() + STARTUP;
        while Instant::now() < deadline {
            if api
                .try_get("/readyz", None)
                .is_some_and(|r| r.status == 200)
            {
                return;
            }
            thread::sleep(Duration::from_millis(20));
        }
        panic!(
            "{} not ready within {STARTUP:?}; its log:\n{}",
            self.url,
            self.log()
        );
    }

    /// SIGKILL, and wait for it to be gone.
    pub(crate) fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM, as an operator stops it, and its exit status.
    pub(crate) fn stop(&mut self) -> Option<ExitStatus> {
        let _ = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status();
        wait_exit(&mut self.child, STARTUP)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A reply: status and body text.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) text: String,
}

impl Reply {
    pub(crate) fn json(&self) -> Value {
        serde_json::from_str(&self.text)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", self.status, self.text))
    }

    /// Asserts the status, showing the body when it differs.
    pub(crate) fn expect(self, status: u16) -> Reply {
        assert_eq!(self.status, status, "{}", self.text);
        self
    }

    /// Asserts an error reply: this status, JSON `{code, message}` with this code.
    pub(crate) fn expect_error(self, status: u16, code: &str) -> Reply {
        assert_eq!(self.status, status, "{}", self.text);
        let body = self.json();
        assert_eq!(body["code"], code, "{}", self.text);
        assert!(
            body["message"].as_str().is_some_and(|m| !m.is_empty()),
            "{}",
            self.text
        );
        self
    }

    pub(crate) fn message(&self) -> String {
        self.json()["message"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

/// A blocking client of one controller.
#[derive(Clone)]
pub(crate) struct Api {
    base: String,
    http: reqwest::blocking::Client,
}

impl Api {
    pub(crate) fn new(base: &str) -> Api {
        Api::with_client(
            base,
            reqwest::blocking::Client::builder()
                .timeout(Duration::from_secs(30))
                .no_proxy()
                .build()
                .expect("http client"),
        )
    }

    pub(crate) fn with_client(base: &str, http: reqwest::blocking::Client) -> Api {
        Api {
            base: base.trim_end_matches('/').to_string(),
            http,
        }
    }

    pub(crate) fn base(&self) -> &str {
        &self.base
    }

    fn send(&self, request: reqwest::blocking::RequestBuilder, token: Option<&str>) -> Reply {
        self.try_send(request, token)
            .unwrap_or_else(|e| panic!("{}: {e}", self.base))
    }

    fn try_send(
        &self,
        request: reqwest::blocking::RequestBuilder,
        token: Option<&str>,
    ) -> Result<Reply, reqwest::Error> {
        let request = match token {
            Some(t) => request.bearer_auth(t),
            None => request,
        };
        let response = request.send()?;
        let status = response.status().as_u16();
        let text = response.text()?;
        Ok(Reply { status, text })
    }

    pub(crate) fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.send(self.http.get(format!("{}{path}", self.base)), token)
    }

    /// A GET that may fail to connect (the server is starting or gone).
    pub(crate) fn try_get(&self, path: &str, token: Option<&str>) -> Option<Reply> {
        self.try_send(self.http.get(format!("{}{path}", self.base)), token)
            .ok()
    }

    pub(crate) fn post(&self, path: &str, token: Option<&str>, body: &Value) -> Reply {
        self.send(
            self.http.post(format!("{}{path}", self.base)).json(body),
            token,
        )
    }

    /// A POST that may fail to connect or be cut off (the server is killed meanwhile).
    pub(crate) fn try_post(&self, path: &str, token: Option<&str>, body: &Value) -> Option<Reply> {
        self.try_send(
            self.http.post(format!("{}{path}", self.base)).json(body),
            token,
        )
        .ok()
    }

    /// A POST of raw bytes as `application/json`.
    pub(crate) fn post_bytes(&self, path: &str, token: Option<&str>, body: Vec<u8>) -> Reply {
        self.send(
            self.http
                .post(format!("{}{path}", self.base))
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .body(body),
            token,
        )
    }

    pub(crate) fn put(&self, path: &str, token: Option<&str>, body: &Value) -> Reply {
        self.send(
            self.http.put(format!("{}{path}", self.base)).json(body),
            token,
        )
    }

    pub(crate) fn delete(&self, path: &str, token: Option<&str>) -> Reply {
        self.send(self.http.delete(format!("{}{path}", self.base)), token)
    }

    /// Creates a tenant (with the admin token) and a tenant token for it; returns the secret.
    pub(crate) fn tenant_with_token(&self, name: &str) -> String {
        self.post(
            "/api/v1/tenants",
            Some(ADMIN),
            &serde_json::json!({ "name": name }),
        )
        .expect(201);
        self.token(name, "tenant")["token"]
            .as_str()
            .expect("a secret")
            .to_string()
    }

    /// Creates a token; returns the reply (`id`, `tenant`, `role`, `token`).
    pub(crate) fn token(&self, tenant: &str, role: &str) -> Value {
        let body = serde_json::json!({ "tenant": tenant, "role": role, "label": format!("{tenant} test") });
        self.post("/api/v1/tokens", Some(ADMIN), &body)
            .expect(201)
            .json()
    }

    /// Opens the event stream; returns once the controller has subscribed it.
    pub(crate) fn events(&self, token: &str) -> Events {
        let http = reqwest::blocking::Client::builder()
            .no_proxy()
            .timeout(None)
            .build()
            .expect("http client");
        let response = http
            .get(format!("{}/api/v1/events", self.base))
            .bearer_auth(token)
            .send()
            .expect("GET /api/v1/events");
        assert_eq!(response.status().as_u16(), 200, "event stream refused");
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            let (mut kind, mut data) = (String::new(), String::new());
            for line in BufReader::new(response).lines() {
                let Ok(line) = line else { break };
                if let Some(k) = line.strip_prefix("event:") {
                    kind = k.trim().to_string();
                } else if let Some(d) = line.strip_prefix("data:") {
                    data.push_str(d.trim_start());
                } else if line.is_empty() && !data.is_empty() {
                    let value = serde_json::from_str(&data).unwrap_or(Value::Null);
                    if tx.send((std::mem::take(&mut kind), value)).is_err() {
                        break;
                    }
                    data.clear();
                }
            }
        });
        Events { rx }
    }
}

/// Events of an event stream, as `(kind, data)`.
pub(crate) struct Events {
    rx: Receiver<(String, Value)>,
}

impl Events {
    /// Every event until the first that `stop` accepts, which is the last one returned; panics
    /// when none comes within `limit`.
    pub(crate) fn until(
        &self,
        limit: Duration,
        mut stop: impl FnMut(&str, &Value) -> bool,
    ) -> Vec<(String, Value)> {
        let deadline = Instant::now() + limit;
        let mut seen = Vec::new();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok((kind, data)) => {
                    let done = stop(&kind, &data);
                    seen.push((kind, data));
                    if done {
                        return seen;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    panic!("the awaited event did not come within {limit:?}; got {seen:?}")
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("the event stream ended; got {seen:?}")
                }
            }
        }
    }
}

/// Places a small hour-long demand as the admin: whether it was accepted, or `None` when no
/// reply came (the server is gone, so it was never acknowledged).
pub(crate) fn place_small(api: &Api, id: &str, from: &str) -> Option<bool> {
    let body = place_body(serde_json::json!({
        "id": id, "from": from,
        "demand": "10 GFLOPS", "processing": "1 ms",
        "min_bandwidth": "1 Mbps", "duration": "1 h",
    }));
    let reply = api.try_post("/api/v1/place", Some(ADMIN), &body)?;
    assert_eq!(reply.status, 200, "{}", reply.text);
    Some(reply.json()["results"][0]["accepted"] == true)
}

/// A placement request body of one request.
pub(crate) fn place_body(request: Value) -> Value {
    serde_json::json!({ "requests": [request] })
}

/// The workspace's root directory.
pub(crate) fn workspace() -> PathBuf {
    cpn_testdata::workspace_root()
}

// Each test binary uses only some of these.
#[allow(unused_imports)]
pub(crate) use cpn_testdata::etcd::{ETCD, EtcdCluster};
