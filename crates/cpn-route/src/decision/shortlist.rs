//! The shortlist decision: the same choice as [`Engine::decide_among`] without a verdict for
//! every candidate, for callers that place thousands of requests a second (the digital twin
//! at national scale) and only book the choice.
//!
//! The full decision pays, per request, a shortest-path search from the ingress and a
//! verdict for every candidate site, with every site's load set beforehand. The shortlist
//! avoids all three:
//! - Searches are kept per ingress while the graph's weights are the same (its version) and
//!   no link lacks the request's bandwidth: then the bandwidth filter removes no arc and the
//!   constrained search is the plain one, whose settled nodes carry the same distances and
//!   predecessors as the full decision's early-stopped search (labels are final once settled).
//! - Loads are asked for, through a callback, only for the sites judged.
//! - A site whose round trip plus processing alone exceeds the latency budget is rejected
//!   without asking its load. A raw demand by cost takes the sites in order of price and stops
//!   once a price exceeds the best eligible site's cost; its nearest eligible site (for the
//!   savings) is found by taking routers in order of distance until twice the distance plus
//!   processing exceeds the best total latency.
//!
//! Every eligible site it does judge is judged by the same code as the full decision, and the
//! best is taken by the same order (score, latency, site), a total order, so the choice is the
//! same. What it returns is a [`Decision`] holding only the choice and the nearest eligible
//! site (when another), with no path statistics: the other candidates' verdicts are what it
//! saves. When a request is outside what it handles, or nothing is eligible (a refusal must
//! explain every candidate), it returns `None` and the caller runs the full decision.

use std::collections::VecDeque;
use std::sync::Arc;

mod service;
mod tree;

use tree::Tree;

use cpn_model::SiteId;
use cpn_units::{Bandwidth, Flops, Nanos};

use super::{
    Candidate, Decision, Demand, Engine, LatencyBreakdown, Objective, Request, Scorer, breakdown,
    rank,
};
use crate::path::Path;

/// A distance that does not fit a kept search's labels.
const UNREACHED: u32 = u32::MAX;

/// What the shortlist keeps between decisions.
#[derive(Debug, Clone, Default)]
pub(super) struct Shortlist {
    /// The graph version the kept searches were made on.
    version: u64,
    trees: Vec<Option<Arc<Tree>>>,
    /// Ingresses in the order their searches were kept, for eviction.
    kept: VecDeque<u32>,
    labels: usize,
    /// Sites by router, CSR: the sites of router `r` are `by_router[router_start[r]..router_start[r + 1]]`.
    router_start: Vec<u32>,
    by_router: Vec<SiteId>,
    /// Sites by price per compute-hour, cheapest first (unknown prices last), and where each
    /// price starts in it.
    by_price: Vec<SiteId>,
    price_start: Vec<u32>,
    /// The eligible sites of the decision being made, reused.
    eligible: Vec<Judged>,
    /// Per service: what each of its sites' loads made of its demand.
    loads: service::KeptLoads,
    /// The eligible sites of a service's pass, their objective's terms and their scores,
    /// reused.
    passed: (Vec<service::Passed>, Vec<[f64; 4]>, Vec<f64>),
}

/// What a load makes of a demand at a site; see `Engine::at_site`.
#[derive(Debug, Clone, Copy)]
struct AtSite {
    wait_ns: u64,
    cost: Option<f64>,
    carbon_g: Option<f64>,
    load: Option<f64>,
}

/// An eligible site and what the objective reads of it.
#[derive(Debug, Clone, Copy)]
struct Judged {
    site: SiteId,
    latency: LatencyBreakdown,
    cost: Option<f64>,
    carbon_g: Option<f64>,
    load: Option<f64>,
}

impl Judged {
    fn terms(&self) -> [f64; 4] {
        [
            self.latency.total as f64,
            self.cost.unwrap_or(f64::INFINITY),
            self.carbon_g.unwrap_or(f64::INFINITY),
            self.load.unwrap_or(f64::INFINITY),
        ]
    }

    /// The nearest-site order: total latency, then site id.
    fn nearer(&self, other: &Judged) -> bool {
        (self.latency.total, self.site) < (other.latency.total, other.site)
    }

    fn candidate(&self, score: f64, path: Option<Path>) -> Candidate {
        Candidate {
            site: self.site,
            rejected: None,
            latency: Some(self.latency),
            cost: self.cost,
            carbon_g: self.carbon_g,
            load: self.load,
            score: Some(score),
            path,
            path_stats: None,
        }
    }
}

/// The request as the shortlist reads it.
#[derive(Debug, Clone, Copy)]
struct Ask {
    demand: Flops,
    processing: Nanos,
    processing_us: u64,
    compute_hours: f64,
    budget_us: Option<u64>,
    max_loss: Option<f64>,
}

/// A site the shortlist cannot judge alone: its fastest path loses too much, and only the
/// full decision's multi-constraint search can tell whether a slower one would do.
#[derive(Debug)]
struct Undecided;

impl Shortlist {
    pub(super) fn new(routers: usize, site_router: &[u32], price: &[Option<u64>]) -> Shortlist {
        let mut router_start = vec![0u32; routers + 1];
        for &r in site_router {
            if let Some(n) = router_start.get_mut(r as usize + 1) {
                *n += 1;
            }
        }
        for r in 0..routers {
            router_start[r + 1] += router_start[r];
        }
        let mut next = router_start.clone();
        let mut by_router = vec![SiteId(0); router_start[routers] as usize];
        for (i, &r) in site_router.iter().enumerate() {
            if let Some(slot) = next.get_mut(r as usize) {
                by_router[*slot as usize] = SiteId(i as u32);
                *slot += 1;
            }
        }
        let mut by_price: Vec<SiteId> = (0..price.len() as u32).map(SiteId).collect();
        // Unknown prices last: `None` sorts first, so sort on (is unknown, price).
        by_price.sort_by_key(|s| (price[s.index()].is_none(), price[s.index()], *s));
        let mut price_start = Vec::new();
        for (k, s) in by_price.iter().enumerate() {
            if k == 0 || price[s.index()] != price[by_price[k - 1].index()] {
                price_start.push(k as u32);
            }
        }
        price_start.push(by_price.len() as u32);
        Shortlist {
            router_start,
            by_router,
            by_price,
            price_start,
            ..Shortlist::default()
        }
    }

    fn sites_at(&self, node: u32) -> &[SiteId] {
        let (lo, hi) = (
            self.router_start[node as usize],
            self.router_start[node as usize + 1],
        );
        &self.by_router[lo as usize..hi as usize]
    }
}

/// What is in use over a request's window, as the caller keeps it: the shortlist reads this
/// instead of the engine's own link and site state, and only for what it judges.
pub trait Occupancy {
    /// A lower bound of the bandwidth free on every link over the window. `need` is what the
    /// request needs: a bound of at least that is enough, and a caller may work harder to
    /// tell whether it is reached.
    fn least_free(&mut self, need: Bandwidth) -> Bandwidth;

    /// A site's compute in use over the window (its busiest second), as
    /// [`Engine::set_site_used`] would be told it, and the window starts it holds for.
    fn used(&mut self, site: SiteId) -> Load;

    /// Reports every site whose calendar changed since the last call (every site at most
    /// once; the first call may report none, the engine assumes it knows nothing yet), with
    /// the end of the times the changes touched (`u64::MAX` for any). Until a site is
    /// reported, what [`Occupancy::used`] said of it holds for every window that starts
    /// within the span it gave; once reported, still for the windows that start at or after
    /// that end. An engine must always be asked with the same occupancy (the scheduler owns
    /// both).
    fn changed(&mut self, report: impl FnMut(SiteId, u64));

    /// Where the window starts.
    fn start(&self) -> u64;
}

/// A site's compute in use over a window, and the starts `[from, until)` of the windows (of
/// any end) that find the same while the site's calendar stays as it is; an empty span when
/// only this window is known to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Load {
    pub used: u128,
    pub from: u64,
    pub until: u64,
}

impl Engine {
    /// The bytes the shortlist keeps between decisions (its searches per ingress, what it
    /// keeps of each service's sites, its site indexes), as laid out on the heap.
    pub fn shortlist_bytes(&self) -> usize {
        let s = &self.shortlist;
        let trees: usize = s.trees.iter().flatten().map(|t| t.heap_bytes()).sum();
        trees
            + s.trees.capacity() * 8
            + s.loads.heap_bytes()
            + (s.router_start.capacity() + s.price_start.capacity()) * 4
            + (s.by_router.capacity() + s.by_price.capacity()) * 4
    }

    /// Decides a request like [`Engine::decide`], judging only the sites that may win; see
    /// the module documentation of `shortlist`. Loads and free bandwidth come from
    /// `occupancy`, not from the engine's own state.
    ///
    /// `None` when the shortlist does not apply (a loss bound, a slice with its own bandwidth
    /// table, a link short of the bandwidth, a bounded search, an invalid request) or no site
    /// is eligible: the caller then decides in full.
    pub fn decide_shortlist(
        &mut self,
        request: &Request,
        occupancy: &mut impl Occupancy,
    ) -> Option<Decision> {
        let ingress = request.ingress.0;
        if ingress as usize >= self.graph.node_count() || !self.exact_explanations {
            return None;
        }
        let (demand, processing, sla, service) = match &request.demand {
            Demand::Service(id) => {
                let svc = self.services.get(id.index())?;
                let r = &request.sla;
                let s = &svc.sla;
                // As `resolve` merges them.
                let min_bandwidth = if r.min_bandwidth.0 > 0 {
                    r.min_bandwidth
                } else {
                    s.min_bandwidth
                };
                let sla = (
                    r.max_latency.or(s.max_latency),
                    min_bandwidth,
                    r.max_loss.or(s.max_loss),
                    r.slice.or(s.slice),
                );
                (svc.demand, svc.processing, sla, Some(id.index()))
            }
            Demand::Raw { demand, processing } => {
                let r = &request.sla;
                let sla = (r.max_latency, r.min_bandwidth, r.max_loss, r.slice);
                (*demand, *processing, sla, None)
            }
        };
        let (max_latency, min_bandwidth, max_loss, slice) = sla;
        if demand.per_second == 0 || slice.is_some_and(|s| self.slice_free.contains_key(&s)) {
            return None;
        }
        // With the bandwidth free on every link the constrained search is the plain one.
        if min_bandwidth.0 > 0 && occupancy.least_free(min_bandwidth).0 < min_bandwidth.0 {
            return None;
        }
        let tree = self.tree(ingress)?;
        let ask = Ask {
            demand,
            processing,
            processing_us: Nanos(processing.0).as_micros_rounded(),
            compute_hours: super::compute_hours(demand, processing),
            budget_us: max_latency.map(|b| b.as_micros_rounded()),
            max_loss: max_loss.map(|b| b.as_fraction()),
        };
        if let Some(svc) = service {
            let picked = self.best_of_service(&tree, svc, &ask, request.objective, occupancy);
            return self.shortlisted(&tree, ingress, picked);
        }
        let mut eligible = std::mem::take(&mut self.shortlist.eligible);
        eligible.clear();
        let used = &mut |site| occupancy.used(site).used;
        let picked = match request.objective {
            Objective::Cost => self.cheapest(&tree, &ask, used),
            Objective::Latency => self.nearest(&tree, &ask, used).map(|n| {
                n.map(|n| {
                    let score = n.terms()[0];
                    (n, score, n, score)
                })
            }),
            objective => {
                let mut judged = Ok(());
                for site in (0..self.sites.router.len() as u32).map(SiteId) {
                    match self.judge_quickly(&tree, site, &ask, used) {
                        Ok(Some(j)) => eligible.push(j),
                        Ok(None) => {}
                        Err(e) => {
                            judged = Err(e);
                            break;
                        }
                    }
                }
                judged.map(|()| best_of(&eligible, objective))
            }
        };
        self.shortlist.eligible = eligible;
        self.shortlisted(&tree, ingress, picked)
    }

    /// The decision of what the shortlist picked: the choice with its path, and the nearest
    /// eligible site when another.
    fn shortlisted(
        &self,
        tree: &Tree,
        ingress: u32,
        picked: Result<Option<(Judged, f64, Judged, f64)>, Undecided>,
    ) -> Option<Decision> {
        let (chosen, score, nearest, nearest_score) = picked.ok()??;
        // Totals beyond 2^53 µs would tie as scores where they differ as integers; the full
        // decision handles such a network.
        if chosen.latency.total >= 1 << 53 {
            return None;
        }
        let path = self.tree_path(tree, ingress, self.sites.router[chosen.site.index()]);
        let mut candidates = Vec::with_capacity(2);
        candidates.push(chosen.candidate(score, path));
        if nearest.site != chosen.site {
            candidates.push(nearest.candidate(nearest_score, None));
        }
        Some(Decision {
            chosen: Some(0),
            candidates,
        })
    }

    /// What a site's load makes of a demand there, whatever the path: the queueing wait and
    /// the objective's terms, or `None` when the site cannot take it. A function of the load
    /// for a given site and demand (the site being up), so a service's is kept per site.
    fn at_site(&self, i: usize, used: u128, ask: &Ask) -> Option<AtSite> {
        let wait_ns = self.admit(i, used, ask.demand, ask.processing).ok()?;
        let (cost, carbon_g, load) = self.economics(i, used, ask.demand, ask.compute_hours);
        Some(AtSite {
            wait_ns,
            cost,
            carbon_g,
            load,
        })
    }

    /// The eligible verdict of one site, by the full decision's rules, or `None` when it is
    /// not eligible. Its load is asked only when the network alone does not already rule it
    /// out.
    fn judge_quickly(
        &self,
        tree: &Tree,
        site: SiteId,
        ask: &Ask,
        used: &mut impl FnMut(SiteId) -> u128,
    ) -> Result<Option<Judged>, Undecided> {
        let i = site.index();
        let Some(&node) = self.sites.router.get(i) else {
            return Ok(None);
        };
        let one_way = tree.dist.get(node as usize).copied().unwrap_or(UNREACHED);
        if one_way == UNREACHED {
            return Ok(None);
        }
        let one_way = u64::from(one_way);
        if let Some(budget) = ask.budget_us
            && 2 * one_way + ask.processing_us > budget
        {
            return Ok(None);
        }
        if !self.sites.up[i] {
            return Ok(None);
        }
        let Some(at) = self.at_site(i, used(site), ask) else {
            return Ok(None);
        };
        let latency = breakdown(one_way, ask.processing, at.wait_ns);
        if ask.budget_us.is_some_and(|b| latency.total > b) {
            return Ok(None);
        }
        if ask.max_loss.is_some_and(|bound| tree.loss(node) > bound) {
            return Err(Undecided);
        }
        Ok(Some(Judged {
            site,
            latency,
            cost: at.cost,
            carbon_g: at.carbon_g,
            load: at.load,
        }))
    }

    /// The eligible site of least total latency (then least id), taking routers nearest
    /// first and stopping once twice the distance plus processing exceeds the best found.
    fn nearest(
        &self,
        tree: &Tree,
        ask: &Ask,
        used: &mut impl FnMut(SiteId) -> u128,
    ) -> Result<Option<Judged>, Undecided> {
        let mut best: Option<Judged> = None;
        for &node in &tree.order {
            let floor = 2 * u64::from(tree.dist[node as usize]) + ask.processing_us;
            if best.is_some_and(|b| floor > b.latency.total)
                || ask.budget_us.is_some_and(|b| floor > b)
            {
                break;
            }
            for &site in self.shortlist.sites_at(node) {
                if let Some(j) = self.judge_quickly(tree, site, ask, used)?
                    && best.is_none_or(|b| j.nearer(&b))
                {
                    best = Some(j);
                }
            }
        }
        Ok(best)
    }

    /// A raw demand by cost: prices cheapest first, stopping once a price costs more than the
    /// best eligible site. With the nearest eligible site, for the savings.
    fn cheapest(
        &self,
        tree: &Tree,
        ask: &Ask,
        used: &mut impl FnMut(SiteId) -> u128,
    ) -> Result<Option<(Judged, f64, Judged, f64)>, Undecided> {
        let s = &self.shortlist;
        let mut best: Option<(Judged, f64)> = None;
        for class in s.price_start.windows(2) {
            let members = &s.by_price[class[0] as usize..class[1] as usize];
            let price = self.sites.price[members[0].index()];
            // A site's cost depends on its price alone, so this is every member's cost.
            let cost = super::run_cost(ask.demand, ask.processing, price, None, 1.0)
                .0
                .unwrap_or(f64::INFINITY);
            if best.is_some_and(|(_, b)| cost > b) {
                break;
            }
            for &site in members {
                if let Some(j) = self.judge_quickly(tree, site, ask, used)? {
                    let score = j.terms()[1];
                    let better = best.is_none_or(|(b, bs)| {
                        rank((score, j.terms()[0], j.site), (bs, b.terms()[0], b.site)).is_lt()
                    });
                    if better {
                        best = Some((j, score));
                    }
                }
            }
        }
        let Some((chosen, score)) = best else {
            return Ok(None);
        };
        Ok(self
            .nearest(tree, ask, used)?
            .map(|nearest| (chosen, score, nearest, nearest.terms()[1])))
    }
}

/// The best of the eligible sites by the full decision's order and the nearest, with their
/// scores.
fn best_of(eligible: &[Judged], objective: Objective) -> Option<(Judged, f64, Judged, f64)> {
    let mut scorer = Scorer::new(objective);
    if matches!(objective, Objective::Balanced { .. }) {
        for j in eligible {
            scorer.widen(&j.terms());
        }
    }
    let mut best: Option<(Judged, f64)> = None;
    let mut nearest: Option<(Judged, f64)> = None;
    for j in eligible {
        let terms = j.terms();
        let score = scorer.score(&terms);
        if best.is_none_or(|(b, bs)| {
            rank((score, terms[0], j.site), (bs, b.terms()[0], b.site)).is_lt()
        }) {
            best = Some((*j, score));
        }
        if nearest.is_none_or(|(n, _)| j.nearer(&n)) {
            nearest = Some((*j, score));
        }
    }
    let (chosen, score) = best?;
    let (nearest, nearest_score) = nearest?;
    Some((chosen, score, nearest, nearest_score))
}
