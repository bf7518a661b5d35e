//! The fast placement heuristic: greedy by regret, then local improvement.
//!
//! 1. Orders: by regret, by size, and by size with seeded noise (as many starts as fit a
//!    fixed budget of pair visits); the best placement over all starts is kept.
//!    Each request's regret is the value of its best pair minus that of its second best (0
//!    when it has one), over the pairs that fit the empty network. Requests are placed in
//!    order of decreasing regret (ties: more value first, then request index), each at its
//!    best pair that still fits: a request with one good option goes before one that loses
//!    little by moving. A request's size is the share of its best site's capacity plus the
//!    largest share of a link's capacity on that path; small requests go first.
//! 2. Local improvement, until a pass changes nothing: every unplaced request is inserted at
//!    its best fitting pair or, when its site is full, by ejecting one request of that site
//!    that can move to another fitting pair (or, when none can, that is worth less); then
//!    every placed request moves to its best fitting pair. Every committed move raises the
//!    objective, so the passes end.
//!
//! Residual capacities are kept as integers and updated incrementally, so a fit check costs
//! one comparison per link of the path. Deterministic: the noise comes from a fixed seed and
//! every tie breaks on an index.

use super::{Instance, Placement};

const NONE: u32 = u32::MAX;
/// Smallest objective increase that counts as an improvement: values are ms with µs inputs,
/// so anything smaller is float noise and must not keep the passes going.
const EPS: f64 = 1e-6;
/// A bound on the improvement passes, so that the time stays predictable on large instances.
const MAX_PASSES: usize = 20;

/// Places the batch; the placement always passes [`super::check`]. Runs the greedy and the
/// improvement from two orders, by regret and by size, and keeps the better placement: regret
/// alone wastes capacity on large requests when capacity, not latency, is what binds.
pub fn place(instance: &Instance) -> Placement {
    let mut st = State::new(instance);
    let mut best: Option<(f64, Vec<u32>)> = None;
    let mut orders = vec![st.regret_order(), st.size_order(instance, None)];
    // More starts from sizes with seeded noise, as many as fit a budget of about 200,000
    // pair visits per start times 20 (a few tens of ms on the benchmark's instances).
    let starts = (4_000_000 / instance.pairs.len().max(1)).clamp(2, 24);
    let mut rng = cpn_model::synthetic::SplitMix64::new(0x9e37);
    for _ in 2..starts {
        orders.push(st.size_order(instance, Some(&mut rng)));
    }
    for order in orders {
        st.reset(instance);
        st.run(&order);
        // Every start ends with the link repair: it is where starts differ most.
        let greedy = st.assigned.clone();
        st.restore(instance, &greedy);
        st.repair_links();
        st.on_link = None;
        let value: f64 = st
            .assigned
            .iter()
            .filter(|&&p| p != NONE)
            .map(|&p| st.value[p as usize])
            .sum();
        if best.as_ref().is_none_or(|b| value > b.0 + EPS) {
            best = Some((value, st.assigned.clone()));
        }
    }
    let assigned = best.map(|b| b.1).unwrap_or_default();
    let mut placement = Placement::empty(instance.requests.len());
    for (r, &p) in assigned.iter().enumerate() {
        if p != NONE {
            placement.assignment[r] = Some(st.site[p as usize] as usize);
        }
    }
    placement
}

/// Compact working arrays. A request's pairs are contiguous and sorted by decreasing value,
/// so the first fitting pair is the best one.
struct State {
    /// Per request, its pairs: `start[r]..start[r + 1]`.
    start: Vec<u32>,
    site: Vec<u32>,
    value: Vec<f64>,
    /// Per pair, its links: `link_start[p]..link_start[p + 1]` into `links`.
    link_start: Vec<u32>,
    links: Vec<u32>,
    demand: Vec<u64>,
    bandwidth: Vec<u64>,
    site_free: Vec<u64>,
    link_free: Vec<u64>,
    /// Per request, its pair, or `NONE`.
    assigned: Vec<u32>,
    /// Per site, the requests placed there; `slot[r]` is r's position in its site's list.
    members: Vec<Vec<u32>>,
    slot: Vec<u32>,
    scratch: Vec<u32>,
    /// Per link, the requests whose path crosses it; kept only during the final link repair
    /// (`None` otherwise, so that the many starts pay nothing for it).
    on_link: Option<Vec<Vec<u32>>>,
}

impl State {
    fn new(inst: &Instance) -> State {
        let n = inst.requests.len();
        let mut start = Vec::with_capacity(n + 1);
        let (mut site, mut value, mut link_start, mut links) =
            (Vec::new(), Vec::new(), vec![0u32], Vec::new());
        let mut lo = 0;
        for r in 0..n {
            start.push(site.len() as u32);
            let hi = lo + inst.pairs[lo..].partition_point(|p| p.request as usize == r);
            let mut own: Vec<&super::Pair> = inst.pairs[lo..hi]
                .iter()
                // A pair worth nothing is never worth placing.
                .filter(|p| p.value() > 0.0)
                .collect();
            own.sort_by(|a, b| b.value().total_cmp(&a.value()).then(a.site.cmp(&b.site)));
            for p in own {
                site.push(p.site);
                value.push(p.value());
                links.extend_from_slice(&p.links);
                link_start.push(links.len() as u32);
            }
            lo = hi;
        }
        start.push(site.len() as u32);
        State {
            start,
            site,
            value,
            link_start,
            links,
            demand: inst.requests.iter().map(|r| r.demand_tflops).collect(),
            bandwidth: inst.requests.iter().map(|r| r.bandwidth_mbps).collect(),
            site_free: inst.site_capacity.clone(),
            link_free: inst.link_capacity.clone(),
            assigned: vec![NONE; n],
            members: vec![Vec::new(); inst.site_capacity.len()],
            slot: vec![0; n],
            scratch: Vec::new(),
            on_link: None,
        }
    }

    fn reset(&mut self, inst: &Instance) {
        self.site_free.copy_from_slice(&inst.site_capacity);
        self.link_free.copy_from_slice(&inst.link_capacity);
        self.assigned.fill(NONE);
        self.members.iter_mut().for_each(Vec::clear);
    }

    /// The greedy in `order`, then improvement passes.
    fn run(&mut self, order: &[usize]) {
        for &r in order {
            if let Some(p) = self.best_fit(r) {
                self.add(r, p);
            }
        }
        for _ in 0..MAX_PASSES {
            let mut improved = false;
            for &r in order {
                if self.assigned[r] != NONE {
                    continue;
                }
                if let Some(p) = self.best_fit(r) {
                    self.add(r, p);
                    improved = true;
                } else if self.eject_for(r) {
                    improved = true;
                }
            }
            for &r in order {
                let old = self.assigned[r];
                if old == NONE {
                    continue;
                }
                self.remove(r);
                // The old pair fits again now, so the best fit is never worse.
                let p = self.best_fit(r).unwrap_or(old as usize);
                self.add(r, p);
                if self.value[p] > self.value[old as usize] + EPS {
                    improved = true;
                }
            }
            if !improved {
                break;
            }
        }
    }

    /// Requests by increasing size: the share of its best pair's site capacity plus the
    /// largest share of a link capacity on that pair's path (ties: request index), so that
    /// many small requests go before a few large ones.
    fn size_order(
        &self,
        inst: &Instance,
        mut noise: Option<&mut cpn_model::synthetic::SplitMix64>,
    ) -> Vec<usize> {
        let mut keyed: Vec<(f64, usize)> = (0..self.assigned.len())
            .filter_map(|r| {
                let p = self.pairs(r).next()?;
                let site =
                    self.demand[r] as f64 / inst.site_capacity[self.site[p] as usize].max(1) as f64;
                let link = self
                    .path(p)
                    .iter()
                    .map(|&l| {
                        self.bandwidth[r] as f64 / inst.link_capacity[l as usize].max(1) as f64
                    })
                    .fold(0.0, f64::max);
                let jitter = noise.as_mut().map_or(1.0, |g| 0.5 + g.unit());
                Some(((site + link) * jitter, r))
            })
            .collect();
        keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        keyed.into_iter().map(|k| k.1).collect()
    }

    fn pairs(&self, r: usize) -> std::ops::Range<usize> {
        self.start[r] as usize..self.start[r + 1] as usize
    }

    fn path(&self, p: usize) -> &[u32] {
        &self.links[self.link_start[p] as usize..self.link_start[p + 1] as usize]
    }

    fn links_fit(&self, r: usize, p: usize) -> bool {
        let bw = self.bandwidth[r];
        self.path(p)
            .iter()
            .all(|&l| self.link_free[l as usize] >= bw)
    }

    fn fits(&self, r: usize, p: usize) -> bool {
        self.site_free[self.site[p] as usize] >= self.demand[r] && self.links_fit(r, p)
    }

    fn best_fit(&self, r: usize) -> Option<usize> {
        self.pairs(r).find(|&p| self.fits(r, p))
    }

    fn add(&mut self, r: usize, p: usize) {
        let s = self.site[p] as usize;
        self.site_free[s] -= self.demand[r];
        let bw = self.bandwidth[r];
        for i in self.link_start[p] as usize..self.link_start[p + 1] as usize {
            self.link_free[self.links[i] as usize] -= bw;
        }
        self.assigned[r] = p as u32;
        self.slot[r] = self.members[s].len() as u32;
        self.members[s].push(r as u32);
        if let Some(on_link) = &mut self.on_link {
            for i in self.link_start[p] as usize..self.link_start[p + 1] as usize {
                on_link[self.links[i] as usize].push(r as u32);
            }
        }
    }

    fn remove(&mut self, r: usize) {
        let p = self.assigned[r] as usize;
        let s = self.site[p] as usize;
        self.site_free[s] += self.demand[r];
        let bw = self.bandwidth[r];
        for i in self.link_start[p] as usize..self.link_start[p + 1] as usize {
            self.link_free[self.links[i] as usize] += bw;
        }
        self.assigned[r] = NONE;
        if let Some(on_link) = &mut self.on_link {
            for i in self.link_start[p] as usize..self.link_start[p + 1] as usize {
                let list = &mut on_link[self.links[i] as usize];
                if let Some(at) = list.iter().position(|&x| x as usize == r) {
                    list.swap_remove(at);
                }
            }
        }
        let slot = self.slot[r] as usize;
        self.members[s].swap_remove(slot);
        if let Some(&moved) = self.members[s].get(slot) {
            self.slot[moved as usize] = slot as u32;
        }
    }

    /// Requests by decreasing regret over the pairs that fit the empty network.
    fn regret_order(&self) -> Vec<usize> {
        let mut keyed: Vec<(f64, f64, usize)> = (0..self.assigned.len())
            .map(|r| {
                let mut fitting = self.pairs(r).filter(|&p| self.fits(r, p));
                let best = fitting.next().map_or(0.0, |p| self.value[p]);
                let second = fitting.next().map_or(0.0, |p| self.value[p]);
                (best - second, best, r)
            })
            .collect();
        keyed.sort_by(|a, b| {
            b.0.total_cmp(&a.0)
                .then(b.1.total_cmp(&a.1))
                .then(a.2.cmp(&b.2))
        });
        keyed.into_iter().map(|k| k.2).collect()
    }

    /// Tries to place the unplaced `r` at a full site by ejecting one request there that can
    /// move to another fitting pair (or is worth less than `r`). True when it committed.
    fn eject_for(&mut self, r: usize) -> bool {
        for p in self.pairs(r) {
            let s = self.site[p] as usize;
            if !self.links_fit(r, p) {
                continue;
            }
            // A copy: ejecting and restoring reorders the site's list.
            let mut list = std::mem::take(&mut self.scratch);
            list.clear();
            list.extend_from_slice(&self.members[s]);
            for &other in &list {
                let other = other as usize;
                if self.site_free[s] + self.demand[other] < self.demand[r] {
                    continue;
                }
                if self.exchange(r, p, other) {
                    self.scratch = list;
                    return true;
                }
            }
            self.scratch = list;
        }
        false
    }

    /// For an unplaced `r` whose pairs have room at the site but not on the links: moves one
    /// placed request whose path crosses every full link of one of r's paths (to another
    /// fitting pair, or out when it is worth less), when the exchange gains. Links, not sites,
    /// are what most often leave requests out at high load.
    fn eject_for_link(&mut self, r: usize) -> bool {
        let bw = self.bandwidth[r];
        for p in self.pairs(r) {
            let s = self.site[p] as usize;
            if self.site_free[s] < self.demand[r] {
                continue;
            }
            let mut blocked = std::mem::take(&mut self.scratch);
            blocked.clear();
            blocked.extend(
                self.path(p)
                    .iter()
                    .copied()
                    .filter(|&l| self.link_free[l as usize] < bw),
            );
            if blocked.is_empty() {
                self.scratch = blocked;
                continue;
            }
            let crossing: Vec<u32> = self
                .on_link
                .as_ref()
                .map_or_else(Vec::new, |on| on[blocked[0] as usize].clone());
            for other in crossing {
                let other = other as usize;
                if self.assigned[other] == NONE || other == r || self.bandwidth[other] == 0 {
                    continue;
                }
                if self.exchange(r, p, other) {
                    self.scratch = blocked;
                    return true;
                }
            }
            self.scratch = blocked;
        }
        false
    }

    /// Puts the state back to `assigned` (pair per request), with the link index on.
    fn restore(&mut self, inst: &Instance, assigned: &[u32]) {
        self.reset(inst);
        self.on_link = Some(vec![Vec::new(); inst.link_capacity.len()]);
        for (r, &p) in assigned.iter().enumerate() {
            if p != NONE {
                self.add(r, p as usize);
            }
        }
    }

    /// Passes of link ejection over the unplaced requests, while they gain.
    fn repair_links(&mut self) {
        for _ in 0..MAX_PASSES {
            let mut improved = false;
            for r in 0..self.assigned.len() {
                if self.assigned[r] == NONE
                    && (self.best_fit(r).is_some_and(|p| {
                        self.add(r, p);
                        true
                    }) || self.eject_for_link(r))
                {
                    improved = true;
                }
            }
            if !improved {
                break;
            }
        }
    }

    /// Takes the placed `other` out, puts the unplaced `r` at pair `p`, and moves `other` to
    /// its best fitting pair (or leaves it out); commits when the objective rises, else puts
    /// everything back. True when committed.
    fn exchange(&mut self, r: usize, p: usize, other: usize) -> bool {
        let q = self.assigned[other] as usize;
        self.remove(other);
        if !self.fits(r, p) {
            // Taking `other` out did not make room for `r` there; put it back.
            self.add(other, q);
            return false;
        }
        self.add(r, p);
        let moved = self.best_fit(other);
        let gain = self.value[p] + moved.map_or(0.0, |m| self.value[m]) - self.value[q];
        if gain > EPS {
            if let Some(m) = moved {
                self.add(other, m);
            }
            return true;
        }
        self.remove(r);
        self.add(other, q);
        false
    }
}
