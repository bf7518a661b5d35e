//! Batch placement: a set of requests placed at once on sites with compute capacity, each
//! request's traffic on its latency-shortest path through links with bandwidth capacity.
//!
//! The problem (defined in full in `docs/placement.md`): choose at most one site per request,
//! within its latency bound, so that no site's compute and no link's bandwidth is exceeded,
//! maximising Σ (1000 − cost) over placed requests, cost = round trip + processing in ms.
//! [`place`] is the fast heuristic for every size (greedy by regret, then local improvement);
//! [`solve_exact`] is the exact MILP for small instances, through `good_lp` (the pure-Rust
//! microlp by default, HiGHS with the `highs` feature), to measure the heuristic's gap.

mod exact;
mod heuristic;
mod instance;

pub use exact::{ExactError, solve_exact};
pub use heuristic::place;
pub use instance::{BatchRequest, Instance, InstanceError, Pair, VALUE_BASE_MS};
use serde::{Deserialize, Serialize};

/// For each request, the site it is placed at, or `None`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Placement {
    pub assignment: Vec<Option<usize>>,
}

impl Placement {
    /// No request placed.
    pub fn empty(requests: usize) -> Placement {
        Placement {
            assignment: vec![None; requests],
        }
    }

    pub fn placed(&self) -> usize {
        self.assignment.iter().flatten().count()
    }
}

/// A constraint a placement breaks.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Violation {
    #[error("placement has {got} entries for {expected} requests")]
    Length { got: usize, expected: usize },
    #[error(
        "request {request} is placed at site {site}, which is unknown or beyond its latency bound"
    )]
    Ineligible { request: usize, site: usize },
    #[error("site {site} holds {used} TFLOPS, over its capacity of {capacity}")]
    SiteCapacity {
        site: usize,
        used: u64,
        capacity: u64,
    },
    #[error("link {link} carries {used} Mbit/s, over its capacity of {capacity}")]
    LinkCapacity {
        link: usize,
        used: u64,
        capacity: u64,
    },
}

/// Σ over placed requests of 1000 − cost (ms). Sites outside a request's bound count nothing
/// (`check` rejects them).
pub fn objective(instance: &Instance, placement: &Placement) -> f64 {
    placement
        .assignment
        .iter()
        .enumerate()
        .filter_map(|(r, s)| instance.pair_index(r, (*s)?))
        .map(|p| instance.pairs[p].value())
        .sum()
}

/// Checks every constraint: one site per request (by construction), latency bounds (the site
/// must be one of the request's pairs), site compute and link bandwidth.
pub fn check(instance: &Instance, placement: &Placement) -> Result<(), Violation> {
    if placement.assignment.len() != instance.requests.len() {
        return Err(Violation::Length {
            got: placement.assignment.len(),
            expected: instance.requests.len(),
        });
    }
    let mut site_used = vec![0u64; instance.site_capacity.len()];
    let mut link_used = vec![0u64; instance.link_capacity.len()];
    for (request, site) in placement.assignment.iter().enumerate() {
        let Some(site) = *site else { continue };
        let pair = instance
            .pair_index(request, site)
            .ok_or(Violation::Ineligible { request, site })?;
        let r = &instance.requests[request];
        // Out-of-range ids can only come from an instance that `Instance::validate` rejects;
        // they are skipped here rather than panicking.
        if let Some(used) = site_used.get_mut(site) {
            *used = used.saturating_add(r.demand_tflops);
        }
        for &l in &instance.pairs[pair].links {
            if let Some(used) = link_used.get_mut(l as usize) {
                *used = used.saturating_add(r.bandwidth_mbps);
            }
        }
    }
    for (site, (&used, &capacity)) in site_used.iter().zip(&instance.site_capacity).enumerate() {
        if used > capacity {
            return Err(Violation::SiteCapacity {
                site,
                used,
                capacity,
            });
        }
    }
    for (link, (&used, &capacity)) in link_used.iter().zip(&instance.link_capacity).enumerate() {
        if used > capacity {
            return Err(Violation::LinkCapacity {
                link,
                used,
                capacity,
            });
        }
    }
    Ok(())
}
