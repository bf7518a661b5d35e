//! The digital twin's first model: requests arrive on a scenario, each strategy places them on
//! its own copy of the real scheduler (identical arrivals for every strategy), reservations
//! are released when their hold ends, and each request is judged against its SLA.
//!
//! Served latency is the scheduler's own estimate at placement (network round trip,
//! processing, M/M/c queueing at the site's load then). Strategies that are blind to the
//! network (nearest, least-loaded, random, Kubernetes' least-allocated) place without the
//! request's latency and loss bounds, as they would in reality, and are judged against them
//! afterwards; the SLA-aware ones (cpn, latency-only, cost-only) refuse what they cannot meet.

use std::collections::BTreeMap;
use std::fmt::Write;

use cpn_model::Scenario;
use cpn_route::{Objective, run_cost};
use cpn_sched::{Isolation, PlaceRequest, Placed, ReservationId, Scheduler, Strategy};
use cpn_units::{Bandwidth, Flops, Nanos};
use serde::Serialize;

use crate::kernel::Simulation;
use crate::rng::Rng;

const NS: u64 = 1_000_000_000;

/// One request of a workload.
#[derive(Debug, Clone, PartialEq)]
pub struct Arrival {
    /// When it arrives, ns from the start.
    pub at: u64,
    /// What it asks for; its window is set when it arrives.
    pub request: PlaceRequest,
    /// How long it holds its reservation, seconds.
    pub hold_s: u64,
    /// The latency its SLA allows, if any.
    pub max_latency: Option<Nanos>,
    /// `critical` or `tolerant`.
    pub class: &'static str,
}

/// A request of no demand yet from `ingress`, with 10 Mbps on its path unless changed; its
/// window is set when it arrives.
pub(crate) fn blank(
    name: String,
    ingress: cpn_model::RouterId,
    bandwidth: Bandwidth,
) -> PlaceRequest {
    PlaceRequest {
        name,
        ingress,
        service: None,
        demand: None,
        processing: Nanos::ZERO,
        cores: 0,
        memory_mib: 0,
        gpus: Vec::new(),
        bandwidth,
        max_latency: None,
        max_loss: None,
        priority: 0,
        slice: None,
        isolation: Isolation::Soft,
        start: 0,
        end: 1,
        objective: Objective::BALANCED,
    }
}

/// The built-in mixed workload: Poisson arrivals at `rate` per second for `duration_s`;
/// 70 % latency-critical (a service with a latency SLA, held 10-60 s) and 30 %
/// delay-tolerant (a raw demand of 20-220 TFLOPS placed by cost, held 2-10 min), entering at
/// the routers of edge and end sites.
pub fn mixed(scenario: &Scenario, seed: u64, rate: f64, duration_s: u64) -> Vec<Arrival> {
    let mut rng = Rng::new(seed);
    let ingress = scenario.access_routers();
    let critical: Vec<_> = scenario
        .services
        .iter()
        .filter_map(|s| {
            let bound = s.sla.and_then(|id| scenario.slas[id.index()].max_latency)?;
            Some((s.id, bound))
        })
        .collect();
    let mut out = Vec::new();
    let mut t = 0u64;
    let end = duration_s.saturating_mul(NS);
    let mut n = 0u64;
    loop {
        t = t.saturating_add(rng.exponential_ns(NS as f64 / rate.max(1e-9)));
        if t >= end || ingress.is_empty() {
            break;
        }
        n += 1;
        let from = ingress[rng.below(ingress.len() as u64) as usize];
        let base = blank(format!("r{n}"), from, Bandwidth(10_000_000));
        let arrival = if !critical.is_empty() && rng.bernoulli(0.7) {
            let (service, bound) = critical[rng.below(critical.len() as u64) as usize];
            Arrival {
                at: t,
                request: PlaceRequest {
                    service: Some(service),
                    max_latency: Some(bound),
                    priority: 5,
                    ..base
                },
                hold_s: 10 + rng.below(51),
                max_latency: Some(bound),
                class: "critical",
            }
        } else {
            let tflops = 20 + rng.below(201);
            Arrival {
                at: t,
                request: PlaceRequest {
                    demand: Some(Flops::fp64(u128::from(tflops) * 1_000_000_000_000)),
                    processing: Nanos(2 * NS),
                    objective: Objective::Cost,
                    ..base
                },
                hold_s: 120 + rng.below(481),
                max_latency: None,
                class: "tolerant",
            }
        };
        out.push(arrival);
    }
    out
}

/// The reference throughput that turns an LLM request's work into a hold time: one PFLOPS
/// of BF16, about one inference accelerator (stated in docs/twin.md).
pub const LLM_REFERENCE_PFLOPS: u128 = 1;

/// Arrivals from the Azure LLM inference trace: each request becomes a request of the
/// scenario's `llm-inference` service (a raw demand of 1 TFLOPS when the scenario has none)
/// from an ingress drawn at random among the edge and end routers (the trace has no place),
/// held for its work under `rule` at [`LLM_REFERENCE_PFLOPS`], rounded up to a second. Only
/// requests within `duration_s` are kept.
pub fn from_llm(
    scenario: &Scenario,
    requests: &[cpn_trace::LlmRequest],
    rule: &cpn_trace::ComputeRule,
    seed: u64,
    duration_s: u64,
) -> Vec<Arrival> {
    let mut rng = Rng::new(seed);
    let ingress = scenario.access_routers();
    let service = scenario.service("llm-inference");
    let bound = service
        .and_then(|s| s.sla)
        .and_then(|id| scenario.slas[id.index()].max_latency);
    let throughput = Flops {
        precision: rule.precision,
        per_second: LLM_REFERENCE_PFLOPS * 1_000_000_000_000_000,
    };
    let end = duration_s.saturating_mul(NS);
    requests
        .iter()
        .filter(|r| r.arrival.0 < end)
        .enumerate()
        .filter_map(|(n, r)| {
            let from = *ingress.get(rng.below(ingress.len().max(1) as u64) as usize)?;
            let hold = rule
                .processing_time(r, throughput)
                .map_or(1, |t| t.0.div_ceil(NS).max(1));
            let request = PlaceRequest {
                service: service.map(|s| s.id),
                demand: service.is_none().then(|| Flops::fp64(1_000_000_000_000)),
                max_latency: bound,
                priority: 5,
                ..blank(format!("llm{}", n + 1), from, Bandwidth(1_000_000))
            };
            Some(Arrival {
                at: r.arrival.0,
                request,
                hold_s: hold,
                max_latency: bound,
                class: "critical",
            })
        })
        .collect()
}

/// What one strategy did with a workload.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StrategyReport {
    pub requests: u64,
    /// Placed and within every bound of its SLA, over all requests (0-1).
    pub sla_satisfaction: f64,
    /// Placed, over all requests (0-1).
    pub acceptance: f64,
    /// End-to-end latency of the placed requests, ms.
    pub latency_ms: Percentiles,
    /// Compute booked over capacity, time-averaged, per tier (0-1).
    pub utilisation: BTreeMap<String, f64>,
    /// Bandwidth booked, summed over links and time, in Gbit (Gbps × s).
    pub bandwidth_gbit: f64,
    /// Currency units, and grams CO2, of the compute placed.
    pub cost: f64,
    pub carbon_kg: f64,
    /// SLA satisfaction of the latency-critical requests alone.
    pub critical_sla_satisfaction: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Percentiles {
    pub p50: f64,
    pub p95: f64,
    pub p99: f64,
}

/// Per request, for the CSV and the latency CDF.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub name: String,
    pub class: &'static str,
    pub at_s: f64,
    pub site: Option<String>,
    pub latency_us: Option<u64>,
    pub sla_met: bool,
}

#[derive(Debug, Clone, Copy)]
enum Event {
    Arrive(usize),
    Depart(ReservationId),
    Change(usize),
}

/// A what-if change to the network during a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhatIf {
    LinkDown { link: cpn_model::LinkId, at_s: u64 },
    LinkUp { link: cpn_model::LinkId, at_s: u64 },
    SiteDown { site: cpn_model::SiteId, at_s: u64 },
    SiteUp { site: cpn_model::SiteId, at_s: u64 },
}

impl WhatIf {
    fn at_s(self) -> u64 {
        match self {
            WhatIf::LinkDown { at_s, .. }
            | WhatIf::LinkUp { at_s, .. }
            | WhatIf::SiteDown { at_s, .. }
            | WhatIf::SiteUp { at_s, .. } => at_s,
        }
    }
}

/// Random link failures over `duration_s`: each link fails after an exponential time with
/// mean `mtbf_s` and is repaired after one with mean `mttr_s`, again and again, drawn from
/// `seed`. The changes come sorted by time (links in id order at equal times).
pub fn random_link_failures(
    scenario: &Scenario,
    mtbf_s: f64,
    mttr_s: f64,
    duration_s: u64,
    seed: u64,
) -> Vec<WhatIf> {
    let mut rng = Rng::new(seed);
    let mut out = Vec::new();
    for link in &scenario.links {
        let mut t = 0.0;
        loop {
            t += rng.exponential(mtbf_s.max(1e-3));
            if t >= duration_s as f64 {
                break;
            }
            out.push(WhatIf::LinkDown {
                link: link.id,
                at_s: t as u64,
            });
            t += rng.exponential(mttr_s.max(1e-3)).max(1.0);
            if t >= duration_s as f64 {
                break;
            }
            out.push(WhatIf::LinkUp {
                link: link.id,
                at_s: t as u64,
            });
        }
    }
    out.sort_by_key(|w| w.at_s());
    out
}

/// More demand from one ingress after a time: every arrival from `router` at or after
/// `after_s` is joined by `factor - 1` more copies (fractions drawn with `seed`), at the same
/// time, with names of their own.
pub fn scale_demand(
    arrivals: &[Arrival],
    router: cpn_model::RouterId,
    factor: f64,
    after_s: u64,
    seed: u64,
) -> Vec<Arrival> {
    let mut rng = Rng::new(seed);
    let mut out = Vec::with_capacity(arrivals.len());
    let extra = (factor - 1.0).max(0.0);
    for a in arrivals {
        out.push(a.clone());
        if a.request.ingress != router || a.at < after_s.saturating_mul(NS) {
            continue;
        }
        let whole = extra.floor() as u64;
        let copies = whole + u64::from(rng.bernoulli(extra - whole as f64));
        for k in 1..=copies {
            let mut copy = a.clone();
            copy.request.name = format!("{}+{k}", a.request.name);
            out.push(copy);
        }
    }
    out
}

fn percentile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Runs `arrivals` through `strategy` on a fresh scheduler of `scenario`.
pub fn run(
    scenario: &Scenario,
    arrivals: &[Arrival],
    strategy: Strategy,
    seed: u64,
    duration_s: u64,
    what_if: &[WhatIf],
) -> (StrategyReport, Vec<Outcome>) {
    let mut sched = Scheduler::new(scenario);
    let mut sim: Simulation<Event> = Simulation::new(seed);
    for (i, w) in what_if.iter().enumerate() {
        let _ = sim.schedule(w.at_s().saturating_mul(NS), Event::Change(i));
    }
    for (i, a) in arrivals.iter().enumerate() {
        // Arrivals are sorted and start at 0: scheduling them cannot be in the past.
        let _ = sim.schedule(a.at, Event::Arrive(i));
    }
    let mut draws = seed ^ 0x5eed_0f57_47e9;
    let mut outcomes = Vec::with_capacity(arrivals.len());
    let mut booked_tier: BTreeMap<String, f64> = BTreeMap::new();
    let (mut bandwidth, mut cost, mut carbon) = (0.0, 0.0, 0.0);
    while let Some((t, event)) = sim.next() {
        match event {
            Event::Depart(id) => {
                // A preempted or moved reservation is gone already.
                let _ = sched.release(id);
            }
            Event::Change(i) => {
                // What a failure moves or loses is the scheduler's recovery, as live.
                let _ = match what_if[i] {
                    WhatIf::LinkDown { link, .. } => sched.link_down(link).map(|_| ()),
                    WhatIf::LinkUp { link, .. } => {
                        sched.link_up(link);
                        Ok(())
                    }
                    WhatIf::SiteDown { site, .. } => sched.site_down(site).map(|_| ()),
                    WhatIf::SiteUp { site, .. } => {
                        sched.site_up(site);
                        Ok(())
                    }
                };
            }
            Event::Arrive(i) => {
                let a = &arrivals[i];
                let start = t / NS;
                let request = PlaceRequest {
                    start,
                    end: start + a.hold_s.max(1),
                    ..a.request.clone()
                };
                let placed = sched.place_by(strategy, request, &mut draws);
                let mut outcome = Outcome {
                    name: a.request.name.clone(),
                    class: a.class,
                    at_s: t as f64 / NS as f64,
                    site: None,
                    latency_us: None,
                    sla_met: false,
                };
                if let Ok(Placed::Accepted { reservation, .. }) = placed
                    && let Some(r) = sched.reservation(reservation)
                {
                    let site = &scenario.sites[r.site.index()];
                    let latency_ns = r.latency.total.saturating_mul(1_000);
                    outcome.site = Some(site.name.clone());
                    outcome.latency_us = Some(r.latency.total);
                    outcome.sla_met = a.max_latency.is_none_or(|b| latency_ns <= b.0);
                    let held = a.hold_s.max(1) as f64;
                    *booked_tier.entry(site.tier.to_string()).or_default() +=
                        r.compute_gflops() as f64 * held;
                    bandwidth += r.request.bandwidth.0 as f64 / 1e9 * held * r.links.len() as f64;
                    let demand = Flops::fp64(u128::from(r.compute_gflops()) * 1_000_000_000);
                    let (c, g) = run_cost(
                        demand,
                        Nanos(a.hold_s.max(1) * NS),
                        site.price.map(|p| p.0),
                        site.carbon.map(|k| k.0),
                        site.pue.as_f64(),
                    );
                    cost += c.unwrap_or(0.0);
                    carbon += g.unwrap_or(0.0);
                    let _ = sim.schedule(t + a.hold_s.max(1) * NS, Event::Depart(reservation));
                }
                outcomes.push(outcome);
            }
        }
    }
    let n = outcomes.len().max(1) as f64;
    let accepted = outcomes.iter().filter(|o| o.site.is_some()).count() as f64;
    let met = outcomes
        .iter()
        .filter(|o| o.sla_met && o.site.is_some())
        .count() as f64;
    let critical: Vec<&Outcome> = outcomes.iter().filter(|o| o.class == "critical").collect();
    let critical_met = critical
        .iter()
        .filter(|o| o.sla_met && o.site.is_some())
        .count() as f64;
    let mut latencies: Vec<f64> = outcomes
        .iter()
        .filter_map(|o| o.latency_us.map(|l| l as f64 / 1_000.0))
        .collect();
    latencies.sort_by(f64::total_cmp);
    let mut capacity_tier: BTreeMap<String, f64> = BTreeMap::new();
    for s in &scenario.sites {
        let gflops = sched.compute_calendar(s.id).map_or(0, |k| k.capacity());
        *capacity_tier.entry(s.tier.to_string()).or_default() += gflops as f64;
    }
    let span = duration_s.max(1) as f64;
    let utilisation = capacity_tier
        .iter()
        .map(|(tier, cap)| {
            let booked = booked_tier.get(tier).copied().unwrap_or(0.0);
            let u = if *cap > 0.0 {
                booked / (cap * span)
            } else {
                0.0
            };
            (tier.clone(), u)
        })
        .collect();
    let report = StrategyReport {
        requests: outcomes.len() as u64,
        sla_satisfaction: met / n,
        acceptance: accepted / n,
        latency_ms: Percentiles {
            p50: percentile(&latencies, 0.5),
            p95: percentile(&latencies, 0.95),
            p99: percentile(&latencies, 0.99),
        },
        utilisation,
        bandwidth_gbit: bandwidth,
        cost,
        carbon_kg: carbon / 1_000.0,
        critical_sla_satisfaction: if critical.is_empty() {
            1.0
        } else {
            critical_met / critical.len() as f64
        },
    };
    (report, outcomes)
}

/// A whole run: every strategy on the same arrivals.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub scenario: String,
    pub workload: String,
    pub seed: u64,
    pub duration_s: u64,
    pub requests: usize,
    pub strategies: BTreeMap<String, StrategyReport>,
}

/// Runs every strategy of `strategies` on `arrivals`; the outcomes per strategy come back for
/// the CSV and the charts.
pub fn compare(
    scenario: &Scenario,
    workload: &str,
    arrivals: &[Arrival],
    strategies: &[Strategy],
    seed: u64,
    duration_s: u64,
    what_if: &[WhatIf],
) -> (Report, BTreeMap<String, Vec<Outcome>>) {
    let mut reports = BTreeMap::new();
    let mut outcomes = BTreeMap::new();
    for &s in strategies {
        let (report, o) = run(scenario, arrivals, s, seed, duration_s, what_if);
        reports.insert(s.name().to_string(), report);
        outcomes.insert(s.name().to_string(), o);
    }
    (
        Report {
            scenario: scenario.name.clone(),
            workload: workload.to_string(),
            seed,
            duration_s,
            requests: arrivals.len(),
            strategies: reports,
        },
        outcomes,
    )
}

/// The outcomes as CSV: one row per strategy and request.
pub fn outcomes_csv(outcomes: &BTreeMap<String, Vec<Outcome>>) -> String {
    let mut out = String::from("strategy,request,class,at_s,site,latency_us,sla_met\n");
    for (strategy, list) in outcomes {
        for o in list {
            let _ = writeln!(
                out,
                "{strategy},{},{},{:.6},{},{},{}",
                o.name,
                o.class,
                o.at_s,
                o.site.as_deref().unwrap_or(""),
                o.latency_us.map_or(String::new(), |l| l.to_string()),
                o.sla_met
            );
        }
    }
    out
}

/// The summary as CSV: one row per strategy.
pub fn summary_csv(report: &Report) -> String {
    let mut out = String::from(
        "strategy,requests,sla_satisfaction,acceptance,p50_ms,p95_ms,p99_ms,cost,carbon_kg,bandwidth_gbit\n",
    );
    for (name, s) in &report.strategies {
        let _ = writeln!(
            out,
            "{name},{},{:.6},{:.6},{:.3},{:.3},{:.3},{:.3},{:.3},{:.3}",
            s.requests,
            s.sla_satisfaction,
            s.acceptance,
            s.latency_ms.p50,
            s.latency_ms.p95,
            s.latency_ms.p99,
            s.cost,
            s.carbon_kg,
            s.bandwidth_gbit
        );
    }
    out
}

const COLOURS: [&str; 7] = [
    "#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2", "#6b7280",
];

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A self-contained HTML report with SVG charts: the latency CDF per strategy, SLA
/// satisfaction and acceptance, utilisation by tier, and cost against carbon.
pub fn html(report: &Report, outcomes: &BTreeMap<String, Vec<Outcome>>) -> String {
    let (w, h, pad) = (640.0, 320.0, 40.0);
    let mut cdf = String::new();
    let max_ms = outcomes
        .values()
        .flat_map(|o| o.iter().filter_map(|x| x.latency_us))
        .max()
        .unwrap_or(1) as f64
        / 1_000.0;
    for (k, (name, list)) in outcomes.iter().enumerate() {
        let mut l: Vec<f64> = list
            .iter()
            .filter_map(|o| o.latency_us.map(|v| v as f64 / 1_000.0))
            .collect();
        l.sort_by(f64::total_cmp);
        if l.is_empty() {
            continue;
        }
        let step = (l.len() / 200).max(1);
        let points: Vec<String> = l
            .iter()
            .enumerate()
            .step_by(step)
            .map(|(i, v)| {
                let x = pad + v / max_ms.max(1e-9) * (w - 2.0 * pad);
                let y = h - pad - (i + 1) as f64 / l.len() as f64 * (h - 2.0 * pad);
                format!("{x:.1},{y:.1}")
            })
            .collect();
        let colour = COLOURS[k % COLOURS.len()];
        let _ = write!(
            cdf,
            r#"<polyline fill="none" stroke="{colour}" stroke-width="2" points="{}"><title>{}</title></polyline><text x="{}" y="{}" fill="{colour}" font-size="12">{}</text>"#,
            points.join(" "),
            escape(name),
            w - pad - 140.0,
            pad + 14.0 * k as f64,
            escape(name)
        );
    }
    let bars = |value: &dyn Fn(&StrategyReport) -> f64, max: f64| {
        let mut svg = String::new();
        for (k, (name, s)) in report.strategies.iter().enumerate() {
            let v = value(s);
            let bw = (w - 2.0 * pad - 160.0) * (v / max.max(1e-9)).min(1.0);
            let y = pad + 26.0 * k as f64;
            let _ = write!(
                svg,
                r#"<text x="{pad}" y="{}" font-size="12">{}</text><rect x="{}" y="{}" width="{bw:.1}" height="16" fill="{}"/><text x="{}" y="{}" font-size="12">{v:.3}</text>"#,
                y + 12.0,
                escape(name),
                pad + 150.0,
                y,
                COLOURS[k % COLOURS.len()],
                pad + 155.0 + bw,
                y + 12.0
            );
        }
        svg
    };
    let sla = bars(&|s| s.sla_satisfaction, 1.0);
    let acceptance = bars(&|s| s.acceptance, 1.0);
    let mut tiers = String::new();
    for (k, (name, s)) in report.strategies.iter().enumerate() {
        let cells: Vec<String> = s
            .utilisation
            .iter()
            .map(|(t, u)| format!("{t} {:.2} %", u * 100.0))
            .collect();
        let _ = write!(
            tiers,
            r#"<text x="{pad}" y="{}" font-size="12" fill="{}">{}: {}</text>"#,
            pad + 18.0 * k as f64,
            COLOURS[k % COLOURS.len()],
            escape(name),
            escape(&cells.join(", "))
        );
    }
    let max_cost = report
        .strategies
        .values()
        .map(|s| s.cost)
        .fold(0.0, f64::max);
    let max_carbon = report
        .strategies
        .values()
        .map(|s| s.carbon_kg)
        .fold(0.0, f64::max);
    let mut scatter = String::new();
    for (k, (name, s)) in report.strategies.iter().enumerate() {
        let x = pad + s.cost / max_cost.max(1e-9) * (w - 2.0 * pad - 120.0);
        let y = h - pad - s.carbon_kg / max_carbon.max(1e-9) * (h - 2.0 * pad);
        let colour = COLOURS[k % COLOURS.len()];
        let _ = write!(
            scatter,
            r#"<circle cx="{x:.1}" cy="{y:.1}" r="6" fill="{colour}"/><text x="{:.1}" y="{:.1}" font-size="12" fill="{colour}">{}</text>"#,
            x + 8.0,
            y + 4.0,
            escape(name)
        );
    }
    let axis = |x_label: &str, y_label: &str| {
        format!(
            r##"<line x1="{pad}" y1="{b}" x2="{r}" y2="{b}" stroke="#999"/><line x1="{pad}" y1="{pad}" x2="{pad}" y2="{b}" stroke="#999"/><text x="{r}" y="{t}" font-size="12" text-anchor="end">{x_label}</text><text x="4" y="{pad}" font-size="12">{y_label}</text>"##,
            b = h - pad,
            r = w - pad,
            t = h - 8.0,
        )
    };
    let table: String = report
        .strategies
        .iter()
        .map(|(name, s)| {
            format!(
                "<tr><td>{}</td><td>{:.4}</td><td>{:.4}</td><td>{:.2}</td><td>{:.2}</td><td>{:.2}</td><td>{:.2}</td><td>{:.2}</td></tr>",
                escape(name),
                s.sla_satisfaction,
                s.acceptance,
                s.latency_ms.p50,
                s.latency_ms.p95,
                s.latency_ms.p99,
                s.cost,
                s.carbon_kg
            )
        })
        .collect();
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>cpn twin: {scenario}</title>
<style>body{{font-family:system-ui,sans-serif;margin:2em;color:#111}}table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:4px 8px;text-align:right}}td:first-child,th:first-child{{text-align:left}}svg{{background:#fafafa;border:1px solid #eee;margin:0.5em 0}}</style></head>
<body><h1>cpn digital twin: {scenario}</h1>
<p>Workload <b>{workload}</b>, {requests} requests over {duration} s, seed {seed}. Every strategy saw the same arrivals.</p>
<table><tr><th>strategy</th><th>SLA satisfaction</th><th>acceptance</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>cost</th><th>carbon kg</th></tr>{table}</table>
<h2>End-to-end latency (CDF of placed requests)</h2>
<svg viewBox="0 0 {w} {h}" width="{w}" height="{h}">{axis_cdf}{cdf}</svg>
<h2>SLA satisfaction</h2><svg viewBox="0 0 {w} {hb}" width="{w}" height="{hb}">{sla}</svg>
<h2>Acceptance</h2><svg viewBox="0 0 {w} {hb}" width="{w}" height="{hb}">{acceptance}</svg>
<h2>Utilisation by tier</h2><svg viewBox="0 0 {w} {hb}" width="{w}" height="{hb}">{tiers}</svg>
<h2>Cost against carbon</h2><svg viewBox="0 0 {w} {h}" width="{w}" height="{h}">{axis_cc}{scatter}</svg>
</body></html>
"#,
        scenario = escape(&report.scenario),
        workload = escape(&report.workload),
        requests = report.requests,
        duration = report.duration_s,
        seed = report.seed,
        hb = pad * 2.0 + 26.0 * report.strategies.len() as f64,
        axis_cdf = axis(&format!("latency, ms (max {max_ms:.1})"), "share"),
        axis_cc = axis("cost", "carbon"),
    )
}
