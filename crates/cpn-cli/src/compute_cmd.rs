//! `cpn bench compute`: measures this machine's computing power with `cpn_agent::measure`
//! and prints it as a table, or as JSON with its CATS metrics (L0, L1, L2).

use std::io::Write;

use anyhow::Context;
use clap::Args;
use cpn_agent::cats::{self, CatsReport};
use cpn_agent::measure::{self, Config, Measurement, Stats};
use serde::Serialize;

use crate::{Failure, Outcome};

#[derive(Debug, Args)]
pub(crate) struct ComputeArgs {
    /// Print one JSON object: the measurement's keys (`fp64_gflops`, `fp32_gflops`,
    /// `sha256_hashes_per_s`, `mem_bandwidth_gbps`, `cores` ...) and `cats`.
    #[arg(long)]
    json: bool,
    /// Fewer, shorter rounds on smaller inputs: about 2 s instead of 10.
    #[arg(long)]
    quick: bool,
}

#[derive(Debug, Serialize)]
struct Report<'a> {
    tool: &'static str,
    version: &'static str,
    #[serde(flatten)]
    measurement: &'a Measurement,
    cats: &'a CatsReport,
}

pub(crate) fn run(args: ComputeArgs) -> Outcome {
    let config = if args.quick {
        Config::quick()
    } else {
        Config::full()
    };
    let m = measure::measure(&config);
    let cats = cats::report(&m)
        .context("scoring the measurement")
        .map_err(Failure::Internal)?;
    if args.json {
        let report = Report {
            tool: "cpn",
            version: env!("CARGO_PKG_VERSION"),
            measurement: &m,
            cats: &cats,
        };
        let text = serde_json::to_string(&report)
            .context("writing JSON")
            .map_err(Failure::Internal)?;
        println!("{text}");
    } else {
        print_table(&m, &cats);
    }
    Ok(())
}

/// A rate with three significant digits and a unit prefix.
fn human(v: f64) -> String {
    let (v, prefix) = match v.abs() {
        a if a >= 1e9 => (v / 1e9, " G"),
        a if a >= 1e6 => (v / 1e6, " M"),
        a if a >= 1e4 => (v / 1e3, " k"),
        _ => (v, " "),
    };
    let digits = if v.abs() >= 100.0 {
        0
    } else if v.abs() >= 10.0 {
        1
    } else {
        2
    };
    format!("{v:.digits$}{}", prefix.trim_end())
}

fn spread(s: &Stats) -> String {
    format!("{:.1}%", s.spread * 100.0)
}

fn print_table(m: &Measurement, cats: &CatsReport) {
    let s = &m.system;
    let mut out = std::io::stdout().lock();
    let gib = |b: Option<u64>| {
        b.map_or("?".to_string(), |b| {
            format!("{:.1} GiB", b as f64 / (1u64 << 30) as f64)
        })
    };
    let freq = match s.frequency_mhz {
        Some(mhz) => format!(
            "{mhz:.0} MHz ({})",
            match s.frequency_source {
                measure::FrequencySource::SysfsMax => "cpuinfo_max_freq",
                measure::FrequencySource::ProcCpuinfo => "cpu MHz of /proc/cpuinfo",
                measure::FrequencySource::Unknown => "unknown",
            }
        ),
        None => "unknown".to_string(),
    };
    let v = &s.vector_extensions;
    let ext: Vec<&str> = [
        ("sse2", v.sse2),
        ("avx", v.avx),
        ("avx2", v.avx2),
        ("fma", v.fma),
        ("avx512f", v.avx512f),
    ]
    .into_iter()
    .filter_map(|(name, on)| on.then_some(name))
    .collect();
    // Printing can only fail on a closed pipe, and then there is no one left to tell.
    let _ = writeln!(
        out,
        "{} | {} logical cores, {} physical | {freq} | {}\nmemory {} | disk {} free of {} | GPUs: {}",
        s.cpu_model.as_deref().unwrap_or("unknown CPU"),
        s.logical_cores,
        s.physical_cores.map_or("?".to_string(), |p| p.to_string()),
        ext.join(" "),
        gib(s.memory_total_bytes),
        gib(s.disk_free_bytes),
        gib(s.disk_total_bytes),
        if s.gpus.is_empty() {
            format!("none ({})", s.gpu_source)
        } else {
            s.gpus
                .iter()
                .map(|g| g.name.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        },
    );
    let _ = writeln!(
        out,
        "\n{:<14} {:>9} {:>12} {:>12} {:>12} {:>10} {:>16}",
        "kernel", "unit", "one core", "all cores", "peak", "efficiency", "spread 1 / all"
    );
    for k in &m.kernels {
        let _ = writeln!(
            out,
            "{:<14} {:>9} {:>12} {:>12} {:>12} {:>10} {:>16}",
            k.name,
            k.unit,
            human(k.one_core.max),
            human(k.all_cores.max),
            k.peak.map_or("-".to_string(), human),
            k.efficiency
                .map_or("-".to_string(), |e| format!("{:.0}%", e * 100.0)),
            format!("{} / {}", spread(&k.one_core), spread(&k.all_cores)),
        );
    }
    let _ = writeln!(
        out,
        "\nfastest of {} rounds of about {} ms on 1 and {} threads; peak = {} cores x clock x {} FP64 FLOPs/cycle ({})",
        m.config.rounds,
        m.config.round_ms,
        m.cores,
        m.peak.cores,
        m.peak.fp64_flops_per_cycle,
        m.peak.assumption
    );
    let figures: Vec<String> = cats
        .figures
        .iter()
        .map(|f| format!("{} {:.2}", f.name, f.score.get()))
        .collect();
    let _ = writeln!(
        out,
        "CATS: L1 compute {:.2}, L2 {:.2} (figures: {})",
        cats.l1[0].score.get(),
        cats.l2.score.get(),
        figures.join(", ")
    );
}
