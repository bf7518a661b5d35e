//! `cpn slice`: plan a network slice over a scenario: its guarantee on the links of a path
//! between two routers, checked against every link's capacity (the controller will keep such
//! slices; here the plan is computed and shown).

use anyhow::Context;
use clap::Subcommand;
use cpn_model::SliceId;
use cpn_sched::Scheduler;
use cpn_units::Bandwidth;
use serde::Serialize;

use crate::client::Remote;
use crate::scenario_cmd::load;
use crate::{Failure, Outcome};

#[derive(Debug, Subcommand)]
pub(crate) enum SliceCommand {
    /// The links a slice between two routers would hold its guarantee on, and what each
    /// link would have left. Exits 3 when no path has room.
    Plan {
        #[arg(long, default_value = "national")]
        scenario: String,
        /// The slice's id (a scenario slice, or a new name).
        #[arg(long)]
        slice: String,
        #[arg(long = "from")]
        from: String,
        #[arg(long)]
        to: String,
        /// Guaranteed bandwidth, such as 10Gbps.
        #[arg(long)]
        guaranteed: String,
        /// Window in seconds (default: from 0, for ever).
        #[arg(long, default_value_t = 0)]
        start: u64,
        #[arg(long)]
        end: Option<u64>,
        #[arg(long)]
        json: bool,
    },
    /// A running controller's slices of your tenant and the traffic booked in them now.
    List {
        #[command(flatten)]
        remote: Remote,
        #[arg(long)]
        json: bool,
    },
    /// Books bandwidth between two routers on a running controller, in one of your tenant's
    /// slices or best effort (a circuit). Exits 3 when no path has room.
    Book {
        #[command(flatten)]
        remote: Remote,
        /// Your name for the booking.
        #[arg(long)]
        id: String,
        #[arg(long = "from")]
        from: String,
        #[arg(long)]
        to: String,
        /// Bandwidth, such as 1Gbps.
        #[arg(long)]
        bandwidth: String,
        /// The slice to book in (one of your tenant's).
        #[arg(long)]
        slice: Option<String>,
        /// Only the slice's guarantee, never its unused neighbours' bandwidth.
        #[arg(long)]
        hard: bool,
        /// How long, such as `1 h` (until released by default).
        #[arg(long)]
        duration: Option<String>,
    },
}

#[derive(Debug, Serialize)]
struct Plan {
    slice: String,
    guaranteed: String,
    path: Vec<String>,
    links: Vec<LinkPlan>,
}

#[derive(Debug, Serialize)]
struct LinkPlan {
    link: String,
    capacity: String,
    /// What the link has left for other slices and best effort with this slice in place.
    left: String,
}

pub(crate) fn run(command: SliceCommand) -> Outcome {
    match command {
        SliceCommand::List { remote: r, json } => {
            let list: Vec<cpn_api::SliceView> = r.require()?.get("/api/v1/slices")?;
            if json {
                return crate::client::print_json(&list);
            }
            for s in list {
                let used: u64 = s.used_bps.values().sum();
                println!(
                    "{:<20} tenant {:<12} guaranteed {:<10} booked now {} bit/s on {} links",
                    s.name,
                    s.tenant,
                    s.guaranteed,
                    used,
                    s.used_bps.len()
                );
            }
            Ok(())
        }
        SliceCommand::Book {
            remote: r,
            id,
            from,
            to,
            bandwidth,
            slice,
            hard,
            duration,
        } => {
            let request = cpn_api::CircuitRequest {
                id,
                from,
                to,
                bandwidth,
                slice,
                hard,
                start: None,
                duration,
            };
            let client = r.require()?;
            match client.post::<_, cpn_api::CircuitView>("/api/v1/circuits", &request) {
                Ok(c) => {
                    println!(
                        "circuit {} via {} ({})",
                        c.id,
                        c.path.join(" -> "),
                        c.bandwidth
                    );
                    Ok(())
                }
                Err(Failure::BadInput(e)) if e.to_string().contains("no_capacity") => {
                    eprintln!("{e}");
                    Err(Failure::Infeasible)
                }
                Err(e) => Err(e),
            }
        }
        plan => run_plan(plan),
    }
}

fn run_plan(command: SliceCommand) -> Outcome {
    let SliceCommand::Plan {
        scenario,
        slice,
        from,
        to,
        guaranteed,
        start,
        end,
        json,
    } = command
    else {
        return Err(Failure::bad("not a plan"));
    };
    let scenario = load(&scenario)?;
    let router = |name: &str| {
        scenario
            .router(name)
            .map(|r| r.id)
            .ok_or_else(|| Failure::bad(format!("no router `{name}`")))
    };
    let (a, b) = (router(&from)?, router(&to)?);
    if a == b {
        return Err(Failure::bad(format!(
            "--from and --to are both `{from}`: a slice joins two routers"
        )));
    }
    let amount: Bandwidth = guaranteed
        .parse()
        .map_err(|e| Failure::bad(format!("--guaranteed: {e}")))?;
    let end = end.unwrap_or(u64::MAX);
    if start >= end {
        return Err(Failure::bad(format!("window [{start}, {end}) is empty")));
    }
    // A scenario slice keeps its id; a new one gets the next free id.
    let id = scenario
        .slices
        .iter()
        .find(|s| s.name == slice)
        .map_or(SliceId(scenario.slices.len() as u32), |s| s.id);
    let mut scheduler = Scheduler::new(&scenario);
    let links = match scheduler
        .slice_between(id, a, b, amount, start, end)
        .map_err(Failure::bad)?
    {
        Ok(links) => links,
        Err(reason) => {
            eprintln!("no room for slice `{slice}`: {reason}");
            return Err(Failure::Infeasible);
        }
    };
    let mut path = vec![from.clone()];
    let mut at = a;
    for l in &links {
        let link = &scenario.links[l.index()];
        at = if link.a == at { link.b } else { link.a };
        path.push(scenario.routers[at.index()].name.clone());
    }
    let plan = Plan {
        slice: slice.clone(),
        guaranteed: amount.to_string(),
        path,
        links: links
            .iter()
            .map(|l| {
                let cal = scheduler.link_calendar(*l);
                LinkPlan {
                    link: scenario.links[l.index()].name.clone(),
                    capacity: Bandwidth(cal.capacity()).to_string(),
                    left: Bandwidth(cal.capacity().saturating_sub(cal.occupied_at(start)))
                        .to_string(),
                }
            })
            .collect(),
    };
    if json {
        println!(
            "{}",
            serde_json::to_string_pretty(&plan)
                .context("writing JSON")
                .map_err(Failure::Internal)?
        );
    } else {
        println!(
            "slice {} ({} guaranteed) on {}",
            plan.slice,
            plan.guaranteed,
            plan.path.join(" -> ")
        );
        for l in &plan.links {
            println!(
                "  {:<28} capacity {:>10}, {:>10} left",
                l.link, l.capacity, l.left
            );
        }
    }
    Ok(())
}
