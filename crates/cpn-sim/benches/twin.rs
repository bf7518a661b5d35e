//! The twin at scale: requests of the built-in mixed workload through cpn's joint decision on
//! the national scenario grown to 10,000 sites (issue 7's goal: 1 M requests in at most 10 s).
//! `cargo bench -p cpn-sim --bench twin`; `CPN_TWIN_REQUESTS` sets the count (default
//! 20,000 in a full run, 2,000 as a smoke test under `cargo test`; 1000000 for the goal).
//!
//! Besides the rate it prints the run's CPU time over both its threads (the scheduler's half
//! and the play-out), a digest of every outcome (request, site, latency, SLA met), so that
//! two builds can be shown to decide alike on the same run, the scheduler's state per site in
//! the middle of the workload, and the process's peak resident memory.

use std::time::{Duration, Instant};

// The allocator `cpn sim` runs with (crates/cpn-cli): the twin allocates per request (names,
// paths, reservations), and the figure should be the one a user of the binary sees.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use cpn_sched::{PlaceRequest, Placed, ReservationId, Scheduler, Strategy};
use cpn_sim::twin;

/// FNV-1a over the outcomes in order: equal digests mean the same site and latency for
/// every request.
fn digest(outcomes: &[twin::Outcome]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    };
    for o in outcomes {
        eat(o.name.as_bytes());
        eat(&[0]);
        eat(o.site.as_deref().unwrap_or("-").as_bytes());
        eat(&[0]);
        eat(&o.latency_us.unwrap_or(u64::MAX).to_le_bytes());
        eat(&[u8::from(o.sla_met)]);
    }
    h
}

/// The CPU time this process has used on all its threads (user and system), where the
/// system tells it (Linux): on a machine shared with other work the wall time also counts
/// waiting for a core, and a run on two threads uses more CPU than wall time.
fn process_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // The kernel reports in clock ticks of 1/100 s on every Linux this runs on.
    Some(Duration::from_millis(ticks * 10))
}

/// The first `n` arrivals placed as the twin places them (each released when its hold ends),
/// on a scheduler of our own: the twin's run keeps its scheduler to itself, and its state in
/// the middle of a run is what is worth measuring. Returns it with what it still holds.
fn replay(
    scenario: &cpn_model::Scenario,
    arrivals: &[twin::Arrival],
    n: usize,
) -> (Scheduler, usize) {
    const NS: u64 = 1_000_000_000;
    let mut sched = Scheduler::new(scenario);
    let mut departures: BinaryHeap<Reverse<(u64, ReservationId)>> = BinaryHeap::new();
    let mut draws = 1;
    for a in arrivals.iter().take(n) {
        while let Some(&Reverse((at, id))) = departures.peek() {
            if at > a.at {
                break;
            }
            departures.pop();
            let _ = sched.release(id);
        }
        let start = a.at / NS;
        let request = PlaceRequest {
            start,
            end: start + a.hold_s.max(1),
            ..a.request.clone()
        };
        if let Ok(Placed::Accepted { reservation, .. }) =
            sched.place_by(Strategy::Cpn, request, &mut draws)
        {
            departures.push(Reverse((a.at + a.hold_s.max(1) * NS, reservation)));
        }
    }
    (sched, departures.len())
}

/// The process's peak resident memory in MiB, where the system tells it (Linux).
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn main() {
    let full = cpn_testdata::bench::full_run();
    let requests: f64 = std::env::var("CPN_TWIN_REQUESTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(if full { 20_000.0 } else { 2_000.0 });
    let base = cpn_model::built_in("national")
        .expect("known")
        .expect("valid");
    let started = Instant::now();
    let scenario =
        cpn_model::synthetic::scaled(&base, 2_000, 10_000, 1).expect("the scaled scenario");
    let built = started.elapsed();
    // 200 requests a second of simulated time, for as long as it takes.
    let rate = 200.0;
    let duration_s = (requests / rate).ceil() as u64;
    let arrivals = twin::mixed(&scenario, 1, rate, duration_s);
    let (started, cpu_before) = (Instant::now(), process_cpu());
    let (report, outcomes) = twin::run(&scenario, &arrivals, Strategy::Cpn, 1, duration_s, &[]);
    let took = started.elapsed();
    let cpu = process_cpu()
        .zip(cpu_before)
        .map(|(a, b)| a.saturating_sub(b));
    println!(
        "twin, cpn strategy, national grown to {} routers and {} sites (built in {:.2} s):",
        scenario.routers.len(),
        scenario.sites.len(),
        built.as_secs_f64()
    );
    println!(
        "  {} requests over {} s simulated in {:.2} s: {:.0} requests/s; SLA satisfaction {:.4}, acceptance {:.4}",
        report.requests,
        duration_s,
        took.as_secs_f64(),
        report.requests as f64 / took.as_secs_f64(),
        report.sla_satisfaction,
        report.acceptance
    );
    println!(
        "  latency p50/p95/p99 {:.3}/{:.3}/{:.3} ms, cost {:.3}, carbon {:.3} kg; outcomes digest {:016x}",
        report.latency_ms.p50,
        report.latency_ms.p95,
        report.latency_ms.p99,
        report.cost,
        report.carbon_kg,
        digest(&outcomes)
    );
    if let Some(cpu) = cpu {
        println!(
            "  CPU time {:.2} s on all threads ({:.0} requests per CPU second; the scheduler and the play-out run on two threads)",
            cpu.as_secs_f64(),
            report.requests as f64 / cpu.as_secs_f64()
        );
    }
    let goal = 1_000_000.0 / (report.requests as f64 / took.as_secs_f64());
    println!("  at this rate 1 M requests take {goal:.1} s (goal: at most 10 s)");
    // The scheduler's state once the workload is steady (holds run to 10 minutes, so after
    // 150,000 requests at 200 a second every one that can still be held is).
    let n = arrivals.len().min(150_000);
    let (sched, held) = replay(&scenario, &arrivals, n);
    let f = sched.footprint();
    let per_site = |b: usize| b as f64 / scenario.sites.len() as f64;
    println!(
        "  scheduler state after {n} requests ({held} held): {:.0} bytes per site (calendars {:.0}, reservations {:.0}, kept searches and site parts {:.0})",
        per_site(f.calendars + f.reservations + f.shortlist),
        per_site(f.calendars),
        per_site(f.reservations),
        per_site(f.shortlist)
    );
    if let Some(mib) = peak_rss_mib() {
        println!(
            "  peak resident memory of the process {mib:.0} MiB (workload and outcomes included)"
        );
    }
}
