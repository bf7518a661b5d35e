//! The strategies cpn is compared with, run on the same scheduler so that capacity, paths and
//! bookings are counted the same way for all of them: each picks a site by its own rule, then
//! the request is booked at that site on its least-latency path that has the bandwidth, or
//! refused if that site has no room. Those strategies are blind to the network, so they book
//! without the request's latency and loss bounds: whether the SLA was met is judged after.
//!
//! - `cpn`: the joint decision (site, path and SLA together), as the controller places.
//! - `nearest`: the candidate site with the least network latency from the ingress.
//! - `least-loaded`: the candidate site with the least compute booked over the window, as a
//!   share of its capacity.
//! - `random`: a candidate site drawn uniformly (seeded).
//! - `latency-only` / `cost-only`: the joint engine with that single objective.
//! - `kube-least-allocated`: Kubernetes' default scoring: filter the sites with room for the
//!   demand, score each by its free share of compute (`NodeResourcesLeastAllocated`), take the
//!   best; the network is not looked at.

use cpn_model::SiteId;
use cpn_route::{Metric, Objective, ShortestPaths};

use super::{COMPUTE, GFLOPS, PlaceRequest, Placed, Refusal, SchedError, Scheduler};

/// A placement strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Strategy {
    Cpn,
    Nearest,
    LeastLoaded,
    Random,
    LatencyOnly,
    CostOnly,
    KubeLeastAllocated,
}

impl Strategy {
    pub const ALL: [Strategy; 7] = [
        Strategy::Cpn,
        Strategy::Nearest,
        Strategy::LeastLoaded,
        Strategy::Random,
        Strategy::LatencyOnly,
        Strategy::CostOnly,
        Strategy::KubeLeastAllocated,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Strategy::Cpn => "cpn",
            Strategy::Nearest => "nearest",
            Strategy::LeastLoaded => "least-loaded",
            Strategy::Random => "random",
            Strategy::LatencyOnly => "latency-only",
            Strategy::CostOnly => "cost-only",
            Strategy::KubeLeastAllocated => "kube-least-allocated",
        }
    }

    /// The strategy of a name as [`Strategy::name`] writes it.
    pub fn from_name(name: &str) -> Option<Strategy> {
        Strategy::ALL.into_iter().find(|s| s.name() == name)
    }
}

/// One step of SplitMix64, for the `random` strategy's draws.
fn next_random(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Scheduler {
    /// Places `request` as `strategy` would. `random` draws from `rng` (a SplitMix64 state).
    pub fn place_by(
        &mut self,
        strategy: Strategy,
        request: PlaceRequest,
        rng: &mut u64,
    ) -> Result<Placed, SchedError> {
        let single = |objective| PlaceRequest {
            objective,
            ..request.clone()
        };
        let site = match strategy {
            Strategy::Cpn => return self.place(request),
            Strategy::LatencyOnly => return self.place(single(Objective::Latency)),
            Strategy::CostOnly => return self.place(single(Objective::Cost)),
            Strategy::Nearest => self.nearest(&request),
            Strategy::LeastLoaded => self.least_loaded(&request, false),
            Strategy::KubeLeastAllocated => self.least_loaded(&request, true),
            Strategy::Random => {
                let candidates = self.candidates(&request);
                if candidates.is_empty() {
                    None
                } else {
                    let k = (next_random(rng) % candidates.len() as u64) as usize;
                    Some(candidates[k])
                }
            }
        };
        let Some(site) = site else {
            return Ok(Placed::Refused(Refusal {
                reason: format!("{}: no candidate site", strategy.name()),
                decision: None,
            }));
        };
        // A strategy blind to the network books without the request's latency and loss bounds
        // (its service's SLA included): the site is taken whatever the path costs, and the
        // SLA is judged afterwards by whoever runs the comparison.
        let (demand, processing) = match (request.demand, request.service) {
            (Some(d), s) => (
                d,
                s.map_or(request.processing, |s| self.services[s.index()].1),
            ),
            (None, Some(s)) => self.services[s.index()],
            (None, None) => return Err(SchedError::NoDemand(request.name.clone())),
        };
        let request = PlaceRequest {
            service: None,
            demand: Some(demand),
            processing,
            max_latency: None,
            max_loss: None,
            ..request
        };
        Ok(match self.place_among(&request, &[site])? {
            Ok(reservation) => Placed::Accepted {
                reservation,
                preempted: Vec::new(),
            },
            Err(refusal) => Placed::Refused(refusal),
        })
    }

    /// The sites a request may go to: its service's, or every site for a raw demand; only
    /// those that work.
    fn candidates(&self, request: &PlaceRequest) -> Vec<SiteId> {
        let all = || (0..self.sites.len() as u32).map(SiteId).collect::<Vec<_>>();
        let sites = match (request.service, request.demand) {
            (Some(s), None) => self
                .engine
                .service_sites(s)
                .map_or_else(all, <[SiteId]>::to_vec),
            _ => all(),
        };
        sites
            .into_iter()
            .filter(|&s| self.engine.site_is_up(s))
            .collect()
    }

    fn nearest(&self, request: &PlaceRequest) -> Option<SiteId> {
        let g = self.engine.graph();
        let mut search = ShortestPaths::new();
        search.run(g, request.ingress.0, None, Metric::Latency, |_| true);
        self.candidates(request)
            .into_iter()
            .filter_map(|s| {
                let router = self.site_info[s.index()].router;
                search.distance(router).map(|d| (d, s))
            })
            .min()
            .map(|(_, s)| s)
    }

    /// The site with the most compute free over the request's window, as a share of its
    /// capacity; with `filter`, only sites with room for the demand (Kubernetes' filter then
    /// least-allocated score).
    fn least_loaded(&self, request: &PlaceRequest, filter: bool) -> Option<SiteId> {
        let need = request
            .demand
            .or_else(|| request.service.map(|s| self.services[s.index()].0))
            .map_or(0, |d| {
                u64::try_from(d.per_second.div_ceil(GFLOPS)).unwrap_or(u64::MAX)
            });
        self.candidates(request)
            .into_iter()
            .filter_map(|s| {
                let cal = self.sites[s.index()].calendar(COMPUTE)?;
                let capacity = cal.capacity();
                if capacity == 0 {
                    return None;
                }
                let used = cal.peak(request.start, request.end);
                let free = capacity.saturating_sub(used);
                if filter && free < need {
                    return None;
                }
                // Most free share first; ties to the lower site id, for determinism.
                let share = (free as u128 * 1_000_000 / capacity as u128) as u64;
                Some((std::cmp::Reverse(share), s))
            })
            .min()
            .map(|(_, s)| s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cpn_units::Nanos;

    fn national() -> cpn_model::Scenario {
        cpn_model::built_in("national")
            .expect("known")
            .expect("valid")
    }

    fn request(s: &cpn_model::Scenario, name: &str, from: &str, service: &str) -> PlaceRequest {
        PlaceRequest {
            service: Some(s.service(service).expect("service").id),
            end: 3600,
            ..PlaceRequest::new(name, s.router(from).expect("router").id)
        }
    }

    fn site_of(sched: &Scheduler, placed: &Placed) -> Option<SiteId> {
        match placed {
            Placed::Accepted { reservation, .. } => sched.reservation(*reservation).map(|r| r.site),
            Placed::Refused(_) => None,
        }
    }

    #[test]
    fn names_round_trip() {
        for s in Strategy::ALL {
            assert_eq!(Strategy::from_name(s.name()), Some(s));
        }
        assert_eq!(Strategy::from_name("best"), None);
    }

    #[test]
    fn nearest_takes_the_site_at_the_ingress() {
        let s = national();
        let mut sched = Scheduler::new(&s);
        let mut rng = 1;
        let r = request(&s, "a", "shenzhen", "llm-inference");
        let placed = sched
            .place_by(Strategy::Nearest, r, &mut rng)
            .expect("placed");
        let site = site_of(&sched, &placed).expect("accepted");
        assert_eq!(s.sites[site.index()].name, "shenzhen-edge");
    }

    #[test]
    fn least_loaded_spreads_and_random_is_seeded() {
        let s = national();
        let mut sched = Scheduler::new(&s);
        let mut rng = 1;
        let first = sched
            .place_by(
                Strategy::LeastLoaded,
                request(&s, "a", "beijing", "offline-analytics"),
                &mut rng,
            )
            .expect("placed");
        let a = site_of(&sched, &first).expect("accepted");
        let second = sched
            .place_by(
                Strategy::LeastLoaded,
                request(&s, "b", "beijing", "offline-analytics"),
                &mut rng,
            )
            .expect("placed");
        let b = site_of(&sched, &second).expect("accepted");
        assert_ne!(a, b, "the second goes where the first is not");
        let draws = |seed: u64| {
            let mut sched = Scheduler::new(&s);
            let mut rng = seed;
            (0..8)
                .map(|k| {
                    let r = request(&s, &format!("r{k}"), "beijing", "offline-analytics");
                    let p = sched
                        .place_by(Strategy::Random, r, &mut rng)
                        .expect("placed");
                    site_of(&sched, &p)
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(draws(7), draws(7));
        assert_ne!(draws(7), draws(8));
    }

    #[test]
    fn a_network_blind_choice_breaks_the_bound_the_joint_one_meets() {
        // AR from Shenzhen with a 20 ms bound: Kubernetes-style scoring takes the site with
        // the most free compute, a big cluster far away, whatever the latency; the joint
        // decision picks a site that meets the bound.
        let s = national();
        let mut rng = 1;
        let mut r = request(&s, "ar", "shenzhen", "ar-cloud-gaming");
        r.max_latency = Some(Nanos(20_000_000));
        r.demand = None;
        let mut sched = Scheduler::new(&s);
        let joint = sched
            .place_by(Strategy::Cpn, r.clone(), &mut rng)
            .expect("placed");
        assert!(matches!(joint, Placed::Accepted { .. }), "{joint:?}");
        let mut sched = Scheduler::new(&s);
        let raw = PlaceRequest {
            service: None,
            demand: Some(cpn_units::Flops::fp64(1_000_000_000_000)),
            ..r
        };
        let kube = sched
            .place_by(Strategy::KubeLeastAllocated, raw, &mut rng)
            .expect("placed");
        let site = site_of(&sched, &kube).expect("booked, blind to the bound");
        let held = sched
            .reservations()
            .find(|r| r.site == site)
            .expect("the reservation");
        assert!(
            held.latency.total > 20_000,
            "{} µs at {}",
            held.latency.total,
            s.sites[site.index()].name
        );
    }
}
