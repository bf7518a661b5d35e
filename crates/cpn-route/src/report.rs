//! A decision as people and programs read it: names instead of ids, a verdict and reason for
//! every candidate. This is what `cpn route` prints and what the controller will return.

use cpn_model::Scenario;
use serde::Serialize;

use crate::decision::{Candidate, Decision, LatencyBreakdown, Objective, Reason};
use crate::graph::Graph;
use crate::srv6::{
    Ipv6Prefix, Mode, Segment, SegmentList, SidPlan, Srv6Error, compile, linux_route_command,
};

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
    /// The SRv6 segment list that forces the path (first segment first), ending with the
    /// site's End.DT6; empty when no site is feasible.
    pub sids: Vec<String>,
    /// What each SID does, in the same order.
    pub segments: Vec<Segment>,
    /// The `ip -6 route` command that installs the steering on the ingress router.
    pub headend_command: Option<String>,
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
    /// The site's utilisation once the request is placed there.
    pub load: Option<f64>,
    pub score: Option<f64>,
}

impl Report {
    /// `steering` is the chosen path's segment list and the headend command, when compiled.
    pub fn new(
        decision: &Decision,
        objective: Objective,
        scenario: &Scenario,
        graph: &Graph,
        steering: Option<(&SegmentList, String)>,
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
            sids: steering
                .as_ref()
                .map(|(l, _)| l.sids().iter().map(ToString::to_string).collect())
                .unwrap_or_default(),
            segments: steering
                .as_ref()
                .map(|(l, _)| l.segments().to_vec())
                .unwrap_or_default(),
            headend_command: steering.map(|(_, c)| c),
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
        load: c.load,
        score: c.score,
    }
}

/// The segment list that forces the chosen path of `decision` (ending at the chosen site's
/// End.DT6) and the headend command that steers `dest` into it through device `dev`; `None`
/// when no site was chosen.
pub fn steering(
    decision: &Decision,
    scenario: &Scenario,
    graph: &Graph,
    dest: Ipv6Prefix,
    mode: Mode,
    max_sid_depth: usize,
    dev: &str,
) -> Result<Option<(SegmentList, String)>, Srv6Error> {
    let Some((site, path)) = decision
        .choice()
        .and_then(|c| c.path.as_ref().map(|p| (c.site, p)))
    else {
        return Ok(None);
    };
    let plan = SidPlan::new(scenario, graph, SidPlan::DEFAULT_BLOCK)?;
    let list = compile(graph, &plan, path, Some(site), mode, max_sid_depth)?;
    let command = linux_route_command(dest, &list, dev)?;
    Ok(Some((list, command)))
}
