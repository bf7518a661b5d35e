//! `cpn route`: one joint decision (site + path + SLA) on a scenario, explained.

use anyhow::Context;
use clap::{Args, ValueEnum};
use cpn_model::Scenario;
use cpn_route::srv6::{Ipv6Prefix, Mode, RAW_DEMAND_PREFIX, service_prefix};
use cpn_route::{Demand, Engine, Objective, Report, Request, SlaBounds, steering};
use cpn_units::{Bandwidth, Flops, Nanos, Ratio};

use crate::client::{Remote, print_json};
use crate::scenario_cmd::load;
use crate::{Failure, Outcome};

#[derive(Debug, Args)]
pub(crate) struct RouteArgs {
    /// A scenario TOML file, or a built-in scenario name.
    #[arg(long, default_value = "national")]
    scenario: String,
    /// The ingress router (where the request enters the network).
    #[arg(long = "from")]
    from: String,
    /// The CATS service id the request is for.
    #[arg(long, conflicts_with = "demand", required_unless_present = "demand")]
    service: Option<String>,
    /// A raw compute demand instead of a service, such as "20 TFLOPS".
    #[arg(long)]
    demand: Option<String>,
    /// Processing time of a raw demand at the site (default 0).
    #[arg(long, requires = "demand")]
    processing: Option<String>,
    /// End-to-end latency bound, such as 20ms (default: the service's SLA, else none).
    #[arg(long)]
    max_latency: Option<String>,
    /// Bandwidth every link of the path must have free, such as 1Gbps.
    #[arg(long)]
    min_bandwidth: Option<String>,
    /// End-to-end loss bound, such as 0.1%.
    #[arg(long)]
    max_loss: Option<String>,
    #[arg(long, value_enum, default_value_t = ObjectiveArg::Balanced)]
    objective: ObjectiveArg,
    /// List every candidate site with its verdict and the numbers behind it.
    #[arg(long)]
    explain: bool,
    /// Print the decision as JSON.
    #[arg(long)]
    json: bool,
    /// Steer with one End.X SID per hop instead of the shortest loose segment list.
    #[arg(long)]
    strict: bool,
    /// The most SIDs the headend can push (maximum SID depth).
    #[arg(long, default_value_t = 8)]
    max_sid_depth: usize,
    /// The destination prefix the headend steers (default: the service's anycast prefix,
    /// fcbb:cc00:<service>::/48; for a raw demand fcbb:cc00:ffff::/48).
    #[arg(long)]
    dest: Option<String>,
    /// The headend's uplink device in the printed `ip -6 route` command.
    #[arg(long, default_value = "cpn0")]
    dev: String,
    #[command(flatten)]
    remote: Remote,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ObjectiveArg {
    Latency,
    Cost,
    Carbon,
    Load,
    Balanced,
}

fn quantity<T: std::str::FromStr<Err = cpn_units::UnitError>>(
    flag: &str,
    value: &Option<String>,
) -> Result<Option<T>, Failure> {
    value
        .as_deref()
        .map(|v| {
            v.parse::<T>()
                .map_err(|e| Failure::bad(format!("--{flag}: {e}")))
        })
        .transpose()
}

pub(crate) fn run(args: RouteArgs) -> Outcome {
    if args.remote.server.is_some() {
        return remote(&args);
    }
    let scenario = load(&args.scenario)?;
    let request = request(&args, &scenario)?;
    let objective = request.objective;
    let mut engine = Engine::new(&scenario);
    let decision = engine.decide(&request).map_err(Failure::bad)?;
    let dest = match (&args.dest, &request.demand) {
        (Some(text), _) => text
            .parse::<Ipv6Prefix>()
            .map_err(|e| Failure::bad(format!("--dest: {e}")))?,
        (None, Demand::Service(id)) => {
            service_prefix(*id).map_err(|e| Failure::Internal(e.into()))?
        }
        (None, Demand::Raw { .. }) => RAW_DEMAND_PREFIX,
    };
    let mode = if args.strict {
        Mode::Strict
    } else {
        Mode::Loose
    };
    let segments = steering(
        &decision,
        &scenario,
        engine.graph(),
        dest,
        mode,
        args.max_sid_depth,
        &args.dev,
    )
    .map_err(|e| Failure::bad(format!("cannot steer the chosen path: {e}")))?;
    let report = Report::new(
        &decision,
        objective,
        &scenario,
        engine.graph(),
        segments.as_ref().map(|(l, c)| (l, c.clone())),
    );
    if args.json {
        let text = serde_json::to_string_pretty(&report)
            .context("writing JSON")
            .map_err(Failure::Internal)?;
        println!("{text}");
    } else {
        print_report(&report, args.explain || !report.feasible);
    }
    if report.feasible {
        Ok(())
    } else {
        Err(Failure::Infeasible)
    }
}

fn request(args: &RouteArgs, scenario: &Scenario) -> Result<Request, Failure> {
    let ingress = scenario
        .router(&args.from)
        .ok_or_else(|| {
            Failure::bad(format!(
                "--from: no router `{}` in scenario `{}`",
                args.from, scenario.name
            ))
        })?
        .id;
    let demand = match (&args.service, &args.demand) {
        (Some(name), _) => Demand::Service(
            scenario
                .service(name)
                .ok_or_else(|| {
                    let known: Vec<&str> =
                        scenario.services.iter().map(|s| s.name.as_str()).collect();
                    Failure::bad(format!(
                        "--service: no service `{name}` (known: {})",
                        known.join(", ")
                    ))
                })?
                .id,
        ),
        (None, Some(_)) => Demand::Raw {
            demand: quantity::<Flops>("demand", &args.demand)?.unwrap_or(Flops::fp64(0)),
            processing: quantity::<Nanos>("processing", &args.processing)?.unwrap_or(Nanos::ZERO),
        },
        (None, None) => return Err(Failure::bad("give --service or --demand")),
    };
    let sla = SlaBounds {
        max_latency: quantity::<Nanos>("max-latency", &args.max_latency)?,
        min_bandwidth: quantity::<Bandwidth>("min-bandwidth", &args.min_bandwidth)?
            .unwrap_or(Bandwidth::ZERO),
        max_loss: quantity::<Ratio>("max-loss", &args.max_loss)?,
        ..SlaBounds::default()
    };
    let objective = match args.objective {
        ObjectiveArg::Latency => Objective::Latency,
        ObjectiveArg::Cost => Objective::Cost,
        ObjectiveArg::Carbon => Objective::Carbon,
        ObjectiveArg::Load => Objective::Load,
        ObjectiveArg::Balanced => Objective::BALANCED,
    };
    Ok(Request {
        ingress,
        demand,
        sla,
        objective,
    })
}

fn print_report(r: &Report, explain: bool) {
    match (&r.site, &r.latency_us) {
        (Some(site), Some(l)) => {
            println!("site     {site} ({})", r.tier.as_deref().unwrap_or("-"));
            println!("path     {}", r.path.join(" -> "));
            println!(
                "latency  {} µs = network rtt {} + processing {} + queueing {}",
                l.total, l.network_rtt, l.processing, l.queueing
            );
            if let Some(cost) = r.cost {
                println!("cost     {cost:.6} per request");
            }
            if let Some(carbon) = r.carbon_g {
                println!("carbon   {carbon:.3} g CO2 per request");
            }
            println!("sids     {}", r.sids.join(", "));
            if let Some(command) = &r.headend_command {
                println!("headend  {command}");
            }
        }
        _ => println!("no feasible site"),
    }
    if explain {
        println!();
        println!(
            "  {:<22} {:<5} {:<9} {:>10} {:>8}  reason",
            "candidate", "tier", "verdict", "latency", "score"
        );
        for c in &r.candidates {
            let latency = c
                .latency_us
                .map_or("-".to_string(), |l| format!("{} µs", l.total));
            let score = c.score.map_or("-".to_string(), |s| format!("{s:.3}"));
            println!(
                "  {:<22} {:<5} {:<9} {:>10} {:>8}  {}",
                c.site,
                c.tier,
                c.verdict,
                latency,
                score,
                c.reason.as_deref().unwrap_or("")
            );
        }
    }
}

/// The same decision asked of a running controller, which logs it.
fn remote(args: &RouteArgs) -> Outcome {
    let Some(client) = args.remote.client()? else {
        return Err(Failure::bad("--server is needed"));
    };
    let objective = match args.objective {
        ObjectiveArg::Latency => cpn_api::ObjectiveName::Latency,
        ObjectiveArg::Cost => cpn_api::ObjectiveName::Cost,
        ObjectiveArg::Carbon => cpn_api::ObjectiveName::Carbon,
        ObjectiveArg::Load => cpn_api::ObjectiveName::Load,
        ObjectiveArg::Balanced => cpn_api::ObjectiveName::Balanced,
    };
    let request = cpn_api::RouteRequest {
        from: args.from.clone(),
        service: args.service.clone(),
        demand: args.demand.clone(),
        processing: args.processing.clone(),
        max_latency: args.max_latency.clone(),
        min_bandwidth: args.min_bandwidth.clone(),
        max_loss: args.max_loss.clone(),
        objective: Some(objective),
    };
    let reply: cpn_api::RouteReply = client.post("/api/v1/route", &request)?;
    if args.json {
        print_json(&reply)?;
    } else {
        match (&reply.site, &reply.latency) {
            (Some(site), Some(l)) => {
                println!("decision {}", reply.id);
                println!("site     {site}");
                println!("path     {}", reply.path.join(" -> "));
                println!(
                    "latency  {} µs = network rtt {} + processing {} + queueing {}",
                    l.total_us, l.network_us, l.processing_us, l.queueing_us
                );
                println!("sids     {}", reply.sids.join(", "));
            }
            _ => println!(
                "no feasible site: {}",
                reply.reason.as_deref().unwrap_or("")
            ),
        }
        if args.explain || !reply.feasible {
            println!();
            for c in &reply.candidates {
                let latency = c.latency_us.map_or("-".to_string(), |l| format!("{l} µs"));
                let verdict = if c.chosen {
                    "chosen"
                } else if c.feasible {
                    "eligible"
                } else {
                    "rejected"
                };
                println!(
                    "  {:<22} {:<9} {:>10}  {}",
                    c.site, verdict, latency, c.reason
                );
            }
        }
    }
    if reply.feasible {
        Ok(())
    } else {
        Err(Failure::Infeasible)
    }
}
