//! The harness the benchmarks share: whether this is a full run, how many rounds, and the
//! median of timed rounds. `cargo bench` passes `--bench` to a benchmark binary;
//! `cargo test --all-targets` does not, and then a benchmark runs a small smoke version
//! without its peers.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Whether the benchmark was started by `cargo bench` (a full run with peers).
pub fn full_run() -> bool {
    std::env::args().any(|a| a == "--bench")
}

/// Timed rounds from `CPN_BENCH_ROUNDS`, else `default`; at least one.
///
/// # Panics
/// When `CPN_BENCH_ROUNDS` is set but is not a positive integer.
pub fn rounds(default: usize) -> usize {
    match std::env::var("CPN_BENCH_ROUNDS") {
        Ok(v) => v
            .parse::<usize>()
            .ok()
            .filter(|&n| n > 0)
            .unwrap_or_else(|| panic!("CPN_BENCH_ROUNDS must be a positive integer, not {v:?}")),
        Err(_) => default,
    }
}

/// Median, fastest and slowest of a set of timed rounds.
#[derive(Debug, Clone, Copy)]
pub struct Stats {
    pub median: Duration,
    pub min: Duration,
    pub max: Duration,
}

/// One untimed warm-up run, then `rounds` timed runs of `run` (at least one).
pub fn measure(rounds: usize, mut run: impl FnMut()) -> Stats {
    run();
    let mut times: Vec<Duration> = (0..rounds.max(1))
        .map(|_| {
            let start = Instant::now();
            run();
            start.elapsed()
        })
        .collect();
    times.sort();
    let mid = times.len() / 2;
    // The mean of the two middle values for an even count, as Python's statistics.median,
    // so that our medians and the peers' are taken the same way.
    let median = if times.len().is_multiple_of(2) {
        (times[mid - 1] + times[mid]) / 2
    } else {
        times[mid]
    };
    Stats {
        median,
        min: times[0],
        max: times[times.len() - 1],
    }
}

/// Runs a peer's script (`python3 SCRIPT ARGS...`, from `bench/`) and returns what it printed
/// on standard output; its standard error goes straight to ours, so that a Python traceback
/// is seen as it is. An error says why the peer could not be measured.
pub fn run_peer(script: &Path, args: &[String]) -> Result<String, String> {
    let script = script
        .canonicalize()
        .unwrap_or_else(|_| script.to_path_buf());
    eprintln!("running the peers: python3 {} ...", script.display());
    let output = Command::new("python3")
        .arg(&script)
        .args(args)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run python3: {e}"))?;
    if !output.status.success() {
        return Err(format!(
            "{} exited with {}",
            script.display(),
            output.status
        ));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// The figures a peer printed as lines of `NAME VALUE` (other lines are ignored), by name.
pub fn figures(text: &str) -> std::collections::HashMap<String, f64> {
    text.lines()
        .filter_map(|line| {
            let mut it = line.split_whitespace();
            let (name, value) = (it.next()?, it.next()?.parse().ok()?);
            Some((name.to_string(), value))
        })
        .collect()
}

/// Prints a message between bars, for what must not be missed in a benchmark's output
/// (a skipped peer, a mismatch).
pub fn print_loud(message: &str) {
    let bar = "!".repeat(message.len().min(100));
    println!("{bar}\n{message}\n{bar}");
}
