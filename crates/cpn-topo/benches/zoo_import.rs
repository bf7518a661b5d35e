//! Topology import benchmark: all 276 Internet Topology Zoo GraphML files, timed as
//! (a) `cpn_topo::parse_graphml` and (b) parse plus `cpn_model::Scenario::from_topology`
//! (routers, links and derived latencies), against the best-known peers measured in the same
//! run on the same files: networkx's `read_graphml` and igraph's `Read_GraphML`, timed by
//! `bench/graphml_peers.py`. The peers only parse, so (a) is the like-for-like comparison and
//! (b) shows what the full import costs on top.
//!
//! Run with `cargo bench -p cpn-topo --bench zoo_import`; `CPN_BENCH_ROUNDS` (default 15) sets
//! the number of timed passes, `CPN_DATA_DIR` the data folder. Every side reads the files into
//! memory first and runs one untimed warm-up pass, so only parsing is timed. Results go to
//! BENCHMARKS.md with this command. Under `cargo test --all-targets` it runs one round
//! without the peers, as a smoke test.

use cpn_testdata::bench::{Stats, full_run, measure, print_loud, rounds};
use std::hint::black_box;
use std::path::Path;
use std::time::Duration;

use cpn_model::Scenario;
use cpn_topo::parse_graphml;

const DEFAULT_ROUNDS: usize = 15;

fn main() {
    let Some(dir) = cpn_testdata::data_dir("topology-zoo/graphml") else {
        return;
    };
    // `cargo bench` passes `--bench`; `cargo test --all-targets` does not, and then one
    // round without the peers is enough to show that the benchmark still runs.
    let smoke = !full_run();
    let rounds = if smoke { 1 } else { rounds(DEFAULT_ROUNDS) };
    let files: Vec<(String, String)> = cpn_testdata::files_with_extension(&dir, "graphml")
        .iter()
        .map(|path| {
            let name = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let text = std::fs::read_to_string(path)
                .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
            (name, text)
        })
        .collect();

    // The counting pass doubles as the parser's warm-up.
    let (mut nodes, mut edges) = (0, 0);
    for (name, text) in &files {
        let topology = parse_graphml(text).unwrap_or_else(|e| panic!("{name}: {e}"));
        nodes += topology.nodes.len();
        edges += topology.edges.len();
    }
    let cpn_total = Totals { nodes, edges };

    let parse = measure(rounds, || {
        for (name, text) in &files {
            let topology = parse_graphml(text).unwrap_or_else(|e| panic!("{name}: {e}"));
            black_box(topology);
        }
    });
    let import = measure(rounds, || {
        for (name, text) in &files {
            let topology = parse_graphml(text).unwrap_or_else(|e| panic!("{name}: {e}"));
            black_box(Scenario::from_topology(name, &topology));
        }
    });

    let bytes: usize = files.iter().map(|(_, text)| text.len()).sum();
    println!(
        "Topology import (GraphML): {} files ({:.1} MiB), {} nodes + {} edges, {rounds} timed rounds, times per full pass",
        files.len(),
        bytes as f64 / (1024.0 * 1024.0),
        cpn_total.nodes,
        cpn_total.edges
    );
    let mut rows = vec![
        Row::new("(a) cpn-topo parse_graphml", parse, cpn_total),
        Row::new("(b) cpn parse + Scenario::from_topology", import, cpn_total),
    ];
    if smoke {
        println!("smoke run (no --bench argument): one round, peers not run");
    } else {
        match run_peers(&dir, rounds) {
            Ok(report) => rows.extend(peer_rows(&report, cpn_total)),
            Err(reason) => print_loud(&format!("PEER SKIPPED: {reason}")),
        }
    }
    print_table(&rows, parse.median, import.median);
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Totals {
    nodes: usize,
    edges: usize,
}

#[derive(Debug)]
struct Row {
    tool: String,
    stats: Stats,
    /// What this tool read, for its nodes+edges per second.
    totals: Totals,
}

impl Row {
    fn new(tool: &str, stats: Stats, totals: Totals) -> Row {
        Row {
            tool: tool.to_owned(),
            stats,
            totals,
        }
    }
}

/// Runs `bench/graphml_peers.py` and returns its JSON report, or why there is none.
fn run_peers(dir: &Path, rounds: usize) -> Result<serde_json::Value, String> {
    let script = cpn_testdata::workspace_root().join("bench/graphml_peers.py");
    let args = [dir.display().to_string(), rounds.to_string()];
    let out = cpn_testdata::bench::run_peer(&script, &args)?;
    serde_json::from_str(&out)
        .map_err(|e| format!("{} printed no JSON report: {e}", script.display()))
}

/// Table rows for the peers in `report`, after checking their totals against cpn's.
fn peer_rows(report: &serde_json::Value, cpn: Totals) -> Vec<Row> {
    let python = report["python"].as_str().unwrap_or("?");
    let files = report["files"].as_u64().unwrap_or(0);
    let mut rows = Vec::new();
    for peer in report["peers"].as_array().into_iter().flatten() {
        let tool = peer["tool"].as_str().unwrap_or("?");
        if let Some(reason) = peer["skipped"].as_str() {
            print_loud(&format!("PEER SKIPPED: {tool}: {reason}"));
            continue;
        }
        let count = |key: &str| peer[key].as_u64().unwrap_or(0) as usize;
        let secs = |key: &str| Duration::from_secs_f64(peer[key].as_f64().unwrap_or(f64::NAN));
        let totals = Totals {
            nodes: count("nodes"),
            edges: count("edges"),
        };
        let files_ok = count("files_ok");
        let version = peer["version"].as_str().unwrap_or("?");
        let what = format!(
            "{tool} {version} read {} nodes, {} edges from {files_ok}/{files} files",
            totals.nodes, totals.edges
        );
        if totals == cpn {
            println!("totals: {what}, equal to cpn-topo's");
        } else if tool == "networkx" {
            // networkx with force_multigraph keeps every node and edge, as cpn-topo does,
            // so a difference means one of the two readers lost or invented something.
            print_loud(&format!(
                "MISMATCH: {what}, cpn-topo read {} nodes, {} edges",
                cpn.nodes, cpn.edges
            ));
        } else {
            println!(
                "note: {what}; cpn-topo read {} nodes, {} edges",
                cpn.nodes, cpn.edges
            );
        }
        for error in peer["errors"].as_array().into_iter().flatten() {
            println!("  {tool} failed on {}", error.as_str().unwrap_or("?"));
        }
        let mut label = format!("{tool} {version} (Python {python})");
        if files_ok as u64 != files {
            label.push_str(&format!(" [{files_ok}/{files} files]"));
        }
        let stats = Stats {
            median: secs("median_s"),
            min: secs("min_s"),
            max: secs("max_s"),
        };
        rows.push(Row {
            tool: label,
            stats,
            totals,
        });
    }
    rows
}

fn print_table(rows: &[Row], cpn_parse: Duration, cpn_import: Duration) {
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!();
    println!(
        "{:<46} {:>10} {:>17} {:>13} {:>9} {:>9}",
        "tool", "median ms", "min..max ms", "nodes+edges/s", "vs (a)", "vs (b)"
    );
    for row in rows {
        let per_sec = (row.totals.nodes + row.totals.edges) as f64 / row.stats.median.as_secs_f64();
        println!(
            "{:<46} {:>10.2} {:>17} {:>11.2} M {:>8.2}x {:>8.2}x",
            row.tool,
            ms(row.stats.median),
            format!("{:.2}..{:.2}", ms(row.stats.min), ms(row.stats.max)),
            per_sec / 1e6,
            row.stats.median.as_secs_f64() / cpn_parse.as_secs_f64(),
            row.stats.median.as_secs_f64() / cpn_import.as_secs_f64(),
        );
    }
    println!();
    println!(
        "vs (a), vs (b): this row's median / cpn's median for (a) or (b); above 1 means slower than cpn"
    );
}
