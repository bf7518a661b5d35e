//! The joint decision: for one request, the compute site and the network path together.
//!
//! End-to-end latency = network round trip (twice the one-way path latency; paths are taken
//! as symmetric) + processing time at the site + the queueing estimate of the site's current
//! load (M/M/c, see [`crate::queueing`]). A site is a candidate when it runs the service (or,
//! for a raw demand, counts its compute in the demand's precision); it is eligible when it is
//! up, has the demand free, is not saturated, and a path from the ingress meets the SLA:
//! every link with the requested bandwidth free (or the slice's share), latency within the
//! budget, loss within its bound. Among the eligible the objective decides; ties break on
//! total latency, then on the site's id, so that the same state always gives the same answer.
//!
//! Every candidate is reported with its verdict and, when rejected, the reason with numbers.

use cpn_model::{Priority, Scenario, ServiceId, SiteId, SliceId};
use cpn_units::{Bandwidth, Flops, Nanos, Precision, Ratio};
use serde::Serialize;

use crate::constraints::{Constraints, CostedPath};
use crate::graph::{ArcId, Graph, Metric};
use crate::mcp::{Cost, MultiConstraint, Solution};
use crate::path::{Path, PathStats};
use crate::queueing::mean_wait_ns;
use crate::sssp::ShortestPaths;

mod shortlist;

pub use shortlist::{Load, Occupancy};

/// IT energy of one compute-hour (1 TFLOPS fp64 for an hour), kWh: a 2.5 kW standard rack
/// delivering about 10 TFLOPS (the assumption of the built-in national scenario). Equal at
/// every site, so it scales the carbon figure and never changes a ranking.
pub const IT_KWH_PER_COMPUTE_HOUR: f64 = 0.25;

/// What running `demand` for `processing` costs and emits at a site: price and grid carbon
/// per compute-hour (1 TFLOPS for an hour), with the site's PUE. Prices are in millionths of
/// the currency per compute-hour, carbon in mg CO2 per kWh; the result is (currency, grams).
pub fn run_cost(
    demand: Flops,
    processing: Nanos,
    price: Option<u64>,
    carbon: Option<u64>,
    pue: f64,
) -> (Option<f64>, Option<f64>) {
    cost_of(compute_hours(demand, processing), price, carbon, pue)
}

/// The compute-hours (1 TFLOPS for an hour) of `demand` for `processing`.
fn compute_hours(demand: Flops, processing: Nanos) -> f64 {
    as_f64(demand.per_second) / 1e12 * processing.0 as f64 / 3.6e12
}

/// [`run_cost`] from the compute-hours, which a decision computes once for every site.
fn cost_of(
    compute_hours: f64,
    price: Option<u64>,
    carbon: Option<u64>,
    pue: f64,
) -> (Option<f64>, Option<f64>) {
    let cost = price.map(|p| p as f64 / 1e6 * compute_hours);
    let grams =
        carbon.map(|mg| compute_hours * IT_KWH_PER_COMPUTE_HOUR * pue * mg as f64 / 1_000.0);
    (cost, grams)
}

/// `v as f64`, through the processor's own conversion when `v` fits 64 bits (the 128-bit one
/// is a library call). Both round to nearest, so the result is the same.
#[inline]
fn as_f64(v: u128) -> f64 {
    match u64::try_from(v) {
        Ok(v) => v as f64,
        Err(_) => v as f64,
    }
}

/// What a request asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub ingress: cpn_model::RouterId,
    pub demand: Demand,
    pub sla: SlaBounds,
    pub objective: Objective,
}

/// The work a request brings: one of a service's requests, or a raw amount of compute.
#[derive(Debug, Clone, PartialEq)]
pub enum Demand {
    /// A request of a service: its demand, processing time, sites and SLA.
    Service(ServiceId),
    /// Raw compute for `processing` time at any site that counts its compute in the same
    /// precision.
    Raw { demand: Flops, processing: Nanos },
}

/// The SLA of a request. Bounds left `None` (and a zero bandwidth) are taken from the
/// service's SLA when the request names a service.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SlaBounds {
    pub max_latency: Option<Nanos>,
    pub min_bandwidth: Bandwidth,
    pub max_loss: Option<Ratio>,
    pub priority: Priority,
    pub slice: Option<SliceId>,
}

/// What "best" means among eligible sites. Lower is better for every term.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Objective {
    /// End-to-end latency.
    Latency,
    /// Price of the compute the request uses.
    Cost,
    /// Grid carbon of the energy it uses (IT energy × PUE × grid intensity).
    Carbon,
    /// Load balance: the site's utilisation once the request is placed there.
    Load,
    /// A weighted sum of the four, each first scaled to 0..1 across the eligible sites
    /// (min-max), so that the weights compare like with like.
    Balanced {
        latency: f64,
        cost: f64,
        carbon: f64,
        load: f64,
    },
}

impl Objective {
    /// Latency 0.4, cost 0.2, carbon 0.2, load 0.2.
    pub const BALANCED: Objective = Objective::Balanced {
        latency: 0.4,
        cost: 0.2,
        carbon: 0.2,
        load: 0.2,
    };
}

/// The end-to-end latency of a site and path, µs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct LatencyBreakdown {
    pub network_rtt: u64,
    pub processing: u64,
    pub queueing: u64,
    pub total: u64,
}

/// Why a candidate site was not eligible, with the numbers that decided it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "reason")]
pub enum Reason {
    SiteDown,
    /// The site counts its compute in another precision than the demand.
    OtherPrecision {
        demand: Precision,
        site: Precision,
    },
    NoCapacity {
        needed: Flops,
        free: Flops,
    },
    /// The site is fully loaded: requests would queue without bound.
    Saturated {
        utilisation: f64,
    },
    /// No path at all from the ingress (links down).
    Unreachable,
    /// Paths exist, but none with the bandwidth free on every link.
    NoBandwidth {
        needed: Bandwidth,
        best_bottleneck: Bandwidth,
    },
    OverLatencyBudget {
        latency: LatencyBreakdown,
        budget_us: u64,
        over_by_us: u64,
    },
    /// Found by a bounded search (no exact explanations): the round trip alone, at least
    /// `min_network_rtt_us`, leaves no room for processing within the budget, or no path
    /// with the bandwidth is that short.
    BeyondLatencyBudget {
        budget_us: u64,
        min_network_rtt_us: u64,
    },
    LossTooHigh {
        loss: f64,
        bound: f64,
    },
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reason::SiteDown => write!(f, "site is down"),
            Reason::OtherPrecision { demand, site } => {
                write!(f, "site counts compute in {site}, the demand is {demand}")
            }
            Reason::NoCapacity { needed, free } => {
                write!(f, "no capacity: needs {needed}, {free} free")
            }
            Reason::Saturated { utilisation } => {
                write!(f, "saturated: {:.1}% in use", utilisation * 100.0)
            }
            Reason::Unreachable => write!(f, "unreachable: no path from the ingress"),
            Reason::NoBandwidth {
                needed,
                best_bottleneck,
            } => {
                write!(
                    f,
                    "no path with {needed} free (the best path has {best_bottleneck} free)"
                )
            }
            Reason::OverLatencyBudget {
                latency,
                budget_us,
                over_by_us,
            } => write!(
                f,
                "over latency budget by {over_by_us} µs: {} µs (rtt {} + processing {} + queueing {}) > {budget_us} µs",
                latency.total, latency.network_rtt, latency.processing, latency.queueing
            ),
            Reason::BeyondLatencyBudget {
                budget_us,
                min_network_rtt_us,
            } => write!(
                f,
                "over latency budget: no path within it (the round trip alone would be at least {min_network_rtt_us} µs of the {budget_us} µs)"
            ),
            Reason::LossTooHigh { loss, bound } => {
                write!(f, "loss {:.4}% > bound {:.4}%", loss * 100.0, bound * 100.0)
            }
        }
    }
}

/// One candidate site and what became of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    pub site: SiteId,
    /// `None` when eligible.
    pub rejected: Option<Reason>,
    pub latency: Option<LatencyBreakdown>,
    /// Currency units per request.
    pub cost: Option<f64>,
    /// Grams CO2 per request.
    pub carbon_g: Option<f64>,
    /// The site's utilisation (0 to 1) once the request is placed there.
    pub load: Option<f64>,
    /// The objective's value, lower is better; for eligible sites only.
    pub score: Option<f64>,
    /// The path, for the chosen site (and for every site judged against a loss bound).
    #[serde(skip)]
    pub path: Option<Path>,
    pub path_stats: Option<PathStats>,
}

/// The outcome of a request: the chosen candidate (an index into `candidates`), if any.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Decision {
    pub chosen: Option<usize>,
    pub candidates: Vec<Candidate>,
}

impl Decision {
    pub fn choice(&self) -> Option<&Candidate> {
        self.chosen.map(|i| &self.candidates[i])
    }
}

/// Why a request could not be decided at all (as opposed to no site being eligible).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    #[error("unknown ingress router {0}")]
    UnknownIngress(u32),
    #[error("unknown service {0}")]
    UnknownService(u32),
    #[error("the demand is zero")]
    ZeroDemand,
}

/// Per-site facts the decision reads, struct-of-arrays.
#[derive(Debug, Clone)]
struct SiteTable {
    router: Vec<u32>,
    capacity: Vec<Flops>,
    /// The capacity as a float, for utilisation.
    capacity_f64: Vec<f64>,
    /// Price per compute-hour in millionths of the currency, when known.
    price: Vec<Option<u64>>,
    /// mg CO2 per kWh, when known.
    carbon: Vec<Option<u64>>,
    pue: Vec<f64>,
    used: Vec<u128>,
    up: Vec<bool>,
}

#[derive(Debug, Clone)]
struct ServiceInfo {
    demand: Flops,
    processing: Nanos,
    sites: Vec<SiteId>,
    sla: SlaBounds,
}

/// The routing engine: the graph, the sites and their load, and reusable search memory.
#[derive(Debug, Clone)]
pub struct Engine {
    graph: Graph,
    sites: SiteTable,
    services: Vec<ServiceInfo>,
    /// Per slice, the bandwidth still free within the slice's guarantee on each link; set by
    /// the scheduler. A request in a slice without an entry uses the links' free bandwidth.
    slice_free: std::collections::HashMap<SliceId, Vec<u64>>,
    search: ShortestPaths,
    unconstrained: ShortestPaths,
    mcp: MultiConstraint,
    /// Per node, the decision (epoch) that made it a candidate's router.
    marks: Vec<u32>,
    epoch: u32,
    /// Whether rejected candidates get exact numbers (the default) or the search may stop at
    /// the latency budget, reporting a bound instead (faster on large networks).
    exact_explanations: bool,
    /// The one-way distance the last search settled up to (`u64::MAX`: all of it).
    horizon: u64,
    /// Kept searches and site indexes for [`Engine::decide_shortlist`].
    shortlist: shortlist::Shortlist,
}

impl Engine {
    pub fn new(scenario: &Scenario) -> Engine {
        let s = &scenario.sites;
        let sites = SiteTable {
            router: s.iter().map(|x| x.router.0).collect(),
            capacity: s.iter().map(|x| x.capacity.compute).collect(),
            capacity_f64: s
                .iter()
                .map(|x| as_f64(x.capacity.compute.per_second))
                .collect(),
            price: s.iter().map(|x| x.price.map(|p| p.0)).collect(),
            carbon: s.iter().map(|x| x.carbon.map(|c| c.0)).collect(),
            pue: s.iter().map(|x| x.pue.as_f64()).collect(),
            used: vec![0; s.len()],
            up: vec![true; s.len()],
        };
        let services = scenario
            .services
            .iter()
            .map(|svc| {
                let sla = svc.sla.map_or_else(SlaBounds::default, |id| {
                    let x = &scenario.slas[id.index()];
                    SlaBounds {
                        max_latency: x.max_latency,
                        min_bandwidth: x.min_bandwidth,
                        max_loss: x.max_loss,
                        priority: x.priority,
                        slice: x.slice,
                    }
                });
                ServiceInfo {
                    demand: svc.demand,
                    processing: svc.processing,
                    sites: svc.sites.clone(),
                    sla,
                }
            })
            .collect();
        let shortlist =
            shortlist::Shortlist::new(scenario.routers.len(), &sites.router, &sites.price);
        Engine {
            shortlist,
            graph: Graph::from_scenario(scenario),
            sites,
            services,
            slice_free: Default::default(),
            search: ShortestPaths::new(),
            unconstrained: ShortestPaths::new(),
            mcp: MultiConstraint::new(),
            marks: Vec::new(),
            epoch: 0,
            exact_explanations: true,
            horizon: u64::MAX,
        }
    }

    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// The graph, for link state updates (telemetry, reservations, failures).
    pub fn graph_mut(&mut self) -> &mut Graph {
        &mut self.graph
    }

    /// The compute in use at a site (in the precision of its capacity).
    pub fn set_site_used(&mut self, site: SiteId, used: u128) {
        self.sites.used[site.index()] = used;
    }

    pub fn site_used(&self, site: SiteId) -> u128 {
        self.sites.used[site.index()]
    }

    /// With `false`, a decision's search may stop at the latency budget: the same choice,
    /// found faster, with rejected far sites reported as beyond the budget by a lower bound
    /// instead of their exact latency.
    pub fn set_exact_explanations(&mut self, exact: bool) {
        self.exact_explanations = exact;
    }

    pub fn set_site_up(&mut self, site: SiteId, up: bool) {
        self.sites.up[site.index()] = up;
        self.forget_site(site);
    }

    /// Whether a site works (an unknown site does not).
    pub fn site_is_up(&self, site: SiteId) -> bool {
        self.sites.up.get(site.index()).copied().unwrap_or(false)
    }

    /// The free bandwidth of a slice on every link (indexed by link), as the scheduler keeps it.
    pub fn set_slice_free(&mut self, slice: SliceId, free_per_link: Vec<u64>) {
        self.slice_free.insert(slice, free_per_link);
    }

    /// The sites that serve a service.
    pub fn service_sites(&self, service: ServiceId) -> Option<&[SiteId]> {
        self.services
            .get(service.index())
            .map(|s| s.sites.as_slice())
    }

    /// Decides one request: the best eligible (site, path), and a verdict for every candidate.
    pub fn decide(&mut self, request: &Request) -> Result<Decision, RequestError> {
        self.decide_among(request, None)
    }

    /// Like [`Engine::decide`], with the candidates limited to `only` when given (those of
    /// the request's own candidates that are in it): the scheduler keeps a reservation on its
    /// site this way when a link of its path fails, before it looks elsewhere.
    pub fn decide_among(
        &mut self,
        request: &Request,
        only: Option<&[SiteId]>,
    ) -> Result<Decision, RequestError> {
        let ingress = request.ingress.0;
        if ingress as usize >= self.graph.node_count() {
            return Err(RequestError::UnknownIngress(ingress));
        }
        let (demand, processing, mut candidates, sla) = self.resolve(request)?;
        if let Some(only) = only {
            candidates.retain(|s| only.contains(s));
        }
        if demand.per_second == 0 {
            return Err(RequestError::ZeroDemand);
        }
        let need_bps = sla.min_bandwidth.0;
        let slice_free = sla.slice.and_then(|s| self.slice_free.get(&s));
        let g = &self.graph;
        // One constrained search serves every candidate: the bandwidth pruning is the same for
        // all of them, and latency is what the path part of the SLA bounds.
        // The search stops once every candidate's router is settled: nodes further out
        // cannot change any candidate's path.
        self.epoch = self.epoch.wrapping_add(1).max(1);
        if self.marks.len() != g.node_count() {
            self.marks = vec![0; g.node_count()];
        }
        let mut remaining = 0usize;
        for site in &candidates {
            let node = self.sites.router[site.index()] as usize;
            if self.marks[node] != self.epoch {
                self.marks[node] = self.epoch;
                remaining += 1;
            }
        }
        let (marks, epoch) = (&self.marks, self.epoch);
        // Without exact explanations the search also stops past the latency budget: a site
        // whose round trip alone exceeds it cannot be chosen, and its exact distance would
        // only serve the explanation.
        let horizon = match sla.max_latency {
            Some(budget) if !self.exact_explanations => {
                budget
                    .as_micros_rounded()
                    .saturating_sub(Nanos(processing.0).as_micros_rounded())
                    / 2
            }
            _ => u64::MAX,
        };
        self.horizon = horizon;
        let mut settled = |v: u32, d: u64| {
            if d > horizon {
                return true;
            }
            if marks[v as usize] == epoch {
                remaining -= 1;
            }
            remaining == 0
        };
        if need_bps == 0 {
            // Nothing to prune: the filter compiles away.
            self.search
                .run_until(g, ingress, Metric::Latency, |_| true, &mut settled);
        } else {
            self.search.run_until(
                g,
                ingress,
                Metric::Latency,
                |arc| bandwidth_ok(g, slice_free, need_bps, arc),
                &mut settled,
            );
        }
        let mut unconstrained_done = false;
        let mut out = Vec::with_capacity(candidates.len());
        for site in candidates {
            let candidate = self.judge(
                site,
                demand,
                processing,
                &sla,
                &mut unconstrained_done,
                ingress,
            );
            out.push(candidate);
        }
        let chosen = choose(&mut out, request.objective);
        if let Some(c) = chosen.map(|i| &mut out[i])
            && c.path.is_none()
        {
            c.path = self.path_to_site(c.site);
            c.path_stats = c.path.as_ref().map(|p| p.stats(&self.graph));
        }
        Ok(Decision {
            chosen,
            candidates: out,
        })
    }

    /// The path the last decision found to a site's router (the constrained search of that
    /// decision), for callers that need the path of a site other than the chosen one.
    pub fn path_to_site(&self, site: SiteId) -> Option<Path> {
        let node = *self.sites.router.get(site.index())?;
        self.search.path_to(&self.graph, node)
    }

    /// The least-latency path from `ingress` to `node` with loss at most `max_loss` and
    /// one-way latency at most `max_latency_us`, over links with the SLA's bandwidth free.
    fn loss_bounded_path(
        &mut self,
        ingress: u32,
        node: u32,
        sla: &SlaBounds,
        max_latency_us: Option<u64>,
        max_loss: f64,
    ) -> Option<CostedPath> {
        let g = &self.graph;
        let need = sla.min_bandwidth.0;
        let slice_free = sla.slice.and_then(|s| self.slice_free.get(&s));
        let filter = |arc: ArcId| bandwidth_ok(g, slice_free, need, arc);
        let constraints = Constraints {
            min_bandwidth_bps: 0,
            max_latency_us,
            max_loss: Some(max_loss),
            arc_filter: Some(&filter),
        };
        match self.mcp.solve(
            g,
            ingress,
            node,
            Cost::Metric(Metric::Latency),
            &constraints,
            MCP_LABEL_BUDGET,
        ) {
            Ok(Solution::Optimal(p)) => Some(p),
            Ok(Solution::WithinGap(l)) if l.meets_loss => Some(l.best),
            _ => None,
        }
    }

    fn resolve(
        &self,
        request: &Request,
    ) -> Result<(Flops, Nanos, Vec<SiteId>, SlaBounds), RequestError> {
        match &request.demand {
            Demand::Service(id) => {
                let svc = self
                    .services
                    .get(id.index())
                    .ok_or(RequestError::UnknownService(id.0))?;
                let r = &request.sla;
                let s = &svc.sla;
                let sla = SlaBounds {
                    max_latency: r.max_latency.or(s.max_latency),
                    min_bandwidth: if r.min_bandwidth.0 > 0 {
                        r.min_bandwidth
                    } else {
                        s.min_bandwidth
                    },
                    max_loss: r.max_loss.or(s.max_loss),
                    priority: r.priority.max(s.priority),
                    slice: r.slice.or(s.slice),
                };
                Ok((svc.demand, svc.processing, svc.sites.clone(), sla))
            }
            Demand::Raw { demand, processing } => {
                let all = (0..self.sites.router.len())
                    .filter_map(|i| u32::try_from(i).ok().map(SiteId))
                    .collect();
                Ok((*demand, *processing, all, request.sla.clone()))
            }
        }
    }

    fn judge(
        &mut self,
        site: SiteId,
        demand: Flops,
        processing: Nanos,
        sla: &SlaBounds,
        unconstrained_done: &mut bool,
        ingress: u32,
    ) -> Candidate {
        let i = site.index();
        let mut c = Candidate {
            site,
            rejected: None,
            latency: None,
            cost: None,
            carbon_g: None,
            load: None,
            score: None,
            path: None,
            path_stats: None,
        };
        let used = self.sites.used[i];
        let reject = |mut c: Candidate, r: Reason| {
            c.rejected = Some(r);
            c
        };
        let wait_ns = match self.admit(i, used, demand, processing) {
            Ok(wait_ns) => wait_ns,
            Err(reason) => return reject(c, reason),
        };
        let node = self.sites.router[i];
        let within = self.search.distance(node).filter(|&d| d <= self.horizon);
        if within.is_none() && self.horizon != u64::MAX {
            // Beyond the horizon of a bounded search: over budget, by at least this much.
            let budget_us = sla.max_latency.map_or(0, |b| b.as_micros_rounded());
            let min_rtt_us = 2 * (self.horizon + 1);
            return reject(
                c,
                Reason::BeyondLatencyBudget {
                    budget_us,
                    min_network_rtt_us: min_rtt_us,
                },
            );
        }
        let Some(one_way_us) = within else {
            if !*unconstrained_done {
                let g = &self.graph;
                self.unconstrained
                    .run(g, ingress, None, Metric::Latency, |_| true);
                *unconstrained_done = true;
            }
            let reason = match self.unconstrained.path_to(&self.graph, node) {
                Some(p) => Reason::NoBandwidth {
                    needed: sla.min_bandwidth,
                    best_bottleneck: Bandwidth(p.stats(&self.graph).bottleneck_bps),
                },
                None => Reason::Unreachable,
            };
            return reject(c, reason);
        };
        let latency = breakdown(one_way_us, processing, wait_ns);
        c.latency = Some(latency);
        if let Some(budget) = sla.max_latency {
            let budget_us = budget.as_micros_rounded();
            if latency.total > budget_us {
                return reject(
                    c,
                    Reason::OverLatencyBudget {
                        latency,
                        budget_us,
                        over_by_us: latency.total - budget_us,
                    },
                );
            }
        }
        // Paths are built only where they are needed: for a loss bound here, and for the
        // chosen site once the decision is made, so that judging thousands of candidates
        // allocates nothing.
        if let Some(bound) = sla.max_loss {
            let bound = bound.as_fraction();
            let path = self.search.path_to(&self.graph, node);
            let stats = path.as_ref().map(|p| p.stats(&self.graph));
            c.path = path;
            c.path_stats = stats;
            if let Some(fastest) = stats
                && fastest.loss > bound
            {
                // The fastest path loses too much; a slower one may not. Look for the
                // least-latency path within both the loss bound and what is left of the
                // latency budget (multi-constraint search, exact with LARAC as fallback).
                let one_way_budget = sla.max_latency.map(|b| {
                    b.as_micros_rounded()
                        .saturating_sub(latency.processing + latency.queueing)
                        / 2
                });
                match self.loss_bounded_path(ingress, node, sla, one_way_budget, bound) {
                    Some(p) => {
                        let rtt = 2 * p.latency_us;
                        c.latency = Some(LatencyBreakdown {
                            network_rtt: rtt,
                            total: rtt + latency.processing + latency.queueing,
                            ..latency
                        });
                        c.path_stats = Some(p.path.stats(&self.graph));
                        c.path = Some(p.path);
                    }
                    None => {
                        return reject(
                            c,
                            Reason::LossTooHigh {
                                loss: fastest.loss,
                                bound,
                            },
                        );
                    }
                }
            }
        }
        (c.cost, c.carbon_g, c.load) =
            self.economics(i, used, demand, compute_hours(demand, processing));
        c
    }

    /// Whether site `i`, with `used` of its compute in use, can take `demand`: up, in the
    /// demand's precision, with room, not saturated. The queueing wait there (ns) if so.
    /// Shared by the full decision and the shortlist, so that both judge a site alike.
    fn admit(&self, i: usize, used: u128, demand: Flops, processing: Nanos) -> Result<u64, Reason> {
        let capacity = self.sites.capacity[i];
        if !self.sites.up[i] {
            return Err(Reason::SiteDown);
        }
        if capacity.precision != demand.precision {
            return Err(Reason::OtherPrecision {
                demand: demand.precision,
                site: capacity.precision,
            });
        }
        let free = capacity.per_second.saturating_sub(used);
        if free < demand.per_second {
            return Err(Reason::NoCapacity {
                needed: demand,
                free: Flops {
                    precision: capacity.precision,
                    per_second: free,
                },
            });
        }
        let rho = if used == 0 {
            0.0
        } else {
            as_f64(used) / self.sites.capacity_f64[i]
        };
        mean_wait_ns(capacity.per_second, demand.per_second, processing.0, rho)
            .ok_or(Reason::Saturated { utilisation: rho })
    }

    /// Cost, carbon and load (once placed) of `demand` (that many `compute_hours`) at site
    /// `i` with `used` in use.
    fn economics(
        &self,
        i: usize,
        used: u128,
        demand: Flops,
        compute_hours: f64,
    ) -> (Option<f64>, Option<f64>, Option<f64>) {
        let (cost, carbon) = cost_of(
            compute_hours,
            self.sites.price[i],
            self.sites.carbon[i],
            self.sites.pue[i],
        );
        let load = as_f64(used.saturating_add(demand.per_second)) / self.sites.capacity_f64[i];
        (cost, carbon, Some(load))
    }
}

/// The end-to-end latency of a site `one_way_us` away that processes for `processing` after
/// waiting `wait_ns`, µs.
fn breakdown(one_way_us: u64, processing: Nanos, wait_ns: u64) -> LatencyBreakdown {
    let latency = LatencyBreakdown {
        network_rtt: 2 * one_way_us,
        processing: Nanos(processing.0).as_micros_rounded(),
        queueing: Nanos(wait_ns).as_micros_rounded(),
        total: 0,
    };
    LatencyBreakdown {
        total: latency.network_rtt + latency.processing + latency.queueing,
        ..latency
    }
}

/// Whether an arc's link has `need` bits/s free: within the slice's share when the slice has
/// a table from the scheduler, else of the link's unreserved bandwidth.
#[inline]
fn bandwidth_ok(g: &Graph, slice_free: Option<&Vec<u64>>, need: u64, arc: ArcId) -> bool {
    let link = g.link(arc);
    let free = slice_free.map_or(g.available(link).0, |f| {
        f.get(link.index()).copied().unwrap_or(0)
    });
    free >= need
}

/// Labels the exact multi-constraint search may create before it hands over to LARAC: enough
/// for national backbones, small enough to bound a decision's time.
const MCP_LABEL_BUDGET: usize = 20_000;

/// What an eligible candidate brings to the objective: latency (µs), cost, carbon, load.
/// An unknown price or carbon figure ranks last on that term rather than first.
fn terms(c: &Candidate) -> [f64; 4] {
    [
        c.latency.map_or(f64::INFINITY, |l| l.total as f64),
        c.cost.unwrap_or(f64::INFINITY),
        c.carbon_g.unwrap_or(f64::INFINITY),
        c.load.unwrap_or(f64::INFINITY),
    ]
}

/// Scores candidates for an objective. The blend needs each term's range over the eligible
/// sites: gather them with [`Scorer::widen`] over every eligible candidate first.
#[derive(Debug, Clone, Copy)]
struct Scorer {
    objective: Objective,
    ranges: [(f64, f64); 4],
}

impl Scorer {
    fn new(objective: Objective) -> Scorer {
        Scorer {
            objective,
            ranges: [(f64::INFINITY, f64::NEG_INFINITY); 4],
        }
    }

    // Both are written without branches on the values (every arm is computed, one is
    // selected), which lets the compiler do the four terms at once; the results are those of
    // the plain `if`s.
    #[inline]
    fn widen(&mut self, terms: &[f64; 4]) {
        for (range, &v) in self.ranges.iter_mut().zip(terms) {
            let finite = v.is_finite();
            let (lo, hi) = (range.0.min(v), range.1.max(v));
            *range = (
                if finite { lo } else { range.0 },
                if finite { hi } else { range.1 },
            );
        }
    }

    /// The objective's value, lower is better.
    #[inline]
    fn score(&self, t: &[f64; 4]) -> f64 {
        match self.objective {
            Objective::Latency => t[0],
            Objective::Cost => t[1],
            Objective::Carbon => t[2],
            Objective::Load => t[3],
            Objective::Balanced {
                latency,
                cost,
                carbon,
                load,
            } => self.blend([latency, cost, carbon, load], t),
        }
    }

    /// The scores of many candidates at once, into `out`: the objective is looked at once,
    /// and the blend's loop has no branch, so the compiler can do several candidates at a
    /// time. The same arithmetic as [`Scorer::score`], so the same values.
    fn score_all(&self, terms: &[[f64; 4]], out: &mut Vec<f64>) {
        out.clear();
        match self.objective {
            Objective::Balanced {
                latency,
                cost,
                carbon,
                load,
            } => {
                let weights = [latency, cost, carbon, load];
                out.extend(terms.iter().map(|t| self.blend(weights, t)));
            }
            _ => out.extend(terms.iter().map(|t| self.score(t))),
        }
    }

    #[inline]
    fn blend(&self, [wl, wc, wg, wb]: [f64; 4], t: &[f64; 4]) -> f64 {
        let scaled = |k: usize| {
            let (lo, hi) = self.ranges[k];
            let v = t[k];
            let within = (v - lo) / (hi - lo);
            let spread = if hi > lo { within } else { 0.0 };
            if v.is_finite() { spread } else { 1.0 }
        };
        wl * scaled(0) + wc * scaled(1) + wg * scaled(2) + wb * scaled(3)
    }
}

/// The order among eligible candidates: score, then total latency, then site id. A total
/// order (sites differ), so the best is the same whatever order candidates come in.
#[inline]
fn rank(a: (f64, f64, SiteId), b: (f64, f64, SiteId)) -> std::cmp::Ordering {
    a.0.total_cmp(&b.0)
        .then(a.1.total_cmp(&b.1))
        .then(a.2.cmp(&b.2))
}

/// Scores the eligible candidates and returns the index of the best.
fn choose(candidates: &mut [Candidate], objective: Objective) -> Option<usize> {
    let eligible: Vec<usize> = (0..candidates.len())
        .filter(|&i| candidates[i].rejected.is_none())
        .collect();
    let mut scorer = Scorer::new(objective);
    for &j in &eligible {
        scorer.widen(&terms(&candidates[j]));
    }
    for &i in &eligible {
        let score = scorer.score(&terms(&candidates[i]));
        candidates[i].score = Some(score);
    }
    let key = |c: &Candidate| (c.score.unwrap_or(f64::INFINITY), terms(c)[0], c.site);
    eligible
        .into_iter()
        .min_by(|&a, &b| rank(key(&candidates[a]), key(&candidates[b])))
}
