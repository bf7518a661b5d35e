//! Single-source shortest paths (Dijkstra) over integer arc weights, with an arc filter for
//! constrained searches (links without the requested bandwidth, links outside a slice).
//!
//! A [`ShortestPaths`] owns its working memory and is reused across searches, so that a
//! decision allocates nothing once it has warmed up.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::graph::{ArcId, Graph, Metric, UNUSABLE};
use crate::path::Path;

const NO_ARC: u32 = u32::MAX;

/// Distances and predecessor arcs from one source.
#[derive(Debug, Clone, Default)]
pub struct ShortestPaths {
    source: u32,
    dist: Vec<u64>,
    pred: Vec<u32>,
    heap: BinaryHeap<Reverse<(u64, u32)>>,
    touched: Vec<u32>,
}

impl ShortestPaths {
    pub fn new() -> ShortestPaths {
        ShortestPaths::default()
    }

    /// Shortest paths from `source` under `metric`, using only arcs for which `allow` holds
    /// (down links are always skipped). Stops early once `target` is settled, if given.
    pub fn run(
        &mut self,
        g: &Graph,
        source: u32,
        target: Option<u32>,
        metric: Metric,
        allow: impl Fn(ArcId) -> bool,
    ) {
        self.reset(g.node_count());
        self.source = source;
        let weights = g.weights(metric);
        let heads = g.heads();
        self.set(source, 0, NO_ARC);
        self.heap.push(Reverse((0, source)));
        while let Some(Reverse((d, v))) = self.heap.pop() {
            if d > self.dist[v as usize] {
                continue;
            }
            if Some(v) == target {
                break;
            }
            for arc in g.arcs_from(v) {
                let w = weights[arc as usize];
                if w == UNUSABLE || !allow(arc) {
                    continue;
                }
                let u = heads[arc as usize];
                let nd = d + u64::from(w);
                if nd < self.dist[u as usize] {
                    self.set(u, nd, arc);
                    self.heap.push(Reverse((nd, u)));
                }
            }
        }
    }

    fn reset(&mut self, nodes: usize) {
        if self.dist.len() != nodes {
            self.dist = vec![u64::MAX; nodes];
            self.pred = vec![NO_ARC; nodes];
            self.touched.clear();
        } else {
            for &v in &self.touched {
                self.dist[v as usize] = u64::MAX;
                self.pred[v as usize] = NO_ARC;
            }
            self.touched.clear();
        }
        self.heap.clear();
    }

    #[inline]
    fn set(&mut self, v: u32, d: u64, arc: u32) {
        if self.dist[v as usize] == u64::MAX {
            self.touched.push(v);
        }
        self.dist[v as usize] = d;
        self.pred[v as usize] = arc;
    }

    /// The distance to `node`, if it was reached.
    pub fn distance(&self, node: u32) -> Option<u64> {
        self.dist
            .get(node as usize)
            .copied()
            .filter(|&d| d != u64::MAX)
    }

    /// The shortest path to `node`, if it was reached.
    pub fn path_to(&self, g: &Graph, node: u32) -> Option<Path> {
        self.distance(node)?;
        let mut arcs = Vec::new();
        let mut v = node;
        while v != self.source {
            let arc = self.pred[v as usize];
            arcs.push(arc);
            v = g.tail(arc);
        }
        arcs.reverse();
        let mut nodes = Vec::with_capacity(arcs.len() + 1);
        nodes.push(self.source);
        nodes.extend(arcs.iter().map(|&a| g.head(a)));
        Some(Path { nodes, arcs })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_cheaper_detour() {
        let g = Graph::from_arcs(4, &[(0, 1, 5), (0, 2, 3), (2, 1, 1), (1, 3, 2)]).expect("valid");
        let mut sp = ShortestPaths::new();
        sp.run(&g, 0, None, Metric::Latency, |_| true);
        assert_eq!(sp.distance(3), Some(6));
        assert_eq!(sp.path_to(&g, 3).map(|p| p.nodes), Some(vec![0, 2, 1, 3]));
        // Without the arc 0 -> 2 the direct arc is the only way.
        sp.run(&g, 0, None, Metric::Latency, |a| {
            !(g.tail(a) == 0 && g.head(a) == 2)
        });
        assert_eq!(sp.distance(3), Some(7));
        sp.run(&g, 3, None, Metric::Latency, |_| true);
        assert_eq!(sp.distance(0), None);
    }
}
