//! The k shortest loopless paths between two nodes under a metric (Yen 1971), over the arcs
//! the constraints allow, skipping paths that break the latency or loss bound. Alternatives
//! ranked by weight are what a controller offers when the best path is full, and what load
//! balancing and protection choose from.
//!
//! Yen's algorithm accepts paths in order of weight. For each accepted path and each node
//! on it (the spur node), it searches for the best way from the spur node to the target that
//! keeps the path's prefix (the root), uses no root node again, and leaves the spur node by
//! none of the arcs that accepted paths with the same root leave it by; each such way,
//! appended to its root, is a candidate, and the best candidate is accepted next.
//!
//! Three refinements keep it fast without changing what it returns:
//! - **Goal-directed spur searches.** One backward Dijkstra from the target gives every
//!   node's exact distance to it in the allowed graph. Removing arcs and nodes only makes
//!   distances longer, so this is a consistent A* heuristic for every spur search, which then
//!   settles little more than the nodes of its own detour.
//! - **Spur nodes from the deviation on** (Lawler 1972). A path that left its parent at node
//!   `i` shares the parent's root up to `i`, and the candidates of those shorter roots were
//!   already generated from the parent, so spur searches start at `i`.
//! - **Bounded candidates.** Only as many candidates within the bounds are kept as paths
//!   are still to be found, and no spur search goes beyond the weight of the last of them, nor,
//!   when the metric is latency, beyond the latency bound.
//!
//! Paths that break a bound are not returned but are still expanded, since a path that does
//! meet the bounds may branch from them; [`KShortestPaths::with_skip_limit`] caps how many are
//! skipped. Equal weights are ordered deterministically (among the candidates at hand, fewer
//! hops first, then by node sequence; spur searches break ties by node), so the same query
//! on the same graph returns the same paths. The search memory is reused across queries;
//! the candidates themselves are allocated, a few per spur node.

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeSet, BinaryHeap};

use crate::constraints::{Constraints, CostedPath, QueryError, Sums, usable_mask};
use crate::graph::{ArcId, Graph, Metric};
use crate::path::Path;
use crate::search::{Dijkstra, InArcs, NO_ARC};

/// How many paths that break a bound a query expands before it stops; see
/// [`KShortestPaths::with_skip_limit`].
pub const DEFAULT_SKIP_LIMIT: usize = 10_000;

/// The result of a k-shortest-paths query.
#[derive(Debug, Clone, PartialEq)]
pub struct KShortest {
    /// At most k paths, loopless, distinct, in order of weight (`cost` is the metric's sum).
    pub paths: Vec<CostedPath>,
    /// The skip limit stopped the search before it found k paths or ran out of paths: more
    /// paths within the bounds may exist.
    pub truncated: bool,
}

/// Working memory for Yen's algorithm.
#[derive(Debug)]
pub struct KShortestPaths {
    skip_limit: usize,
    usable: Vec<bool>,
    in_arcs: InArcs,
    to_target: Dijkstra<u64>,
    latency_to_target: Dijkstra<u64>,
    spur: SpurSearch,
    blocked_node: Vec<bool>,
    blocked_arcs: Vec<ArcId>,
}

impl Default for KShortestPaths {
    fn default() -> Self {
        KShortestPaths {
            skip_limit: DEFAULT_SKIP_LIMIT,
            usable: Vec::new(),
            in_arcs: InArcs::default(),
            to_target: Dijkstra::default(),
            latency_to_target: Dijkstra::default(),
            spur: SpurSearch::default(),
            blocked_node: Vec::new(),
            blocked_arcs: Vec::new(),
        }
    }
}

/// A path found and not yet accepted, or accepted. Ordered by weight, hops, nodes, arcs.
#[derive(Debug, Clone)]
struct Candidate {
    cost: u64,
    nodes: Vec<u32>,
    arcs: Vec<ArcId>,
    /// The index of the node where it left the path it was found from.
    deviation: usize,
    latency_us: u64,
    loss_log: f64,
}

impl Candidate {
    fn key(&self) -> (u64, usize, &[u32], &[ArcId]) {
        (self.cost, self.arcs.len(), &self.nodes, &self.arcs)
    }
}

impl PartialEq for Candidate {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl Eq for Candidate {}

impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Candidate {
    fn cmp(&self, other: &Self) -> Ordering {
        self.key().cmp(&other.key())
    }
}

impl KShortestPaths {
    pub fn new() -> KShortestPaths {
        KShortestPaths::default()
    }

    /// Expands at most `limit` paths that break a bound per query (default
    /// [`DEFAULT_SKIP_LIMIT`]); beyond that the result is marked truncated. Tight bounds on
    /// a metric other than the bounded one can otherwise enumerate very many paths.
    pub fn with_skip_limit(mut self, limit: usize) -> KShortestPaths {
        self.skip_limit = limit;
        self
    }

    /// Up to `k` loopless paths from `source` to `target` in order of `metric`, over the
    /// arcs `constraints` allow and within its bounds.
    pub fn run(
        &mut self,
        g: &Graph,
        source: u32,
        target: u32,
        k: usize,
        metric: Metric,
        constraints: &Constraints<'_>,
    ) -> Result<KShortest, QueryError> {
        constraints.check(g, &[source, target])?;
        let mut out = KShortest {
            paths: Vec::new(),
            truncated: false,
        };
        if k == 0 {
            return Ok(out);
        }
        usable_mask(g, constraints, &mut self.usable);
        let usable = &self.usable;
        self.in_arcs.build(g);
        self.to_target.backward(g, &self.in_arcs, target, |a| {
            usable[a as usize].then(|| u64::from(g.weight(a, metric)))
        });
        let latency_bound = constraints.latency_bound();
        let bounded = constraints.max_latency_us.is_some();
        // When the metric is latency its heuristic bounds latency already; otherwise a second
        // backward search gives the latency floor that prunes spur searches.
        let latency_floor = bounded && metric != Metric::Latency;
        if latency_floor {
            self.latency_to_target
                .backward(g, &self.in_arcs, target, |a| {
                    usable[a as usize].then(|| u64::from(g.weight(a, Metric::Latency)))
                });
        }
        let n = g.node_count();
        self.blocked_node.clear();
        self.blocked_node.resize(n, false);

        let ctx = Context {
            g,
            target,
            metric,
            usable,
            to_target: self.to_target.distances(),
            latency_to_target: latency_floor.then(|| self.latency_to_target.distances()),
        };
        let mut feasible: BTreeSet<Candidate> = BTreeSet::new();
        let mut infeasible: BTreeSet<Candidate> = BTreeSet::new();
        let mut accepted: Vec<Candidate> = Vec::new();
        let mut skipped = 0usize;

        let first_limit = if metric == Metric::Latency {
            latency_bound
        } else {
            u64::MAX
        };
        let latency_budget = latency_floor.then_some(latency_bound);
        if let Some(spur) = self.spur.search(
            &ctx,
            source,
            first_limit,
            latency_budget,
            &self.blocked_node,
            &[],
        ) {
            let first = candidate(g, metric, &[], &spur, 0);
            insert(&mut feasible, &mut infeasible, first, constraints, k);
        }

        loop {
            let take_feasible = match (feasible.first(), infeasible.first()) {
                (None, None) => break,
                (Some(_), None) => true,
                (None, Some(_)) => false,
                (Some(f), Some(i)) => f <= i,
            };
            let popped = if take_feasible {
                feasible.pop_first()
            } else {
                infeasible.pop_first()
            };
            let Some(path) = popped else { break };
            if take_feasible {
                out.paths.push(CostedPath {
                    path: Path {
                        nodes: path.nodes.clone(),
                        arcs: path.arcs.clone(),
                    },
                    cost: path.cost,
                    latency_us: path.latency_us,
                    loss_log: path.loss_log,
                });
                if out.paths.len() == k {
                    break;
                }
            } else {
                skipped += 1;
                if skipped > self.skip_limit {
                    out.truncated = true;
                    break;
                }
            }
            accepted.push(path);
            let Some(path) = accepted.last() else { break };
            let need = k - out.paths.len();

            // How far each accepted path runs along this one, in arcs: it shares the root
            // of spur node i when that is at least i.
            let common: Vec<usize> = accepted
                .iter()
                .map(|q| {
                    q.arcs
                        .iter()
                        .zip(&path.arcs)
                        .take_while(|(a, b)| a == b)
                        .count()
                })
                .collect();
            let mut root_cost = 0u64;
            let mut root_latency = 0u64;
            for (i, &arc) in path.arcs.iter().enumerate().take(path.deviation) {
                self.blocked_node[path.nodes[i] as usize] = true;
                root_cost += u64::from(g.weight(arc, metric));
                root_latency += u64::from(g.weight(arc, Metric::Latency));
            }
            for i in path.deviation..path.arcs.len() {
                let spur_node = path.nodes[i];
                self.blocked_arcs.clear();
                self.blocked_arcs.extend(
                    accepted
                        .iter()
                        .zip(&common)
                        .filter(|(q, c)| **c >= i && q.arcs.len() > i)
                        .map(|(q, _)| q.arcs[i]),
                );
                let mut limit = if metric == Metric::Latency {
                    latency_bound.checked_sub(root_cost)
                } else {
                    Some(u64::MAX)
                };
                if feasible.len() >= need
                    && let Some(last) = feasible.last()
                {
                    // `None` (the root alone is too heavy) is less than any `Some`, so it wins.
                    limit = limit.min(last.cost.checked_sub(root_cost));
                }
                let budget = latency_bound.checked_sub(root_latency);
                if let Some(limit) = limit
                    && (!latency_floor || budget.is_some())
                    && let Some(spur) = self.spur.search(
                        &ctx,
                        spur_node,
                        limit,
                        budget.filter(|_| latency_floor),
                        &self.blocked_node,
                        &self.blocked_arcs,
                    )
                {
                    // In at once, so that later searches get the tighter limit.
                    let found = candidate(g, metric, &path.arcs[..i], &spur, i);
                    insert(&mut feasible, &mut infeasible, found, constraints, need);
                }
                // Later spur searches must not come back to this node.
                self.blocked_node[spur_node as usize] = true;
                let arc = path.arcs[i];
                root_cost += u64::from(g.weight(arc, metric));
                root_latency += u64::from(g.weight(arc, Metric::Latency));
            }
            for &v in &path.nodes {
                self.blocked_node[v as usize] = false;
            }
        }
        Ok(out)
    }
}

/// Inserts a candidate into the set it belongs to, keeping at most `need` candidates within
/// the bounds and dropping those beyond the weight of the last of them: no path at least
/// that heavy can be among the paths still to be found, and neither can its descendants.
fn insert(
    feasible: &mut BTreeSet<Candidate>,
    infeasible: &mut BTreeSet<Candidate>,
    c: Candidate,
    constraints: &Constraints<'_>,
    need: usize,
) {
    if constraints.meets_bounds(c.latency_us, c.loss_log) {
        feasible.insert(c);
        while feasible.len() > need {
            feasible.pop_last();
        }
    } else {
        infeasible.insert(c);
    }
    if feasible.len() >= need
        && let Some(limit) = feasible.last().map(|l| l.cost)
    {
        while infeasible.last().is_some_and(|l| l.cost > limit) {
            infeasible.pop_last();
        }
    }
}

fn candidate(
    g: &Graph,
    metric: Metric,
    root: &[ArcId],
    spur: &Path,
    deviation: usize,
) -> Candidate {
    let mut arcs = Vec::with_capacity(root.len() + spur.arcs.len());
    arcs.extend_from_slice(root);
    arcs.extend_from_slice(&spur.arcs);
    let mut nodes = Vec::with_capacity(arcs.len() + 1);
    nodes.extend(root.iter().map(|&a| g.tail(a)));
    nodes.extend_from_slice(&spur.nodes);
    let sums = Sums::of(g, &arcs, metric);
    Candidate {
        cost: sums.weight,
        nodes,
        arcs,
        deviation,
        latency_us: sums.latency_us,
        loss_log: sums.loss_log,
    }
}

/// What every spur search of one query reads.
struct Context<'q> {
    g: &'q Graph,
    target: u32,
    metric: Metric,
    usable: &'q [bool],
    /// The A* heuristic: each node's distance to the target under the metric.
    to_target: &'q [u64],
    /// Each node's least latency to the target, when a latency bound prunes a search by
    /// another metric.
    latency_to_target: Option<&'q [u64]>,
}

/// A* from a spur node to the target, its working memory reused across searches.
#[derive(Debug, Default)]
struct SpurSearch {
    dist: Vec<u64>,
    pred: Vec<u32>,
    touched: Vec<u32>,
    /// (estimated total, distance to go, node): among equal estimates the node nearer the
    /// target first, which follows a zero-detour line straight to it.
    heap: BinaryHeap<Reverse<(u64, u64, u32)>>,
}

impl SpurSearch {
    /// The least-weight path from `spur` to the target of weight at most `limit`, avoiding
    /// `blocked` nodes and leaving `spur` by none of `blocked_arcs`; with `latency_budget`,
    /// only through nodes whose least latency to the target fits in it.
    fn search(
        &mut self,
        ctx: &Context<'_>,
        spur: u32,
        limit: u64,
        latency_budget: Option<u64>,
        blocked: &[bool],
        blocked_arcs: &[ArcId],
    ) -> Option<Path> {
        let g = ctx.g;
        if self.dist.len() != g.node_count() {
            self.dist = vec![u64::MAX; g.node_count()];
            self.pred = vec![NO_ARC; g.node_count()];
        }
        for &v in &self.touched {
            self.dist[v as usize] = u64::MAX;
        }
        self.touched.clear();
        self.heap.clear();
        let h = ctx.to_target;
        if h[spur as usize] > limit {
            return None;
        }
        let weights = g.weights(ctx.metric);
        let heads = g.heads();
        self.dist[spur as usize] = 0;
        self.touched.push(spur);
        self.heap
            .push(Reverse((h[spur as usize], h[spur as usize], spur)));
        while let Some(Reverse((f, to_go, v))) = self.heap.pop() {
            let d = f - to_go;
            if d > self.dist[v as usize] {
                continue;
            }
            if v == ctx.target {
                return Some(self.path(g, spur, v));
            }
            for arc in g.arcs_from(v) {
                if !ctx.usable[arc as usize] || (v == spur && blocked_arcs.contains(&arc)) {
                    continue;
                }
                let u = heads[arc as usize];
                let hu = h[u as usize];
                if blocked[u as usize] || hu == u64::MAX {
                    continue;
                }
                if let (Some(floor), Some(budget)) = (ctx.latency_to_target, latency_budget)
                    && floor[u as usize] > budget
                {
                    continue;
                }
                let nd = d + u64::from(weights[arc as usize]);
                let nf = nd.saturating_add(hu);
                if nf > limit || nd >= self.dist[u as usize] {
                    continue;
                }
                if self.dist[u as usize] == u64::MAX {
                    self.touched.push(u);
                }
                self.dist[u as usize] = nd;
                self.pred[u as usize] = arc;
                self.heap.push(Reverse((nf, hu, u)));
            }
        }
        None
    }

    fn path(&self, g: &Graph, spur: u32, end: u32) -> Path {
        let mut arcs = Vec::new();
        let mut v = end;
        while v != spur {
            let arc = self.pred[v as usize];
            arcs.push(arc);
            v = g.tail(arc);
        }
        arcs.reverse();
        let mut nodes = Vec::with_capacity(arcs.len() + 1);
        nodes.push(spur);
        nodes.extend(arcs.iter().map(|&a| g.head(a)));
        Path { nodes, arcs }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_the_paths_of_a_small_graph() {
        // 0 -> 3 directly (10), through 1 (2 + 2), through 2 (3 + 3), through 1 and 2 (2+1+3).
        let g = Graph::from_arcs(
            4,
            &[
                (0, 3, 10),
                (0, 1, 2),
                (1, 3, 2),
                (0, 2, 3),
                (2, 3, 3),
                (1, 2, 1),
            ],
        )
        .expect("valid");
        let mut yen = KShortestPaths::new();
        let got = yen
            .run(&g, 0, 3, 10, Metric::Latency, &Constraints::none())
            .expect("valid query");
        let ranked: Vec<(u64, Vec<u32>)> = got
            .paths
            .iter()
            .map(|p| (p.cost, p.path.nodes.clone()))
            .collect();
        assert_eq!(
            ranked,
            vec![
                (4, vec![0, 1, 3]),
                // Equal weights: fewer hops first.
                (6, vec![0, 2, 3]),
                (6, vec![0, 1, 2, 3]),
                (10, vec![0, 3]),
            ]
        );
        assert!(!got.truncated);
        let bounded = Constraints::none().with_max_latency_us(6);
        let got = yen
            .run(&g, 0, 3, 10, Metric::Latency, &bounded)
            .expect("valid query");
        assert_eq!(got.paths.len(), 3);
        let got = yen
            .run(&g, 0, 3, 2, Metric::Igp, &Constraints::none())
            .expect("valid query");
        assert_eq!(got.paths.len(), 2);
    }
}
