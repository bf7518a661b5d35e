//! Batch placement: the heuristic (`cpn_sched::batch::place`) against HiGHS on the exact MILP
//! (`bench/placement_peers.py`, highspy, one thread, `CPN_BENCH_HIGHS_S` seconds, default
//! 60), on the generator's instances 200 x 50, 1000 x 200 and 5000 x 500 at 80 % load. Prints
//! our objective and median time, HiGHS's incumbent, best bound and time, and our gap to the
//! bound.
//!
//! `cargo bench -p cpn-sched --bench placement`. Under `cargo test --all-targets` (no
//! `--bench`) a tiny instance runs once, checked against the exact solver, without the peer.

#![allow(clippy::unwrap_used)]

use cpn_sched::batch::{Instance, check, objective, place, solve_exact};
use cpn_testdata::bench::{full_run, measure, rounds};

const SEED: u64 = 4;
const LOAD: f64 = 0.8;

fn main() {
    if !full_run() {
        let inst = Instance::generate(8, 4, LOAD, SEED).unwrap();
        let ours = place(&inst);
        check(&inst, &ours).unwrap();
        let (_, best) = solve_exact(&inst).unwrap();
        let value = objective(&inst, &ours);
        assert!(value <= best + 1e-6);
        println!("smoke 8 x 4: heuristic {value:.1}, exact {best:.1}");
        return;
    }
    let rounds = rounds(11);
    let highs_s = std::env::var("CPN_BENCH_HIGHS_S").unwrap_or_else(|_| "60".into());
    let dir = std::env::temp_dir().join(format!("cpn-placement-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    println!(
        "| instance | pairs | ours: objective | placed | median ms (min..max) | HiGHS incumbent | HiGHS bound | HiGHS status, s | our gap to bound | HiGHS gap |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: |");
    for (requests, sites) in [(200, 50), (1000, 200), (5000, 500)] {
        let inst = Instance::generate(requests, sites, LOAD, SEED).unwrap();
        let mut result = None;
        let stats = measure(rounds, || result = Some(place(&inst)));
        let ours = result.unwrap();
        check(&inst, &ours).unwrap();
        let value = objective(&inst, &ours);
        let path = dir.join(format!("placement-{requests}x{sites}.json"));
        std::fs::write(&path, serde_json::to_string(&inst).unwrap()).unwrap();
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../bench/placement_peers.py"
        );
        let out = std::process::Command::new("python3")
            .arg(script)
            .arg(&path)
            .env("CPN_BENCH_HIGHS_S", &highs_s)
            .output();
        let peer: Option<serde_json::Value> = match out {
            Ok(o) if o.status.success() => {
                // HiGHS prints its banner on stdout before the options silence it: the
                // result is the last line.
                let text = String::from_utf8_lossy(&o.stdout);
                let parsed = serde_json::from_str(text.lines().last().unwrap_or(""));
                if parsed.is_err() {
                    eprintln!("PEER OUTPUT UNREADABLE: {text}");
                }
                parsed.ok()
            }
            Ok(o) => {
                eprintln!(
                    "PEER SKIPPED: {}",
                    String::from_utf8_lossy(&o.stderr)
                        .lines()
                        .last()
                        .unwrap_or("failed")
                );
                None
            }
            Err(e) => {
                eprintln!("PEER SKIPPED: cannot run python3: {e}");
                None
            }
        };
        let field = |k: &str| peer.as_ref().and_then(|p| p[k].as_f64());
        let fmt = |v: Option<f64>| v.map_or("none".to_string(), |v| format!("{v:.1}"));
        let (incumbent, bound) = (field("objective"), field("bound"));
        let status = peer.as_ref().map_or("skipped".to_string(), |p| {
            format!(
                "{}, {:.1}",
                p["status"].as_str().unwrap_or("?"),
                p["seconds"].as_f64().unwrap_or(f64::NAN)
            )
        });
        let gap = |v: f64| {
            bound.map_or("n/a".to_string(), |b| {
                format!("{:.2} %", 100.0 * (b - v) / b)
            })
        };
        println!(
            "| {requests} x {sites} | {} | {value:.1} | {} / {requests} | {:.2} ({:.2}..{:.2}) | {} | {} | {status} | {} | {} |",
            inst.pairs.len(),
            ours.placed(),
            stats.median.as_secs_f64() * 1e3,
            stats.min.as_secs_f64() * 1e3,
            stats.max.as_secs_f64() * 1e3,
            fmt(incumbent),
            fmt(bound),
            gap(value),
            incumbent.map_or("n/a".to_string(), gap),
        );
        if let Some(v) = peer.as_ref().and_then(|p| p["highspy"].as_str()) {
            eprintln!("highspy {v}");
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
}
