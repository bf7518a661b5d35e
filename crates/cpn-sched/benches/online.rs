//! Online placement with reservation commit on the built-in national scenario: random service
//! requests with random windows, each decided by the routing engine over the calendars and
//! booked on its site and every link of its path, all or nothing; a fifth of the time the
//! oldest reservation is released, so that the network stays busy but not full.
//!
//! `cargo bench -p cpn-sched --bench online`. There is no peer to run here: schedulers that
//! place on compute alone publish their own figures (kube-scheduler's CI floor is 810 pods/s,
//! Nomad's C1M run placed 3,750 containers/s) on other machines, for a simpler decision.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use cpn_model::synthetic::SplitMix64;
use cpn_model::{RouterId, ServiceId};
use cpn_route::Objective;
use cpn_sched::{Isolation, PlaceRequest, Placed, Scheduler};
use cpn_testdata::bench::full_run;
use cpn_units::{Bandwidth, Nanos};

fn main() {
    let n = if full_run() { 20_000 } else { 2_000 };
    let scenario = cpn_model::built_in("national").unwrap().unwrap();
    let mut rng = SplitMix64::new(7);
    let requests: Vec<PlaceRequest> = (0..n)
        .map(|i| {
            let start = rng.below(86_400);
            PlaceRequest {
                name: format!("q{i}"),
                ingress: RouterId(rng.below(scenario.routers.len() as u64) as u32),
                service: Some(ServiceId(rng.below(scenario.services.len() as u64) as u32)),
                demand: None,
                processing: Nanos::ZERO,
                cores: 0,
                memory_mib: 0,
                gpus: Vec::new(),
                bandwidth: Bandwidth::from_mbps(10 * (1 + rng.below(100))),
                max_latency: None,
                max_loss: None,
                priority: rng.below(4) as u8,
                slice: None,
                isolation: Isolation::Soft,
                start,
                end: start + 60 + rng.below(3_600),
                objective: Objective::Latency,
            }
        })
        .collect();
    let mut scheduler = Scheduler::new(&scenario);
    let mut live = VecDeque::new();
    let (mut accepted, mut refused, mut preempting, mut released) =
        (0usize, 0usize, 0usize, 0usize);
    let mut times: Vec<Duration> = Vec::with_capacity(n);
    let started = Instant::now();
    for (i, request) in requests.into_iter().enumerate() {
        let t = Instant::now();
        match scheduler.place(request).unwrap() {
            Placed::Accepted {
                reservation,
                preempted,
            } => {
                accepted += 1;
                preempting += usize::from(!preempted.is_empty());
                live.push_back(reservation);
            }
            Placed::Refused(_) => refused += 1,
        }
        times.push(t.elapsed());
        if i % 5 == 4 {
            while let Some(id) = live.pop_front() {
                // Preempted reservations are gone already; skip them.
                if scheduler.release(id).is_ok() {
                    released += 1;
                    break;
                }
            }
        }
    }
    let total = started.elapsed();
    times.sort();
    let p = |q: f64| times[((times.len() - 1) as f64 * q) as usize].as_secs_f64() * 1e6;
    println!(
        "online placement on {}: {} requests in {:.2} s: {:.0} placements/s per core (releases included); one by one p50 {:.1} µs, p99 {:.1} µs",
        scenario.name,
        n,
        total.as_secs_f64(),
        n as f64 / total.as_secs_f64(),
        p(0.5),
        p(0.99)
    );
    println!(
        "{accepted} accepted ({preempting} by preempting), {refused} refused, {released} released; {} reservations held at the end",
        scheduler.reservations().count()
    );
}
