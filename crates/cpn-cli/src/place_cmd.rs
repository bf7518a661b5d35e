//! `cpn place`: many requests at once, from a JSON-lines file (format in `docs/placement.md`),
//! placed online one by one through the scheduler (reservations, preemption) or as a batch by
//! the heuristic or the exact solver.

use std::collections::HashMap;

use anyhow::Context;
use clap::{Args, ValueEnum};
use cpn_model::Scenario;
use cpn_sched::batch::{self, BatchRequest, Instance, VALUE_BASE_MS};
use cpn_sched::{PlaceRequest, Placed, Scheduler};
use serde::Serialize;

use crate::client::{Remote, print_json};
use crate::scenario_cmd::load;
use crate::{Failure, Outcome};

#[derive(Debug, Args)]
pub(crate) struct PlaceArgs {
    /// A scenario TOML file, or a built-in scenario name.
    #[arg(long, default_value = "national")]
    scenario: String,
    /// One request per line, as JSON (see docs/placement.md).
    #[arg(long)]
    requests: std::path::PathBuf,
    #[arg(long, value_enum, default_value_t = Strategy::Online)]
    strategy: Strategy,
    /// Print the outcome as JSON.
    #[arg(long)]
    json: bool,
    #[command(flatten)]
    remote: Remote,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Strategy {
    /// One by one, in file order, through the scheduler: reservations over each request's
    /// window, preemption by priority, every refusal explained.
    Online,
    /// All at once, by the regret heuristic (fast at any size).
    Heuristic,
    /// All at once, by the exact MILP (small batches only).
    Optimal,
}

/// One line of the requests file: the API's placement request.
type WireRequest = cpn_api::PlaceRequest;

#[derive(Debug, Serialize)]
struct Report {
    summary: Summary,
    outcomes: Vec<OutcomeLine>,
}

#[derive(Debug, Serialize)]
struct Summary {
    strategy: &'static str,
    requests: usize,
    accepted: usize,
    rejected: usize,
    /// Σ over placed requests of 1000 − (round trip + processing in ms), the objective of
    /// docs/placement.md.
    objective: f64,
}

#[derive(Debug, Serialize)]
struct OutcomeLine {
    id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    site: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    path: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bandwidth: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    cost_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    preempted: Vec<String>,
}

pub(crate) fn run(args: PlaceArgs) -> Outcome {
    if args.remote.server.is_some() {
        return remote(&args);
    }
    let scenario = load(&args.scenario)?;
    let file = args.requests.display().to_string();
    let mut requests = Vec::new();
    for (line, wire) in read_requests(&args.requests)? {
        let request = convert(&wire, &scenario)
            .map_err(|e| Failure::bad(format!("{file}:{line}: request `{}`: {e}", wire.id)))?;
        requests.push((request, wire.replicas.unwrap_or(1)));
    }
    let report = match args.strategy {
        Strategy::Online => online(&scenario, requests)?,
        Strategy::Heuristic | Strategy::Optimal => batch_place(
            &scenario,
            &requests.into_iter().map(|(r, _)| r).collect::<Vec<_>>(),
            matches!(args.strategy, Strategy::Optimal),
        )?,
    };
    if args.json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report)
                .context("writing JSON")
                .map_err(Failure::Internal)?
        );
    } else {
        let s = &report.summary;
        println!(
            "{} requests ({}): {} accepted, {} rejected, objective {:.3}",
            s.requests, s.strategy, s.accepted, s.rejected, s.objective
        );
        for o in &report.outcomes {
            match (&o.site, &o.reason) {
                (Some(site), _) => println!(
                    "  {:<12} -> {site} via {}",
                    o.id,
                    o.path.as_deref().unwrap_or_default().join(" -> ")
                ),
                (None, Some(reason)) => println!("  {:<12} rejected: {reason}", o.id),
                _ => {}
            }
        }
    }
    Ok(())
}

fn convert(w: &WireRequest, scenario: &Scenario) -> Result<PlaceRequest, String> {
    // Offline, windows are counted from 0 and no tenant limits the slices.
    cpn_api::to_place(w, scenario, 0, None).map_err(|e| e.to_string())
}

fn online(scenario: &Scenario, requests: Vec<(PlaceRequest, u32)>) -> Result<Report, Failure> {
    let mut scheduler = Scheduler::new(scenario);
    let mut outcomes: Vec<OutcomeLine> = Vec::with_capacity(requests.len());
    let mut index: HashMap<u64, usize> = HashMap::new();
    let mut count = 0;
    for (request, replicas) in requests {
        let id = request.name.clone();
        if replicas > 1 {
            // Replicas are placed all or none; each placed one gets its own line.
            count += replicas as usize;
            match scheduler
                .place_replicas(&request, replicas)
                .map_err(Failure::bad)?
            {
                Ok(ids) => {
                    for (k, reservation) in ids.into_iter().enumerate() {
                        index.insert(reservation.0, outcomes.len());
                        outcomes.push(OutcomeLine {
                            id: format!("{id}#{}", k + 1),
                            site: None,
                            path: None,
                            bandwidth: None,
                            cost_ms: None,
                            reason: None,
                            preempted: Vec::new(),
                        });
                    }
                }
                Err(refusal) => outcomes.push(OutcomeLine {
                    id,
                    site: None,
                    path: None,
                    bandwidth: None,
                    cost_ms: None,
                    reason: Some(refusal.reason),
                    preempted: Vec::new(),
                }),
            }
            continue;
        }
        count += 1;
        match scheduler.place(request).map_err(Failure::bad)? {
            Placed::Accepted {
                reservation,
                preempted,
            } => {
                index.insert(reservation.0, outcomes.len());
                let mut line = OutcomeLine {
                    id,
                    site: None,
                    path: None,
                    bandwidth: None,
                    cost_ms: None,
                    reason: None,
                    preempted: Vec::new(),
                };
                line.preempted = preempted
                    .iter()
                    .map(|p| format!("{}: {}", p.name, p.reason))
                    .collect();
                for p in &preempted {
                    // The preempted request's own line follows its new reservation, if any.
                    if let Some(i) = index.remove(&p.reservation.0) {
                        outcomes[i] = OutcomeLine {
                            id: outcomes[i].id.clone(),
                            site: None,
                            path: None,
                            bandwidth: None,
                            cost_ms: None,
                            reason: Some(p.reason.clone()),
                            preempted: Vec::new(),
                        };
                        if let Some(new) = p.replaced_by {
                            index.insert(new.0, i);
                        }
                    }
                }
                outcomes.push(line);
            }
            Placed::Refused(refusal) => outcomes.push(OutcomeLine {
                id,
                site: None,
                path: None,
                bandwidth: None,
                cost_ms: None,
                reason: Some(refusal.reason),
                preempted: Vec::new(),
            }),
        }
    }
    // Fill in every line that holds a reservation at the end.
    let mut objective = 0.0;
    for r in scheduler.reservations() {
        let Some(&i) = index.get(&r.id.0) else {
            continue;
        };
        let cost_ms = (r.latency.network_rtt + r.latency.processing) as f64 / 1_000.0;
        objective += VALUE_BASE_MS - cost_ms;
        let line = &mut outcomes[i];
        line.site = Some(scenario.sites[r.site.index()].name.clone());
        line.path = Some(
            r.path
                .nodes
                .iter()
                .map(|n| scenario.routers[*n as usize].name.clone())
                .collect(),
        );
        line.bandwidth = Some(r.request.bandwidth.to_string());
        line.cost_ms = Some(cost_ms);
        line.reason = None;
    }
    let accepted = outcomes.iter().filter(|o| o.site.is_some()).count();
    Ok(Report {
        summary: Summary {
            strategy: "online",
            requests: count,
            accepted,
            rejected: count - accepted,
            objective,
        },
        outcomes,
    })
}

fn batch_place(
    scenario: &Scenario,
    requests: &[PlaceRequest],
    exact: bool,
) -> Result<Report, Failure> {
    let mut batch_requests = Vec::with_capacity(requests.len());
    for r in requests {
        let (demand, processing) = match (r.demand, r.service) {
            (Some(d), s) => (
                d,
                s.map_or(r.processing, |s| scenario.services[s.index()].processing),
            ),
            (None, Some(s)) => (
                scenario.services[s.index()].demand,
                scenario.services[s.index()].processing,
            ),
            (None, None) => {
                return Err(Failure::bad(format!(
                    "request `{}` names neither service nor demand",
                    r.name
                )));
            }
        };
        batch_requests.push(BatchRequest {
            ingress: r.ingress.0,
            demand_tflops: u64::try_from(demand.per_second.div_ceil(1_000_000_000_000))
                .unwrap_or(u64::MAX),
            bandwidth_mbps: r.bandwidth.0.div_ceil(1_000_000),
            max_latency_ms: r.max_latency.map_or(f64::INFINITY, |l| l.0 as f64 / 1e6),
            processing_ms: processing.0 as f64 / 1e6,
        });
    }
    let mut instance = Instance::from_scenario(scenario, batch_requests).map_err(Failure::bad)?;
    // A request of a service may only go to the sites that run it; the problem itself knows
    // nothing of services, so those pairs are taken out here (the order of the rest stays).
    instance.pairs.retain(|p| {
        requests[p.request as usize].service.is_none_or(|s| {
            scenario.services[s.index()]
                .sites
                .iter()
                .any(|site| site.0 == p.site)
        })
    });
    let placement = if exact {
        batch::solve_exact(&instance).map_err(Failure::bad)?.0
    } else {
        batch::place(&instance)
    };
    batch::check(&instance, &placement)
        .map_err(|e| Failure::Internal(anyhow::anyhow!("placement breaks a constraint: {e}")))?;
    let objective = batch::objective(&instance, &placement);
    let mut outcomes = Vec::with_capacity(requests.len());
    for (i, r) in requests.iter().enumerate() {
        let pair = placement.assignment[i]
            .and_then(|s| instance.pair_index(i, s))
            .map(|p| &instance.pairs[p]);
        outcomes.push(match pair {
            Some(p) => OutcomeLine {
                id: r.name.clone(),
                site: Some(scenario.sites[p.site as usize].name.clone()),
                path: Some(path_of(scenario, r.ingress.0, &p.links)),
                bandwidth: Some(r.bandwidth.to_string()),
                cost_ms: Some(p.cost_ms),
                reason: None,
                preempted: Vec::new(),
            },
            None => OutcomeLine {
                id: r.name.clone(),
                site: None,
                path: None,
                bandwidth: None,
                cost_ms: None,
                reason: Some(if instance.pairs_of(i).is_empty() {
                    "no site within the latency bound".to_string()
                } else {
                    "no capacity left at any site within the bound, or on the links to it"
                        .to_string()
                }),
                preempted: Vec::new(),
            },
        });
    }
    let accepted = placement.placed();
    Ok(Report {
        summary: Summary {
            strategy: if exact { "optimal" } else { "heuristic" },
            requests: requests.len(),
            accepted,
            rejected: requests.len() - accepted,
            objective,
        },
        outcomes,
    })
}

/// Router ids along a path given by its links, from the ingress.
fn path_of(scenario: &Scenario, ingress: u32, links: &[u32]) -> Vec<String> {
    let mut at = ingress;
    let mut out = vec![scenario.routers[at as usize].name.clone()];
    for &l in links {
        let link = &scenario.links[l as usize];
        at = if link.a.0 == at { link.b.0 } else { link.a.0 };
        out.push(scenario.routers[at as usize].name.clone());
    }
    out
}

/// Reads the requests file: every line parsed with its line number, errors with file, line
/// and column.
fn read_requests(path: &std::path::Path) -> Result<Vec<(usize, WireRequest)>, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::bad(format!("cannot read `{}`: {e}", path.display())))?;
    let file = path.display().to_string();
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.trim().is_empty() || line.trim_start().starts_with('#') {
            continue;
        }
        let wire: WireRequest = serde_json::from_str(line).map_err(|e| {
            // serde_json ends its message with the position, which the prefix already gives.
            let message = e.to_string();
            let message = message
                .rsplit_once(" at line ")
                .map_or(message.as_str(), |(m, _)| m)
                .to_string();
            Failure::bad(format!("{file}:{}:{}: {message}", n + 1, e.column()))
        })?;
        out.push((n + 1, wire));
    }
    Ok(out)
}

/// Places the file's requests through a running controller, in calls of at most
/// [`cpn_ctl::MAX_BATCH`]; each acknowledged placement is durable there.
fn remote(args: &PlaceArgs) -> Outcome {
    let Some(client) = args.remote.client()? else {
        return Err(Failure::bad("--server is needed"));
    };
    if !matches!(args.strategy, Strategy::Online) {
        return Err(Failure::bad(
            "--server places online only (the controller's own strategy)",
        ));
    }
    let requests: Vec<WireRequest> = read_requests(&args.requests)?
        .into_iter()
        .map(|(_, w)| w)
        .collect();
    let mut results: Vec<cpn_api::PlaceReply> = Vec::with_capacity(requests.len());
    for chunk in requests.chunks(cpn_ctl::MAX_BATCH) {
        let batch = cpn_api::PlaceBatch {
            requests: chunk.to_vec(),
        };
        let reply: cpn_api::PlaceResults = client.post("/api/v1/place", &batch)?;
        results.extend(reply.results);
    }
    if args.json {
        return print_json(&serde_json::json!({ "results": results }));
    }
    let accepted = results.iter().filter(|r| r.accepted).count();
    println!(
        "{} requests (controller {}): {accepted} accepted, {} rejected",
        results.len(),
        args.remote.server.as_deref().unwrap_or(""),
        results.len() - accepted
    );
    for r in &results {
        match (r.reservations.first(), &r.reason) {
            (Some(held), _) => println!(
                "  {:<12} -> {} via {} (reservation {})",
                r.id,
                held.site,
                held.path.join(" -> "),
                held.id
            ),
            (None, Some(reason)) => println!("  {:<12} rejected: {reason}", r.id),
            _ => {}
        }
    }
    Ok(())
}
