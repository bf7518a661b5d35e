//! A service's sites, judged without a verdict for every one of them each time.
//!
//! Most of a site's verdict does not depend on the ingress: whether it can take the service's
//! demand at its load, the queueing wait there, its cost, carbon and load once placed. That
//! part is kept per site of the service (a [`Kept`]) with the span of window starts its load
//! holds for, and worked out again only when the window starts outside the span or the site
//! changed (its calendar, as the occupancy reports, or its being up). Every change of a kept
//! part also updates, per service, the sorted multisets of the admitted sites' cost, carbon,
//! load and queueing wait.
//!
//! A request is then judged in one of two ways:
//! - **By bounds**, for the blended objective (weights finite and not negative) when every
//!   admitted site of the service is eligible from this ingress: all of them reached, and the
//!   farthest within the latency budget even at the longest wait. The eligible set is then
//!   the admitted set, so the ranges the blend scales by are known without a pass: cost,
//!   carbon and load from the multisets, latency by walking the sites from either end of
//!   their distance order until no further site can lower the least or raise the most. Sites
//!   are then scored nearest first until the latency term alone of the next site, a lower
//!   bound of its score (the other terms are not negative, and float rounding is monotone),
//!   exceeds the best score, and it is farther than the nearest eligible site found.
//! - **In one pass** otherwise: every site within the budget, nearest first (so the budget ends
//!   the walk), and all their scores at once.
//!
//! Either way the best is taken by the full decision's order (score, latency, site), a total
//! order, from the same numbers, so the choice is the same.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap};

use cpn_model::SiteId;

use super::super::{Engine, LatencyBreakdown, Objective, Scorer, breakdown, rank};
use super::{Ask, Judged, Occupancy, Undecided};
use crate::decision::shortlist::tree::Tree;

/// What a service's demand makes of one of its sites at a load.
#[derive(Debug, Clone, Copy)]
pub(super) struct Kept {
    /// The window starts `[from, until)` it holds for; an empty span when it must be worked
    /// out (again).
    from: u64,
    until: u64,
    /// The queueing wait as the latency counts it, µs.
    queue_us: u64,
    /// Cost, carbon and load as the objective reads them (infinite when unknown).
    terms: [f64; 3],
    /// Whether the site can take the demand at that load.
    admitted: bool,
}

const UNKNOWN: Kept = Kept {
    from: 0,
    until: 0,
    queue_us: 0,
    terms: [f64::INFINITY; 3],
    admitted: false,
};

/// Counts of values, in order.
type Multiset = BTreeMap<u64, u32>;

/// A float as a key whose order is the float's (`total_cmp`).
fn key(v: f64) -> u64 {
    let bits = v.to_bits();
    if bits >> 63 == 1 {
        !bits
    } else {
        bits | 1 << 63
    }
}

fn unkey(k: u64) -> f64 {
    f64::from_bits(if k >> 63 == 1 { k & !(1 << 63) } else { !k })
}

fn put(set: &mut Multiset, k: u64) {
    *set.entry(k).or_insert(0) += 1;
}

fn take(set: &mut Multiset, k: u64) {
    if let Some(n) = set.get_mut(&k) {
        *n -= 1;
        if *n == 0 {
            set.remove(&k);
        }
    }
}

/// What is kept of one service.
#[derive(Debug, Clone, Default)]
pub(super) struct ServiceKept {
    kept: Vec<Kept>,
    /// The load each was worked out for, to rebuild the chosen site's verdict.
    used: Vec<u128>,
    /// The admitted sites' finite cost, carbon and load, and their queueing waits.
    terms: [Multiset; 3],
    queue: Multiset,
    /// Kept parts by the end of their span, soonest first (some superseded since).
    expiring: BinaryHeap<Reverse<(u64, u32)>>,
    /// Sites whose kept part must be worked out (again) before the bounds can be used.
    dirty: Vec<u32>,
    /// The latest start of any span kept: windows starting earlier may find a part stale.
    latest_from: u64,
}

impl ServiceKept {
    fn new(sites: usize) -> ServiceKept {
        ServiceKept {
            kept: vec![UNKNOWN; sites],
            used: vec![0; sites],
            dirty: (0..sites as u32).collect(),
            ..ServiceKept::default()
        }
    }

    /// Replaces the kept part of site `k`, keeping the multisets, the expiry queue and the
    /// dirty list true.
    fn set(&mut self, k: usize, new: Kept) {
        let old = self.kept[k];
        // Only what changed moves in the multisets (a site's cost and carbon seldom do).
        let was = |v: f64| old.admitted && v.is_finite();
        let is = |v: f64| new.admitted && v.is_finite();
        for ((set, &o), &n) in self.terms.iter_mut().zip(&old.terms).zip(&new.terms) {
            if was(o) && is(n) && o.to_bits() == n.to_bits() {
                continue;
            }
            if was(o) {
                take(set, key(o));
            }
            if is(n) {
                put(set, key(n));
            }
        }
        if !(old.admitted && new.admitted && old.queue_us == new.queue_us) {
            if old.admitted {
                take(&mut self.queue, old.queue_us);
            }
            if new.admitted {
                put(&mut self.queue, new.queue_us);
            }
        }
        if new.from < new.until {
            self.expiring.push(Reverse((new.until, k as u32)));
            self.latest_from = self.latest_from.max(new.from);
        } else {
            self.dirty.push(k as u32);
        }
        self.kept[k] = new;
        // A service judged only in passes never drains these: rebuild them when they grow
        // past a few entries per site.
        let sites = self.kept.len();
        if self.expiring.len() > 4 * sites + 64 {
            let kept = &self.kept;
            self.expiring.retain(|&Reverse((until, k))| {
                let part = kept[k as usize];
                part.until == until && part.from < part.until
            });
        }
        if self.dirty.len() > 2 * sites + 64 {
            self.dirty.sort_unstable();
            self.dirty.dedup();
        }
    }

    /// Makes site `k`'s part stale: it must be worked out again before it is read, and goes
    /// on the dirty list. Its numbers stay counted in the multisets until then, so that the
    /// refresh moves only what changed (a site's cost and carbon seldom do), instead of
    /// taking everything out now and putting it back then. Nothing reads the multisets
    /// before every stale part is refreshed (see `bounds_apply`).
    fn forget(&mut self, k: usize) {
        let part = &mut self.kept[k];
        if part.from < part.until {
            (part.from, part.until) = (0, 0);
            self.dirty.push(k as u32);
        }
    }

    /// The range of finite values of one term over the admitted sites, as the scorer keeps
    /// ranges (infinite and negative infinite when there is none).
    fn range(&self, term: usize) -> (f64, f64) {
        let set = &self.terms[term];
        match (set.first_key_value(), set.last_key_value()) {
            (Some((&lo, _)), Some((&hi, _))) => (unkey(lo), unkey(hi)),
            _ => (f64::INFINITY, f64::NEG_INFINITY),
        }
    }
}

/// Per service what is kept, and where each site appears, to forget what changed.
#[derive(Debug, Clone, Default)]
pub(super) struct KeptLoads {
    services: Vec<ServiceKept>,
    /// Per site, its (service, index) pairs.
    places: Vec<Vec<(u32, u32)>>,
}

impl KeptLoads {
    /// What is kept, on the heap, as laid out (a multiset entry counted as its key and count).
    pub(super) fn heap_bytes(&self) -> usize {
        let service = |s: &ServiceKept| {
            s.kept.capacity() * std::mem::size_of::<Kept>()
                + s.used.capacity() * 16
                + (s.terms.iter().map(BTreeMap::len).sum::<usize>() + s.queue.len()) * 12
                + s.expiring.capacity() * 16
                + s.dirty.capacity() * 4
        };
        self.services.iter().map(service).sum::<usize>()
            + self
                .places
                .iter()
                .map(|p| 24 + p.capacity() * 8)
                .sum::<usize>()
    }

    /// Forgets what was kept of a site's load for windows starting before `until` (a part
    /// whose span starts at or after it saw no change).
    fn forget(&mut self, site: SiteId, until: u64) {
        if let Some(places) = self.places.get(site.index()) {
            for &(s, k) in places {
                let service = &mut self.services[s as usize];
                if service.kept[k as usize].from < until {
                    service.forget(k as usize);
                }
            }
        }
    }
}

/// An eligible site of the pass: its index in the service's list and its total latency.
#[derive(Debug, Clone, Copy)]
pub(super) struct Passed {
    k: u32,
    one_way: u32,
    total: u64,
}

/// The best site, its score, the nearest eligible site and its score.
type Best = (Judged, f64, Judged, f64);

impl Engine {
    /// Forgets what was kept of a site (it went down or came back).
    pub(in crate::decision) fn forget_site(&mut self, site: SiteId) {
        self.shortlist.loads.forget(site, u64::MAX);
    }

    /// The best site of service `svc` and its nearest eligible site, with their scores;
    /// `None` when none is eligible.
    pub(super) fn best_of_service(
        &mut self,
        tree: &Tree,
        svc: usize,
        ask: &Ask,
        objective: Objective,
        occupancy: &mut impl Occupancy,
    ) -> Result<Option<Best>, Undecided> {
        let mut loads = std::mem::take(&mut self.shortlist.loads);
        if loads.services.len() != self.services.len() {
            loads.services = self
                .services
                .iter()
                .map(|s| ServiceKept::new(s.sites.len()))
                .collect();
            loads.places = vec![Vec::new(); self.sites.router.len()];
            for (s, service) in self.services.iter().enumerate() {
                for (k, site) in service.sites.iter().enumerate() {
                    if let Some(places) = loads.places.get_mut(site.index()) {
                        places.push((s as u32, k as u32));
                    }
                }
            }
        }
        occupancy.changed(|site, until| loads.forget(site, until));
        let mut buffers = std::mem::take(&mut self.shortlist.passed);
        let service = &mut loads.services[svc];
        let out = match self.bounds_apply(tree, svc, ask, objective, occupancy, service) {
            Some(scorer) => self.by_bounds(tree, svc, ask, scorer, service),
            None => {
                let (passed, terms, scores) = &mut buffers;
                self.pass(
                    tree,
                    svc,
                    ask,
                    objective,
                    occupancy,
                    service,
                    (passed, terms, scores),
                )
            }
        };
        self.shortlist.loads = loads;
        self.shortlist.passed = buffers;
        out
    }

    /// Works out site `k`'s part for the window.
    fn refresh(
        &self,
        svc: usize,
        k: usize,
        ask: &Ask,
        occupancy: &mut impl Occupancy,
        service: &mut ServiceKept,
    ) {
        let site = self.services[svc].sites[k];
        let load = occupancy.used(site);
        service.used[k] = load.used;
        let kept = match self.at_site(site.index(), load.used, ask) {
            Some(a) => Kept {
                from: load.from,
                until: load.until,
                queue_us: breakdown(0, ask.processing, a.wait_ns).queueing,
                terms: [
                    a.cost.unwrap_or(f64::INFINITY),
                    a.carbon_g.unwrap_or(f64::INFINITY),
                    a.load.unwrap_or(f64::INFINITY),
                ],
                admitted: true,
            },
            None => Kept {
                from: load.from,
                until: load.until,
                ..UNKNOWN
            },
        };
        service.set(k, kept);
    }

    /// Brings every kept part of the service up to the window, and returns the scorer with
    /// the ranges of the eligible set when the bounds apply (see the module documentation).
    fn bounds_apply(
        &self,
        tree: &Tree,
        svc: usize,
        ask: &Ask,
        objective: Objective,
        occupancy: &mut impl Occupancy,
        service: &mut ServiceKept,
    ) -> Option<Scorer> {
        let Objective::Balanced {
            latency,
            cost,
            carbon,
            load,
        } = objective
        else {
            return None;
        };
        let weights_fit = [latency, cost, carbon, load]
            .iter()
            .all(|w| w.is_finite() && *w >= 0.0);
        let start = occupancy.start();
        let reach = tree.service_reach(svc);
        if !weights_fit
            || !(tree.lossless() || ask.max_loss.is_none())
            || reach.reached != self.services[svc].sites.len()
            || start < service.latest_from
        {
            return None;
        }
        // Every part up to the window: the expired, then the unknown.
        while let Some(&Reverse((until, k))) = service.expiring.peek() {
            if until > start {
                break;
            }
            service.expiring.pop();
            let kept = service.kept[k as usize];
            if kept.until == until && kept.from < kept.until {
                self.refresh(svc, k as usize, ask, occupancy, service);
            }
        }
        // A part worked out now that holds for this window only goes back on the dirty list
        // (for the next window), so the list is taken first and walked once.
        for k in std::mem::take(&mut service.dirty) {
            let kept = service.kept[k as usize];
            if !(kept.from <= start && start < kept.until) {
                self.refresh(svc, k as usize, ask, occupancy, service);
            }
        }
        let longest_wait = service.queue.last_key_value().map_or(0, |(&q, _)| q);
        let farthest = 2 * u64::from(reach.farthest) + ask.processing_us + longest_wait;
        if ask.budget_us.is_some_and(|b| farthest > b) {
            return None;
        }
        // The latency range over the admitted sites: from either end of the distance order,
        // until no further site can change it.
        let list = tree.service_order(svc);
        let admitted = |k: u32| service.kept[k as usize].admitted;
        let total = |d: u32, k: u32| {
            2 * u64::from(d) + ask.processing_us + service.kept[k as usize].queue_us
        };
        let mut least: Option<u64> = None;
        for &(d, k) in list {
            if least.is_some_and(|l| 2 * u64::from(d) + ask.processing_us > l) {
                break;
            }
            if admitted(k) {
                least = Some(least.map_or(total(d, k), |l| l.min(total(d, k))));
            }
        }
        let mut most: Option<u64> = None;
        for &(d, k) in list.iter().rev() {
            if most.is_some_and(|m| 2 * u64::from(d) + ask.processing_us + longest_wait < m) {
                break;
            }
            if admitted(k) {
                most = Some(most.map_or(total(d, k), |m| m.max(total(d, k))));
            }
        }
        let (least, most) = (least?, most?);
        let mut scorer = Scorer::new(objective);
        scorer.ranges = [
            (least as f64, most as f64),
            service.range(0),
            service.range(1),
            service.range(2),
        ];
        Some(scorer)
    }

    /// Scores the admitted sites nearest first until no further site can be the best or the
    /// nearest.
    fn by_bounds(
        &self,
        tree: &Tree,
        svc: usize,
        ask: &Ask,
        scorer: Scorer,
        service: &ServiceKept,
    ) -> Result<Option<Best>, Undecided> {
        let sites = &self.services[svc].sites;
        let Objective::Balanced { latency: wl, .. } = scorer.objective else {
            return Ok(None);
        };
        let (lo, hi) = scorer.ranges[0];
        let mut best: Option<(u32, u32, f64, f64)> = None;
        let mut nearest: Option<(u32, u32, u64, f64)> = None;
        for &(d, k) in tree.service_order(svc) {
            let floor = 2 * u64::from(d) + ask.processing_us;
            // The latency term of a site this far, with no wait: no further site scores less.
            let v = floor as f64;
            let lower = wl * if hi > lo { (v - lo) / (hi - lo) } else { 0.0 };
            if best.is_some_and(|(_, _, s, _)| lower > s)
                && nearest.is_some_and(|(_, _, t, _)| floor > t)
            {
                break;
            }
            let kept = &service.kept[k as usize];
            if !kept.admitted {
                continue;
            }
            let total = floor + kept.queue_us;
            let [cost, carbon, load] = kept.terms;
            let latency = total as f64;
            let score = scorer.score(&[latency, cost, carbon, load]);
            let site = sites[k as usize];
            if best.is_none_or(|(bk, _, bs, bl)| {
                rank((score, latency, site), (bs, bl, sites[bk as usize])).is_lt()
            }) {
                best = Some((k, d, score, latency));
            }
            if nearest.is_none_or(|(nk, _, nt, _)| (total, site) < (nt, sites[nk as usize])) {
                nearest = Some((k, d, total, score));
            }
        }
        let (Some((bk, bd, bs, _)), Some((nk, nd, _, ns))) = (best, nearest) else {
            return Ok(None);
        };
        let judged = |k: u32, d: u32| self.judged(sites[k as usize], d, service, k as usize, ask);
        Ok(judged(bk, bd)
            .zip(judged(nk, nd))
            .map(|(b, n)| (b, bs, n, ns)))
    }

    /// Judges every site of the service within the budget, nearest first, then scores them
    /// all at once.
    #[allow(clippy::too_many_arguments)]
    fn pass(
        &self,
        tree: &Tree,
        svc: usize,
        ask: &Ask,
        objective: Objective,
        occupancy: &mut impl Occupancy,
        service: &mut ServiceKept,
        (passed, terms, scores): (&mut Vec<Passed>, &mut Vec<[f64; 4]>, &mut Vec<f64>),
    ) -> Result<Option<Best>, Undecided> {
        let sites = &self.services[svc].sites;
        passed.clear();
        terms.clear();
        let start = occupancy.start();
        let mut scorer = Scorer::new(objective);
        for &(one_way, k) in tree.service_order(svc) {
            let d = u64::from(one_way);
            if ask.budget_us.is_some_and(|b| 2 * d + ask.processing_us > b) {
                // Nearest first: every site further on is over the budget too.
                break;
            }
            let k = k as usize;
            if start < service.kept[k].from || start >= service.kept[k].until {
                self.refresh(svc, k, ask, occupancy, service);
            }
            let at = &service.kept[k];
            if !at.admitted {
                continue;
            }
            let total = 2 * d + ask.processing_us + at.queue_us;
            if ask.budget_us.is_some_and(|b| total > b) {
                continue;
            }
            if let Some(bound) = ask.max_loss
                && !tree.lossless()
                && tree.loss(self.sites.router[sites[k].index()]) > bound
            {
                return Err(Undecided);
            }
            let [cost, carbon, load] = at.terms;
            let t = [total as f64, cost, carbon, load];
            scorer.widen(&t);
            terms.push(t);
            passed.push(Passed {
                k: k as u32,
                one_way,
                total,
            });
        }
        // Every score at once (the ranges are known only now), then the best by the full
        // decision's order, and the nearest.
        scorer.score_all(terms, scores);
        let mut best: Option<(usize, f64)> = None;
        let mut nearest: Option<usize> = None;
        for (i, (p, &score)) in passed.iter().zip(scores.iter()).enumerate() {
            let site = sites[p.k as usize];
            let latency = terms[i][0];
            if best.is_none_or(|(b, bs)| {
                rank(
                    (score, latency, site),
                    (bs, terms[b][0], sites[passed[b].k as usize]),
                )
                .is_lt()
            }) {
                best = Some((i, score));
            }
            if nearest
                .is_none_or(|n| (p.total, site) < (passed[n].total, sites[passed[n].k as usize]))
            {
                nearest = Some(i);
            }
        }
        let (Some((b, bs)), Some(n)) = (best, nearest) else {
            return Ok(None);
        };
        let (b, n, ns) = (passed[b], passed[n], scores[n]);
        let judged =
            |p: Passed| self.judged(sites[p.k as usize], p.one_way, service, p.k as usize, ask);
        Ok(judged(b).zip(judged(n)).map(|(b, n)| (b, bs, n, ns)))
    }

    /// The verdict of an admitted site `k` of the service, from its distance and its kept
    /// part: the wait as the part counted it (the Erlang C of the refresh is not worked out
    /// again), cost, carbon and load as `at_site` makes them of the same load.
    fn judged(
        &self,
        site: SiteId,
        one_way: u32,
        service: &ServiceKept,
        k: usize,
        ask: &Ask,
    ) -> Option<Judged> {
        let kept = &service.kept[k];
        if !kept.admitted {
            return None;
        }
        let i = site.index();
        let (cost, carbon_g, load) =
            self.economics(i, service.used[k], ask.demand, ask.compute_hours);
        let latency = LatencyBreakdown {
            network_rtt: 2 * u64::from(one_way),
            processing: ask.processing_us,
            queueing: kept.queue_us,
            total: 2 * u64::from(one_way) + ask.processing_us + kept.queue_us,
        };
        Some(Judged {
            site,
            latency,
            cost,
            carbon_g,
            load,
        })
    }
}
