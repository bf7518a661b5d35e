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
    /// batch); `diurnal` (the same mix, its rate on a daily cycle compressed into the run) or
    /// `bursty` (on/off bursts); from the traces in $CPN_DATA_DIR: `azure-llm-code` /
    /// `azure-llm-conv` (Azure LLM inference 2023), `openb` (Alibaba GPU cluster pods, the
    /// whole trace fitted into the run); `eua` (Melbourne: the EUA base stations as edge sites,
    /// the EUA users as demand) or `shanghai` (national with Shanghai Telecom's base stations
    /// as edge sites, demand where the stations are). `eua` and `shanghai` build their own
    /// scenario and ignore SCENARIO.
    #[arg(long, default_value = "mixed")]
    workload: String,
    /// Mean requests per second of the synthetic workloads (mixed, diurnal, bursty, eua,
    /// shanghai).
    #[arg(long, default_value_t = 20.0)]
    rate: f64,
    /// Edge sites made from base stations (`eua`, `shanghai`): stations are clustered into
    /// this many.
    #[arg(long, default_value_t = 40)]
    edge_sites: usize,
    /// Background load on every site from datacenter utilisation series in $CPN_DATA_DIR:
    /// `alibaba`, `azure`, `google` or `mixed`. It takes compute that no strategy sees.
    #[arg(long, value_name = "SERIES")]
    background: Option<String>,
    /// Seconds of trace per simulated second for the background series (144: a day in
    /// 600 s).
    #[arg(long, default_value_t = 144.0)]
    background_scale: f64,
    /// Strategies to compare, comma-separated [default: all]: cpn, nearest, least-loaded,
    /// random, latency-only, cost-only, kube-least-allocated, and optimum (the exact optimum
    /// with hindsight, for small runs only: skipped with a note when the run is too large).
    #[arg(long, value_delimiter = ',')]
    strategies: Vec<String>,
    /// Simulated time.
    #[arg(long, default_value = "600 s")]
    duration: String,
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// What-if changes during the run, repeatable: `link-down:NAME@300s`, `link-up:NAME@400s`,
    /// `site-down:NAME@300s`, `site-up:NAME@400s`, `site-add:NAME@300s` (the scenario's site
    /// NAME is out of service until then), `demand:ROUTER*2@600s` (twice the arrivals from
    /// that ingress after 600 s).
    #[arg(long = "what-if", value_name = "CHANGE")]
    what_if: Vec<String>,
    /// Random link failures: `MTBF,MTTR` such as `3600s,300s` (each link fails after an
    /// exponential time of that mean and is repaired after one of the other, drawn from the seed).
    #[arg(long, value_name = "MTBF,MTTR")]
    link_failures: Option<String>,
    /// Random site failures: `MTBF,MTTR`, drawn as link failures are.
    #[arg(long, value_name = "MTBF,MTTR")]
    site_failures: Option<String>,
    /// Compare two runs (their report.json, or the directories holding it) instead of running.
    #[arg(long, num_args = 2, value_names = ["A", "B"], conflicts_with = "replay")]
    diff: Vec<PathBuf>,
    /// The directory to write the report to (created).
    #[arg(long, required_unless_present = "diff")]
    out: Option<PathBuf>,
    /// Replay the decision log of a controller's data directory (a stopped controller's) in
    /// the twin instead, checking that every decision comes out the same; writes replay.json.
    #[arg(long, value_name = "DATA_DIR")]
    replay: Option<PathBuf>,
    /// With --replay of a log that traded: the market operator's key the ledger was made with
    /// [default: DATA_DIR/operator.key, when it exists].
    #[arg(long, requires = "replay")]
    operator_key: Option<PathBuf>,
}

fn replay(
    data: &std::path::Path,
    operator_key: Option<&std::path::Path>,
    out: &std::path::Path,
) -> Outcome {
    let key = operator_key.map_or_else(|| data.join("operator.key"), std::path::Path::to_path_buf);
    let market = crate::serve_cmd::market_setup(&key, false, None, None, None)?;
    let mut store = crate::serve_cmd::open_store(data, None)?;
    let (ctl, records, log) =
        cpn_server::replay_start(store.as_mut(), market.as_ref()).map_err(Failure::bad)?;
    let summary = cpn_sim::replay::replay_on(ctl, records, &log)
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

/// A what-if change as the command line writes it.
enum Change {
    Net(cpn_sim::twin::WhatIf),
    /// A site that joins at a time: out of service from the start until then.
    Add(cpn_model::SiteId, u64),
    Demand {
        router: cpn_model::RouterId,
        factor: f64,
        after_s: u64,
    },
}

fn change(scenario: &cpn_model::Scenario, spec: &str) -> Result<Change, Failure> {
    let bad = |m: &str| {
        Failure::bad(format!(
            "--what-if `{spec}`: {m} (expected KIND:NAME@TIME with KIND link-down, link-up, site-down, site-up, site-add, or demand:ROUTER*FACTOR@TIME)"
        ))
    };
    let (kind, rest) = spec.split_once(':').ok_or_else(|| bad("no `:`"))?;
    let (what, at) = rest.rsplit_once('@').ok_or_else(|| bad("no `@TIME`"))?;
    let at: Nanos = at.parse().map_err(|e| bad(&format!("time: {e}")))?;
    let at_s = at.0 / 1_000_000_000;
    let link = |name: &str| {
        scenario
            .links
            .iter()
            .find(|l| l.name == name)
            .map(|l| l.id)
            .ok_or_else(|| bad(&format!("no link `{name}`")))
    };
    let site = |name: &str| {
        scenario
            .site(name)
            .map(|s| s.id)
            .ok_or_else(|| bad(&format!("no site `{name}`")))
    };
    use cpn_sim::twin::WhatIf;
    Ok(match kind {
        "link-down" => Change::Net(WhatIf::LinkDown {
            link: link(what)?,
            at_s,
        }),
        "link-up" => Change::Net(WhatIf::LinkUp {
            link: link(what)?,
            at_s,
        }),
        "site-down" => Change::Net(WhatIf::SiteDown {
            site: site(what)?,
            at_s,
        }),
        "site-up" => Change::Net(WhatIf::SiteUp {
            site: site(what)?,
            at_s,
        }),
        "site-add" => Change::Add(site(what)?, at_s),
        "demand" => {
            let (router, factor) = what.split_once('*').ok_or_else(|| bad("no `*FACTOR`"))?;
            let factor: f64 = factor
                .parse()
                .ok()
                .filter(|f: &f64| f.is_finite() && *f >= 1.0 && *f <= 100.0)
                .ok_or_else(|| bad("factor: expected a number from 1 to 100"))?;
            let router = scenario
                .router(router)
                .map(|r| r.id)
                .ok_or_else(|| bad(&format!("no router `{router}`")))?;
            Change::Demand {
                router,
                factor,
                after_s: at_s,
            }
        }
        other => return Err(bad(&format!("no change `{other}`"))),
    })
}

/// `--diff A B`: the change of every strategy's figures from run A to run B.
fn diff(a: &std::path::Path, b: &std::path::Path) -> Outcome {
    let read = |p: &std::path::Path| -> Result<serde_json::Value, Failure> {
        let file = if p.is_dir() {
            p.join("report.json")
        } else {
            p.to_path_buf()
        };
        let text = std::fs::read_to_string(&file)
            .map_err(|e| Failure::bad(format!("--diff `{}`: {e}", file.display())))?;
        serde_json::from_str(&text)
            .map_err(|e| Failure::bad(format!("--diff `{}`: {e}", file.display())))
    };
    let (ra, rb) = (read(a)?, read(b)?);
    let empty = serde_json::Map::new();
    let sa = ra["strategies"].as_object().unwrap_or(&empty);
    let sb = rb["strategies"].as_object().unwrap_or(&empty);
    println!(
        "  {:<22} {:>18} {:>18} {:>20}",
        "strategy", "SLA satisfaction", "acceptance", "p99 latency ms"
    );
    for (name, x) in sa {
        let Some(y) = sb.get(name) else {
            println!("  {name:<22} only in A");
            continue;
        };
        let pair = |v: &serde_json::Value, w: &serde_json::Value| {
            let (p, q) = (
                v.as_f64().unwrap_or(f64::NAN),
                w.as_f64().unwrap_or(f64::NAN),
            );
            format!("{p:.3}->{q:.3} ({:+.3})", q - p)
        };
        println!(
            "  {name:<22} {:>18} {:>18} {:>20}",
            pair(&x["sla_satisfaction"], &y["sla_satisfaction"]),
            pair(&x["acceptance"], &y["acceptance"]),
            pair(&x["latency_ms"]["p99"], &y["latency_ms"]["p99"])
        );
    }
    for name in sb.keys().filter(|n| !sa.contains_key(*n)) {
        println!("  {name:<22} only in B");
    }
    Ok(())
}

pub(crate) fn run(args: SimArgs) -> Outcome {
    if let [a, b] = args.diff.as_slice() {
        return diff(a, b);
    }
    let out = args
        .out
        .clone()
        .ok_or_else(|| Failure::bad("--out: where to write the report"))?;
    if let Some(data) = &args.replay {
        return replay(data, args.operator_key.as_deref(), &out);
    }
    let mut scenario = load(&args.scenario)?;
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
    // The online strategies, and whether the exact optimum was asked for (`None`: by default,
    // so only when the run is small enough).
    let (strategies, optimum): (Vec<Strategy>, Option<bool>) = if args.strategies.is_empty() {
        (Strategy::ALL.to_vec(), None)
    } else {
        let mut optimum = false;
        let mut list = Vec::new();
        for name in &args.strategies {
            let name = name.trim();
            if name == "optimum" {
                optimum = true;
                continue;
            }
            list.push(Strategy::from_name(name).ok_or_else(|| {
                let known: Vec<&str> = Strategy::ALL.iter().map(|s| s.name()).collect();
                Failure::bad(format!(
                    "--strategies: no strategy `{name}` (known: {}, optimum)",
                    known.join(", ")
                ))
            })?);
        }
        (list, Some(optimum))
    };
    let data = |dir: &str| {
        std::env::var_os("CPN_DATA_DIR")
            .map_or_else(|| PathBuf::from("../shared/data"), PathBuf::from)
            .join(dir)
    };
    let bad_trace =
        |e: &dyn std::fmt::Display| Failure::bad(format!("--workload {}: {e}", args.workload));
    let (seed, rate) = (args.seed, args.rate);
    let arrivals = match args.workload.as_str() {
        "mixed" => cpn_sim::twin::mixed(&scenario, seed, rate, duration_s),
        "diurnal" => {
            let cycle = cpn_sim::workload::Diurnal::compressed(duration_s as f64);
            cpn_sim::workload::diurnal(&scenario, seed, rate, duration_s, cycle)
        }
        "bursty" => {
            let bursts = cpn_sim::workload::Bursty::DEFAULT;
            cpn_sim::workload::bursty(&scenario, seed, rate, duration_s, bursts)
        }
        "azure-llm-code" | "azure-llm-conv" => {
            let file = if args.workload.ends_with("code") {
                "AzureLLMInferenceTrace_code.csv"
            } else {
                "AzureLLMInferenceTrace_conv.csv"
            };
            let requests = cpn_trace::load_azure_llm(data("azure-llm-inference-2023").join(file))
                .map_err(|e| bad_trace(&e))?;
            let rule = cpn_trace::ComputeRule::default();
            cpn_sim::twin::from_llm(&scenario, &requests, &rule, seed, duration_s)
        }
        "openb" => {
            let tasks = cpn_trace::load_openb_tasks(
                data("alibaba-gpu-v2023-openb").join("openb_pod_list_default.csv"),
            )
            .map_err(|e| bad_trace(&e))?;
            let scale = cpn_sim::workload::openb_time_scale(&tasks, duration_s);
            cpn_sim::workload::from_openb(&scenario, &tasks, seed, duration_s, scale)
        }
        "eua" => {
            let dir = data("eua-melbourne");
            let sites = cpn_trace::load_eua_sites(dir.join("site-optus-melbCBD.csv"))
                .map_err(|e| bad_trace(&e))?;
            let users = cpn_trace::load_eua_users(dir.join("users-melbcbd-generated.csv"))
                .map_err(|e| bad_trace(&e))?;
            scenario = cpn_sim::edge::melbourne(&sites, args.edge_sites, seed)
                .map_err(|e| bad_trace(&e))?;
            let points: Vec<_> = users.iter().map(|u| u.position).collect();
            let weights = cpn_sim::edge::density(&scenario, &points, 5.0);
            cpn_sim::edge::from_users(&scenario, &weights, seed, rate, duration_s)
        }
        "shanghai" => {
            let stations = cpn_trace::load_shanghai_base_stations(
                data("shanghai-telecom-base-stations").join("base_stations_all.csv"),
            )
            .map_err(|e| bad_trace(&e))?;
            scenario = cpn_sim::edge::shanghai(&stations, args.edge_sites, seed)
                .map_err(|e| bad_trace(&e))?;
            let points: Vec<_> = cpn_sim::edge::shanghai_points(&stations)
                .into_iter()
                .map(|p| p.position)
                .collect();
            let weights = cpn_sim::edge::density(&scenario, &points, 50.0);
            cpn_sim::edge::from_users(&scenario, &weights, seed, rate, duration_s)
        }
        other => {
            return Err(Failure::bad(format!(
                "--workload: no workload `{other}` (known: mixed, diurnal, bursty, azure-llm-code, azure-llm-conv, openb, eua, shanghai)"
            )));
        }
    };
    let background = match &args.background {
        None => Vec::new(),
        Some(name) => {
            let files = cpn_sim::workload::usage_files(name).ok_or_else(|| {
                Failure::bad(format!(
                    "--background: no series `{name}` (known: alibaba, azure, google, mixed)"
                ))
            })?;
            if !(args.background_scale > 0.0 && args.background_scale.is_finite()) {
                return Err(Failure::bad(
                    "--background-scale: expected a number above 0",
                ));
            }
            let mut series = Vec::new();
            for file in files {
                let path = data("datacenter-usage-timeseries").join(file);
                series.push(
                    cpn_trace::load_usage(&path)
                        .map_err(|e| Failure::bad(format!("--background {name}: {e}")))?,
                );
            }
            // One step per window of the series (300 s of trace) at that scale, at least a
            // second apart.
            let step_s = (cpn_trace::USAGE_STEP_S as f64 / args.background_scale)
                .ceil()
                .max(1.0) as u64;
            cpn_sim::workload::background(
                &scenario,
                &series,
                seed,
                duration_s,
                step_s,
                args.background_scale,
            )
        }
    };
    let mut arrivals = arrivals;
    let mut what_if = Vec::new();
    for spec in &args.what_if {
        match change(&scenario, spec)? {
            Change::Net(w) => what_if.push(w),
            Change::Add(site, at_s) => {
                what_if.push(cpn_sim::twin::WhatIf::SiteDown { site, at_s: 0 });
                what_if.push(cpn_sim::twin::WhatIf::SiteUp { site, at_s });
            }
            Change::Demand {
                router,
                factor,
                after_s,
            } => {
                arrivals =
                    cpn_sim::twin::scale_demand(&arrivals, router, factor, after_s, args.seed)
            }
        }
    }
    type Draw = fn(&cpn_model::Scenario, f64, f64, u64, u64) -> Vec<cpn_sim::twin::WhatIf>;
    let random: [(&str, &Option<String>, Draw); 2] = [
        (
            "--link-failures",
            &args.link_failures,
            cpn_sim::twin::random_link_failures,
        ),
        (
            "--site-failures",
            &args.site_failures,
            cpn_sim::twin::random_site_failures,
        ),
    ];
    for (flag, spec, draw) in random {
        let Some(spec) = spec else { continue };
        let bad = |m: String| Failure::bad(format!("{flag} `{spec}`: {m}"));
        let (mtbf, mttr) = spec
            .split_once(',')
            .ok_or_else(|| bad("expected MTBF,MTTR such as 3600s,300s".into()))?;
        let seconds = |t: &str| -> Result<f64, Failure> {
            let n: Nanos = t.trim().parse().map_err(|e| bad(format!("{e}")))?;
            if n.0 == 0 {
                return Err(bad("times must be more than zero".into()));
            }
            Ok(n.0 as f64 / 1e9)
        };
        let (mtbf, mttr) = (seconds(mtbf)?, seconds(mttr)?);
        what_if.extend(draw(&scenario, mtbf, mttr, duration_s, args.seed));
    }
    // Changes in time order (the twin applies them in the order given at equal times).
    what_if.sort_by_key(|w| w.at_s());
    let mut skipped = std::collections::BTreeMap::new();
    let plan = match optimum {
        Some(false) => None,
        asked => match cpn_sim::optimum::plan(&scenario, &arrivals) {
            Ok(plan) => Some(plan),
            Err(e) if asked.is_some() => {
                return Err(Failure::bad(format!("--strategies optimum: {e}")));
            }
            Err(e) => {
                eprintln!("optimum skipped: {e}");
                skipped.insert("optimum".to_string(), e.to_string());
                None
            }
        },
    };
    let mut policies: Vec<(String, cpn_sim::twin::Policy<'_>)> = strategies
        .iter()
        .map(|&s| (s.name().to_string(), cpn_sim::twin::Policy::Online(s)))
        .collect();
    if let Some(plan) = &plan {
        policies.push(("optimum".to_string(), cpn_sim::twin::Policy::Plan(plan)));
    }
    let mut changes = args.what_if.clone();
    if let Some(spec) = &args.link_failures {
        changes.push(format!("random link failures {spec}"));
    }
    if let Some(spec) = &args.site_failures {
        changes.push(format!("random site failures {spec}"));
    }
    if let Some(name) = &args.background {
        changes.push(format!(
            "{name} background load at {}x",
            args.background_scale
        ));
    }
    let workload = if changes.is_empty() {
        args.workload.clone()
    } else {
        format!("{} with {}", args.workload, changes.join(", "))
    };
    // A progress bar on stderr, drawn only when it is a terminal.
    let bar = indicatif::ProgressBar::new((arrivals.len() * policies.len()) as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template(
            "{msg:<22} [{bar:40}] {pos}/{len} requests, {per_sec}, eta {eta}",
        )
        .map_err(|e| Failure::Internal(e.into()))?
        .progress_chars("=> "),
    );
    let (mut report, outcomes) = cpn_sim::twin::compare_with(
        &scenario,
        &workload,
        &arrivals,
        &policies,
        args.seed,
        duration_s,
        cpn_sim::twin::Changes {
            what_if: &what_if,
            background: &background,
        },
        &mut |done, _| {
            // The strategies run side by side, each over every arrival.
            if policies.len() == 1 {
                bar.set_message(policies[0].0.clone());
            } else {
                bar.set_message(format!("{} strategies", policies.len()));
            }
            bar.set_position(done);
        },
    );
    bar.finish_and_clear();
    report.skipped = skipped;
    std::fs::create_dir_all(&out)
        .map_err(|e| Failure::bad(format!("--out `{}`: {e}", out.display())))?;
    let write = |name: &str, text: String| {
        let path = out.join(name);
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
        out.display()
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
