//! From a path to the segment list that forces it, and back.
//!
//! Between two SIDs a packet follows plain IPv6 forwarding, that is the IGP shortest path to
//! the next SID's locator. A segment therefore forces the hops it covers only if the IGP
//! shortest path between its ends is **unique**: with two equal-cost paths routers spread
//! flows over both (ECMP) and the path is not forced. The SIDs a segment can end with:
//!
//! - `End` of router `v_j` covers path positions `i..j` when `v_i..v_j` is the unique IGP
//!   shortest path from `v_i` to `v_j`;
//! - `End.X` of arc `a_{j-1}` covers `i..j` when `v_i..v_{j-1}` is the unique IGP shortest
//!   path (or `i == j - 1`): the packet reaches the arc's tail by IGP, which then crosses the
//!   arc whatever its metric, so it forces parallel links and links the IGP avoids;
//! - `End.DT6` of the egress site acts as an `End` of the last router that also decapsulates.
//!
//! Uniqueness is checked with one Dijkstra per segment start: a shortest path from `s` to `t`
//! is unique exactly when every node on it after `s` has one *tight* incoming arc (an arc
//! `u -> v` with `d(u) + w = d(v)`); two tight arcs into a node mean two shortest paths to it,
//! and both extend to `t`. This holds for positive metrics, which scenarios guarantee.
//!
//! Loose compilation is exact: a dynamic programme over path positions minimises the number
//! of SIDs, then the number of End.X SIDs among lists of that length (node SIDs survive link
//! failures by rerouting; adjacency SIDs do not), and among equal lists takes the farthest
//! reaching segment first. Greedy "farthest reach" alone already gives the minimum count,
//! because the positions a segment from `i` can reach form an interval `i+1..=R(i)` and `R`
//! never decreases (a sub-path of a unique shortest path is one), but it ends almost every
//! segment with an End.X where an End would do, so the programme is used instead.

use std::fmt;
use std::net::Ipv6Addr;

use cpn_model::{RouterId, SiteId};
use serde::Serialize;

use super::Srv6Error;
use super::plan::{Behavior, Sid, SidPlan};
use crate::graph::{ArcId, Graph, Metric, UNUSABLE};
use crate::path::Path;
use crate::sssp::ShortestPaths;

/// How a path is turned into SIDs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// The fewest SIDs that force the path over IGP shortest paths.
    Loose,
    /// One End.X SID per hop: the path is forced whatever the IGP does.
    Strict,
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mode::Loose => "loose",
            Mode::Strict => "strict",
        })
    }
}

/// One SID of a list and what it does, with names for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Segment {
    pub sid: Ipv6Addr,
    #[serde(skip)]
    pub function: Sid,
    pub behavior: Behavior,
    /// The router that runs the behaviour.
    pub router: String,
    /// For End.X: the link it crosses and the router at the far end.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub neighbour: Option<String>,
    /// For End.DT6: the site whose table the packet is decapsulated into.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
}

/// A compiled segment list. `sids` is in the order the segments are visited, first segment
/// first, as `iproute2` takes them; the segment routing header (RFC 8754) stores them in
/// reverse, with the first segment at index `Segments Left`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SegmentList {
    mode: Mode,
    /// The router that encapsulates.
    headend: String,
    hops: usize,
    sids: Vec<Ipv6Addr>,
    segments: Vec<Segment>,
}

impl SegmentList {
    pub fn mode(&self) -> Mode {
        self.mode
    }

    pub fn headend(&self) -> &str {
        &self.headend
    }

    /// The hops of the path the list forces.
    pub fn hops(&self) -> usize {
        self.hops
    }

    /// The SIDs, first segment first.
    pub fn sids(&self) -> &[Ipv6Addr] {
        &self.sids
    }

    pub fn segments(&self) -> &[Segment] {
        &self.segments
    }

    pub fn len(&self) -> usize {
        self.sids.len()
    }

    /// Whether the list is empty, as it is for a path that stays at its headend with no egress
    /// site: nothing to steer.
    pub fn is_empty(&self) -> bool {
        self.sids.is_empty()
    }
}

/// The segment list that forces `path` from its first node: in [`Mode::Loose`] the fewest
/// SIDs, then the fewest End.X among those (see [`crate::srv6`] and `docs/srv6.md`), in
/// [`Mode::Strict`] one End.X per hop. With an
/// `egress` site, which must be attached to the path's last router, the list ends with the
/// site's End.DT6. More than `max_sid_depth` SIDs is an error.
pub fn compile(
    g: &Graph,
    plan: &SidPlan,
    path: &Path,
    egress: Option<SiteId>,
    mode: Mode,
    max_sid_depth: usize,
) -> Result<SegmentList, Srv6Error> {
    plan.check_graph(g)?;
    check_path(g, plan, path)?;
    let target = path.target();
    if let Some(site) = egress {
        let router = plan.site_router(site)?;
        if router.0 != target {
            return Err(Srv6Error::SiteNotAtTarget {
                site: plan.site_name(site).unwrap_or_default().to_string(),
                site_router: plan.name_of(router.0),
                target: plan.name_of(target),
            });
        }
    }
    let functions = match mode {
        Mode::Strict => {
            let hops = path.arcs.iter().map(|&a| Sid::EndX(a));
            hops.chain(egress.map(Sid::EndDt6)).collect()
        }
        Mode::Loose => loose(g, path, egress),
    };
    if functions.len() > max_sid_depth {
        return Err(Srv6Error::TooDeep {
            hops: path.arcs.len(),
            needed: functions.len(),
            limit: max_sid_depth,
            mode,
        });
    }
    let segments = functions
        .into_iter()
        .map(|f| segment(g, plan, f))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(SegmentList {
        mode,
        headend: plan.name_of(path.source()),
        hops: path.arcs.len(),
        sids: segments.iter().map(|s| s.sid).collect(),
        segments,
    })
}

/// The path a segment list makes a packet take from the headend `from`: to each End SID's
/// router by the unique IGP shortest path, to each End.X SID's router and across its
/// adjacency, to the End.DT6 SID's router where it leaves the tunnel. An equal-cost split,
/// an unreachable SID, a SID the plan does not know or a SID after the End.DT6 is an error.
pub fn expand(g: &Graph, plan: &SidPlan, sids: &[Ipv6Addr], from: u32) -> Result<Path, Srv6Error> {
    plan.check_graph(g)?;
    if from as usize >= g.node_count() {
        return Err(Srv6Error::UnknownRouter(from));
    }
    let mut igp = Igp::new(g);
    let mut path = Path::at(from);
    let mut decapsulated = false;
    for (index, &sid) in sids.iter().enumerate() {
        if decapsulated {
            return Err(Srv6Error::SidAfterDecap { index, sid });
        }
        let function = plan
            .lookup(sid)
            .ok_or(Srv6Error::UnknownSid { sid, index })?;
        let (to, cross) = match function {
            Sid::End(router) => (router.0, None),
            Sid::EndX(arc) => (g.tail(arc), Some(arc)),
            Sid::EndDt6(site) => (plan.site_router(site)?.0, None),
        };
        let here = path.target();
        let arcs = igp.unique_path(here, to).map_err(|fault| match fault {
            Fault::NoRoute => Srv6Error::NoIgpRoute {
                index,
                sid,
                from: plan.name_of(here),
                to: plan.name_of(to),
            },
            Fault::Ecmp { at } => Srv6Error::Ecmp {
                index,
                sid,
                from: plan.name_of(here),
                to: plan.name_of(to),
                at: plan.name_of(at),
            },
        })?;
        for arc in arcs.into_iter().chain(cross) {
            if g.weight(arc, Metric::Igp) == UNUSABLE {
                return Err(Srv6Error::AdjacencyDown { index, sid });
            }
            path.arcs.push(arc);
            path.nodes.push(g.head(arc));
        }
        decapsulated = matches!(function, Sid::EndDt6(_));
    }
    Ok(path)
}

/// Whether `path` is a walk over up links of the plan's graph.
fn check_path(g: &Graph, plan: &SidPlan, path: &Path) -> Result<(), Srv6Error> {
    let broken = |reason: String| Err(Srv6Error::BrokenPath { reason });
    if path.nodes.len() != path.arcs.len() + 1 {
        return broken(format!(
            "{} nodes and {} arcs (a path has one node more than arcs)",
            path.nodes.len(),
            path.arcs.len()
        ));
    }
    if let Some(&v) = path.nodes.iter().find(|&&v| v as usize >= g.node_count()) {
        return broken(format!("node {v} is not in the graph"));
    }
    for (hop, &arc) in path.arcs.iter().enumerate() {
        if arc as usize >= g.arc_count() {
            return broken(format!("hop {hop}: arc {arc} is not in the graph"));
        }
        let (from, to) = (path.nodes[hop], path.nodes[hop + 1]);
        if g.tail(arc) != from || g.head(arc) != to {
            return broken(format!(
                "hop {hop}: arc {arc} joins `{}` to `{}`, not `{}` to `{}`",
                plan.name_of(g.tail(arc)),
                plan.name_of(g.head(arc)),
                plan.name_of(from),
                plan.name_of(to)
            ));
        }
        if g.weight(arc, Metric::Igp) == UNUSABLE {
            return Err(Srv6Error::LinkDown {
                hop,
                link: plan.link_name(arc).unwrap_or_default().to_string(),
            });
        }
    }
    Ok(())
}

/// The fewest SIDs that force `path` (checked), as described in the module documentation.
fn loose(g: &Graph, path: &Path, egress: Option<SiteId>) -> Vec<Sid> {
    let last = path.arcs.len();
    let mut igp = Igp::new(g);
    // reach[i]: the farthest position j such that nodes i..=j are the unique IGP shortest path.
    let reach: Vec<usize> = (0..last).map(|i| igp.unique_reach(path, i)).collect();
    // Backward programme: cost[i] is (SIDs, End.X SIDs) to force the path from position i on,
    // steps[i] the first SID of such a list and the position it brings the packet to.
    let mut cost = vec![(0usize, 0usize); last + 1];
    cost[last] = (usize::from(egress.is_some()), 0);
    let mut steps = vec![None; last];
    for i in (0..last).rev() {
        let mut best: Option<((usize, usize), Sid, usize)> = None;
        let mut consider = |c: (usize, usize), sid: Sid, j: usize| {
            if best.is_none_or(|(b, _, _)| c < b) {
                best = Some((c, sid, j));
            }
        };
        // Farthest first so that ties keep the segment that reaches farthest.
        for j in (i + 1..=last).rev() {
            if j <= reach[i] {
                match egress {
                    // The End.DT6 also steers to the last router, so it replaces its End.
                    Some(site) if j == last => consider((1, 0), Sid::EndDt6(site), j),
                    _ => consider(plus(cost[j], (1, 0)), Sid::End(RouterId(path.nodes[j])), j),
                }
            }
            if j - 1 <= reach[i] {
                consider(plus(cost[j], (1, 1)), Sid::EndX(path.arcs[j - 1]), j);
            }
        }
        if let Some((c, sid, j)) = best {
            cost[i] = c;
            steps[i] = Some((sid, j));
        }
    }
    let mut sids = Vec::new();
    let mut i = 0;
    while let Some(&Some((sid, j))) = steps.get(i) {
        sids.push(sid);
        i = j;
    }
    if let Some(site) = egress
        && sids.last() != Some(&Sid::EndDt6(site))
    {
        sids.push(Sid::EndDt6(site));
    }
    sids
}

fn plus(a: (usize, usize), b: (usize, usize)) -> (usize, usize) {
    (a.0.saturating_add(b.0), a.1.saturating_add(b.1))
}

/// A SID with the names that explain it.
fn segment(g: &Graph, plan: &SidPlan, function: Sid) -> Result<Segment, Srv6Error> {
    let router = plan.router_of(function)?;
    let mut segment = Segment {
        sid: plan.sid(function)?,
        function,
        behavior: function.behavior(),
        router: plan.name_of(router.0),
        link: None,
        neighbour: None,
        site: None,
    };
    match function {
        Sid::End(_) => {}
        Sid::EndX(arc) => {
            segment.link = plan.link_name(arc).map(str::to_string);
            segment.neighbour = Some(plan.name_of(g.head(arc)));
        }
        Sid::EndDt6(site) => segment.site = plan.site_name(site).map(str::to_string),
    }
    Ok(segment)
}

/// Why there is no unique IGP path.
enum Fault {
    NoRoute,
    /// Two equal-cost shortest paths meet at this node.
    Ecmp {
        at: u32,
    },
}

/// IGP shortest paths from one source at a time, with the reverse arcs needed to tell
/// whether a shortest path is the only one.
struct Igp<'g> {
    g: &'g Graph,
    sp: ShortestPaths,
    source: Option<u32>,
    /// Arcs into each node, CSR: `in_arcs[in_offsets[v]..in_offsets[v + 1]]`.
    in_offsets: Vec<u32>,
    in_arcs: Vec<ArcId>,
}

impl<'g> Igp<'g> {
    fn new(g: &'g Graph) -> Igp<'g> {
        let n = g.node_count();
        let mut in_offsets = vec![0u32; n + 1];
        for arc in 0..g.arc_count() as u32 {
            in_offsets[g.head(arc) as usize + 1] += 1;
        }
        for v in 0..n {
            in_offsets[v + 1] += in_offsets[v];
        }
        let mut next = in_offsets.clone();
        let mut in_arcs = vec![0; g.arc_count()];
        for arc in 0..g.arc_count() as u32 {
            let slot = &mut next[g.head(arc) as usize];
            in_arcs[*slot as usize] = arc;
            *slot += 1;
        }
        Igp {
            g,
            sp: ShortestPaths::new(),
            source: None,
            in_offsets,
            in_arcs,
        }
    }

    fn run_from(&mut self, source: u32) {
        if self.source != Some(source) {
            self.sp.run(self.g, source, None, Metric::Igp, |_| true);
            self.source = Some(source);
        }
    }

    /// How many arcs into `v` lie on a shortest path from the source (0, 1, or 2 meaning two
    /// or more), and the first such arc.
    fn tight_into(&self, v: u32) -> (usize, Option<ArcId>) {
        let Some(dv) = self.sp.distance(v) else {
            return (0, None);
        };
        let range = self.in_offsets[v as usize] as usize..self.in_offsets[v as usize + 1] as usize;
        let mut count = 0;
        let mut first = None;
        for &arc in &self.in_arcs[range] {
            let w = self.g.weight(arc, Metric::Igp);
            if w == UNUSABLE {
                continue;
            }
            let tight = self
                .sp
                .distance(self.g.tail(arc))
                .is_some_and(|du| du + u64::from(w) == dv);
            if tight {
                count += 1;
                first.get_or_insert(arc);
                if count == 2 {
                    break;
                }
            }
        }
        (count, first)
    }

    /// The farthest position `j >= i` such that the path's nodes `i..=j` are the unique IGP
    /// shortest path between their ends. The path is checked (its arcs are up).
    fn unique_reach(&mut self, path: &Path, i: usize) -> usize {
        let start = path.nodes[i];
        self.run_from(start);
        let mut cost = 0u64;
        let mut reach = i;
        for k in i + 1..path.nodes.len() {
            let (v, arc) = (path.nodes[k], path.arcs[k - 1]);
            cost += u64::from(self.g.weight(arc, Metric::Igp));
            // A shortest path never comes back to its start, and it is unique only if the
            // arc the path takes into each node is the one tight arc into it.
            if v == start
                || self.sp.distance(v) != Some(cost)
                || self.tight_into(v) != (1, Some(arc))
            {
                break;
            }
            reach = k;
        }
        reach
    }

    /// The arcs of the unique IGP shortest path from `from` to `to`.
    fn unique_path(&mut self, from: u32, to: u32) -> Result<Vec<ArcId>, Fault> {
        self.run_from(from);
        if self.sp.distance(to).is_none() {
            return Err(Fault::NoRoute);
        }
        let mut arcs = Vec::new();
        let mut v = to;
        while v != from {
            match self.tight_into(v) {
                // A longer walk back than there are nodes can only come from zero metrics,
                // which make forwarding loop: no unique path either.
                (1, Some(arc)) if arcs.len() < self.g.node_count() => {
                    arcs.push(arc);
                    v = self.g.tail(arc);
                }
                (0, _) => return Err(Fault::NoRoute),
                _ => return Err(Fault::Ecmp { at: v }),
            }
        }
        arcs.reverse();
        Ok(arcs)
    }
}
