//! A master-worker model on a flow-level network: `n` workers each pull tasks from one
//! master; a task is a 1 MB transfer from the master (over the master's 10 Gbit/s link, then
//! the worker's 1 Gbit/s link, shared max-min fairly with every other transfer in flight),
//! then 1 ms of computing on the worker. Every worker always has one transfer or one task in
//! progress, so about `n` transfers share the master's link at every moment and each arrival
//! or departure changes every rate.
//!
//! The second model is SimGrid's classic example (`app-masterworkers`): the master sends the
//! tasks one after the other with a blocking put, round robin over the workers, so one
//! transfer is in flight at a time; each worker computes its tasks in order (a one-server
//! FIFO site).
//!
//! `cargo bench -p cpn-sim --bench master_worker`. Figures are tasks simulated per second of
//! wall clock, the median of `CPN_BENCH_ROUNDS` (default 3) rounds. There is no peer in this
//! run yet: SimGrid's figures in issue 7 come from another run (see BENCHMARKS.md).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use cpn_sim::{Completion, FifoSite, FlowNet, Simulation};
use cpn_testdata::bench::{full_run, rounds};

#[derive(Debug)]
enum Ev {
    Transferred(Completion),
    Computed(u32),
}

const TASK_BYTES: u64 = 1_000_000;
const COMPUTE_NS: u64 = 1_000_000;

/// Simulates `tasks` tasks on `n` workers; returns the simulated makespan in ns and the
/// completions that were stale when they fired.
fn run(n: u32, tasks: u64) -> (u64, u64) {
    let mut caps = vec![10_000_000_000u64];
    caps.extend(std::iter::repeat_n(1_000_000_000, n as usize));
    let mut net = FlowNet::new(&caps);
    let mut sim = Simulation::new(1);
    let mut out = Vec::new();
    let mut worker_of = Vec::new();
    let mut issued = 0u64;
    let mut stale = 0u64;
    let start_transfer = |w: u32,
                          now: u64,
                          net: &mut FlowNet,
                          out: &mut Vec<Completion>,
                          worker_of: &mut Vec<u32>| {
        let f = net.add_flow(now, &[0, w + 1], TASK_BYTES, out).unwrap();
        if worker_of.len() <= f.0 as usize {
            worker_of.resize(f.0 as usize + 1, 0);
        }
        worker_of[f.0 as usize] = w;
    };
    for w in 0..n.min(tasks as u32) {
        start_transfer(w, 0, &mut net, &mut out, &mut worker_of);
        issued += 1;
    }
    for c in out.drain(..) {
        sim.schedule(c.at, Ev::Transferred(c)).unwrap();
    }
    while let Some((now, ev)) = sim.next() {
        match ev {
            Ev::Transferred(c) => {
                let w = worker_of[c.flow.0 as usize];
                if net.finish(now, c, &mut out) {
                    sim.schedule_in(COMPUTE_NS, Ev::Computed(w)).unwrap();
                } else {
                    stale += 1;
                }
            }
            Ev::Computed(w) => {
                if issued < tasks {
                    start_transfer(w, now, &mut net, &mut out, &mut worker_of);
                    issued += 1;
                }
            }
        }
        for c in out.drain(..) {
            sim.schedule(c.at, Ev::Transferred(c)).unwrap();
        }
    }
    (sim.now(), stale)
}

/// SimGrid's master-worker: blocking puts in round robin, FIFO computing on each worker.
/// Returns the simulated makespan in ns.
fn run_sequential(n: u32, tasks: u64) -> u64 {
    let mut caps = vec![10_000_000_000u64];
    caps.extend(std::iter::repeat_n(1_000_000_000, n as usize));
    let mut net = FlowNet::new(&caps);
    let mut sites: Vec<FifoSite> = (0..n).map(|_| FifoSite::new(1)).collect();
    let mut sim = Simulation::new(1);
    let mut out = Vec::new();
    let mut sent = 0u64;
    let send = |k: u64, now: u64, net: &mut FlowNet, out: &mut Vec<Completion>| {
        let w = (k % u64::from(n)) as u32;
        net.add_flow(now, &[0, w + 1], TASK_BYTES, out).unwrap();
    };
    if tasks > 0 {
        send(0, 0, &mut net, &mut out);
    }
    loop {
        for c in out.drain(..) {
            sim.schedule(c.at, Ev::Transferred(c)).unwrap();
        }
        let Some((now, ev)) = sim.next() else { break };
        let started = match ev {
            Ev::Transferred(c) => {
                if !net.finish(now, c, &mut out) {
                    continue;
                }
                let w = (sent % u64::from(n)) as u32;
                sent += 1;
                if sent < tasks {
                    send(sent, now, &mut net, &mut out);
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
    }
    sim.now()
}

fn main() {
    let full = full_run();
    let cases: &[(u32, u64)] = if full {
        &[(100, 200_000), (1_000, 50_000)]
    } else {
        &[(10, 1_000), (100, 1_000)]
    };
    let rounds = if full { rounds(3) } else { 1 };
    println!("master-worker on a flow-level network, median of {rounds} rounds:");
    println!(
        "{:>8} | {:>8} | {:>12} | {:>14} | {:>16}",
        "workers", "tasks", "tasks/s", "simulated s", "stale events"
    );
    for &(n, tasks) in cases {
        let mut times = Vec::new();
        let mut result = (0, 0);
        for _ in 0..rounds.max(1) {
            let t = Instant::now();
            result = run(n, tasks);
            times.push(t.elapsed());
        }
        times.sort();
        let median: Duration = times[times.len() / 2];
        println!(
            "{n:>8} | {tasks:>8} | {:>12.0} | {:>14.1} | {:>16}",
            tasks as f64 / median.as_secs_f64(),
            result.0 as f64 * 1e-9,
            result.1
        );
    }
    println!(
        "SimGrid's example (blocking puts, one transfer in flight), median of {rounds} rounds:"
    );
    println!(
        "{:>8} | {:>8} | {:>12} | {:>14}",
        "workers", "tasks", "tasks/s", "simulated s"
    );
    for &(n, _) in cases {
        let tasks = if full { 1_000_000 } else { 1_000 };
        let mut times = Vec::new();
        let mut makespan = 0;
        for _ in 0..rounds.max(1) {
            let t = Instant::now();
            makespan = run_sequential(n, tasks);
            times.push(t.elapsed());
        }
        times.sort();
        let median: Duration = times[times.len() / 2];
        println!(
            "{n:>8} | {tasks:>8} | {:>12.0} | {:>14.1}",
            tasks as f64 / median.as_secs_f64(),
            makespan as f64 * 1e-9
        );
    }
}
