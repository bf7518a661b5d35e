//! Single-source shortest paths (Dijkstra) over integer arc weights, with an arc filter for
//! constrained searches (links without the requested bandwidth, links outside a slice).
//!
//! A [`ShortestPaths`] owns its working memory and is reused across searches, so that a
//! decision allocates nothing once it has warmed up, and starting a search costs O(1)
//! whatever the previous one reached.
//!
//! Why it is fast. On a large graph the search waits for memory, not for arithmetic: the arcs
//! of the next node and the labels of its neighbours are rarely in cache. Four choices cut
//! that wait. Times are medians on the 1000 x 1000 grid of `cpn bench graph` (1M nodes, 4M
//! arcs) in one session on the 2-core benchmark machine (BENCHMARKS.md), each step on top
//! of the previous one:
//! - The queue is a monotone bucket queue ([`crate::queue`]): a push is an append to the
//!   bucket of its distance, with no sift through a heap (binary heap 160 ms, radix heap
//!   105 ms, buckets 95 ms).
//! - A node's distance and predecessor arc sit side by side, so relaxing an arc touches one
//!   cache line of node state, not two (85 ms).
//! - All nodes at the least distance are settled as one batch, in passes: first the arc
//!   ranges of the batch, then what every arc offers, then the comparisons with labels. The
//!   first two passes have no branch on a neighbour's label, so the processor fetches the
//!   arcs of many nodes at once instead of one node at a time behind each mispredicted
//!   comparison (70 ms, then 65 ms with the ranges apart).
//! - Labels carry the number of the search that wrote them, so a search starts without
//!   clearing labels or keeping a list of the nodes to clear (62 to 65 ms with such a list,
//!   1 to 3% less without).
//!
//! Tried and slower on that grid: a 4-ary heap with decrease-key (143 ms), one array of
//! (head, weight) pairs, comparisons without branches, and touching a node's arcs when it is
//! queued or its neighbours' labels in a pass of their own.
//!
//! The arc filter is a generic parameter, so `|_| true` compiles to nothing.

use crate::graph::{ArcId, Graph, Metric, UNUSABLE};
use crate::path::Path;
use crate::queue::BucketQueue;

const NO_ARC: u32 = u32::MAX;

/// What a search knows of a node: its distance and the arc it was reached by, valid only if
/// `search` is the number of the current search. Numbering the searches makes a reset O(1):
/// a label from an earlier search reads as unreached, and nothing needs to be cleared or
/// remembered. The number fits in the padding after `pred`, so it costs no memory.
#[derive(Debug, Clone, Copy)]
struct Label {
    dist: u64,
    pred: ArcId,
    search: u32,
}

const NEVER: Label = Label {
    dist: u64::MAX,
    pred: NO_ARC,
    search: 0,
};

/// An arc of a settled node, with the distance it offers its head.
#[derive(Debug, Clone, Copy)]
struct Candidate {
    head: u32,
    arc: ArcId,
    dist: u64,
}

/// Distances and predecessor arcs from one source.
#[derive(Debug, Clone, Default)]
pub struct ShortestPaths {
    source: u32,
    labels: Vec<Label>,
    /// The number of the current search, from 1 (0 marks labels no search wrote).
    search: u32,
    queue: BucketQueue,
    batch: Vec<u32>,
    ranges: Vec<(ArcId, ArcId)>,
    candidates: Vec<Candidate>,
}

impl ShortestPaths {
    pub fn new() -> ShortestPaths {
        ShortestPaths::default()
    }

    /// Shortest paths from `source` under `metric`, using only arcs for which `allow` holds
    /// (down links are always skipped). Stops early once `target` is settled, if given; the
    /// distances of nodes other than `target` are then final only if they are at most
    /// `target`'s. A `source` that is not a node of `g` reaches nothing.
    pub fn run(
        &mut self,
        g: &Graph,
        source: u32,
        target: Option<u32>,
        metric: Metric,
        allow: impl Fn(ArcId) -> bool,
    ) {
        self.run_until(g, source, metric, allow, |v, _| Some(v) == target);
    }

    /// Like [`ShortestPaths::run`], but stops as soon as `settled(node, distance)` returns
    /// true for a node it has just settled (the nodes settled before it, and every node at the
    /// same distance, are final too). The joint decision uses this to stop once every candidate site's
    /// router is settled.
    pub fn run_until(
        &mut self,
        g: &Graph,
        source: u32,
        metric: Metric,
        allow: impl Fn(ArcId) -> bool,
        mut settled: impl FnMut(u32, u64) -> bool,
    ) {
        self.reset(g.node_count());
        self.source = source;
        let ShortestPaths {
            labels,
            search,
            queue,
            batch,
            ranges,
            candidates,
            ..
        } = self;
        let Some(label) = labels.get_mut(source as usize) else {
            return;
        };
        let search = *search;
        *label = Label {
            dist: 0,
            pred: NO_ARC,
            search,
        };
        queue.push(0, source);
        let (offsets, heads, weights) = (g.offsets(), g.heads(), g.weights(metric));
        while let Some(d) = queue.pop_batch(batch) {
            // Pass 1: the arc ranges of the batch's nodes, then what each arc offers. No
            // comparison with labels here.
            ranges.clear();
            for &v in batch.iter() {
                // `v` was queued by this search, so its label is current.
                if labels[v as usize].dist != d {
                    // A stale copy: `v` was settled earlier at a smaller distance.
                    continue;
                }
                if settled(v, d) {
                    batch.clear();
                    return;
                }
                ranges.push((offsets[v as usize], offsets[v as usize + 1]));
            }
            candidates.clear();
            for &(lo, hi) in ranges.iter() {
                let arcs = lo as usize..hi as usize;
                for ((arc, &head), &w) in (lo..hi).zip(&heads[arcs.clone()]).zip(&weights[arcs]) {
                    if w == UNUSABLE || !allow(arc) {
                        continue;
                    }
                    candidates.push(Candidate {
                        head,
                        arc,
                        dist: d + u64::from(w),
                    });
                }
            }
            batch.clear();
            // Pass 2: keep the offers that improve a label.
            for c in candidates.iter() {
                let label = &mut labels[c.head as usize];
                let current = if label.search == search {
                    label.dist
                } else {
                    u64::MAX
                };
                if c.dist < current {
                    *label = Label {
                        dist: c.dist,
                        pred: c.arc,
                        search,
                    };
                    queue.push(c.dist, c.head);
                }
            }
        }
    }

    fn reset(&mut self, nodes: usize) {
        if self.labels.len() != nodes {
            self.labels = vec![NEVER; nodes];
            self.search = 0;
        }
        self.search = self.search.wrapping_add(1);
        if self.search == 0 {
            // After 2^32 - 1 searches the numbers start again, from labels no search wrote.
            self.labels.fill(NEVER);
            self.search = 1;
        }
        self.queue.clear();
        self.batch.clear();
    }

    /// The distance to `node`, if it was reached.
    pub fn distance(&self, node: u32) -> Option<u64> {
        self.labels
            .get(node as usize)
            .filter(|l| l.search == self.search && l.dist != u64::MAX)
            .map(|l| l.dist)
    }

    /// The arc the search reached `node` by: `None` for the source and for nodes not reached.
    pub fn pred_arc(&self, node: u32) -> Option<ArcId> {
        self.labels
            .get(node as usize)
            .filter(|l| l.search == self.search && l.pred != NO_ARC)
            .map(|l| l.pred)
    }

    /// The shortest path to `node`, if it was reached.
    pub fn path_to(&self, g: &Graph, node: u32) -> Option<Path> {
        self.distance(node)?;
        let mut arcs = Vec::new();
        let mut v = node;
        while v != self.source {
            let arc = self.labels[v as usize].pred;
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

    #[test]
    fn labels_of_old_searches_never_leak_even_when_the_numbers_wrap() {
        let g = Graph::from_arcs(4, &[(0, 1, 5), (0, 2, 3), (2, 1, 1), (1, 3, 2)]).expect("valid");
        let mut sp = ShortestPaths::new();
        sp.run(&g, 0, None, Metric::Latency, |_| true);
        assert_eq!(sp.distance(1), Some(4));
        // Pretend that 2^32 - 2 searches ran since: the next number wraps round to the
        // number the labels above were written with.
        sp.search = u32::MAX;
        sp.run(&g, 3, None, Metric::Latency, |_| true);
        assert_eq!(sp.search, 1);
        assert_eq!(
            (0..4).map(|v| sp.distance(v)).collect::<Vec<_>>(),
            vec![None, None, None, Some(0)]
        );
        assert_eq!(sp.path_to(&g, 1), None);
    }
}
