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

use cpn_sim::{FifoSite, FlowId, FlowNet, Simulation};
use cpn_testdata::bench::{full_run, rounds};

#[derive(Debug)]
enum Ev {
    /// The network's wake-up at its next completion, with its generation: only the latest
    /// one is current.
    Wake(u64),
    Computed(u32),
}

const TASK_BYTES: u64 = 1_000_000;
const COMPUTE_NS: u64 = 1_000_000;

/// The network's single wake-up event: scheduled again only when its time moves.
#[derive(Debug, Default)]
struct Wake {
    generation: u64,
    at: Option<u64>,
    stale: u64,
}

impl Wake {
    fn sync(&mut self, sim: &mut Simulation<Ev>, net: &FlowNet) {
        let next = net.next_completion().map(|(t, _)| t);
        if next != self.at {
            if self.at.is_some() {
                self.stale += 1;
            }
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

/// Simulates `tasks` tasks on `n` workers that each pull their next task when done; returns
/// the simulated makespan in ns and the wake-up events that were stale when they fired.
fn run(n: u32, tasks: u64) -> (u64, u64) {
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
    (sim.now(), wake.stale)
}

/// SimGrid's master-worker: blocking puts in round robin, FIFO computing on each worker.
/// Returns the simulated makespan in ns.
fn run_sequential(n: u32, tasks: u64) -> u64 {
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
        "workers", "tasks", "tasks/s", "simulated s", "stale wake-ups"
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
