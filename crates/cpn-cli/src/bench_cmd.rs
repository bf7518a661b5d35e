//! `cpn bench`: benchmark inputs, and timings of cpn's algorithms on them, in a form that
//! peer libraries can be timed on too (`bench/`, BENCHMARKS.md).

use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Context;
use clap::Subcommand;
use cpn_route::{Graph, GridArcs, Metric, ShortestPaths, parse_arc_csv, write_arc_csv};
use serde::Serialize;

use crate::{Failure, Outcome};

#[derive(Debug, Subcommand)]
pub(crate) enum BenchCommand {
    /// Heartbeat load on a running controller: registers agents, sends heartbeats at a fixed
    /// rate, and prints the controller's CPU use from /proc.
    Heartbeats(crate::bench_load::HeartbeatArgs),
    /// Measure this machine's computing power: FP64 and FP32 matrix multiply, integer
    /// multiply-add, SHA-256 and memory bandwidth on one core and all cores, the system's
    /// facts and theoretical peak, and the CATS scores they give (docs/cats-metrics.md).
    Compute(crate::compute_cmd::ComputeArgs),
    /// Write a benchmark graph as CSV: a header `src,dst,weight`, then one line per directed
    /// arc. `--grid N` is the N x N 4-neighbour grid (node row * N + col, one arc each way
    /// between neighbours), with weights 1..=100 drawn from SplitMix64 seeded with `--seed`.
    Graph {
        /// The side of the grid.
        #[arg(long, value_name = "N")]
        grid: u32,
        /// The seed of the weights.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Where to write the CSV (`-` for standard output).
        #[arg(short, long)]
        output: PathBuf,
    },
    /// Time single-source shortest paths on an arc CSV file: loading is not timed, one
    /// untimed warm-up, then `--repeat` timed searches from `--source` to every node.
    Sssp {
        /// An arc CSV file (`src,dst,weight`), as `cpn bench graph` writes.
        #[arg(long)]
        edges: PathBuf,
        /// The source node.
        #[arg(long, default_value_t = 0)]
        source: u32,
        /// How many timed searches.
        #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u32).range(1..))]
        repeat: u32,
        /// Print one JSON object (`ms` is the median).
        #[arg(long)]
        json: bool,
    },
}

/// What `cpn bench sssp` measured; the checksum (the sum of all finite distances) lets a peer
/// show that it computed the same distances.
#[derive(Debug, Serialize)]
struct SsspReport {
    tool: &'static str,
    version: &'static str,
    /// Median of the timed searches, milliseconds.
    ms: f64,
    min_ms: f64,
    max_ms: f64,
    runs_ms: Vec<f64>,
    repeat: u32,
    nodes: usize,
    arcs: usize,
    source: u32,
    reached: usize,
    checksum: u64,
    /// Reading and parsing the file and building the graph (not part of `ms`).
    load_ms: f64,
}

pub(crate) fn run(command: BenchCommand) -> Outcome {
    match command {
        BenchCommand::Graph { grid, seed, output } => write_grid(grid, seed, &output),
        BenchCommand::Sssp {
            edges,
            source,
            repeat,
            json,
        } => sssp(&edges, source, repeat, json),
        BenchCommand::Heartbeats(args) => crate::bench_load::heartbeats(args),
        BenchCommand::Compute(args) => crate::compute_cmd::run(args),
    }
}

fn write_grid(side: u32, seed: u64, output: &Path) -> Outcome {
    let arcs = GridArcs::new(side, seed).map_err(Failure::bad)?;
    let (nodes, count) = (arcs.nodes(), arcs.len());
    if output.as_os_str() == "-" {
        write_arc_csv(BufWriter::new(std::io::stdout().lock()), arcs)
            .context("writing to standard output")
            .map_err(Failure::Internal)?;
        return Ok(());
    }
    let file = std::fs::File::create(output)
        .map_err(|e| Failure::bad(format!("cannot create `{}`: {e}", output.display())))?;
    write_arc_csv(BufWriter::with_capacity(1 << 20, file), arcs)
        .with_context(|| format!("writing {}", output.display()))
        .map_err(Failure::Internal)?;
    eprintln!(
        "grid {side}x{side} (seed {seed}): {nodes} nodes, {count} arcs -> {}",
        output.display()
    );
    Ok(())
}

fn sssp(edges: &Path, source: u32, repeat: u32, json: bool) -> Outcome {
    let start = Instant::now();
    let bytes = std::fs::read(edges)
        .map_err(|e| Failure::bad(format!("cannot read `{}`: {e}", edges.display())))?;
    let list = parse_arc_csv(&bytes)
        .map_err(|e| Failure::bad(format!("{}:{}: {}", edges.display(), e.line, e.problem)))?;
    drop(bytes);
    let g = Graph::from_arcs(list.nodes, &list.arcs)
        .map_err(|e| Failure::bad(format!("{}: {e}", edges.display())))?;
    drop(list);
    let load_ms = millis(start);
    if source as usize >= g.node_count() {
        let ids = match g.node_count() {
            0 => "which has no arcs".to_string(),
            n => format!("whose node ids are 0 to {}", n - 1),
        };
        return Err(Failure::bad(format!(
            "source {source} is not a node of `{}`, {ids}",
            edges.display()
        )));
    }

    let mut sp = ShortestPaths::new();
    // The warm-up search also sizes the working memory, which later searches reuse.
    sp.run(&g, source, None, Metric::Latency, |_| true);
    let mut runs_ms = Vec::with_capacity(repeat as usize);
    for _ in 0..repeat {
        let start = Instant::now();
        sp.run(&g, source, None, Metric::Latency, |_| true);
        runs_ms.push(millis(start));
    }
    let (reached, checksum) = (0..g.node_count() as u32)
        .filter_map(|v| sp.distance(v))
        .fold((0, 0u64), |(n, sum), d| (n + 1, sum.wrapping_add(d)));

    let mut sorted = runs_ms.clone();
    sorted.sort_by(f64::total_cmp);
    let report = SsspReport {
        tool: "cpn",
        version: env!("CARGO_PKG_VERSION"),
        ms: median(&sorted),
        min_ms: sorted.first().copied().unwrap_or(0.0),
        max_ms: sorted.last().copied().unwrap_or(0.0),
        runs_ms,
        repeat,
        nodes: g.node_count(),
        arcs: g.arc_count(),
        source,
        reached,
        checksum,
        load_ms,
    };
    if json {
        let text = serde_json::to_string(&report)
            .context("writing JSON")
            .map_err(Failure::Internal)?;
        println!("{text}");
    } else {
        print_report(edges, &report);
    }
    Ok(())
}

fn print_report(edges: &Path, r: &SsspReport) {
    let mut out = std::io::stdout().lock();
    // Printing can only fail on a closed pipe, and then there is no one left to tell.
    let _ = writeln!(
        out,
        "sssp on {}: {} nodes, {} arcs, source {}\n  reached {} nodes, checksum {} (sum of distances)\n  median {:.2} ms (min {:.2}, max {:.2}) over {} searches; loading took {:.0} ms (not timed)",
        edges.display(),
        r.nodes,
        r.arcs,
        r.source,
        r.reached,
        r.checksum,
        r.ms,
        r.min_ms,
        r.max_ms,
        r.repeat,
        r.load_ms
    );
}

/// Milliseconds since `since`, to the microsecond (finer digits would be noise).
fn millis(since: Instant) -> f64 {
    (since.elapsed().as_secs_f64() * 1e6).round() / 1e3
}

/// The median of sorted values: the middle one, or the mean of the two middle ones.
fn median(sorted: &[f64]) -> f64 {
    match sorted.len() {
        0 => 0.0,
        n if n % 2 == 1 => sorted[n / 2],
        n => ((sorted[n / 2 - 1] + sorted[n / 2]) * 500.0).round() / 1e3,
    }
}
