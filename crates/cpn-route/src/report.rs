//! A decision as people and programs read it: names instead of ids, a verdict and reason for
//! every candidate. This is what `cpn route` prints and what the controller will return.

use cpn_model::Scenario;
use serde::Serialize;

use crate::decision::{Candidate, Decision, LatencyBreakdown, Objective, Reason};
use crate::graph::Graph;

/// The chosen site and path, and every candidate's verdict.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub feasible: bool,
    pub objective: Objective,
    /// The chosen site's id, when one is feasible.
    pub site: Option<String>,
    pub tier: Option<String>,
    /// Router ids from the ingress to the chosen site's router.
    pub path: Vec<String>,
    /// The links of the path, by id.
    pub links: Vec<String>,
    pub latency_us: Option<LatencyBreakdown>,
    /// Least free bandwidth along the path, bits/s.
    pub bottleneck_bps: Option<u64>,
    pub loss: Option<f64>,
    pub cost: Option<f64>,
    pub carbon_g: Option<f64>,
    pub score: Option<f64>,
    pub candidates: Vec<CandidateReport>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CandidateReport {
    pub site: String,
    pub tier: String,
    /// `chosen`, `eligible` (feasible but scored worse) or `rejected`.
    pub verdict: &'static str,
    /// Why it was rejected, in words.
    pub reason: Option<String>,
    /// Why it was rejected, as data.
    pub detail: Option<Reason>,
    pub latency_us: Option<LatencyBreakdown>,
    pub cost: Option<f64>,
    pub carbon_g: Option<f64>,
    pub score: Option<f64>,
}

impl Report {
    pub fn new(
        decision: &Decision,
        objective: Objective,
        scenario: &Scenario,
        graph: &Graph,
    ) -> Report {
        let chosen = decision.choice();
        let path = chosen.and_then(|c| c.path.as_ref());
        let router = |n: &u32| {
            scenario
                .routers
                .get(*n as usize)
                .map_or_else(|| format!("r{n}"), |r| r.name.clone())
        };
        Report {
            feasible: chosen.is_some(),
            objective,
            site: chosen.map(|c| scenario.sites[c.site.index()].name.clone()),
            tier: chosen.map(|c| scenario.sites[c.site.index()].tier.to_string()),
            path: path
                .map(|p| p.nodes.iter().map(router).collect())
                .unwrap_or_default(),
            links: path
                .map(|p| {
                    p.links(graph)
                        .map(|l| {
                            scenario
                                .links
                                .get(l.index())
                                .map_or_else(|| l.to_string(), |x| x.name.clone())
                        })
                        .collect()
                })
                .unwrap_or_default(),
            latency_us: chosen.and_then(|c| c.latency),
            bottleneck_bps: chosen.and_then(|c| c.path_stats).map(|s| s.bottleneck_bps),
            loss: chosen.and_then(|c| c.path_stats).map(|s| s.loss),
            cost: chosen.and_then(|c| c.cost),
            carbon_g: chosen.and_then(|c| c.carbon_g),
            score: chosen.and_then(|c| c.score),
            candidates: decision
                .candidates
                .iter()
                .enumerate()
                .map(|(i, c)| candidate(c, decision.chosen == Some(i), scenario))
                .collect(),
        }
    }
}

fn candidate(c: &Candidate, chosen: bool, scenario: &Scenario) -> CandidateReport {
    let site = &scenario.sites[c.site.index()];
    CandidateReport {
        site: site.name.clone(),
        tier: site.tier.to_string(),
        verdict: if chosen {
            "chosen"
        } else if c.rejected.is_some() {
            "rejected"
        } else {
            "eligible"
        },
        reason: c.rejected.as_ref().map(ToString::to_string),
        detail: c.rejected.clone(),
        latency_us: c.latency,
        cost: c.cost,
        carbon_g: c.carbon_g,
        score: c.score,
    }
}
