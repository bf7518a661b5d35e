//! The searches the constrained algorithms share and [`ShortestPaths`](crate::ShortestPaths)
//! does not offer: Dijkstra over any arc weight (a cost table, a Lagrangian combination of
//! two metrics), with distances wider than `u64` where a combination needs them, and
//! backwards, from a target over the arcs entering each node, to get every node's distance
//! *to* the target (the lower bounds that prune label-setting and guide Yen's spur searches).
//!
//! Crate-private: the public single-source search stays [`ShortestPaths`](crate::ShortestPaths).

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::graph::{ArcId, Graph};
use crate::path::Path;

pub(crate) const NO_ARC: u32 = u32::MAX;

/// A distance: totally ordered, with saturating addition so that an overflow reads as
/// "unreachable" instead of wrapping into a short path.
pub(crate) trait Dist: Copy + Ord + std::fmt::Debug {
    const ZERO: Self;
    const INF: Self;
    fn plus(self, w: Self) -> Self;
}

impl Dist for u64 {
    const ZERO: u64 = 0;
    const INF: u64 = u64::MAX;
    #[inline]
    fn plus(self, w: u64) -> u64 {
        self.saturating_add(w)
    }
}

impl Dist for u128 {
    const ZERO: u128 = 0;
    const INF: u128 = u128::MAX;
    #[inline]
    fn plus(self, w: u128) -> u128 {
        self.saturating_add(w)
    }
}

/// The arcs entering each node (the graph's CSR is by tail), for backward searches.
#[derive(Debug, Clone, Default)]
pub(crate) struct InArcs {
    offsets: Vec<u32>,
    arcs: Vec<ArcId>,
}

impl InArcs {
    /// Rebuilds the index for `g` in place (a counting sort, O(nodes + arcs)).
    pub(crate) fn build(&mut self, g: &Graph) {
        let n = g.node_count();
        self.offsets.clear();
        self.offsets.resize(n + 1, 0);
        for &h in g.heads() {
            self.offsets[h as usize + 1] += 1;
        }
        for v in 0..n {
            self.offsets[v + 1] += self.offsets[v];
        }
        self.arcs.clear();
        self.arcs.resize(g.arc_count(), 0);
        let mut next: Vec<u32> = self.offsets[..n].to_vec();
        for (arc, &h) in g.heads().iter().enumerate() {
            let slot = &mut next[h as usize];
            self.arcs[*slot as usize] = arc as ArcId;
            *slot += 1;
        }
    }

    #[inline]
    pub(crate) fn arcs_into(&self, node: u32) -> &[ArcId] {
        &self.arcs[self.offsets[node as usize] as usize..self.offsets[node as usize + 1] as usize]
    }
}

/// Dijkstra's algorithm over a caller's arc weights, with reusable working memory.
#[derive(Debug, Clone)]
pub(crate) struct Dijkstra<D: Dist> {
    root: u32,
    dist: Vec<D>,
    pred: Vec<u32>,
    heap: BinaryHeap<Reverse<(D, u32)>>,
    touched: Vec<u32>,
}

impl<D: Dist> Default for Dijkstra<D> {
    fn default() -> Self {
        Dijkstra {
            root: 0,
            dist: Vec::new(),
            pred: Vec::new(),
            heap: BinaryHeap::new(),
            touched: Vec::new(),
        }
    }
}

impl<D: Dist> Dijkstra<D> {
    /// Distances from `source` along arcs, where `weight(arc)` is `None` for an arc that may
    /// not be used. Stops once `target` is settled, if given.
    pub(crate) fn forward(
        &mut self,
        g: &Graph,
        source: u32,
        target: Option<u32>,
        weight: impl Fn(ArcId) -> Option<D>,
    ) {
        self.start(g.node_count(), source);
        while let Some(Reverse((d, v))) = self.heap.pop() {
            if d > self.dist[v as usize] {
                continue;
            }
            if Some(v) == target {
                break;
            }
            for arc in g.arcs_from(v) {
                if let Some(w) = weight(arc) {
                    self.relax(g.head(arc), d.plus(w), arc);
                }
            }
        }
    }

    /// Distances *to* `target` from every node, walking arcs backwards; the predecessor of a
    /// node is then the arc it leaves by on its shortest way to `target`.
    pub(crate) fn backward(
        &mut self,
        g: &Graph,
        in_arcs: &InArcs,
        target: u32,
        weight: impl Fn(ArcId) -> Option<D>,
    ) {
        self.start(g.node_count(), target);
        while let Some(Reverse((d, v))) = self.heap.pop() {
            if d > self.dist[v as usize] {
                continue;
            }
            for &arc in in_arcs.arcs_into(v) {
                if let Some(w) = weight(arc) {
                    self.relax(g.tail(arc), d.plus(w), arc);
                }
            }
        }
    }

    fn start(&mut self, nodes: usize, root: u32) {
        if self.dist.len() != nodes {
            self.dist = vec![D::INF; nodes];
            self.pred = vec![NO_ARC; nodes];
        } else {
            for &v in &self.touched {
                self.dist[v as usize] = D::INF;
                self.pred[v as usize] = NO_ARC;
            }
        }
        self.touched.clear();
        self.heap.clear();
        self.root = root;
        self.touched.push(root);
        self.dist[root as usize] = D::ZERO;
        self.heap.push(Reverse((D::ZERO, root)));
    }

    #[inline]
    fn relax(&mut self, v: u32, d: D, arc: ArcId) {
        let slot = &mut self.dist[v as usize];
        if d < *slot {
            if *slot == D::INF {
                self.touched.push(v);
            }
            *slot = d;
            self.pred[v as usize] = arc;
            self.heap.push(Reverse((d, v)));
        }
    }

    /// The distance of `node` (from the source, or to the target of a backward search),
    /// `D::INF` when it was not reached.
    #[inline]
    pub(crate) fn dist(&self, node: u32) -> D {
        self.dist[node as usize]
    }

    /// All distances, indexed by node (`D::INF` for unreached nodes).
    pub(crate) fn distances(&self) -> &[D] {
        &self.dist
    }

    /// The path from the source of a forward search to `node`, if it was reached.
    pub(crate) fn path_to(&self, g: &Graph, node: u32) -> Option<Path> {
        if self.dist(node) == D::INF {
            return None;
        }
        let mut arcs = Vec::new();
        let mut v = node;
        while v != self.root {
            let arc = self.pred[v as usize];
            arcs.push(arc);
            v = g.tail(arc);
        }
        arcs.reverse();
        let mut nodes = Vec::with_capacity(arcs.len() + 1);
        nodes.push(self.root);
        nodes.extend(arcs.iter().map(|&a| g.head(a)));
        Some(Path { nodes, arcs })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::Metric;

    #[test]
    fn backward_distances_match_forward_ones() {
        let g = Graph::from_arcs(4, &[(0, 1, 5), (0, 2, 3), (2, 1, 1), (1, 3, 2), (3, 0, 1)])
            .expect("valid");
        let mut in_arcs = InArcs::default();
        in_arcs.build(&g);
        let mut back = Dijkstra::<u64>::default();
        back.backward(&g, &in_arcs, 3, |a| {
            Some(u64::from(g.weight(a, Metric::Latency)))
        });
        let mut fwd = Dijkstra::<u64>::default();
        for v in 0..4 {
            fwd.forward(&g, v, None, |a| {
                Some(u64::from(g.weight(a, Metric::Latency)))
            });
            assert_eq!(back.dist(v), fwd.dist(3), "from {v}");
        }
        fwd.forward(&g, 0, Some(3), |a| {
            Some(u64::from(g.weight(a, Metric::Latency)))
        });
        assert_eq!(fwd.path_to(&g, 3).map(|p| p.nodes), Some(vec![0, 2, 1, 3]));
    }
}
