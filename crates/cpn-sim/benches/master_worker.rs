//! Master-worker models on a flow-level network, against SimGrid in the same run.
//!
//! The platform is a star: a master behind a 10 Gbit/s link, `n` workers each behind a
//! 1 Gbit/s link; a transfer from the master crosses both and gets its max-min fair share.
//! A task is a transfer, then 1 ms of computing on its worker.
//!
//! - **pull**: every worker pulls its next task (1 MB) when it has computed the last one, so
//!   about `n` transfers share the master's link at every moment and each arrival or
//!   departure changes every rate.
//! - **in flight**: every worker keeps `slots` transfers outstanding (1,000 workers x 100:
//!   100,000 transfers sharing the master's link), computes the tasks one at a time in the
//!   order their transfers end, and starts one more transfer after each task. Transfer sizes
//!   differ (0.5 to 1.5 MB) so that transfers end one at a time, each changing 100,000 rates.
//!   The run stops at the `tasks`-th computed task.
//! - SimGrid's classic example (`app-masterworkers`): the master sends the tasks one after the
//!   other with a blocking put, round robin over the workers, so one transfer is in flight at
//!   a time; each worker computes its tasks in order (a one-server FIFO site). No peer.
//!
//! The peer is `bench/simgrid/master_workers.cpp`, SimGrid's S4U API on the same platform
//! (CM02 max-min network model, no cross traffic, zero latency), built by
//! `bench/simgrid/build.sh` when `g++` and SimGrid's headers are present, and run once per
//! round; its wall clock covers building the platform and running the simulation. Both sides
//! print the simulated time at which the run ended, which must agree within 1 % for the
//! comparison to be of the same model.
//!
//! `cargo bench -p cpn-sim --bench master_worker`. Figures are tasks simulated per second of
//! wall clock, the median of `CPN_BENCH_ROUNDS` (default 3) rounds. Without `--bench` (as
//! under `cargo test`) small cases run once, SimGrid included when present, and a
//! disagreement of the simulated end times fails the run.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use cpn_sim::{FifoSite, FlowId, FlowNet, FlowStats, Simulation};
use cpn_testdata::bench::{full_run, print_loud, rounds};

#[derive(Debug)]
enum Ev {
    /// The network's wake-up at its next completion, with its generation: only the latest
    /// one is current.
    Wake(u64),
    Computed(u32),
}

const TASK_BYTES: u64 = 1_000_000;
const COMPUTE_NS: u64 = 1_000_000;

/// The bytes of the j-th transfer of worker w in the in-flight model, with `k = j * n + w`:
/// 0.5 to 1.5 MB, distinct for k below a million. The SimGrid harness uses the same formula.
fn in_flight_bytes(k: u64) -> u64 {
    500_000 + (k * 7_919) % 1_000_000
}

/// The network's single wake-up event: scheduled again only when its time moves.
#[derive(Debug, Default)]
struct Wake {
    generation: u64,
    at: Option<u64>,
}

impl Wake {
    fn sync(&mut self, sim: &mut Simulation<Ev>, net: &FlowNet) {
        let next = net.next_completion().map(|(t, _)| t);
        if next != self.at {
            self.generation += 1;
            self.at = next;
            if let Some(t) = next {
                sim.schedule(t, Ev::Wake(self.generation)).unwrap();
            }
        }
    }
}

fn network(n: u32) -> FlowNet {
    let mut caps = vec![10_000_000_000u64];
    caps.extend(std::iter::repeat_n(1_000_000_000, n as usize));
    FlowNet::new(&caps)
}

/// What a run simulated: when it ended (ns) and how the network absorbed its changes.
#[derive(Debug, Clone, Copy, Default)]
struct Outcome {
    end_ns: u64,
    stats: FlowStats,
}

/// `tasks` tasks on `n` workers that each pull their next task when done.
fn run_pull(n: u32, tasks: u64) -> Outcome {
    let mut net = network(n);
    let mut sim = Simulation::new(1);
    let mut wake = Wake::default();
    let mut worker_of: Vec<u32> = Vec::new();
    let mut done: Vec<FlowId> = Vec::new();
    let mut issued = 0u64;
    let start = |w: u32, now: u64, net: &mut FlowNet, worker_of: &mut Vec<u32>| {
        let f = net.add_flow(now, &[0, w + 1], TASK_BYTES).unwrap();
        if worker_of.len() <= f.0 as usize {
            worker_of.resize(f.0 as usize + 1, 0);
        }
        worker_of[f.0 as usize] = w;
    };
    for w in 0..n.min(tasks as u32) {
        start(w, 0, &mut net, &mut worker_of);
        issued += 1;
    }
    wake.sync(&mut sim, &net);
    while let Some((now, ev)) = sim.next() {
        match ev {
            Ev::Wake(g) if g != wake.generation => continue,
            Ev::Wake(_) => {
                wake.at = None;
                net.finish_due(now, &mut done);
                for f in done.drain(..) {
                    let w = worker_of[f.0 as usize];
                    sim.schedule_in(COMPUTE_NS, Ev::Computed(w)).unwrap();
                }
            }
            Ev::Computed(w) => {
                if issued < tasks {
                    start(w, now, &mut net, &mut worker_of);
                    issued += 1;
                }
            }
        }
        wake.sync(&mut sim, &net);
    }
    Outcome {
        end_ns: sim.now(),
        stats: net.stats(),
    }
}

/// `n` workers keeping `slots` transfers each in flight, until `tasks` tasks are computed.
fn run_in_flight(n: u32, slots: u32, tasks: u64) -> Outcome {
    let mut net = network(n);
    let mut sites: Vec<FifoSite> = (0..n).map(|_| FifoSite::new(1)).collect();
    let mut sim = Simulation::new(1);
    let mut wake = Wake::default();
    let mut started = vec![0u64; n as usize];
    let mut worker_of: Vec<u32> = Vec::new();
    let mut done: Vec<FlowId> = Vec::new();
    let mut computed = 0u64;
    let start =
        |w: u32, now: u64, net: &mut FlowNet, started: &mut [u64], worker_of: &mut Vec<u32>| {
            let k = started[w as usize] * u64::from(n) + u64::from(w);
            started[w as usize] += 1;
            let f = net.add_flow(now, &[0, w + 1], in_flight_bytes(k)).unwrap();
            if worker_of.len() <= f.0 as usize {
                worker_of.resize(f.0 as usize + 1, 0);
            }
            worker_of[f.0 as usize] = w;
        };
    for w in 0..n {
        for _ in 0..slots {
            start(w, 0, &mut net, &mut started, &mut worker_of);
        }
    }
    wake.sync(&mut sim, &net);
    while let Some((now, ev)) = sim.next() {
        match ev {
            Ev::Wake(g) if g != wake.generation => continue,
            Ev::Wake(_) => {
                wake.at = None;
                net.finish_due(now, &mut done);
                for f in done.drain(..) {
                    let w = worker_of[f.0 as usize];
                    if let Some(s) = sites[w as usize].arrive(now, u64::from(f.0), COMPUTE_NS) {
                        sim.schedule(s.finish, Ev::Computed(w)).unwrap();
                    }
                }
            }
            Ev::Computed(w) => {
                computed += 1;
                if computed == tasks {
                    break;
                }
                start(w, now, &mut net, &mut started, &mut worker_of);
                if let Some(s) = sites[w as usize].depart(now) {
                    sim.schedule(s.finish, Ev::Computed(w)).unwrap();
                }
            }
        }
        wake.sync(&mut sim, &net);
    }
    Outcome {
        end_ns: sim.now(),
        stats: net.stats(),
    }
}

/// SimGrid's master-worker: blocking puts in round robin, FIFO computing on each worker.
fn run_sequential(n: u32, tasks: u64) -> Outcome {
    let mut net = network(n);
    let mut sites: Vec<FifoSite> = (0..n).map(|_| FifoSite::new(1)).collect();
    let mut sim = Simulation::new(1);
    let mut wake = Wake::default();
    let mut done: Vec<FlowId> = Vec::new();
    let mut sent = 0u64;
    let send = |k: u64, now: u64, net: &mut FlowNet| {
        let w = (k % u64::from(n)) as u32;
        net.add_flow(now, &[0, w + 1], TASK_BYTES).unwrap();
    };
    if tasks > 0 {
        send(0, 0, &mut net);
    }
    wake.sync(&mut sim, &net);
    while let Some((now, ev)) = sim.next() {
        let started = match ev {
            Ev::Wake(g) if g != wake.generation => continue,
            Ev::Wake(_) => {
                wake.at = None;
                net.finish_due(now, &mut done);
                // One transfer at a time: `done` holds the one just finished.
                done.clear();
                let w = (sent % u64::from(n)) as u32;
                sent += 1;
                if sent < tasks {
                    send(sent, now, &mut net);
                }
                sites[w as usize]
                    .arrive(now, sent, COMPUTE_NS)
                    .map(|s| (w, s))
            }
            Ev::Computed(w) => sites[w as usize].depart(now).map(|s| (w, s)),
        };
        if let Some((w, s)) = started {
            sim.schedule(s.finish, Ev::Computed(w)).unwrap();
        }
        wake.sync(&mut sim, &net);
    }
    Outcome {
        end_ns: sim.now(),
        stats: net.stats(),
    }
}

#[derive(Debug, Clone, Copy)]
enum Model {
    Pull,
    InFlight { slots: u32 },
}

#[derive(Debug, Clone, Copy)]
struct Case {
    model: Model,
    workers: u32,
    tasks: u64,
}

impl Case {
    fn name(&self) -> String {
        match self.model {
            Model::Pull => format!("pull, {} workers", self.workers),
            Model::InFlight { slots } => format!(
                "{} in flight ({} x {slots})",
                u64::from(self.workers) * u64::from(slots),
                self.workers
            ),
        }
    }

    fn run(&self) -> Outcome {
        match self.model {
            Model::Pull => run_pull(self.workers, self.tasks),
            Model::InFlight { slots } => run_in_flight(self.workers, slots, self.tasks),
        }
    }

    fn peer_args(&self) -> Vec<String> {
        let mut args = vec![
            "--workers".to_string(),
            self.workers.to_string(),
            "--tasks".to_string(),
            self.tasks.to_string(),
            "--case".to_string(),
        ];
        match self.model {
            Model::Pull => args.push("pull".to_string()),
            Model::InFlight { slots } => {
                args.extend([
                    "inflight".to_string(),
                    "--slots".to_string(),
                    slots.to_string(),
                ]);
            }
        }
        args
    }
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    let mid = v.len() / 2;
    if v.len().is_multiple_of(2) {
        (v[mid - 1] + v[mid]) / 2
    } else {
        v[mid]
    }
}

/// cpn's median wall clock over `rounds` runs of `case`, and what the last run simulated.
fn measure(case: &Case, rounds: usize) -> (Duration, Outcome) {
    let mut times = Vec::new();
    let mut outcome = Outcome::default();
    for _ in 0..rounds.max(1) {
        let t = Instant::now();
        outcome = case.run();
        times.push(t.elapsed());
    }
    (median(times), outcome)
}

/// Whether a command can be started at all.
fn have(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn simgrid_headers() -> bool {
    let pkg = Command::new("pkg-config")
        .args(["--exists", "simgrid"])
        .status()
        .is_ok_and(|s| s.success());
    pkg || [
        "/usr/include/simgrid/s4u.hpp",
        "/usr/local/include/simgrid/s4u.hpp",
    ]
    .iter()
    .any(|p| Path::new(p).exists())
}

/// Builds the SimGrid harness: `Ok(None)` when g++ or SimGrid is missing (the peer is
/// skipped), an error when they are present and the build fails (the harness has rotted).
fn build_peer() -> Result<Option<PathBuf>, String> {
    if !have("g++") {
        return Ok(None);
    }
    if !simgrid_headers() {
        return Ok(None);
    }
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/simgrid/build.sh");
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("simgrid-master_workers");
    eprintln!(
        "building the SimGrid peer: {} {}",
        script.display(),
        out.display()
    );
    let status = Command::new("bash")
        .arg(&script)
        .arg(&out)
        .status()
        .map_err(|e| format!("cannot run {}: {e}", script.display()))?;
    if !status.success() {
        return Err(format!("{} exited with {status}", script.display()));
    }
    Ok(Some(out))
}

/// SimGrid's median wall clock over `rounds` runs of `case` and its simulated end (s).
fn measure_peer(exe: &Path, case: &Case, rounds: usize) -> Result<(Duration, f64), String> {
    let mut times = Vec::new();
    let mut end = 0.0;
    for _ in 0..rounds.max(1) {
        let out = Command::new(exe)
            .args(case.peer_args())
            .output()
            .map_err(|e| format!("cannot run {}: {e}", exe.display()))?;
        if !out.status.success() {
            return Err(format!(
                "{} exited with {}: {}",
                exe.display(),
                out.status,
                String::from_utf8_lossy(&out.stderr)
            ));
        }
        let text = String::from_utf8_lossy(&out.stdout);
        let mut words = text.split_whitespace();
        let (Some(Ok(wall)), Some(Ok(sim))) = (
            words.next().map(str::parse::<f64>),
            words.next().map(str::parse::<f64>),
        ) else {
            return Err(format!("cannot read the peer's output {text:?}"));
        };
        times.push(Duration::from_secs_f64(wall));
        end = sim;
    }
    Ok((median(times), end))
}

fn main() {
    let full = full_run();
    let cases: Vec<Case> = if full {
        vec![
            Case {
                model: Model::Pull,
                workers: 100,
                tasks: 200_000,
            },
            Case {
                model: Model::Pull,
                workers: 1_000,
                tasks: 50_000,
            },
            Case {
                model: Model::InFlight { slots: 100 },
                workers: 1_000,
                tasks: 300,
            },
        ]
    } else {
        vec![
            Case {
                model: Model::Pull,
                workers: 10,
                tasks: 1_000,
            },
            Case {
                model: Model::Pull,
                workers: 100,
                tasks: 1_000,
            },
            Case {
                model: Model::InFlight { slots: 10 },
                workers: 10,
                tasks: 300,
            },
        ]
    };
    let rounds = if full { rounds(3) } else { 1 };
    let peer = match build_peer() {
        Ok(Some(exe)) => Some(exe),
        Ok(None) => {
            print_loud(
                "SimGrid peer SKIPPED: g++ or SimGrid's headers are missing \
                 (apt-get install g++ libsimgrid-dev)",
            );
            None
        }
        Err(e) if full => {
            print_loud(&format!("SimGrid peer SKIPPED: {e}"));
            None
        }
        Err(e) => panic!("the SimGrid peer is present but does not build: {e}"),
    };

    println!(
        "master-worker on a flow-level network, tasks/s of wall clock, median of {rounds} rounds:"
    );
    println!(
        "{:>29} | {:>7} | {:>9} | {:>9} | {:>6} | {:>11} | {:>11} | {:>8} | {:>9} | {:>10}",
        "case",
        "tasks",
        "cpn",
        "SimGrid",
        "ratio",
        "cpn end s",
        "SimGrid s",
        "end diff",
        "fast path",
        "recomputed"
    );
    let mut mismatches = Vec::new();
    for case in &cases {
        let (cpn, outcome) = measure(case, rounds);
        let cpn_rate = case.tasks as f64 / cpn.as_secs_f64();
        let cpn_end = outcome.end_ns as f64 * 1e-9;
        let (sg, sg_end, ratio, diff) = match &peer {
            Some(exe) => match measure_peer(exe, case, rounds) {
                Ok((wall, end)) => {
                    let rate = case.tasks as f64 / wall.as_secs_f64();
                    if (cpn_end - end).abs() > 0.01 * end.max(1e-9) {
                        mismatches.push(format!(
                            "{}: cpn simulated {cpn_end:.6} s, SimGrid {end:.6} s",
                            case.name()
                        ));
                    }
                    (
                        format!("{rate:.0}"),
                        format!("{end:.6}"),
                        format!("{:.1}", cpn_rate / rate),
                        format!("{:.0e}", (cpn_end - end).abs() / end.max(1e-9)),
                    )
                }
                Err(e) if full => {
                    print_loud(&format!("SimGrid not measured on {}: {e}", case.name()));
                    ("-".into(), "-".into(), "-".into(), "-".into())
                }
                Err(e) => panic!("the SimGrid peer failed on {}: {e}", case.name()),
            },
            None => ("-".into(), "-".into(), "-".into(), "-".into()),
        };
        println!(
            "{:>29} | {:>7} | {cpn_rate:>9.0} | {sg:>9} | {ratio:>6} | {cpn_end:>11.6} | {sg_end:>11} | {diff:>8} | {:>9} | {:>10}",
            case.name(),
            case.tasks,
            outcome.stats.fast,
            outcome.stats.recomputed,
        );
    }
    if !mismatches.is_empty() {
        let message = format!(
            "simulated end times differ by more than 1 %, so the models differ: {}",
            mismatches.join("; ")
        );
        print_loud(&message);
        assert!(full, "{message}");
    }

    if full {
        // The in-flight model at length, cpn alone: the steady state past the setup of
        // 100,000 transfers (SimGrid would take hours).
        let long = Case {
            model: Model::InFlight { slots: 100 },
            workers: 1_000,
            tasks: 200_000,
        };
        let (t, outcome) = measure(&long, rounds);
        println!(
            "cpn alone, {}, {} tasks: {:.0} tasks/s, {:.1} simulated s, {} fast, {} recomputed",
            long.name(),
            long.tasks,
            long.tasks as f64 / t.as_secs_f64(),
            outcome.end_ns as f64 * 1e-9,
            outcome.stats.fast,
            outcome.stats.recomputed
        );
    }

    println!(
        "SimGrid's example (blocking puts, one transfer in flight; no peer), median of {rounds} rounds:"
    );
    println!(
        "{:>8} | {:>8} | {:>12} | {:>14}",
        "workers", "tasks", "tasks/s", "simulated s"
    );
    for n in [cases[0].workers, cases[1].workers] {
        let tasks = if full { 1_000_000 } else { 1_000 };
        let mut times = Vec::new();
        let mut outcome = Outcome::default();
        for _ in 0..rounds.max(1) {
            let t = Instant::now();
            outcome = run_sequential(n, tasks);
            times.push(t.elapsed());
        }
        println!(
            "{n:>8} | {tasks:>8} | {:>12.0} | {:>14.1}",
            tasks as f64 / median(times).as_secs_f64(),
            outcome.end_ns as f64 * 1e-9
        );
    }
}
