//! The exact optimum of a small twin run, with hindsight: every arrival known in advance,
//! each placed on the site that a mixed-integer program chooses so that the most requests
//! are placed within their SLA (fewer milliseconds breaking ties), subject to every site's
//! compute and every link's bandwidth at every moment. No online strategy can place more
//! within the scheduler's estimates, so it bounds what cpn could have done.
//!
//! Pairs: a request may go to a site when the real scheduler, alone with it on the empty
//! network, accepts it there (the SLA-aware decision, so within its bounds); the pair books
//! the request's compute at the site and its bandwidth on the links of the path that decision
//! took. Capacity holds at every request's start: a set of intervals overlaps somewhere only
//! if it overlaps at the latest start among them, so those instants are enough.
//!
//! Solved by the pure-Rust microlp through `good_lp`, which is why it is for small runs only
//! ([`MAX_PAIRS`]).

use std::collections::BTreeMap;

use cpn_model::{LinkId, Scenario, SiteId};
use cpn_sched::{Isolation, PlaceRequest, Scheduler};
use good_lp::{Expression, ProblemVariables, Solution, SolverModel, Variable, variable};

use crate::twin::Arrival;

const NS: u64 = 1_000_000_000;

/// The largest program solved: (request, site) pairs.
pub const MAX_PAIRS: usize = 1_500;

/// Why there is no optimum.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OptimumError {
    #[error(
        "the exact optimum is for small runs: {pairs} (request, site) pairs, at most {MAX_PAIRS}"
    )]
    TooLarge { pairs: usize },
    #[error("the exact solver failed on {pairs} pairs: {message}")]
    Solver { pairs: usize, message: String },
}

struct Pair {
    request: usize,
    site: SiteId,
    gflops: u64,
    links: Vec<LinkId>,
    latency_us: u64,
}

/// The request's window in the twin: whole seconds from its arrival, as the twin books it.
fn window(a: &Arrival) -> (u64, u64) {
    let start = a.at / NS;
    (start, start + a.hold_s.max(1))
}

/// The site for each arrival in the optimum (`None`: not placed).
pub fn plan(
    scenario: &Scenario,
    arrivals: &[Arrival],
) -> Result<Vec<Option<SiteId>>, OptimumError> {
    let mut sched = Scheduler::new(scenario);
    let sites: Vec<SiteId> = scenario.sites.iter().map(|s| s.id).collect();
    let mut pairs = Vec::new();
    for (i, a) in arrivals.iter().enumerate() {
        let (start, end) = window(a);
        let request = PlaceRequest {
            start,
            end,
            ..a.request.clone()
        };
        for &site in &sites {
            let Ok(Ok(id)) = sched.place_among(&request, &[site]) else {
                continue;
            };
            if let Ok(r) = sched.release(id) {
                pairs.push(Pair {
                    request: i,
                    site,
                    gflops: r.compute_gflops(),
                    links: r.links,
                    latency_us: r.latency.total,
                });
            }
        }
        if pairs.len() > MAX_PAIRS {
            return Err(OptimumError::TooLarge { pairs: pairs.len() });
        }
    }
    solve(arrivals, &sched, &pairs)
}

fn solve(
    arrivals: &[Arrival],
    sched: &Scheduler,
    pairs: &[Pair],
) -> Result<Vec<Option<SiteId>>, OptimumError> {
    let mut vars = ProblemVariables::new();
    let x: Vec<Variable> = pairs
        .iter()
        .map(|_| vars.add(variable().binary()))
        .collect();
    // One more request placed is worth more than any saving of latency (below 1,000 s).
    let objective: Expression = pairs
        .iter()
        .zip(&x)
        .map(|(p, &v)| (1.0 - p.latency_us as f64 / 1e9) * v)
        .sum();
    let mut model = vars.maximise(objective).using(good_lp::microlp);
    let mut per_request: BTreeMap<usize, Expression> = BTreeMap::new();
    for (p, &v) in pairs.iter().zip(&x) {
        *per_request.entry(p.request).or_default() += v;
    }
    for e in per_request.into_values() {
        model.add_constraint(e.leq(1.0));
    }
    // Capacity at each start: per site, then per link, only where the pairs could exceed it.
    let starts: std::collections::BTreeSet<u64> = arrivals.iter().map(|a| window(a).0).collect();
    for &t in &starts {
        let live = |p: &&Pair| {
            let (s, e) = window(&arrivals[p.request]);
            s <= t && t < e
        };
        let mut site_load: BTreeMap<SiteId, (u64, Expression)> = BTreeMap::new();
        let mut link_load: BTreeMap<LinkId, (u64, Expression)> = BTreeMap::new();
        for (p, &v) in pairs.iter().zip(&x).filter(|(p, _)| live(p)) {
            let e = site_load.entry(p.site).or_default();
            e.0 += p.gflops;
            e.1 += p.gflops as f64 * v;
            let bps = arrivals[p.request].request.bandwidth.0;
            for &l in &p.links {
                let e = link_load.entry(l).or_default();
                e.0 += bps;
                e.1 += (bps as f64 / 1e6) * v;
            }
        }
        for (site, (most, e)) in site_load {
            let cap = sched.compute_calendar(site).map_or(0, |c| c.capacity());
            if most > cap {
                model.add_constraint(e.leq(cap as f64));
            }
        }
        for (link, (most, e)) in link_load {
            // What traffic of no slice may book on the link (slices' guarantees set aside).
            let cap = sched
                .link_calendar(link)
                .free_for(None, t, t + 1, Isolation::Soft);
            if most > cap {
                model.add_constraint(e.leq(cap as f64 / 1e6));
            }
        }
    }
    let solution = model.solve().map_err(|e| OptimumError::Solver {
        pairs: pairs.len(),
        message: e.to_string(),
    })?;
    let mut out = vec![None; arrivals.len()];
    for (p, &v) in pairs.iter().zip(&x) {
        // Binaries come back as floats; anything near 1 is chosen.
        if solution.value(v) > 0.5 {
            out[p.request] = Some(p.site);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Rng;
    use cpn_units::Flops;

    /// Requests as large as a good share of the largest site, overlapping in time.
    fn crowded(scenario: &Scenario, n: usize, seed: u64) -> Vec<Arrival> {
        let sched = Scheduler::new(scenario);
        let biggest = scenario
            .sites
            .iter()
            .filter_map(|s| sched.compute_calendar(s.id).map(|c| c.capacity()))
            .max()
            .expect("sites");
        let template = crate::twin::mixed(scenario, 1, 20.0, 60)
            .into_iter()
            .find(|a| a.class == "tolerant")
            .expect("a tolerant request");
        let mut rng = Rng::new(seed);
        let mut out: Vec<Arrival> = (0..n)
            .map(|k| {
                let mut a = template.clone();
                let share = rng.uniform(0.35, 0.9);
                let gflops = (biggest as f64 * share) as u128;
                a.request.demand = Some(Flops::fp64(gflops * 1_000_000_000));
                a.request.name = format!("big{k}");
                a.at = rng.below(3) * NS;
                a.hold_s = 1 + rng.below(4);
                a
            })
            .collect();
        out.sort_by_key(|a| a.at);
        out
    }

    /// Every feasible choice, by depth-first search: the most requests placed, and the least
    /// latency among those.
    fn brute_force(arrivals: &[Arrival], sched: &Scheduler, pairs: &[Pair]) -> (usize, u64) {
        fn fits(arrivals: &[Arrival], sched: &Scheduler, chosen: &[&Pair]) -> bool {
            chosen.iter().all(|p| {
                let t = window(&arrivals[p.request]).0;
                let at = |q: &&&Pair| {
                    let (s, e) = window(&arrivals[q.request]);
                    s <= t && t < e
                };
                let on_site: u64 = chosen
                    .iter()
                    .filter(at)
                    .filter(|q| q.site == p.site)
                    .map(|q| q.gflops)
                    .sum();
                let cap = sched.compute_calendar(p.site).map_or(0, |c| c.capacity());
                on_site <= cap
                    && p.links.iter().all(|&l| {
                        let used: u64 = chosen
                            .iter()
                            .filter(at)
                            .filter(|q| q.links.contains(&l))
                            .map(|q| arrivals[q.request].request.bandwidth.0)
                            .sum();
                        used <= sched
                            .link_calendar(l)
                            .free_for(None, t, t + 1, Isolation::Soft)
                    })
            })
        }
        fn go<'p>(
            k: usize,
            arrivals: &[Arrival],
            sched: &Scheduler,
            pairs: &'p [Pair],
            chosen: &mut Vec<&'p Pair>,
            best: &mut (usize, u64),
        ) {
            if k == arrivals.len() {
                let value = (
                    chosen.len(),
                    chosen.iter().map(|p| p.latency_us).sum::<u64>(),
                );
                if value.0 > best.0 || (value.0 == best.0 && value.1 < best.1) {
                    *best = value;
                }
                return;
            }
            for p in pairs.iter().filter(|p| p.request == k) {
                chosen.push(p);
                if fits(arrivals, sched, chosen) {
                    go(k + 1, arrivals, sched, pairs, chosen, best);
                }
                chosen.pop();
            }
            go(k + 1, arrivals, sched, pairs, chosen, best);
        }
        let mut best = (0, u64::MAX);
        go(0, arrivals, sched, pairs, &mut Vec::new(), &mut best);
        best
    }

    #[test]
    fn the_optimum_is_the_best_choice_by_brute_force_and_the_twin_can_place_it() {
        let scenario = cpn_model::built_in("national")
            .expect("known")
            .expect("valid");
        for seed in 1..=4 {
            let arrivals = crowded(&scenario, 8, seed);
            let mut sched = Scheduler::new(&scenario);
            let mut pairs = Vec::new();
            for (i, a) in arrivals.iter().enumerate() {
                let (start, end) = window(a);
                let request = PlaceRequest {
                    start,
                    end,
                    ..a.request.clone()
                };
                for s in &scenario.sites {
                    if let Ok(Ok(id)) = sched.place_among(&request, &[s.id]) {
                        let r = sched.release(id).expect("held");
                        pairs.push(Pair {
                            request: i,
                            site: s.id,
                            gflops: r.compute_gflops(),
                            links: r.links,
                            latency_us: r.latency.total,
                        });
                    }
                }
            }
            let plan = plan(&scenario, &arrivals).expect("small");
            let placed = plan.iter().flatten().count();
            let latency: u64 = plan
                .iter()
                .enumerate()
                .filter_map(|(i, s)| {
                    let s = (*s)?;
                    pairs
                        .iter()
                        .find(|p| p.request == i && p.site == s)
                        .map(|p| p.latency_us)
                })
                .sum();
            let best = brute_force(&arrivals, &sched, &pairs);
            assert_eq!((placed, latency), best, "seed {seed}");
            assert!(
                placed < arrivals.len(),
                "seed {seed}: capacity did not bind"
            );
            let (report, _) = crate::twin::run_with(
                &scenario,
                &arrivals,
                crate::twin::Policy::Plan(&plan),
                1,
                10,
                crate::twin::Changes::default(),
                &mut |_, _| {},
            );
            assert_eq!(
                (report.acceptance * arrivals.len() as f64).round() as usize,
                placed,
                "seed {seed}: the twin refused part of the plan"
            );
        }
    }
}
