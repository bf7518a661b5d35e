//! The task wrapper (`cpn agent-exec`): a process of its own per task that joins the task's
//! cgroup when there is one, runs the task in a process group of its own under the task's
//! rlimits (CPU time, address space; set by a shell that then becomes the task), kills that group at the wall-clock limit, and measures
//! the task's CPU time and peak memory with `getrusage(RUSAGE_CHILDREN)`, which counts only
//! this wrapper's one child and its descendants. It writes what happened as JSON.

use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use cpn_api::TaskLimits;
use nix::sys::resource::{UsageWho, getrusage};
use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};

/// What the wrapper saw of its task.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExecReport {
    pub exit_code: Option<i32>,
    pub signal: Option<i32>,
    /// User plus system time of the task and everything it started.
    pub cpu_seconds: f64,
    pub max_rss_kib: u64,
    /// `cgroup` or `rlimit`.
    pub isolation: String,
    /// Why it could not start, or which limit ended it.
    pub error: Option<String>,
}

/// Runs `command` under `limits`, in `cgroup` when given (a cgroup v2 directory prepared by the
/// agent), and reports. Never panics: a task that cannot start is a report with an error.
pub fn run(command: &[String], limits: TaskLimits, cgroup: Option<&Path>) -> ExecReport {
    let mut report = ExecReport {
        exit_code: None,
        signal: None,
        cpu_seconds: 0.0,
        max_rss_kib: 0,
        isolation: "rlimit".into(),
        error: None,
    };
    // Writing 0 to cgroup.procs moves the writer: this wrapper, and so the task it starts.
    if let Some(dir) = cgroup
        && std::fs::write(dir.join("cgroup.procs"), "0").is_ok()
    {
        report.isolation = "cgroup".into();
    }
    let Some((program, args)) = command.split_first() else {
        report.error = Some("empty command".into());
        return report;
    };
    // The limits go on the task alone, not on this wrapper (whose own address space, with its
    // allocator's reservations, must not count against the task's memory): a POSIX shell sets
    // them and then becomes the task.
    let mut ulimits = Vec::new();
    if let Some(secs) = limits.cpu_seconds {
        // SIGXCPU at the limit, SIGKILL a second later if the task ignores it.
        let secs = secs.max(1);
        ulimits.push(format!("ulimit -S -t {secs} && ulimit -H -t {}", secs + 1));
    }
    if let Some(mib) = limits.memory_mib {
        ulimits.push(format!("ulimit -v {}", mib.saturating_mul(1024)));
    }
    let mut task = if ulimits.is_empty() {
        let mut c = Command::new(program);
        c.args(args);
        c
    } else {
        let mut c = Command::new("/bin/sh");
        c.arg("-c")
            .arg(format!("{} && exec \"$0\" \"$@\"", ulimits.join(" && ")))
            .arg(program)
            .args(args);
        c
    };
    let started = Instant::now();
    let mut child = match task.stdin(Stdio::null()).process_group(0).spawn() {
        Ok(c) => c,
        Err(e) => {
            report.error = Some(format!("cannot start `{program}`: {e}"));
            return report;
        }
    };
    let wall = limits.wall_seconds.map(Duration::from_secs);
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) => {}
            Err(e) => {
                report.error = Some(format!("waiting for the task: {e}"));
                break None;
            }
        }
        if wall.is_some_and(|w| started.elapsed() >= w) {
            // The whole group: the task and whatever it started.
            let group = Pid::from_raw(i32::try_from(child.id()).unwrap_or(i32::MAX));
            let _ = killpg(group, Signal::SIGKILL);
            report.error = Some(format!(
                "wall-clock limit of {} s reached",
                limits.wall_seconds.unwrap_or(0)
            ));
            break child.wait().ok();
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    if let Some(status) = status {
        report.exit_code = status.code();
        report.signal = status.signal();
        if report.signal == Some(Signal::SIGXCPU as i32) && report.error.is_none() {
            report.error = Some("CPU-time limit reached".into());
        }
    }
    if let Ok(usage) = getrusage(UsageWho::RUSAGE_CHILDREN) {
        let seconds = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 + t.tv_usec() as f64 / 1e6;
        report.cpu_seconds = seconds(usage.user_time()) + seconds(usage.system_time());
        report.max_rss_kib = u64::try_from(usage.max_rss()).unwrap_or(0);
    }
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmd(args: &[&str]) -> Vec<String> {
        args.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn exit_status_and_cpu_time_are_reported() {
        // No limits here: `run` would set them on the calling process, the test itself.
        let r = run(&cmd(&["sh", "-c", "exit 7"]), TaskLimits::default(), None);
        assert_eq!(r.exit_code, Some(7), "{r:?}");
        assert_eq!(r.signal, None);
        assert!(r.error.is_none(), "{r:?}");
        let r = run(&cmd(&["/nonexistent/program"]), TaskLimits::default(), None);
        assert!(
            r.error
                .as_deref()
                .is_some_and(|e| e.contains("cannot start")),
            "{r:?}"
        );
    }

    #[test]
    fn the_cpu_limit_ends_a_busy_task_and_its_time_is_metered() {
        let limits = TaskLimits {
            cpu_seconds: Some(1),
            memory_mib: Some(64),
            wall_seconds: Some(30),
        };
        let r = run(&cmd(&["sh", "-c", "while :; do :; done"]), limits, None);
        assert_eq!(r.signal, Some(Signal::SIGXCPU as i32), "{r:?}");
        assert!(
            r.error.as_deref().is_some_and(|e| e.contains("CPU-time")),
            "{r:?}"
        );
        // At least the second it was allowed (other tests' children may add to it).
        assert!(r.cpu_seconds >= 0.9, "{r:?}");
    }

    #[test]
    fn the_wall_clock_limit_kills_the_whole_group() {
        let limits = TaskLimits {
            wall_seconds: Some(1),
            ..TaskLimits::default()
        };
        let started = Instant::now();
        let r = run(&cmd(&["sh", "-c", "sleep 30 & sleep 30"]), limits, None);
        assert_eq!(r.signal, Some(9), "{r:?}");
        assert!(
            r.error.as_deref().is_some_and(|e| e.contains("wall-clock")),
            "{r:?}"
        );
        assert!(started.elapsed() < Duration::from_secs(20));
    }
}
