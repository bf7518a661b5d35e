//! Joint decisions on the national scenario scaled to 2,000 routers and 10,000 sites: lookups
//! in the CATS steering tables and fresh constrained decisions, each timed one by one for
//! percentiles; then the same fresh decisions written with scipy and numpy, in the same run,
//! on the same exported network and requests (`bench/decide_peers.py`).
//!
//! `cargo bench -p cpn-route --bench decide`. Under `cargo test --all-targets` (no `--bench`
//! argument) it runs a small smoke version and skips the peer.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fmt::Write as _;
use std::hint::black_box;
use std::time::{Duration, Instant};

use cpn_model::synthetic::{SplitMix64, scaled};
use cpn_model::{RouterId, ServiceId};
use cpn_route::{Demand, Engine, Hysteresis, Objective, Request, SlaBounds, SteeringTable};
use cpn_units::Bandwidth;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (routers, sites, lookups, fresh) = if full {
        (2_000, 10_000, 1_000_000, 20_000)
    } else {
        (100, 300, 1_000, 100)
    };
    let base = cpn_model::built_in("national").unwrap().unwrap();
    let t = Instant::now();
    let scenario = scaled(&base, routers, sites, 1).unwrap();
    println!(
        "scenario {}: {} routers, {} links, {} sites, {} services ({} candidate sites in all), built in {:.0} ms",
        scenario.name,
        scenario.routers.len(),
        scenario.links.len(),
        scenario.sites.len(),
        scenario.services.len(),
        scenario
            .services
            .iter()
            .map(|s| s.sites.len())
            .sum::<usize>(),
        t.elapsed().as_secs_f64() * 1e3
    );
    let mut engine = Engine::new(&scenario);
    let services = scenario.services.len();
    let objective = Objective::Latency;

    let t = Instant::now();
    let table = SteeringTable::build(&mut engine, services, objective, Hysteresis::default());
    println!(
        "steering tables: {} entries built in {:.0} ms",
        routers * services,
        t.elapsed().as_secs_f64() * 1e3
    );

    let mut rng = SplitMix64(42);
    let queries: Vec<(RouterId, ServiceId)> = (0..lookups)
        .map(|_| {
            (
                RouterId(rng.below(routers as u64) as u32),
                ServiceId(rng.below(services as u64) as u32),
            )
        })
        .collect();
    let t = Instant::now();
    let mut found = 0u64;
    for &(r, s) in &queries {
        if let Some(e) = table.lookup(r, s) {
            found += u64::from(black_box(e.site).is_some());
        }
    }
    let total = t.elapsed();
    let mut one_by_one: Vec<Duration> = queries
        .iter()
        .take(100_000)
        .map(|&(r, s)| {
            let t = Instant::now();
            black_box(table.lookup(r, s));
            t.elapsed()
        })
        .collect();
    one_by_one.sort();
    println!(
        "table lookups: {:.0} decisions/s per core ({} of {} found a site); one by one (timer included) p50 {:.3} µs, p99 {:.3} µs",
        lookups as f64 / total.as_secs_f64(),
        found,
        lookups,
        percentile(&one_by_one, 0.5).as_secs_f64() * 1e6,
        percentile(&one_by_one, 0.99).as_secs_f64() * 1e6
    );

    let requests: Vec<Request> = (0..fresh)
        .map(|i| Request {
            ingress: RouterId(rng.below(routers as u64) as u32),
            demand: Demand::Service(ServiceId(rng.below(services as u64) as u32)),
            sla: SlaBounds {
                min_bandwidth: if i % 2 == 0 {
                    Bandwidth::ZERO
                } else {
                    Bandwidth::from_gbps(50)
                },
                ..SlaBounds::default()
            },
            objective,
        })
        .collect();
    let mut times = Vec::with_capacity(fresh);
    let mut chosen = Vec::with_capacity(fresh);
    let t = Instant::now();
    for r in &requests {
        let t = Instant::now();
        let d = engine.decide(r).unwrap();
        times.push(t.elapsed());
        chosen.push(d.choice().map_or(-1, |c| i64::from(c.site.0)));
    }
    let total = t.elapsed();
    times.sort();
    let cpn_rate = fresh as f64 / total.as_secs_f64();
    println!(
        "fresh constrained decisions: {:.0} decisions/s per core, p50 {:.1} µs, p99 {:.1} µs ({} feasible of {})",
        cpn_rate,
        percentile(&times, 0.5).as_secs_f64() * 1e6,
        percentile(&times, 0.99).as_secs_f64() * 1e6,
        chosen.iter().filter(|&&c| c >= 0).count(),
        fresh
    );
    engine.set_exact_explanations(false);
    let mut quick_times = Vec::with_capacity(fresh);
    let mut same = 0usize;
    let t = Instant::now();
    for (r, &c) in requests.iter().zip(&chosen) {
        let t = Instant::now();
        let d = engine.decide(r).unwrap();
        quick_times.push(t.elapsed());
        same += usize::from(d.choice().map_or(-1, |x| i64::from(x.site.0)) == c);
    }
    let total = t.elapsed();
    quick_times.sort();
    println!(
        "fresh decisions, search bounded by the latency budget (rejections as bounds): {:.0} decisions/s per core, p50 {:.1} µs, p99 {:.1} µs ({} of {} choices equal to the exact mode)",
        fresh as f64 / total.as_secs_f64(),
        percentile(&quick_times, 0.5).as_secs_f64() * 1e6,
        percentile(&quick_times, 0.99).as_secs_f64() * 1e6,
        same,
        fresh
    );
    engine.set_exact_explanations(true);
    if !full {
        println!("smoke run: peers skipped (run `cargo bench -p cpn-route --bench decide`)");
        return;
    }
    peer(&scenario, &engine, &requests, &chosen, cpn_rate);
}

/// Exports the network, sites, services and requests, runs the scipy/numpy peer on them and
/// prints its rate and how many of its choices agree with ours.
fn peer(
    scenario: &cpn_model::Scenario,
    engine: &Engine,
    requests: &[Request],
    chosen: &[i64],
    cpn_rate: f64,
) {
    let dir = std::env::temp_dir().join(format!("cpn-decide-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let g = engine.graph();
    let mut arcs = String::from("src,dst,latency_us,available_bps\n");
    for v in 0..g.node_count() as u32 {
        for a in g.arcs_from(v) {
            let link = g.link(a);
            let _ = writeln!(
                arcs,
                "{v},{},{},{}",
                g.head(a),
                g.latency_us(link),
                g.available(link).0
            );
        }
    }
    let mut sites = String::from("site,router\n");
    for s in &scenario.sites {
        let _ = writeln!(sites, "{},{}", s.id.0, s.router.0);
    }
    let mut services = String::from("service,processing_us,max_latency_us,sites\n");
    for s in &scenario.services {
        let budget = s
            .sla
            .and_then(|id| scenario.slas[id.index()].max_latency)
            .map_or(-1, |l| l.as_micros_rounded() as i64);
        let ids: Vec<String> = s.sites.iter().map(|x| x.0.to_string()).collect();
        let _ = writeln!(
            services,
            "{},{},{},{}",
            s.id.0,
            s.processing.as_micros_rounded(),
            budget,
            ids.join(" ")
        );
    }
    let mut reqs = String::from("ingress,service,min_bandwidth_bps,cpn_site\n");
    for (r, c) in requests.iter().zip(chosen) {
        let Demand::Service(s) = r.demand else {
            continue;
        };
        let _ = writeln!(
            reqs,
            "{},{},{},{c}",
            r.ingress.0, s.0, r.sla.min_bandwidth.0
        );
    }
    for (name, text) in [
        ("arcs.csv", arcs),
        ("sites.csv", sites),
        ("services.csv", services),
        ("requests.csv", reqs),
    ] {
        std::fs::write(dir.join(name), text).unwrap();
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../bench/decide_peers.py");
    let out = std::process::Command::new("python3")
        .arg(script)
        .arg(&dir)
        .output();
    let _ = std::fs::remove_dir_all(&dir);
    match out {
        Ok(o) if o.status.success() => {
            let text = String::from_utf8_lossy(&o.stdout);
            print!("{text}");
            if let Some(rate) = text
                .lines()
                .find_map(|l| l.strip_prefix("peer_rate "))
                .and_then(|v| v.trim().parse::<f64>().ok())
            {
                println!("ratio cpn / scipy+numpy: {:.1}x", cpn_rate / rate);
            }
        }
        Ok(o) => println!(
            "PEER SKIPPED: {}",
            String::from_utf8_lossy(&o.stderr)
                .lines()
                .last()
                .unwrap_or("failed")
        ),
        Err(e) => println!("PEER SKIPPED: cannot run python3: {e}"),
    }
}
