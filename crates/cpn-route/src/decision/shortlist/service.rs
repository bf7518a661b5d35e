//! A service's sites, judged in one pass over compact arrays.
//!
//! A service request is judged against every site of the service within the latency budget:
//! with the blended objective every eligible site widens the ranges the scores are scaled by,
//! so none can be skipped. What makes the pass cheap is that most of a site's verdict does not
//! depend on the ingress: whether it can take the demand at its load, the queueing wait there,
//! its cost, carbon and load once placed. That part is kept per site of the service with the
//! span of window starts its load holds for, and worked out again only when the window starts
//! outside the span or the site has changed since (its calendar, as the occupancy reports, or
//! its being up). The pass then reads, per site in the service's order, its distance from the
//! kept search and the kept part, both front to back, and adds the two.

use cpn_model::SiteId;

use super::super::{Engine, Objective, Scorer, breakdown, rank};
use super::{Ask, Judged, Occupancy, UNREACHED, Undecided};
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

/// Per service, per site of it (by index in the service's list), what is kept; and where
/// each site appears, to forget what changed.
#[derive(Debug, Clone, Default)]
pub(super) struct KeptLoads {
    kept: Vec<Vec<Kept>>,
    /// The load each was worked out for, to rebuild the chosen site's verdict.
    used: Vec<Vec<u128>>,
    /// Per site, its (service, index) pairs.
    places: Vec<Vec<(u32, u32)>>,
}

/// An eligible site of the pass: its index in the service's list and its total latency.
#[derive(Debug, Clone, Copy)]
pub(super) struct Passed {
    k: u32,
    one_way: u32,
    total: u64,
}

impl Engine {
    /// Forgets what was kept of a site (it went down or came back).
    pub(in crate::decision) fn forget_site(&mut self, site: SiteId) {
        let loads = &mut self.shortlist.loads;
        if let Some(places) = loads.places.get(site.index()) {
            for &(svc, k) in places {
                loads.kept[svc as usize][k as usize] = UNKNOWN;
            }
        }
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
    ) -> Result<Option<(Judged, f64, Judged, f64)>, Undecided> {
        let mut loads = std::mem::take(&mut self.shortlist.loads);
        if loads.kept.len() != self.services.len() {
            loads.kept = self
                .services
                .iter()
                .map(|s| vec![UNKNOWN; s.sites.len()])
                .collect();
            loads.used = self
                .services
                .iter()
                .map(|s| vec![0; s.sites.len()])
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
        occupancy.changed(|site| {
            if let Some(places) = loads.places.get(site.index()) {
                for &(s, k) in places {
                    loads.kept[s as usize][k as usize] = UNKNOWN;
                }
            }
        });
        let mut buffers = std::mem::take(&mut self.shortlist.passed);
        let (kept, used) = (&mut loads.kept[svc], &mut loads.used[svc]);
        let (passed, terms, scores) = &mut buffers;
        let out = self.pass(
            tree,
            svc,
            ask,
            objective,
            occupancy,
            (kept, used),
            (passed, terms, scores),
        );
        self.shortlist.loads = loads;
        self.shortlist.passed = buffers;
        out
    }

    #[allow(clippy::too_many_arguments)]
    fn pass(
        &self,
        tree: &Tree,
        svc: usize,
        ask: &Ask,
        objective: Objective,
        occupancy: &mut impl Occupancy,
        (kept, used): (&mut [Kept], &mut [u128]),
        (passed, terms, scores): (&mut Vec<Passed>, &mut Vec<[f64; 4]>, &mut Vec<f64>),
    ) -> Result<Option<(Judged, f64, Judged, f64)>, Undecided> {
        let sites = &self.services[svc].sites;
        passed.clear();
        terms.clear();
        let start = occupancy.start();
        let mut scorer = Scorer::new(objective);
        let (lo, hi) = (
            tree.service_start[svc] as usize,
            tree.service_start[svc + 1] as usize,
        );
        // Front to back through the service's sites, its distances and what is kept: arrays
        // read in order, which the processor fetches ahead.
        for (k, &one_way) in tree.service_dist[lo..hi].iter().enumerate() {
            let d = u64::from(one_way);
            if one_way == UNREACHED || ask.budget_us.is_some_and(|b| 2 * d + ask.processing_us > b)
            {
                continue;
            }
            if start < kept[k].from || start >= kept[k].until {
                let site = sites[k];
                let load = occupancy.used(site);
                used[k] = load.used;
                kept[k] = match self.at_site(site.index(), load.used, ask) {
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
            }
            let at = &kept[k];
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
            |p: Passed| self.judged(sites[p.k as usize], p.one_way, used[p.k as usize], ask);
        match (judged(b), judged(n)) {
            (Some(b), Some(n)) => Ok(Some((b, bs, n, ns))),
            _ => Ok(None),
        }
    }

    /// A site's verdict in full, from its distance and its load.
    fn judged(&self, site: SiteId, one_way: u32, used: u128, ask: &Ask) -> Option<Judged> {
        let at = self.at_site(site.index(), used, ask)?;
        Some(Judged {
            site,
            latency: breakdown(u64::from(one_way), ask.processing, at.wait_ns),
            cost: at.cost,
            carbon_g: at.carbon_g,
            load: at.load,
        })
    }
}
