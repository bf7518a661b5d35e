//! A path through the graph and what it costs.

use cpn_model::LinkId;
use serde::Serialize;

use crate::graph::{ArcId, Graph};

/// A walk through the graph as the arcs it takes, with the nodes it visits (`nodes.len() ==
/// arcs.len() + 1`; a path from a node to itself has one node and no arcs).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Path {
    pub nodes: Vec<u32>,
    pub arcs: Vec<ArcId>,
}

/// The sums and bottlenecks of a path.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PathStats {
    /// One-way latency in µs.
    pub latency_us: u64,
    pub igp: u64,
    /// The least unreserved bandwidth of its links, bits/s (`u64::MAX` for an empty path).
    pub bottleneck_bps: u64,
    /// End-to-end loss ratio, `1 - Π (1 - p_i)`.
    pub loss: f64,
    pub hops: usize,
}

impl Path {
    /// The trivial path that stays at `node`.
    pub fn at(node: u32) -> Path {
        Path {
            nodes: vec![node],
            arcs: Vec::new(),
        }
    }

    pub fn source(&self) -> u32 {
        self.nodes[0]
    }

    pub fn target(&self) -> u32 {
        self.nodes[self.nodes.len() - 1]
    }

    pub fn links<'a>(&'a self, g: &'a Graph) -> impl Iterator<Item = LinkId> + 'a {
        self.arcs.iter().map(|&a| g.link(a))
    }

    /// Whether the path visits no node twice.
    pub fn is_loopless(&self) -> bool {
        let mut seen = std::collections::HashSet::with_capacity(self.nodes.len());
        self.nodes.iter().all(|n| seen.insert(*n))
    }

    pub fn stats(&self, g: &Graph) -> PathStats {
        let mut s = PathStats {
            latency_us: 0,
            igp: 0,
            bottleneck_bps: u64::MAX,
            loss: 0.0,
            hops: self.arcs.len(),
        };
        let mut loss_log = 0.0;
        for &arc in &self.arcs {
            let link = g.link(arc);
            s.latency_us += u64::from(g.latency_us(link));
            s.igp += u64::from(g.igp(link));
            s.bottleneck_bps = s.bottleneck_bps.min(g.available(link).0);
            loss_log += g.loss_log(link);
        }
        s.loss = 1.0 - (-loss_log).exp();
        s
    }
}
