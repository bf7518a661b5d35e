//! `cpn sim`: the digital twin. Runs a workload on a scenario under each placement strategy,
//! on identical arrivals, and writes `report.json`, `summary.csv`, `outcomes.csv` and a
//! self-contained `report.html` with SVG charts.

use std::path::PathBuf;

use clap::Args;
use cpn_sched::Strategy;
use cpn_units::Nanos;

use crate::scenario_cmd::load;
use crate::{Failure, Outcome};

#[derive(Debug, Args)]
pub(crate) struct SimArgs {
    /// A scenario TOML file, or a built-in scenario name.
    #[arg(default_value = "national")]
    scenario: String,
    /// `mixed` (built in: Poisson, 70 % latency-critical services, 30 % delay-tolerant
    /// batch), or `azure-llm-code` / `azure-llm-conv` (the Azure LLM inference trace of 2023
    /// from $CPN_DATA_DIR).
    #[arg(long, default_value = "mixed")]
    workload: String,
    /// Requests per second of the `mixed` workload.
    #[arg(long, default_value_t = 20.0)]
    rate: f64,
    /// Strategies to compare, comma-separated [default: all]: cpn, nearest, least-loaded,
    /// random, latency-only, cost-only, kube-least-allocated.
    #[arg(long, value_delimiter = ',')]
    strategies: Vec<String>,
    /// Simulated time.
    #[arg(long, default_value = "600 s")]
    duration: String,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The directory to write the report to (created).
    #[arg(long)]
    out: PathBuf,
    /// Replay the decision log of a controller's data directory (a stopped controller's) in
    /// the twin instead, checking that every decision comes out the same; writes replay.json.
    #[arg(long, value_name = "DATA_DIR")]
    replay: Option<PathBuf>,
}

fn replay(data: &std::path::Path, out: &std::path::Path) -> Outcome {
    let store = crate::serve_cmd::open_store(data, None)?;
    let scenario = cpn_server::read_scenario(store.as_ref()).map_err(Failure::bad)?;
    let (records, log) = cpn_server::read_records(store.as_ref()).map_err(Failure::bad)?;
    let summary = cpn_sim::replay::replay(scenario, records, &log)
        .map_err(|e| Failure::bad(format!("the log does not replay: {e}")))?;
    std::fs::create_dir_all(out)
        .map_err(|e| Failure::bad(format!("--out `{}`: {e}", out.display())))?;
    let json = serde_json::to_string_pretty(&summary).map_err(|e| Failure::Internal(e.into()))?;
    std::fs::write(out.join("replay.json"), json + "\n")
        .map_err(|e| Failure::bad(format!("--out `{}`: {e}", out.display())))?;
    println!(
        "{} log entries over {} ms replayed in the twin: every decision the same; {} reservations held",
        summary.entries, summary.span_ms, summary.reservations
    );
    Ok(())
}

pub(crate) fn run(args: SimArgs) -> Outcome {
    if let Some(data) = &args.replay {
        return replay(data, &args.out);
    }
    let scenario = load(&args.scenario)?;
    let duration: Nanos = args
        .duration
        .parse()
        .map_err(|e| Failure::bad(format!("--duration: {e}")))?;
    let duration_s = duration.0.div_ceil(1_000_000_000);
    if duration_s == 0 {
        return Err(Failure::bad("--duration: must be at least 1 s"));
    }
    if !(args.rate > 0.0 && args.rate <= 1_000_000.0) {
        return Err(Failure::bad(
            "--rate: expected more than 0 and at most 1000000 per second",
        ));
    }
    let strategies: Vec<Strategy> = if args.strategies.is_empty() {
        Strategy::ALL.to_vec()
    } else {
        args.strategies
            .iter()
            .map(|name| {
                Strategy::from_name(name.trim()).ok_or_else(|| {
                    let known: Vec<&str> = Strategy::ALL.iter().map(|s| s.name()).collect();
                    Failure::bad(format!(
                        "--strategies: no strategy `{name}` (known: {})",
                        known.join(", ")
                    ))
                })
            })
            .collect::<Result<_, _>>()?
    };
    let arrivals = match args.workload.as_str() {
        "mixed" => cpn_sim::twin::mixed(&scenario, args.seed, args.rate, duration_s),
        "azure-llm-code" | "azure-llm-conv" => {
            let file = if args.workload.ends_with("code") {
                "AzureLLMInferenceTrace_code.csv"
            } else {
                "AzureLLMInferenceTrace_conv.csv"
            };
            let dir = std::env::var_os("CPN_DATA_DIR")
                .map_or_else(|| PathBuf::from("../shared/data"), PathBuf::from)
                .join("azure-llm-inference-2023");
            let requests = cpn_trace::load_azure_llm(dir.join(file))
                .map_err(|e| Failure::bad(format!("--workload {}: {e}", args.workload)))?;
            cpn_sim::twin::from_llm(
                &scenario,
                &requests,
                &cpn_trace::ComputeRule::default(),
                args.seed,
                duration_s,
            )
        }
        other => {
            return Err(Failure::bad(format!(
                "--workload: no workload `{other}` (known: mixed, azure-llm-code, azure-llm-conv)"
            )));
        }
    };
    let mut reports = std::collections::BTreeMap::new();
    let mut outcomes = std::collections::BTreeMap::new();
    for (k, s) in strategies.iter().enumerate() {
        eprint!("\r[{}/{}] {:<22}", k + 1, strategies.len(), s.name());
        let (report, o) = cpn_sim::twin::run(&scenario, &arrivals, *s, args.seed, duration_s);
        reports.insert(s.name().to_string(), report);
        outcomes.insert(s.name().to_string(), o);
    }
    eprintln!("\r{:<40}", format!("{} strategies done", strategies.len()));
    let report = cpn_sim::twin::Report {
        scenario: scenario.name.clone(),
        workload: args.workload.clone(),
        seed: args.seed,
        duration_s,
        requests: arrivals.len(),
        strategies: reports,
    };
    std::fs::create_dir_all(&args.out)
        .map_err(|e| Failure::bad(format!("--out `{}`: {e}", args.out.display())))?;
    let write = |name: &str, text: String| {
        let path = args.out.join(name);
        std::fs::write(&path, text)
            .map_err(|e| Failure::bad(format!("writing `{}`: {e}", path.display())))
    };
    let json = serde_json::to_string_pretty(&report).map_err(|e| Failure::Internal(e.into()))?;
    write("report.json", json + "\n")?;
    write("summary.csv", cpn_sim::twin::summary_csv(&report))?;
    write("outcomes.csv", cpn_sim::twin::outcomes_csv(&outcomes))?;
    write("report.html", cpn_sim::twin::html(&report, &outcomes))?;
    println!(
        "{} requests, {} s, seed {}: report in {}",
        arrivals.len(),
        duration_s,
        args.seed,
        args.out.display()
    );
    println!(
        "  {:<22} {:>8} {:>10} {:>8} {:>8} {:>8}",
        "strategy", "SLA", "accepted", "p50 ms", "p95 ms", "p99 ms"
    );
    for (name, s) in &report.strategies {
        println!(
            "  {name:<22} {:>8.4} {:>10.4} {:>8.2} {:>8.2} {:>8.2}",
            s.sla_satisfaction, s.acceptance, s.latency_ms.p50, s.latency_ms.p95, s.latency_ms.p99
        );
    }
    Ok(())
}
