//! A batch placement problem as plain data: requests, site and link capacities, and for each
//! (request, site) pair within the request's latency bound its cost and the links of its
//! latency-shortest path. Built from a scenario, or drawn by the seeded generator so that the
//! benchmark's instances are reproducible and can be handed to another solver as JSON.

use cpn_model::synthetic::{SplitMix64, scaled};
use cpn_model::{RouterId, Scenario};
use cpn_route::{Graph, Metric, ShortestPaths};
use serde::{Deserialize, Serialize};

/// What one request of the batch asks for. Quantities are integers of the unit in the field's
/// name, so that capacity checks are exact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchRequest {
    /// The router where the request enters the network.
    pub ingress: u32,
    /// Compute it needs at a site, TFLOPS (in the site's own precision).
    pub demand_tflops: u64,
    /// Bandwidth it needs on every link of its path, Mbit/s.
    pub bandwidth_mbps: u64,
    /// The most end-to-end latency (round trip + processing) it accepts, ms.
    pub max_latency_ms: f64,
    /// Processing time at the site, ms.
    pub processing_ms: f64,
}

/// A (request, site) pair within the request's latency bound.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Pair {
    pub request: u32,
    pub site: u32,
    /// Network round trip over the latency-shortest path plus processing, ms.
    pub cost_ms: f64,
    /// The links of the latency-shortest path from the ingress to the site's router.
    pub links: Vec<u32>,
}

impl Pair {
    /// What placing the request here is worth in the objective: 1000 − cost.
    pub fn value(&self) -> f64 {
        VALUE_BASE_MS - self.cost_ms
    }
}

/// The constant of the objective: a placed request is worth 1000 ms less its cost, so that
/// placing one more request always beats shaving latency off others (costs stay well below
/// one second).
pub const VALUE_BASE_MS: f64 = 1000.0;

/// A batch placement problem. `pairs` are sorted by request, then site, with no duplicates;
/// a request without pairs cannot be placed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Instance {
    pub requests: Vec<BatchRequest>,
    /// Compute capacity of each site, TFLOPS.
    pub site_capacity: Vec<u64>,
    /// Capacity of each link, Mbit/s (shared by both directions, as reservations are).
    pub link_capacity: Vec<u64>,
    pub pairs: Vec<Pair>,
}

/// Why an instance cannot be built or is malformed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InstanceError {
    #[error(
        "request {request}: ingress router {ingress} is not in the scenario ({routers} routers)"
    )]
    UnknownIngress {
        request: usize,
        ingress: u32,
        routers: usize,
    },
    #[error("pair {index}: request {request} or site {site} is out of range")]
    PairOutOfRange {
        index: usize,
        request: u32,
        site: u32,
    },
    #[error("pair {index}: link {link} is out of range ({links} links)")]
    LinkOutOfRange {
        index: usize,
        link: u32,
        links: usize,
    },
    #[error("pair {index}: pairs must be sorted by request, then site, without duplicates")]
    Unsorted { index: usize },
    #[error("cannot grow the national scenario: {0}")]
    Scenario(String),
}

impl Instance {
    /// The problem of placing `requests` on the sites of `scenario`: site capacity is its
    /// compute in whole TFLOPS, link capacity its bandwidth in Mbit/s, and each request's
    /// pairs are the sites whose round trip over the latency-shortest path plus processing is
    /// within its bound. One Dijkstra per distinct ingress.
    pub fn from_scenario(
        scenario: &Scenario,
        requests: Vec<BatchRequest>,
    ) -> Result<Instance, InstanceError> {
        let g = Graph::from_scenario(scenario);
        let routers = scenario.routers.len();
        if let Some((request, r)) = requests
            .iter()
            .enumerate()
            .find(|(_, r)| r.ingress as usize >= routers)
        {
            return Err(InstanceError::UnknownIngress {
                request,
                ingress: r.ingress,
                routers,
            });
        }
        let site_routers: Vec<u32> = scenario.sites.iter().map(|s| s.router.0).collect();
        // Requests grouped by ingress, so that each distinct ingress costs one search.
        let mut order: Vec<usize> = (0..requests.len()).collect();
        order.sort_by_key(|&i| requests[i].ingress);
        let mut per_request: Vec<Vec<Pair>> = vec![Vec::new(); requests.len()];
        let mut sp = ShortestPaths::new();
        let mut last = None;
        for &i in &order {
            let r = &requests[i];
            if last != Some(r.ingress) {
                sp.run(
                    &g,
                    Graph::node(RouterId(r.ingress)),
                    None,
                    Metric::Latency,
                    |_| true,
                );
                last = Some(r.ingress);
            }
            for (site, &node) in site_routers.iter().enumerate() {
                let Some(one_way_us) = sp.distance(node) else {
                    continue;
                };
                let cost_ms = cost_ms(one_way_us, r.processing_ms);
                if cost_ms > r.max_latency_ms {
                    continue;
                }
                let Some(path) = sp.path_to(&g, node) else {
                    continue;
                };
                per_request[i].push(Pair {
                    request: i as u32,
                    site: site as u32,
                    cost_ms,
                    links: path.links(&g).map(|l| l.0).collect(),
                });
            }
        }
        Ok(Instance {
            site_capacity: scenario
                .sites
                .iter()
                .map(|s| {
                    u64::try_from(s.capacity.compute.per_second / 1_000_000_000_000)
                        .unwrap_or(u64::MAX)
                })
                .collect(),
            link_capacity: scenario
                .links
                .iter()
                .map(|l| l.bandwidth.0 / 1_000_000)
                .collect(),
            pairs: per_request.into_iter().flatten().collect(),
            requests,
        })
    }

    /// A reproducible instance of `requests` requests on `sites` sites at `load` (0.8 is 80 %),
    /// drawn from `seed`. The rule (also in `docs/placement.md`):
    /// - the network is the built-in national scenario grown by
    ///   `cpn_model::synthetic::scaled` to `max(30, sites)` routers and `max(24, sites)` sites
    ///   (same seed); the first `sites` sites are kept;
    /// - a site's capacity is its compute in TFLOPS clamped to 20..=2000, so that the hub
    ///   clusters do not swallow every request;
    /// - each request enters at a uniformly drawn router and needs 2..=20 ms of processing;
    ///   its latency bound admits its k cheapest sites, k uniform in 3..=16 (at most the
    ///   number of sites);
    /// - demands are uniform in 1..=2m−1 TFLOPS with m = load × Σ site capacity / requests;
    /// - bandwidths are uniform in 1..=2b−1 Mbit/s with b = load × Σ link capacity /
    ///   Σ hops of each request's cheapest path, so that links are loaded at `load` on
    ///   average if every request took its cheapest site (and far more near the hubs).
    pub fn generate(
        requests: usize,
        sites: usize,
        load: f64,
        seed: u64,
    ) -> Result<Instance, InstanceError> {
        let base = cpn_model::built_in("national")
            .ok_or_else(|| InstanceError::Scenario("no built-in national scenario".into()))?
            .map_err(|e| InstanceError::Scenario(e.to_string()))?;
        let mut scenario = scaled(&base, sites.max(30), sites.max(24), seed)
            .map_err(|e| InstanceError::Scenario(e.to_string()))?;
        scenario.sites.truncate(sites);
        for s in &mut scenario.sites {
            let tflops = (s.capacity.compute.per_second / 1_000_000_000_000).clamp(20, 2000);
            s.capacity.compute.per_second = tflops * 1_000_000_000_000;
        }
        let g = Graph::from_scenario(&scenario);
        let mut rng = SplitMix64::new(seed ^ 0x5eed_ba7c_0000_0001);
        let routers = scenario.routers.len() as u64;
        let mut drawn: Vec<BatchRequest> = (0..requests)
            .map(|_| BatchRequest {
                ingress: rng.below(routers) as u32,
                demand_tflops: 0,
                bandwidth_mbps: 0,
                max_latency_ms: 0.0,
                processing_ms: 2.0 + rng.below(19) as f64,
            })
            .collect();
        // The bound of each request from its costs to every site; the hops of its cheapest.
        let mut sp = ShortestPaths::new();
        let mut hops_total = 0usize;
        let mut costs: Vec<(f64, usize)> = Vec::with_capacity(sites);
        for r in &mut drawn {
            sp.run(
                &g,
                Graph::node(RouterId(r.ingress)),
                None,
                Metric::Latency,
                |_| true,
            );
            costs.clear();
            for (i, s) in scenario.sites.iter().enumerate() {
                if let Some(d) = sp.distance(s.router.0) {
                    costs.push((cost_ms(d, r.processing_ms), i));
                }
            }
            costs.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            let reachable = costs.len() as u64;
            let k = if reachable <= 3 {
                reachable
            } else {
                3 + rng.below(reachable.min(16) - 2)
            };
            r.max_latency_ms = costs
                .get((k as usize).saturating_sub(1))
                .map_or(0.0, |c| c.0);
            if let Some(&(_, site)) = costs.first() {
                let node = scenario.sites[site].router.0;
                hops_total += sp.path_to(&g, node).map_or(0, |p| p.arcs.len());
            }
        }
        let capacity: u64 = scenario
            .sites
            .iter()
            .map(|s| u64::try_from(s.capacity.compute.per_second / 1_000_000_000_000).unwrap_or(0))
            .sum();
        let bandwidth: u64 = scenario
            .links
            .iter()
            .map(|l| l.bandwidth.0 / 1_000_000)
            .sum();
        let m = ((load * capacity as f64 / requests.max(1) as f64).round() as u64).max(1);
        let b = ((load * bandwidth as f64 / hops_total.max(1) as f64).round() as u64).max(1);
        for r in &mut drawn {
            r.demand_tflops = 1 + rng.below(2 * m - 1);
            r.bandwidth_mbps = 1 + rng.below(2 * b - 1);
        }
        Instance::from_scenario(&scenario, drawn)
    }

    /// Checks the invariants that the solvers rely on (a deserialised instance may break them).
    pub fn validate(&self) -> Result<(), InstanceError> {
        let mut prev: Option<(u32, u32)> = None;
        for (index, p) in self.pairs.iter().enumerate() {
            if p.request as usize >= self.requests.len()
                || p.site as usize >= self.site_capacity.len()
            {
                return Err(InstanceError::PairOutOfRange {
                    index,
                    request: p.request,
                    site: p.site,
                });
            }
            if let Some(&link) = p
                .links
                .iter()
                .find(|&&l| l as usize >= self.link_capacity.len())
            {
                return Err(InstanceError::LinkOutOfRange {
                    index,
                    link,
                    links: self.link_capacity.len(),
                });
            }
            if prev.is_some_and(|q| q >= (p.request, p.site)) {
                return Err(InstanceError::Unsorted { index });
            }
            prev = Some((p.request, p.site));
        }
        Ok(())
    }

    /// The pairs of one request (the slice of `pairs` that names it).
    pub fn pairs_of(&self, request: usize) -> &[Pair] {
        let r = request as u32;
        let lo = self.pairs.partition_point(|p| p.request < r);
        let hi = self.pairs.partition_point(|p| p.request <= r);
        &self.pairs[lo..hi]
    }

    /// The index in `pairs` of (request, site), if the site is within the request's bound.
    pub fn pair_index(&self, request: usize, site: usize) -> Option<usize> {
        let key = (request as u32, site as u32);
        self.pairs
            .binary_search_by(|p| (p.request, p.site).cmp(&key))
            .ok()
    }
}

/// Round trip plus processing, ms, summed in whole µs first so that the same inputs always
/// give the same float (the generator's bounds are compared with these costs).
fn cost_ms(one_way_us: u64, processing_ms: f64) -> f64 {
    let processing_us = (processing_ms * 1000.0).round() as u64;
    (2 * one_way_us + processing_us) as f64 / 1000.0
}
