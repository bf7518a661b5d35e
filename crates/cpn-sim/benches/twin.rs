//! The twin at scale: requests of the built-in mixed workload through cpn's joint decision on
//! the national scenario grown to 10,000 sites (issue 7's goal: 1 M requests in at most 10 s).
//! `cargo bench -p cpn-sim --bench twin`; `CPN_TWIN_REQUESTS` sets the count (default
//! 20,000 in a full run, 2,000 as a smoke test under `cargo test`).

use std::time::Instant;

use cpn_sched::Strategy;
use cpn_sim::twin;

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
    let started = Instant::now();
    let (report, _) = twin::run(&scenario, &arrivals, Strategy::Cpn, 1, duration_s, &[]);
    let took = started.elapsed();
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
    let goal = 1_000_000.0 / (report.requests as f64 / took.as_secs_f64());
    println!("  at this rate 1 M requests take {goal:.1} s (goal: at most 10 s)");
}
