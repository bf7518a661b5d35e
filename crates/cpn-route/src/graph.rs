//! The routing graph: routers as nodes and links as arcs in compressed sparse row (CSR) form,
//! with link state in flat arrays. Built once from a scenario; link state (available
//! bandwidth, latency, loss, up/down) changes in place, without a rebuild, because that is
//! what telemetry and reservations do many times a second.
//!
//! Layout: the arcs leaving node `v` are `offsets[v]..offsets[v + 1]`; for each arc the head
//! node, its latency and IGP weights and its link sit in parallel arrays, so that a shortest
//! path search reads a few contiguous arrays and nothing else. A scenario link is full duplex
//! and gives two arcs, one each way, that share the link's state.

use cpn_model::{LinkId, RouterId, Scenario};
use cpn_units::{Bandwidth, Nanos, Ratio};

/// Index of a directed arc in the CSR arrays.
pub type ArcId = u32;

/// The weight a search minimises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Metric {
    /// One-way latency in µs.
    Latency,
    /// The IGP metric, which is what plain IP forwarding (and so SRv6 between segments) follows.
    Igp,
}

/// An arc weight that marks an arc as unusable (its link is down).
pub const UNUSABLE: u32 = u32::MAX;

/// The graph and the live state of its links.
#[derive(Debug, Clone)]
pub struct Graph {
    offsets: Vec<u32>,
    head: Vec<u32>,
    tail: Vec<u32>,
    link_of: Vec<u32>,
    /// Per arc: latency in µs, or [`UNUSABLE`] while the link is down.
    arc_latency: Vec<u32>,
    /// Per arc: IGP metric, or [`UNUSABLE`] while the link is down.
    arc_igp: Vec<u32>,
    links: LinkTable,
    /// Counts the changes of arc weights (latency, up/down) and of loss, so that a search
    /// result kept for later knows whether it still holds. Bandwidth does not count.
    version: u64,
}

/// Link state, one entry per link, struct-of-arrays.
#[derive(Debug, Clone, Default)]
struct LinkTable {
    arcs: Vec<[u32; 2]>,
    latency_us: Vec<u32>,
    igp: Vec<u32>,
    capacity: Vec<u64>,
    available: Vec<u64>,
    /// Loss as `-ln(1 - p)` so that losses along a path add up: the path delivers a packet
    /// only if every link does, `1 - P = Π (1 - p_i)`.
    loss_log: Vec<f64>,
    loss: Vec<u64>,
    up: Vec<bool>,
}

/// An arc given to [`Graph::from_arcs`]: `(from, to, weight)`; the weight is used as both
/// latency (µs) and IGP metric.
pub type ArcSpec = (u32, u32, u32);

/// Why a graph could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphError {
    #[error("arc {index} ({from} -> {to}) names a node beyond the {nodes} nodes of the graph")]
    NodeOutOfRange {
        index: usize,
        from: u32,
        to: u32,
        nodes: u32,
    },
    #[error("the graph has more than 2^32 - 2 arcs")]
    TooManyArcs,
}

impl Graph {
    /// The graph of a scenario: one node per router (same index), two arcs per link.
    pub fn from_scenario(scenario: &Scenario) -> Graph {
        let specs = scenario.links.iter().map(|l| LinkSpec {
            a: l.a.0,
            b: l.b.0,
            both_ways: true,
            latency_us: clamp_u32(l.latency.as_micros_rounded()),
            igp: l.igp_metric,
            capacity: l.bandwidth.0,
            loss: l.loss.0,
            up: l.up,
        });
        let nodes = u32::try_from(scenario.routers.len()).unwrap_or(u32::MAX);
        Graph::build(nodes, specs.collect())
    }

    /// A directed graph from arcs, for benchmarks and tests: each arc is its own link with
    /// unlimited capacity and no loss.
    pub fn from_arcs(nodes: u32, arcs: &[ArcSpec]) -> Result<Graph, GraphError> {
        if arcs.len() >= (u32::MAX - 1) as usize {
            return Err(GraphError::TooManyArcs);
        }
        let mut specs = Vec::with_capacity(arcs.len());
        for (index, &(from, to, weight)) in arcs.iter().enumerate() {
            if from >= nodes || to >= nodes {
                return Err(GraphError::NodeOutOfRange {
                    index,
                    from,
                    to,
                    nodes,
                });
            }
            specs.push(LinkSpec {
                a: from,
                b: to,
                both_ways: false,
                latency_us: weight.min(UNUSABLE - 1),
                igp: weight.min(UNUSABLE - 1),
                capacity: u64::MAX,
                loss: 0,
                up: true,
            });
        }
        Ok(Graph::build(nodes, specs))
    }

    fn build(nodes: u32, specs: Vec<LinkSpec>) -> Graph {
        let n = nodes as usize;
        let mut degree = vec![0u32; n + 1];
        for s in &specs {
            degree[s.a as usize] += 1;
            if s.both_ways {
                degree[s.b as usize] += 1;
            }
        }
        let mut offsets = vec![0u32; n + 1];
        for v in 0..n {
            offsets[v + 1] = offsets[v] + degree[v];
        }
        let arcs = offsets[n] as usize;
        let mut next = offsets.clone();
        let mut g = Graph {
            offsets,
            head: vec![0; arcs],
            tail: vec![0; arcs],
            link_of: vec![0; arcs],
            arc_latency: vec![0; arcs],
            arc_igp: vec![0; arcs],
            links: LinkTable::default(),
            version: 0,
        };
        for (link, s) in specs.iter().enumerate() {
            let link = link as u32;
            let mut place = |from: u32, to: u32| {
                let arc = next[from as usize];
                next[from as usize] += 1;
                let i = arc as usize;
                g.head[i] = to;
                g.tail[i] = from;
                g.link_of[i] = link;
                g.arc_latency[i] = if s.up { s.latency_us } else { UNUSABLE };
                g.arc_igp[i] = if s.up { s.igp } else { UNUSABLE };
                arc
            };
            let forward = place(s.a, s.b);
            let backward = if s.both_ways {
                place(s.b, s.a)
            } else {
                forward
            };
            let t = &mut g.links;
            t.arcs.push([forward, backward]);
            t.latency_us.push(s.latency_us);
            t.igp.push(s.igp);
            t.capacity.push(s.capacity);
            t.available.push(s.capacity);
            t.loss.push(s.loss);
            t.loss_log.push(loss_log(s.loss));
            t.up.push(s.up);
        }
        g
    }

    pub fn node_count(&self) -> usize {
        self.offsets.len() - 1
    }

    pub fn arc_count(&self) -> usize {
        self.head.len()
    }

    pub fn link_count(&self) -> usize {
        self.links.up.len()
    }

    /// The arcs leaving `node`.
    #[inline]
    pub fn arcs_from(&self, node: u32) -> std::ops::Range<ArcId> {
        self.offsets[node as usize]..self.offsets[node as usize + 1]
    }

    #[inline]
    pub fn head(&self, arc: ArcId) -> u32 {
        self.head[arc as usize]
    }

    #[inline]
    pub fn tail(&self, arc: ArcId) -> u32 {
        self.tail[arc as usize]
    }

    #[inline]
    pub fn link(&self, arc: ArcId) -> LinkId {
        LinkId(self.link_of[arc as usize])
    }

    /// The arc's weight under `metric`, [`UNUSABLE`] while its link is down.
    #[inline]
    pub fn weight(&self, arc: ArcId, metric: Metric) -> u32 {
        match metric {
            Metric::Latency => self.arc_latency[arc as usize],
            Metric::Igp => self.arc_igp[arc as usize],
        }
    }

    /// The contiguous weight array of `metric`, indexed by arc: the hot loop of a search reads
    /// this and [`Graph::heads`] only.
    #[inline]
    pub fn weights(&self, metric: Metric) -> &[u32] {
        match metric {
            Metric::Latency => &self.arc_latency,
            Metric::Igp => &self.arc_igp,
        }
    }

    #[inline]
    pub fn heads(&self) -> &[u32] {
        &self.head
    }

    #[inline]
    pub fn offsets(&self) -> &[u32] {
        &self.offsets
    }

    /// The two arcs of a link (the same arc twice for a one-way link).
    pub fn link_arcs(&self, link: LinkId) -> [ArcId; 2] {
        self.links.arcs[link.index()]
    }

    pub fn is_up(&self, link: LinkId) -> bool {
        self.links.up[link.index()]
    }

    pub fn latency_us(&self, link: LinkId) -> u32 {
        self.links.latency_us[link.index()]
    }

    pub fn igp(&self, link: LinkId) -> u32 {
        self.links.igp[link.index()]
    }

    pub fn capacity(&self, link: LinkId) -> Bandwidth {
        Bandwidth(self.links.capacity[link.index()])
    }

    /// Bandwidth not yet reserved on the link (in each direction).
    #[inline]
    pub fn available(&self, link: LinkId) -> Bandwidth {
        Bandwidth(self.links.available[link.index()])
    }

    pub fn loss(&self, link: LinkId) -> Ratio {
        Ratio(self.links.loss[link.index()])
    }

    /// `-ln(1 - loss)`: additive along a path.
    #[inline]
    pub fn loss_log(&self, link: LinkId) -> f64 {
        self.links.loss_log[link.index()]
    }

    /// Takes a link down or brings it back up.
    pub fn set_up(&mut self, link: LinkId, up: bool) {
        let i = link.index();
        self.links.up[i] = up;
        self.refresh_arcs(link);
    }

    /// A new latency for a link, as measured.
    pub fn set_latency(&mut self, link: LinkId, latency: Nanos) {
        self.links.latency_us[link.index()] = clamp_u32(latency.as_micros_rounded());
        self.refresh_arcs(link);
    }

    /// A new loss ratio for a link, as measured.
    pub fn set_loss(&mut self, link: LinkId, loss: Ratio) {
        // Kept searches may hold path losses.
        self.version += 1;
        let i = link.index();
        self.links.loss[i] = loss.0;
        self.links.loss_log[i] = loss_log(loss.0);
    }

    /// The bandwidth not reserved on a link (at most its capacity).
    pub fn set_available(&mut self, link: LinkId, available: Bandwidth) {
        let i = link.index();
        self.links.available[i] = available.0.min(self.links.capacity[i]);
    }

    /// The number of weight and loss changes so far: equal numbers, equal weights and losses.
    pub fn version(&self) -> u64 {
        self.version
    }

    fn refresh_arcs(&mut self, link: LinkId) {
        self.version += 1;
        let i = link.index();
        let up = self.links.up[i];
        for arc in self.links.arcs[i] {
            let a = arc as usize;
            self.arc_latency[a] = if up {
                self.links.latency_us[i]
            } else {
                UNUSABLE
            };
            self.arc_igp[a] = if up { self.links.igp[i] } else { UNUSABLE };
        }
    }

    /// The node of a router.
    pub fn node(router: RouterId) -> u32 {
        router.0
    }
}

struct LinkSpec {
    a: u32,
    b: u32,
    both_ways: bool,
    latency_us: u32,
    igp: u32,
    capacity: u64,
    loss: u64,
    up: bool,
}

fn clamp_u32(v: u64) -> u32 {
    u32::try_from(v).unwrap_or(UNUSABLE - 1).min(UNUSABLE - 1)
}

fn loss_log(loss_ppt: u64) -> f64 {
    let p = (loss_ppt as f64 / Ratio::ONE.0 as f64).min(1.0);
    if p >= 1.0 {
        f64::INFINITY
    } else {
        -(1.0 - p).ln()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csr_holds_every_arc_once() {
        let g = Graph::from_arcs(4, &[(0, 1, 5), (0, 2, 3), (2, 1, 1), (1, 3, 2)]).expect("valid");
        assert_eq!((g.node_count(), g.arc_count(), g.link_count()), (4, 4, 4));
        let out0: Vec<(u32, u32)> = g
            .arcs_from(0)
            .map(|a| (g.head(a), g.weight(a, Metric::Latency)))
            .collect();
        assert_eq!(out0, vec![(1, 5), (2, 3)]);
        assert_eq!(g.arcs_from(3).len(), 0);
        assert!(Graph::from_arcs(2, &[(0, 2, 1)]).is_err());
    }

    #[test]
    fn link_state_changes_in_place() {
        let mut g = Graph::from_arcs(2, &[(0, 1, 7)]).expect("valid");
        let link = LinkId(0);
        g.set_up(link, false);
        assert_eq!(g.weight(0, Metric::Latency), UNUSABLE);
        g.set_up(link, true);
        g.set_latency(link, Nanos::from_micros(9));
        assert_eq!(g.weight(0, Metric::Latency), 9);
        g.set_loss(link, Ratio(Ratio::ONE.0 / 100));
        assert!((g.loss_log(link) - 0.010_050_335_853_501_44).abs() < 1e-12);
    }
}
