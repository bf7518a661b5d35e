//! The hold model (Jones 1986; Rönngren and Ayani 1997): `n` events pending; each step pops
//! the earliest and pushes one an exponential delay later, so the pending count stays `n`.
//! It measures an event queue alone, at 1k, 100k and 1M pending: cpn-sim's radix queue, the
//! standard library's `BinaryHeap` keyed by (time, sequence), and SimPy (`bench/hold_simpy.py`,
//! `n` processes each looping on `yield env.timeout(...)`), all in the same run.
//!
//! `cargo bench -p cpn-sim --bench hold`. Each figure is the median of `CPN_BENCH_ROUNDS`
//! (default 5) timed rounds; a round fills the queue, runs `n` untimed holds to reach the
//! steady state, then times the holds. Delays are exponential with a mean of 1 ms in integer
//! ns, drawn from the same generator for both Rust queues.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::path::Path;
use std::time::{Duration, Instant};

use cpn_sim::{EventQueue, Rng};
use cpn_testdata::bench::{full_run, print_loud, rounds, run_peer};

const MEAN_NS: f64 = 1e6;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    let mid = v.len() / 2;
    if v.len().is_multiple_of(2) {
        (v[mid - 1] + v[mid]) / 2
    } else {
        v[mid]
    }
}

/// Events per second of `holds` hold steps with `n` pending, median over `rounds`.
fn hold_radix(n: usize, holds: usize, rounds: usize) -> (f64, u64) {
    let mut times = Vec::new();
    let mut check = 0;
    for r in 0..rounds {
        let mut rng = Rng::new(r as u64);
        let mut q = EventQueue::new();
        for i in 0..n {
            q.push(rng.exponential_ns(MEAN_NS), i as u32).unwrap();
        }
        let step = |q: &mut EventQueue<u32>, rng: &mut Rng| {
            let (t, p) = q.pop().unwrap();
            q.push(t + rng.exponential_ns(MEAN_NS), p).unwrap();
            t
        };
        for _ in 0..n {
            step(&mut q, &mut rng);
        }
        let start = Instant::now();
        let mut last = 0;
        for _ in 0..holds {
            last = step(&mut q, &mut rng);
        }
        times.push(start.elapsed());
        check = last;
    }
    (holds as f64 / median(times).as_secs_f64(), check)
}

fn hold_heap(n: usize, holds: usize, rounds: usize) -> (f64, u64) {
    let mut times = Vec::new();
    let mut check = 0;
    for r in 0..rounds {
        let mut rng = Rng::new(r as u64);
        let mut q = BinaryHeap::with_capacity(n);
        let mut seq = 0u64;
        for i in 0..n {
            q.push(Reverse((rng.exponential_ns(MEAN_NS), seq, i as u32)));
            seq += 1;
        }
        let mut step = |q: &mut BinaryHeap<Reverse<(u64, u64, u32)>>, rng: &mut Rng| {
            let Reverse((t, _, p)) = q.pop().unwrap();
            q.push(Reverse((t + rng.exponential_ns(MEAN_NS), seq, p)));
            seq += 1;
            t
        };
        for _ in 0..n {
            step(&mut q, &mut rng);
        }
        let start = Instant::now();
        let mut last = 0;
        for _ in 0..holds {
            last = step(&mut q, &mut rng);
        }
        times.push(start.elapsed());
        check = last;
    }
    (holds as f64 / median(times).as_secs_f64(), check)
}

fn main() {
    let full = full_run();
    let sizes: &[usize] = if full {
        &[1_000, 100_000, 1_000_000]
    } else {
        &[1_000, 10_000]
    };
    let holds = if full { 10_000_000 } else { 20_000 };
    let rounds = if full { rounds(5) } else { 1 };
    let mut rows = Vec::new();
    for &n in sizes {
        let (radix, a) = hold_radix(n, holds, rounds);
        let (heap, b) = hold_heap(n, holds, rounds);
        // Same generator, same delays, same order of (time, sequence): the same last event.
        assert_eq!(a, b, "the two queues disagree at {n} pending");
        rows.push((n, radix, heap));
    }
    // SimPy at 1k and 100k pending (a million SimPy processes would take gigabytes).
    let mut simpy: std::collections::HashMap<usize, f64> = std::collections::HashMap::new();
    if full {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../bench/hold_simpy.py");
        let args = vec![
            "--sizes".to_string(),
            "1000,100000".to_string(),
            "--events".to_string(),
            "500000".to_string(),
            "--rounds".to_string(),
            rounds.to_string(),
        ];
        match run_peer(&script, &args) {
            Ok(text) => {
                let by_size = cpn_testdata::bench::figures(&text);
                simpy.extend(
                    by_size
                        .into_iter()
                        .filter_map(|(n, r)| Some((n.parse().ok()?, r))),
                );
            }
            Err(e) => print_loud(&format!("SimPy not measured: {e}")),
        }
    }
    println!(
        "hold model, {holds} holds per round, median of {rounds} rounds, M events/s (pop + push):"
    );
    println!(
        "{:>9} | {:>8} | {:>11} | {:>6} | {:>8} | {:>9} | goal",
        "pending", "cpn-sim", "BinaryHeap", "ratio", "SimPy", "ratio"
    );
    for (n, radix, heap) in rows {
        let (sp, spr) = simpy
            .get(&n)
            .map_or(("-".to_string(), "-".to_string()), |&s| {
                (format!("{:.3}", s / 1e6), format!("{:.0}", radix / s))
            });
        let goal = match n {
            100_000 => format!(">= 10 M: {}", if radix >= 10e6 { "met" } else { "NOT met" }),
            1_000_000 => format!(">= 5 M: {}", if radix >= 5e6 { "met" } else { "NOT met" }),
            _ => String::new(),
        };
        println!(
            "{n:>9} | {:>8.2} | {:>11.2} | {:>6.2} | {sp:>8} | {spr:>9} | {goal}",
            radix / 1e6,
            heap / 1e6,
            radix / heap
        );
    }
}
