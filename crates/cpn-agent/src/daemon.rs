//! The agent's life: register with a signed registration, heartbeat the node's load at an
//! interval with jitter, back off exponentially while the controller cannot be reached, and run
//! the tasks each heartbeat's reply assigns, each in its own thread through the wrapper
//! (`cpn agent-exec`), reporting start, exit status, CPU-seconds and wall time. Reports that
//! cannot be delivered are kept and retried: they are what trading settles on.
//!
//! ```text
//!  main thread: register ─► heartbeat loop ──(assignments)──► one runner thread per task
//!                 ▲  backoff on errors          │                 └─ wrapper process ─► task
//!                 └── 404: registered again     └─ running tasks count in the load
//! ```

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cpn_api::{
    AgentRegistration, Heartbeat, HeartbeatReply, TaskAssignment, TaskReport, TaskState,
};
use ed25519_dalek::SigningKey;

use crate::exec::ExecReport;
use crate::load::{CpuSampler, memory_now};

/// How to run an agent.
#[derive(Debug, Clone)]
pub struct AgentConfig {
    /// The controller's base URL.
    pub server: String,
    /// An agent token of the tenant that owns this node.
    pub token: String,
    pub site: String,
    /// This agent's name, unique in the controller.
    pub name: String,
    pub interval: Duration,
    /// A PEM certificate to trust for an https controller.
    pub ca_cert: Option<PathBuf>,
    /// Where task outputs and reports go.
    pub work_dir: PathBuf,
    /// What the agent measured of its node, sent with the registration.
    pub capabilities: serde_json::Value,
    /// The program that wraps each task (the `cpn` binary, run as `cpn agent-exec`).
    pub exec: PathBuf,
}

/// Why the agent stopped for good.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    #[error("the controller refused the registration: {0}")]
    Refused(String),
    #[error("{0}")]
    Setup(String),
}

/// What an HTTP call to the controller came to.
pub(crate) enum Call<T> {
    Ok(T),
    /// A 4xx: the controller understood and said no.
    Refused(u16, String),
    /// Not reached, or a 5xx or 429: try again later.
    Unreachable(String),
}

/// The agent's view of the controller.
pub(crate) struct Link {
    http: reqwest::blocking::Client,
    base: String,
    token: String,
}

impl Link {
    fn new(config: &AgentConfig) -> Result<Link, AgentError> {
        let mut builder = reqwest::blocking::Client::builder()
            .timeout(Duration::from_secs(10))
            .connect_timeout(Duration::from_secs(2))
            .no_proxy();
        if let Some(path) = &config.ca_cert {
            let pem = std::fs::read(path)
                .map_err(|e| AgentError::Setup(format!("--ca-cert `{}`: {e}", path.display())))?;
            let cert = reqwest::Certificate::from_pem(&pem)
                .map_err(|e| AgentError::Setup(format!("--ca-cert `{}`: {e}", path.display())))?;
            builder = builder.add_root_certificate(cert);
        }
        let http = builder
            .build()
            .map_err(|e| AgentError::Setup(format!("http client: {e}")))?;
        Ok(Link {
            http,
            base: config.server.trim_end_matches('/').to_string(),
            token: config.token.clone(),
        })
    }

    pub(crate) fn get<T: serde::de::DeserializeOwned>(&self, path: &str) -> Call<T> {
        let sent = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send();
        Self::reply(sent, "GET", path)
    }

    pub(crate) fn post<B: serde::Serialize, T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Call<T> {
        let sent = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(body)
            .send();
        Self::reply(sent, "POST", path)
    }

    fn reply<T: serde::de::DeserializeOwned>(
        sent: reqwest::Result<reqwest::blocking::Response>,
        method: &str,
        path: &str,
    ) -> Call<T> {
        let response = match sent {
            Ok(r) => r,
            Err(e) => return Call::Unreachable(format!("{method} {path}: {e}")),
        };
        let status = response.status();
        let text = response.text().unwrap_or_default();
        if status.is_success() {
            match serde_json::from_str(&text) {
                Ok(v) => Call::Ok(v),
                Err(e) => Call::Unreachable(format!("{method} {path}: unexpected reply: {e}")),
            }
        } else if status.is_client_error() && status.as_u16() != 429 {
            Call::Refused(status.as_u16(), text)
        } else {
            Call::Unreachable(format!("{method} {path}: {status}: {text}"))
        }
    }
}

/// Exponential backoff with jitter: 0.5 s doubling to 30 s.
struct Backoff {
    next: Duration,
    rng: u64,
}

impl Backoff {
    fn new(seed: u64) -> Backoff {
        Backoff {
            next: Duration::from_millis(500),
            rng: seed | 1,
        }
    }

    fn unit(&mut self) -> f64 {
        // xorshift64: jitter only, not security.
        self.rng ^= self.rng << 13;
        self.rng ^= self.rng >> 7;
        self.rng ^= self.rng << 17;
        (self.rng >> 11) as f64 / (1u64 << 53) as f64
    }

    /// The wait before the next attempt, then doubled.
    fn wait(&mut self) -> Duration {
        let d = self.next.mul_f64(0.5 + self.unit());
        self.next = (self.next * 2).min(Duration::from_secs(30));
        d
    }

    fn reset(&mut self) {
        self.next = Duration::from_millis(500);
    }

    /// `interval` ± 10 %.
    fn jitter(&mut self, interval: Duration) -> Duration {
        interval.mul_f64(0.9 + 0.2 * self.unit())
    }
}

/// Sleeps `d` unless `stop` is raised first; true when stopped.
fn sleep_or_stop(d: Duration, stop: &AtomicBool) -> bool {
    let until = Instant::now() + d;
    while Instant::now() < until {
        if stop.load(Ordering::Relaxed) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20).min(until - Instant::now()));
    }
    stop.load(Ordering::Relaxed)
}

/// Unix seconds now.
fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn registration(config: &AgentConfig, key: &SigningKey) -> Result<AgentRegistration, AgentError> {
    let mut nonce = [0u8; 16];
    getrandom::fill(&mut nonce).map_err(|e| AgentError::Setup(format!("randomness: {e}")))?;
    let timestamp_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
    Ok(AgentRegistration {
        agent: config.name.clone(),
        site: config.site.clone(),
        public_key: String::new(),
        timestamp_ms,
        nonce: hex::encode(nonce),
        capabilities: config.capabilities.clone(),
        signature: String::new(),
    }
    .sign(key))
}

/// Runs the agent until `stop` is raised, or the controller refuses it for good.
pub fn run(
    mut config: AgentConfig,
    key: SigningKey,
    stop: Arc<AtomicBool>,
) -> Result<(), AgentError> {
    let work_dir = |e: std::io::Error| {
        AgentError::Setup(format!(
            "work directory `{}`: {e}",
            config.work_dir.display()
        ))
    };
    std::fs::create_dir_all(&config.work_dir).map_err(work_dir)?;
    // Absolute: each task runs in a directory of its own below it.
    config.work_dir = std::fs::canonicalize(&config.work_dir).map_err(work_dir)?;
    let link = Arc::new(Link::new(&config)?);
    let mut backoff = Backoff::new(u64::from_le_bytes(
        key.verifying_key().as_bytes()[..8]
            .try_into()
            .unwrap_or([7; 8]),
    ));
    let mut cpu = CpuSampler::default();
    let started: Arc<Mutex<HashSet<String>>> = Arc::new(Mutex::new(HashSet::new()));
    let running = Arc::new(AtomicUsize::new(0));
    let mut registered = false;
    let mut market_due = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        if !registered {
            let r = registration(&config, &key)?;
            match link.post::<_, serde_json::Value>("/api/v1/agents", &r) {
                Call::Ok(_) => {
                    tracing::info!(agent = %config.name, site = %config.site, "registered");
                    registered = true;
                    backoff.reset();
                }
                Call::Refused(status, body) => {
                    return Err(AgentError::Refused(format!("{status}: {body}")));
                }
                Call::Unreachable(e) => {
                    let wait = backoff.wait();
                    tracing::warn!(error = %e, retry_in_ms = wait.as_millis() as u64, "cannot register");
                    if sleep_or_stop(wait, &stop) {
                        break;
                    }
                    continue;
                }
            }
        }
        let heartbeat = Heartbeat {
            cpu: cpu.sample(),
            memory: memory_now(),
            tasks: u32::try_from(running.load(Ordering::Relaxed)).unwrap_or(u32::MAX),
        };
        let path = format!("/api/v1/agents/{}/heartbeat", config.name);
        let wait = match link.post::<_, HeartbeatReply>(&path, &heartbeat) {
            Call::Ok(reply) => {
                backoff.reset();
                for task in reply.tasks {
                    let fresh = started
                        .lock()
                        .map(|mut s| s.insert(format!("{}#{}", task.id, task.attempt)))
                        .unwrap_or(false);
                    if fresh {
                        spawn_runner(&config, &link, task, &running, &stop);
                    }
                }
                // Usage reports for the market: at most once a second, after a heartbeat
                // the controller answered.
                if Instant::now() >= market_due {
                    market_due = Instant::now() + Duration::from_secs(1);
                    if let Err(e) = crate::usage::report(&link, &key, &config.site, unix_now()) {
                        tracing::warn!(error = %e, "market usage reports not sent; retrying");
                    }
                }
                backoff.jitter(config.interval)
            }
            Call::Refused(404, _) => {
                // The controller no longer knows this agent (its state was reset): again.
                registered = false;
                Duration::ZERO
            }
            Call::Refused(status, body) => {
                return Err(AgentError::Refused(format!("heartbeat: {status}: {body}")));
            }
            Call::Unreachable(e) => {
                let wait = backoff.wait();
                tracing::warn!(error = %e, retry_in_ms = wait.as_millis() as u64, "heartbeat failed");
                wait
            }
        };
        if sleep_or_stop(wait, &stop) {
            break;
        }
    }
    Ok(())
}

fn spawn_runner(
    config: &AgentConfig,
    link: &Arc<Link>,
    task: TaskAssignment,
    running: &Arc<AtomicUsize>,
    stop: &Arc<AtomicBool>,
) {
    let (config, link, running, stop) =
        (config.clone(), link.clone(), running.clone(), stop.clone());
    running.fetch_add(1, Ordering::Relaxed);
    std::thread::spawn(move || {
        run_task(&config, &link, &task, &stop);
        running.fetch_sub(1, Ordering::Relaxed);
    });
}

/// Delivers a report, retrying with backoff until the controller answers (or refuses: a
/// report it refuses, such as one for a task given to another agent since, is dropped).
fn deliver(link: &Link, task: &str, report: &TaskReport, stop: &AtomicBool) {
    let mut backoff = Backoff::new(task.len() as u64 + 17);
    loop {
        match link.post::<_, serde_json::Value>(&format!("/api/v1/tasks/{task}/report"), report) {
            Call::Ok(_) => return,
            Call::Refused(status, body) => {
                tracing::warn!(task, status, body = %body, "report refused");
                return;
            }
            Call::Unreachable(e) => {
                let wait = backoff.wait();
                tracing::warn!(task, error = %e, "report not delivered; retrying");
                if sleep_or_stop(wait, stop) {
                    return;
                }
            }
        }
    }
}

fn run_task(config: &AgentConfig, link: &Link, task: &TaskAssignment, stop: &AtomicBool) {
    let report =
        |state, exec: Option<&ExecReport>, wall: Option<f64>, error: Option<String>| TaskReport {
            agent: config.name.clone(),
            state,
            exit_code: exec.and_then(|r| r.exit_code),
            signal: exec.and_then(|r| r.signal),
            cpu_seconds: exec.map(|r| r.cpu_seconds),
            wall_seconds: wall,
            max_rss_kib: exec.map(|r| r.max_rss_kib),
            isolation: exec.map(|r| r.isolation.clone()),
            error,
        };
    deliver(
        link,
        &task.id,
        &report(TaskState::Running, None, None, None),
        stop,
    );
    let dir = config
        .work_dir
        .join(format!("{}-{}", sanitize(&task.id), task.attempt));
    let started = Instant::now();
    let outcome = execute(config, task, &dir);
    let wall = started.elapsed().as_secs_f64();
    let final_report = match outcome {
        Ok(exec) => {
            let state = if exec.exit_code.is_none() && exec.signal.is_none() {
                TaskState::Failed
            } else {
                TaskState::Exited
            };
            report(state, Some(&exec), Some(wall), exec.error.clone())
        }
        Err(e) => report(TaskState::Failed, None, Some(wall), Some(e)),
    };
    tracing::info!(task = %task.id, state = ?final_report.state, exit = ?final_report.exit_code, "task ended");
    deliver(link, &task.id, &final_report, stop);
}

/// A task id as a directory name.
fn sanitize(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Runs the wrapper for one task, its output in `dir`, and reads its report.
fn execute(config: &AgentConfig, task: &TaskAssignment, dir: &Path) -> Result<ExecReport, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("task directory `{}`: {e}", dir.display()))?;
    let open = |name: &str| {
        std::fs::File::create(dir.join(name))
            .map_err(|e| format!("`{name}` in `{}`: {e}", dir.display()))
    };
    let report_file = dir.join("report.json");
    let mut wrapper = Command::new(&config.exec);
    wrapper
        .arg("agent-exec")
        .arg("--report")
        .arg(&report_file)
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(open("stdout")?)
        .stderr(open("stderr")?);
    if let Some(s) = task.limits.cpu_seconds {
        wrapper.args(["--cpu-seconds", &s.to_string()]);
    }
    if let Some(m) = task.limits.memory_mib {
        wrapper.args(["--memory-mib", &m.to_string()]);
    }
    if let Some(w) = task.limits.wall_seconds {
        wrapper.args(["--wall-seconds", &w.to_string()]);
    }
    let cgroup = cgroup_for(&config.name, &task.id, task.limits);
    if let Some(dir) = &cgroup {
        wrapper.arg("--cgroup").arg(dir);
    }
    wrapper.arg("--").args(&task.command);
    let status = wrapper
        .status()
        .map_err(|e| format!("cannot start the wrapper `{}`: {e}", config.exec.display()));
    if let Some(dir) = &cgroup {
        // Empty once the task's processes are gone.
        let _ = std::fs::remove_dir(dir);
    }
    let status = status?;
    let text = std::fs::read_to_string(&report_file)
        .map_err(|e| format!("the wrapper ended ({status}) without a report: {e}"))?;
    serde_json::from_str(&text).map_err(|e| format!("the wrapper's report: {e}"))
}

/// A cgroup v2 directory for the task with its memory limit, when this node has a writable
/// cgroup v2 hierarchy with the memory controller; `None` means rlimits only.
fn cgroup_for(agent: &str, task: &str, limits: cpn_api::TaskLimits) -> Option<PathBuf> {
    let mountinfo = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    let mount = mountinfo.lines().find_map(|l| {
        let (left, right) = l.split_once(" - ")?;
        right
            .starts_with("cgroup2 ")
            .then(|| left.split_whitespace().nth(4).map(PathBuf::from))?
    })?;
    let own = std::fs::read_to_string("/proc/self/cgroup").ok()?;
    let path = own.lines().find_map(|l| l.strip_prefix("0::"))?;
    let parent = mount.join(path.trim_start_matches('/'));
    let controllers = std::fs::read_to_string(parent.join("cgroup.controllers")).ok()?;
    if !controllers.split_whitespace().any(|c| c == "memory") {
        return None;
    }
    let dir = parent.join(format!("cpn-{}-{}", sanitize(agent), sanitize(task)));
    std::fs::create_dir_all(&dir).ok()?;
    if let Some(mib) = limits.memory_mib {
        std::fs::write(dir.join("memory.max"), (mib << 20).to_string()).ok()?;
    }
    Some(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_a_ceiling_and_jitters_around_the_interval() {
        let mut b = Backoff::new(42);
        let waits: Vec<Duration> = (0..10).map(|_| b.wait()).collect();
        assert!(waits[0] >= Duration::from_millis(250) && waits[0] <= Duration::from_millis(750));
        assert!(waits[9] <= Duration::from_secs(45), "{waits:?}");
        assert!(waits[9] >= Duration::from_secs(15), "{waits:?}");
        b.reset();
        assert!(b.wait() <= Duration::from_millis(750));
        for _ in 0..100 {
            let j = b.jitter(Duration::from_secs(1));
            assert!(j >= Duration::from_millis(900) && j <= Duration::from_millis(1100));
        }
    }

    #[test]
    fn task_ids_become_safe_directory_names() {
        assert_eq!(sanitize("job/1 ../x"), "job_1____x");
    }
}
