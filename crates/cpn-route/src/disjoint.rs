//! Protection paths: two paths between the same nodes that share no link, so that one link
//! failure leaves one of them working. Disjointness is by link, not by arc: a scenario link
//! is full duplex and gives two arcs, and a fibre cut takes both, so a backup must use
//! neither direction of any link of its primary.
//!
//! Two ways to get one, for two situations:
//! - [`DisjointPaths::pair`] (Suurballe 1974, in the successive-shortest-paths form of
//!   Suurballe and Tarjan 1984) finds the pair with the least total weight. The first path is
//!   a shortest path; the second is a shortest path in the residual graph, where the first
//!   path's arcs may be walked backwards at a reduced cost of zero (undoing them), and every
//!   other arc costs `w + d(tail) - d(head)` with `d` the distances of the first search, which
//!   is never negative, so Dijkstra applies. The arcs both paths use once, minus those used
//!   forwards and undone, form two paths with the least total weight. Where they would use
//!   both arcs of one link in opposite directions, both are dropped: that only lowers the
//!   weight and makes the pair link-disjoint. The lighter of the two is the primary. It may
//!   be heavier than the shortest path: the pair is optimal as a pair.
//! - [`DisjointPaths::backup_for`] keeps a primary that is already chosen (already installed,
//!   say) and finds the shortest path avoiding its links. It is cheaper and never moves the
//!   primary, but it can fail where a pair exists: a shortest primary can cut the graph
//!   (the "trap" topology), and even when it succeeds the two together may weigh more than
//!   Suurballe's pair.
//!
//! Both use only the pruning part of the constraints (down links, bandwidth, arc filter);
//! whether each path meets a latency or loss bound is for the caller to check
//! ([`Constraints::admits`]).

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};

use crate::constraints::{Constraints, CostedPath, QueryError, Sums, usable_mask};
use crate::graph::{ArcId, Graph, Metric};
use crate::path::Path;
use crate::search::{Dijkstra, NO_ARC};
use crate::sssp::ShortestPaths;

/// Two link-disjoint paths between the same nodes.
#[derive(Debug, Clone, PartialEq)]
pub struct DisjointPair {
    /// The lighter of the two (`cost` is the metric's sum).
    pub primary: CostedPath,
    pub backup: CostedPath,
}

impl DisjointPair {
    /// The weight of both paths together, which [`DisjointPaths::pair`] minimises.
    pub fn total(&self) -> u64 {
        self.primary.cost + self.backup.cost
    }
}

/// Working memory for disjoint-path searches, reused across queries.
#[derive(Debug, Default)]
pub struct DisjointPaths {
    usable: Vec<bool>,
    first: Dijkstra<u64>,
    /// Per node: the first path's arc into it, `NO_ARC` off that path.
    first_in: Vec<u32>,
    /// Per arc: on the first path.
    on_first: Vec<bool>,
    /// Residual search: distance, predecessor arc and whether it was walked backwards.
    dist: Vec<u64>,
    pred: Vec<(u32, bool)>,
    heap: BinaryHeap<Reverse<(u64, u32)>>,
    touched: Vec<u32>,
    on_primary: Vec<bool>,
    sp: ShortestPaths,
}

impl DisjointPaths {
    pub fn new() -> DisjointPaths {
        DisjointPaths::default()
    }

    /// The pair of link-disjoint paths from `source` to `target` with the least total weight
    /// under `metric`, over the arcs `constraints` allow; `None` when there is no such pair.
    pub fn pair(
        &mut self,
        g: &Graph,
        source: u32,
        target: u32,
        metric: Metric,
        constraints: &Constraints<'_>,
    ) -> Result<Option<DisjointPair>, QueryError> {
        constraints.check(g, &[source, target])?;
        if source == target {
            let stay = costed(g, metric, Path::at(source));
            return Ok(Some(DisjointPair {
                primary: stay.clone(),
                backup: stay,
            }));
        }
        usable_mask(g, constraints, &mut self.usable);
        let usable = &self.usable;
        self.first.forward(g, source, None, |a| {
            usable[a as usize].then(|| u64::from(g.weight(a, metric)))
        });
        let Some(first) = self.first.path_to(g, target) else {
            return Ok(None);
        };
        let n = g.node_count();
        self.first_in.clear();
        self.first_in.resize(n, NO_ARC);
        self.on_first.clear();
        self.on_first.resize(g.arc_count(), false);
        for &arc in &first.arcs {
            self.first_in[g.head(arc) as usize] = arc;
            self.on_first[arc as usize] = true;
        }
        if !self.residual_search(g, source, target, metric) {
            return Ok(None);
        }

        // The flow: the first path's arcs, plus the second's forward arcs, minus the first's
        // arcs the second walked backwards.
        let mut flow: Vec<ArcId> = Vec::with_capacity(first.arcs.len() * 2);
        let mut v = target;
        while v != source {
            let (arc, backwards) = self.pred[v as usize];
            if backwards {
                self.on_first[arc as usize] = false;
                v = g.head(arc);
            } else {
                flow.push(arc);
                v = g.tail(arc);
            }
        }
        flow.extend(first.arcs.iter().filter(|&&a| self.on_first[a as usize]));
        // Both directions of one link carry one unit each: cancel them.
        let in_flow: HashSet<ArcId> = flow.iter().copied().collect();
        flow.retain(|&a| {
            let [x, y] = g.link_arcs(g.link(a));
            let twin = if x == a { y } else { x };
            twin == a || !in_flow.contains(&twin)
        });
        let Some((p, q)) = decompose(g, source, target, flow) else {
            return Ok(None);
        };
        let (p, q) = (costed(g, metric, p), costed(g, metric, q));
        let p_first = (p.cost, p.path.arcs.len(), &p.path.nodes)
            <= (q.cost, q.path.arcs.len(), &q.path.nodes);
        let (primary, backup) = if p_first { (p, q) } else { (q, p) };
        Ok(Some(DisjointPair { primary, backup }))
    }

    /// Dijkstra on reduced costs in the residual graph of the first path; leaves the
    /// predecessors in `self.pred` and says whether `target` was reached.
    fn residual_search(&mut self, g: &Graph, source: u32, target: u32, metric: Metric) -> bool {
        let n = g.node_count();
        if self.dist.len() != n {
            self.dist = vec![u64::MAX; n];
            self.pred = vec![(NO_ARC, false); n];
        }
        for &v in &self.touched {
            self.dist[v as usize] = u64::MAX;
        }
        self.touched.clear();
        self.heap.clear();
        let d1 = self.first.distances();
        self.dist[source as usize] = 0;
        self.touched.push(source);
        self.heap.push(Reverse((0, source)));
        while let Some(Reverse((d, v))) = self.heap.pop() {
            if d > self.dist[v as usize] {
                continue;
            }
            if v == target {
                return true;
            }
            let dv = d1[v as usize];
            let mut relax = |u: u32, nd: u64, step: (u32, bool)| {
                if nd < self.dist[u as usize] {
                    if self.dist[u as usize] == u64::MAX {
                        self.touched.push(u);
                    }
                    self.dist[u as usize] = nd;
                    self.pred[u as usize] = step;
                    self.heap.push(Reverse((nd, u)));
                }
            };
            for arc in g.arcs_from(v) {
                if !self.usable[arc as usize] || self.on_first[arc as usize] {
                    continue;
                }
                let u = g.head(arc);
                // Every node here was reached by the first search, which settled all of them,
                // so d(head) ≤ d(tail) + w and the reduced cost is not negative.
                let reduced =
                    (dv + u64::from(g.weight(arc, metric))).saturating_sub(d1[u as usize]);
                relax(u, d + reduced, (arc, false));
            }
            let back = self.first_in[v as usize];
            if back != NO_ARC {
                relax(g.tail(back), d, (back, true));
            }
        }
        false
    }

    /// The shortest path from `primary`'s source to its target that uses neither direction
    /// of any of its links, over the arcs `constraints` allow; `None` when there is none.
    pub fn backup_for(
        &mut self,
        g: &Graph,
        primary: &Path,
        metric: Metric,
        constraints: &Constraints<'_>,
    ) -> Result<Option<CostedPath>, QueryError> {
        let (source, target) = (primary.source(), primary.target());
        constraints.check(g, &[source, target])?;
        usable_mask(g, constraints, &mut self.usable);
        self.on_primary.clear();
        self.on_primary.resize(g.link_count(), false);
        for link in primary.links(g) {
            self.on_primary[link.index()] = true;
        }
        let (usable, on_primary) = (&self.usable, &self.on_primary);
        self.sp.run(g, source, Some(target), metric, |a| {
            usable[a as usize] && !on_primary[g.link(a).index()]
        });
        Ok(self.sp.path_to(g, target).map(|p| costed(g, metric, p)))
    }
}

/// Two source-to-target paths from a flow of two units given as its arcs. Cycles in the
/// flow (possible where weights are zero) are cut out of the walks.
fn decompose(g: &Graph, source: u32, target: u32, mut flow: Vec<ArcId>) -> Option<(Path, Path)> {
    flow.sort_unstable_by_key(|&a| (g.tail(a), a));
    let mut used = vec![false; flow.len()];
    let mut walk = || -> Option<Path> {
        let mut arcs: Vec<ArcId> = Vec::new();
        let mut at: HashMap<u32, usize> = HashMap::from([(source, 0)]);
        let mut v = source;
        while v != target {
            let start = flow.partition_point(|&a| g.tail(a) < v);
            let i = (start..flow.len())
                .take_while(|&i| g.tail(flow[i]) == v)
                .find(|&i| !used[i])?;
            used[i] = true;
            let arc = flow[i];
            let u = g.head(arc);
            if let Some(&pos) = at.get(&u) {
                // Back at a node of this walk: drop the cycle.
                for &dropped in &arcs[pos..] {
                    at.remove(&g.head(dropped));
                }
                arcs.truncate(pos);
            } else {
                arcs.push(arc);
                at.insert(u, arcs.len());
            }
            v = u;
        }
        let mut nodes = Vec::with_capacity(arcs.len() + 1);
        nodes.push(source);
        nodes.extend(arcs.iter().map(|&a| g.head(a)));
        Some(Path { nodes, arcs })
    };
    let p = walk()?;
    let q = walk()?;
    Some((p, q))
}

fn costed(g: &Graph, metric: Metric, path: Path) -> CostedPath {
    let sums = Sums::of(g, &path.arcs, metric);
    CostedPath {
        path,
        cost: sums.weight,
        latency_us: sums.latency_us,
        loss_log: sums.loss_log,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The trap, with full-duplex links: the shortest path 0-1-2-3 blocks every disjoint
    /// partner, while the pair 0-1-3 and 0-2-3 exists.
    fn trap() -> Graph {
        let mut toml = String::new();
        for r in 0..4 {
            toml.push_str(&format!("[[router]]\nid = \"r{r}\"\n"));
        }
        for (a, b, us) in [(0, 1, 1), (1, 2, 1), (2, 3, 1), (0, 2, 2), (1, 3, 2)] {
            toml.push_str(&format!(
                "[[link]]\na = \"r{a}\"\nb = \"r{b}\"\nbandwidth = \"1 Gbps\"\nlatency = \"{us} us\"\n"
            ));
        }
        let scenario = cpn_model::Scenario::parse("trap", &toml, &mut cpn_model::NoImports)
            .expect("valid scenario");
        Graph::from_scenario(&scenario)
    }

    fn path_through(g: &Graph, nodes: &[u32]) -> Path {
        let arcs = nodes
            .windows(2)
            .filter_map(|w| g.arcs_from(w[0]).find(|&a| g.head(a) == w[1]))
            .collect();
        Path {
            nodes: nodes.to_vec(),
            arcs,
        }
    }

    #[test]
    fn suurballe_escapes_the_trap_and_backup_for_does_not() {
        let g = trap();
        let mut dp = DisjointPaths::new();
        let free = Constraints::none();
        let pair = dp
            .pair(&g, 0, 3, Metric::Igp, &free)
            .expect("valid query")
            .expect("a pair exists");
        assert_eq!(pair.total(), 6);
        assert_eq!(pair.primary.path.nodes, vec![0, 1, 3]);
        assert_eq!(pair.backup.path.nodes, vec![0, 2, 3]);
        let shortest = path_through(&g, &[0, 1, 2, 3]);
        assert_eq!(dp.backup_for(&g, &shortest, Metric::Igp, &free), Ok(None));
        let backup = dp
            .backup_for(&g, &pair.primary.path, Metric::Igp, &free)
            .expect("valid query")
            .expect("a backup exists");
        assert_eq!(backup.path.nodes, vec![0, 2, 3]);
    }

    #[test]
    fn a_single_link_has_no_partner() {
        let g = Graph::from_arcs(2, &[(0, 1, 1)]).expect("valid");
        let mut dp = DisjointPaths::new();
        assert_eq!(
            dp.pair(&g, 0, 1, Metric::Igp, &Constraints::none()),
            Ok(None)
        );
        let stay = dp
            .pair(&g, 1, 1, Metric::Igp, &Constraints::none())
            .expect("valid query")
            .expect("staying is always possible");
        assert_eq!(stay.total(), 0);
    }
}
