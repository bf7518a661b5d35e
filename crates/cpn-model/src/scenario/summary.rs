//! Counts and totals of a scenario, for `cpn scenario show` and for a first look at a network.

use std::collections::BTreeMap;

use cpn_units::{Bandwidth, Bytes, Flops, Precision};
use serde::Serialize;

use super::Scenario;
use crate::network::Tier;

/// What a scenario holds, in numbers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub name: String,
    pub routers: u64,
    pub links: u64,
    pub links_up: u64,
    pub sites: u64,
    pub services: u64,
    pub slas: u64,
    pub slices: u64,
    pub tenants: u64,
    /// Number of sites per tier, every tier listed (zero where a tier has none).
    pub sites_by_tier: BTreeMap<Tier, u64>,
    /// Sites and their capacity per tier, every tier listed.
    pub tiers: BTreeMap<Tier, TierSummary>,
    /// Sum of the link capacities (one direction).
    pub link_capacity: Bandwidth,
    /// Routers without coordinates.
    pub routers_without_location: u64,
    pub warnings: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TierSummary {
    pub sites: u64,
    /// The ids of the tier's sites, in scenario order.
    pub names: Vec<String>,
    pub cpu_cores: u64,
    pub memory: Bytes,
    /// Computing power of the tier's sites, by precision.
    pub compute: BTreeMap<Precision, Flops>,
    pub gpus: u64,
}

pub(crate) fn summarise(s: &Scenario) -> Summary {
    let mut tiers: BTreeMap<Tier, TierSummary> = Tier::ALL
        .into_iter()
        .map(|t| {
            (
                t,
                TierSummary {
                    sites: 0,
                    names: Vec::new(),
                    cpu_cores: 0,
                    memory: Bytes::ZERO,
                    compute: BTreeMap::new(),
                    gpus: 0,
                },
            )
        })
        .collect();
    for site in &s.sites {
        let Some(t) = tiers.get_mut(&site.tier) else {
            continue;
        };
        let c = &site.capacity;
        t.sites += 1;
        t.names.push(site.name.clone());
        t.cpu_cores = t.cpu_cores.saturating_add(c.cpu_cores);
        t.memory = t.memory.checked_add(c.memory).unwrap_or(Bytes(u64::MAX));
        let sum = t.compute.entry(c.compute.precision).or_insert(Flops {
            precision: c.compute.precision,
            per_second: 0,
        });
        sum.per_second = sum.per_second.saturating_add(c.compute.per_second);
        t.gpus = t.gpus.saturating_add(c.gpus.values().sum());
    }
    let count = |n: usize| n as u64;
    Summary {
        name: s.name.clone(),
        routers: count(s.routers.len()),
        links: count(s.links.len()),
        links_up: count(s.links.iter().filter(|l| l.up).count()),
        sites: count(s.sites.len()),
        services: count(s.services.len()),
        slas: count(s.slas.len()),
        slices: count(s.slices.len()),
        tenants: count(s.tenants.len()),
        sites_by_tier: tiers.iter().map(|(tier, t)| (*tier, t.sites)).collect(),
        tiers,
        link_capacity: Bandwidth(
            s.links
                .iter()
                .map(|l| l.bandwidth.0)
                .fold(0, u64::saturating_add),
        ),
        routers_without_location: count(s.routers.iter().filter(|r| r.location.is_none()).count()),
        warnings: count(s.warnings.len()),
    }
}
