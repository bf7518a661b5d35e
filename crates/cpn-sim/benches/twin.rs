//! The twin at scale: requests of the built-in mixed workload through cpn's joint decision on
//! the national scenario grown to 10,000 sites (issue 7's goal: 1 M requests in at most 10 s).
//! `cargo bench -p cpn-sim --bench twin`; `CPN_TWIN_REQUESTS` sets the count (default
//! 20,000 in a full run, 2,000 as a smoke test under `cargo test`; 1000000 for the goal).
//!
//! Besides the rate it prints a digest of every outcome (request, site, latency, SLA met), so
//! that two builds can be shown to decide alike on the same run, and the process's peak
//! resident memory.

use std::time::{Duration, Instant};

use cpn_sched::Strategy;
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

/// The CPU time this thread has run, where the system tells it (Linux): on a machine shared
/// with other work the wall time also counts the time spent waiting for a core.
fn thread_cpu() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = stat.split_whitespace().next()?.parse().ok()?;
    Some(Duration::from_nanos(ns))
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
    let (started, cpu_before) = (Instant::now(), thread_cpu());
    let (report, outcomes) = twin::run(&scenario, &arrivals, Strategy::Cpn, 1, duration_s, &[]);
    let took = started.elapsed();
    let cpu = thread_cpu()
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
            "  CPU time {:.2} s ({:.0} requests per CPU second; the rest of the wall time waited for a core)",
            cpu.as_secs_f64(),
            report.requests as f64 / cpu.as_secs_f64()
        );
    }
    let goal = 1_000_000.0 / (report.requests as f64 / took.as_secs_f64());
    println!("  at this rate 1 M requests take {goal:.1} s (goal: at most 10 s)");
    if let Some(mib) = peak_rss_mib() {
        println!(
            "  peak resident memory of the process {mib:.0} MiB (workload and outcomes included)"
        );
    }
}
