//! k shortest paths benchmark: Yen k = 10 from one corner of a 100 x 100 grid to the
//! opposite one, timed as (a) with a latency bound of 1.2 times the shortest distance and
//! (b) without a bound, against the best-known peers measured in the same run on the same
//! graph: networkx's `shortest_simple_paths` and igraph's `get_k_shortest_paths`, timed by
//! `bench/yen_peers.py`. The peers have no bound, so (b) is the like-for-like comparison;
//! (a) is the query a controller asks, where the bound lets the search prune.
//!
//! The grid is `cpn_route::grid_arcs` (the generator of `cpn bench graph`): node
//! `row * 100 + col`, an arc each way between 4-neighbours, each arc with its own weight
//! (latency µs, also the IGP metric) from SplitMix64 with a fixed seed, so every run and
//! every tool sees the same graph. It is written to a
//! temporary CSV file for the peers before any timing starts.
//!
//! Run with `cargo bench -p cpn-route --bench yen`; `CPN_BENCH_ROUNDS` (default 11) sets the
//! number of timed queries per tool, each after one untimed warm-up. A peer stops early once
//! its timed rounds have taken `CPN_BENCH_PEER_BUDGET_S` seconds (default 30): one networkx
//! query takes most of a minute here. The table gives each tool's rounds. The peers' path
//! weights are checked against ours (MISMATCH if not equal). Results go to BENCHMARKS.md.
//! Under `cargo test --all-targets` it runs one round without the peers, as a smoke test.

#![allow(clippy::unwrap_used)]

use cpn_testdata::bench::{Stats, full_run, measure, print_loud, rounds};
use std::hint::black_box;
use std::io::Write;
use std::path::Path;
use std::time::Duration;

use cpn_route::{Constraints, Graph, KShortestPaths, Metric, ShortestPaths};

const DEFAULT_ROUNDS: usize = 11;
const SIDE: u32 = 100;
const K: usize = 10;
const SEED: u64 = 0x00C0_FFEE_2026_0001;
/// The latency bound of query (a), as a multiple of the shortest distance.
const BOUND_FACTOR: f64 = 1.2;
const GOAL_MS: f64 = 20.0;

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --all-targets` does not, and then one
    // round without the peers is enough to show that the benchmark still runs.
    let smoke = !full_run();
    let rounds = if smoke { 1 } else { rounds(DEFAULT_ROUNDS) };
    let arcs = cpn_route::grid_arcs(SIDE, SEED).unwrap();
    let g = Graph::from_arcs(SIDE * SIDE, &arcs).unwrap();
    let (source, target) = (0, SIDE * SIDE - 1);

    let mut sp = ShortestPaths::new();
    sp.run(&g, source, Some(target), Metric::Latency, |_| true);
    let shortest = sp.distance(target).unwrap();
    let bound = (shortest as f64 * BOUND_FACTOR).floor() as u64;
    let bounded = Constraints::none().with_max_latency_us(bound);
    let free = Constraints::none();

    let mut yen = KShortestPaths::new();
    let mut query = |c: &Constraints<'_>| {
        let found = yen.run(&g, source, target, K, Metric::Latency, c).unwrap();
        black_box(found.paths.iter().map(|p| p.cost).collect::<Vec<u64>>())
    };
    let weights_a = query(&bounded);
    let weights_b = query(&free);
    let a = measure(rounds, || {
        query(&bounded);
    });
    let b = measure(rounds, || {
        query(&free);
    });

    println!(
        "k shortest paths (Yen, k = {K}): {SIDE}x{SIDE} grid, {} nodes, {} arcs, node {source} to {target}, shortest {shortest} us; {rounds} timed rounds, times per query",
        g.node_count(),
        g.arc_count()
    );
    println!("(a) weights within {bound} us ({BOUND_FACTOR} x shortest): {weights_a:?}");
    println!("(b) weights without a bound: {weights_b:?}");
    if weights_a != weights_b {
        println!("note: the bound cuts paths here, so (a) and (b) return different paths");
    }
    let mut rows = vec![
        Row {
            tool: format!("(a) cpn-route Yen, latency <= {bound} us"),
            rounds,
            stats: a,
        },
        Row {
            tool: "(b) cpn-route Yen, no bound".to_owned(),
            rounds,
            stats: b,
        },
    ];
    if smoke {
        println!("smoke run (no --bench argument): one round, peers not run");
    } else {
        match run_peers(&arcs, source, target, rounds) {
            Ok(report) => rows.extend(peer_rows(&report, &weights_b)),
            Err(reason) => print_loud(&format!("PEER SKIPPED: {reason}")),
        }
    }
    print_table(&rows, a.median, b.median);
    let a_ms = a.median.as_secs_f64() * 1e3;
    let verdict = if a_ms <= GOAL_MS { "met" } else { "NOT MET" };
    println!("goal: (a) at most {GOAL_MS} ms per query: {verdict} ({a_ms:.2} ms)");
}

#[derive(Debug)]
struct Row {
    tool: String,
    rounds: usize,
    stats: Stats,
}

/// Writes the arcs to a temporary CSV file, runs `bench/yen_peers.py` on it and returns its
/// JSON report, or why there is none.
fn run_peers(
    arcs: &[(u32, u32, u32)],
    source: u32,
    target: u32,
    rounds: usize,
) -> Result<serde_json::Value, String> {
    let csv = std::env::temp_dir().join(format!("cpn-yen-grid-{}.csv", std::process::id()));
    let written = write_csv(&csv, arcs);
    let report = written.and_then(|()| peer_report(&csv, source, target, rounds));
    let _ = std::fs::remove_file(&csv);
    report
}

fn write_csv(path: &Path, arcs: &[(u32, u32, u32)]) -> Result<(), String> {
    let mut text = String::with_capacity(arcs.len() * 16);
    for (u, v, w) in arcs {
        text.push_str(&format!("{u},{v},{w}\n"));
    }
    std::fs::File::create(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn peer_report(
    csv: &Path,
    source: u32,
    target: u32,
    rounds: usize,
) -> Result<serde_json::Value, String> {
    let script = cpn_testdata::workspace_root().join("bench/yen_peers.py");
    let args = [
        csv.display().to_string(),
        source.to_string(),
        target.to_string(),
        K.to_string(),
        rounds.to_string(),
    ];
    let out = cpn_testdata::bench::run_peer(&script, &args)?;
    serde_json::from_str(&out)
        .map_err(|e| format!("{} printed no JSON report: {e}", script.display()))
}

/// Table rows for the peers in `report`, after checking their path weights against ours.
fn peer_rows(report: &serde_json::Value, ours: &[u64]) -> Vec<Row> {
    let python = report["python"].as_str().unwrap_or("?");
    let mut rows = Vec::new();
    for peer in report["peers"].as_array().into_iter().flatten() {
        let tool = peer["tool"].as_str().unwrap_or("?");
        if let Some(reason) = peer["skipped"].as_str() {
            print_loud(&format!("PEER SKIPPED: {tool}: {reason}"));
            continue;
        }
        let version = peer["version"].as_str().unwrap_or("?");
        let weights: Vec<u64> = peer["weights"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(serde_json::Value::as_u64)
            .collect();
        if weights == ours {
            println!("weights: {tool} {version} returned {weights:?}, equal to (b)'s");
        } else {
            // Tools may pick different paths among equal weights, but the sorted weights of
            // the k shortest paths are the same whichever they pick: any difference is a
            // wrong answer on one side.
            print_loud(&format!(
                "MISMATCH: {tool} {version} returned weights {weights:?}, (b) returned {ours:?}"
            ));
        }
        let secs = |key: &str| Duration::from_secs_f64(peer[key].as_f64().unwrap_or(f64::NAN));
        rows.push(Row {
            tool: format!("{tool} {version} (Python {python})"),
            rounds: peer["rounds"].as_u64().unwrap_or(0) as usize,
            stats: Stats {
                median: secs("median_s"),
                min: secs("min_s"),
                max: secs("max_s"),
            },
        });
    }
    rows
}

fn print_table(rows: &[Row], a: Duration, b: Duration) {
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!();
    println!(
        "{:<46} {:>6} {:>10} {:>19} {:>9} {:>9}",
        "tool", "rounds", "median ms", "min..max ms", "vs (a)", "vs (b)"
    );
    for row in rows {
        println!(
            "{:<46} {:>6} {:>10.2} {:>19} {:>8.1}x {:>8.1}x",
            row.tool,
            row.rounds,
            ms(row.stats.median),
            format!("{:.2}..{:.2}", ms(row.stats.min), ms(row.stats.max)),
            row.stats.median.as_secs_f64() / a.as_secs_f64(),
            row.stats.median.as_secs_f64() / b.as_secs_f64(),
        );
    }
    println!();
    println!(
        "vs (a), vs (b): this row's median / cpn's median for (a) or (b); above 1 means slower than cpn"
    );
}
