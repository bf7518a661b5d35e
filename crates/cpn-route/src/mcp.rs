//! Multi-constraint paths: the path of least cost (IGP metric, latency, or any per-arc cost)
//! whose latency and loss stay within bounds, over the arcs the constraints allow. This is
//! the question an SLA asks ("the cheapest path with at most 20 ms and 0.1% loss, on links
//! with 1 Gbps free"), and it is NP-hard in general, so two algorithms answer it.
//!
//! **Exact label-setting** ([`MultiConstraint::exact`]). A label is a partial path from the
//! source summarised by its (cost, latency, loss) sums. Labels are settled in order of cost
//! plus the least cost to the target (A* with an exact, consistent lower bound from one
//! backward Dijkstra), so the first label settled at the target is optimal. A label is
//! dropped when a label already settled at its node is at least as good in all three sums
//! (Pareto dominance), and when it cannot meet the latency bound even on the fastest way to
//! the target (a second backward Dijkstra, on latency). Dominance also keeps paths loopless:
//! returning to a node can only add to every sum. The number of labels can grow
//! exponentially with the graph, so the search stops after `max_labels` labels and says so
//! ([`Exact::GaveUp`]).
//!
//! **LARAC** ([`MultiConstraint::larac`]; Jüttner, Szviatovszki, Mécs, Rajkó, "Lagrange
//! relaxation based method for the QoS routing problem", INFOCOM 2001). For the latency bound
//! alone, it searches for the multiplier λ ≥ 0 that maximises the Lagrangian lower bound
//! `L(λ) = min_p c(p) + λ (d(p) - D)`, with one Dijkstra on `c + λ d` per step: it keeps the
//! cheapest path found that is too slow (`p_c`) and the fastest one that is fast enough
//! (`p_d`), sets λ where the two have equal combined weight, and stops when no path is
//! better than both under that λ. The result is `p_d`, feasible for latency, together with
//! the best `L(λ)`: the optimum lies between them, so the gap is known. λ is kept as the
//! exact fraction `num / den` and weights as `den·c + num·d` in 128-bit integers, so ties
//! and the stopping test are exact. LARAC does not bound loss; its path is checked against
//! the loss bound afterwards ([`Larac::meets_loss`]).
//!
//! [`MultiConstraint::solve`] runs the exact search within a label budget and falls back to
//! LARAC when the budget runs out.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use crate::constraints::{Constraints, CostedPath, QueryError, Sums, usable_mask};
use crate::graph::{ArcId, Graph, Metric};
use crate::path::Path;
use crate::search::{Dijkstra, InArcs};

const NONE: u32 = u32::MAX;

/// LARAC converges in a handful of steps on real topologies; the cap only guards against
/// a pathological input, and stopping early still leaves a feasible path and a valid bound.
const LARAC_MAX_STEPS: u32 = 64;

/// What a multi-constraint search minimises.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cost<'a> {
    /// The arcs' weight under a metric.
    Metric(Metric),
    /// A cost per arc, indexed by [`ArcId`] (as long as the graph has arcs). Arc ids follow
    /// the CSR order, which groups arcs by tail ([`Graph::arcs_from`]), not the order in which
    /// arcs or links were given.
    PerArc(&'a [u32]),
}

impl Cost<'_> {
    #[inline]
    fn of(&self, g: &Graph, arc: ArcId) -> u64 {
        u64::from(match self {
            Cost::Metric(m) => g.weight(arc, *m),
            Cost::PerArc(table) => table[arc as usize],
        })
    }

    fn check(&self, g: &Graph) -> Result<(), QueryError> {
        match self {
            Cost::PerArc(table) if table.len() != g.arc_count() => Err(QueryError::CostTable {
                len: table.len(),
                arcs: g.arc_count(),
            }),
            _ => Ok(()),
        }
    }
}

/// The outcome of the exact search.
#[derive(Debug, Clone, PartialEq)]
pub enum Exact {
    /// The least-cost path that meets every constraint.
    Optimal(CostedPath),
    /// No path meets the constraints.
    Infeasible,
    /// The label budget ran out before the search could decide; `labels` were created.
    GaveUp { labels: usize },
}

/// The outcome of LARAC: a path within the latency bound and a lower bound on the cost of
/// any such path.
#[derive(Debug, Clone, PartialEq)]
pub struct Larac {
    pub best: CostedPath,
    /// No path within the latency bound costs less than this; `best.cost - lower_bound` is
    /// the gap (0 proves `best` optimal for the latency bound).
    pub lower_bound: u64,
    /// Whether `best` also meets the loss bound, which LARAC does not consider.
    pub meets_loss: bool,
    /// Dijkstra runs used.
    pub iterations: u32,
}

/// The outcome of [`MultiConstraint::solve`].
#[derive(Debug, Clone, PartialEq)]
pub enum Solution {
    /// The exact search finished: this path is optimal.
    Optimal(CostedPath),
    /// The exact search gave up; LARAC found this path, which meets every constraint, with
    /// its cost gap.
    WithinGap(Larac),
    /// No path meets the constraints (proved by either algorithm).
    Infeasible,
    /// The exact search gave up and LARAC's path breaks the loss bound: whether a feasible
    /// path exists is not known.
    Undecided(Larac),
}

#[derive(Debug, Clone, Copy)]
struct Label {
    cost: u64,
    latency: u64,
    loss: f64,
    node: u32,
    /// The arc into `node` and the label it extends (`NONE` at the source).
    arc: ArcId,
    parent: u32,
    /// The next label settled at the same node, a linked list through the arena.
    next_settled: u32,
}

/// Working memory for multi-constraint searches, reused across queries.
#[derive(Debug, Clone, Default)]
pub struct MultiConstraint {
    usable: Vec<bool>,
    in_arcs: InArcs,
    cost_to_target: Dijkstra<u64>,
    latency_to_target: Dijkstra<u64>,
    wide: Dijkstra<u128>,
    labels: Vec<Label>,
    settled: Vec<u32>,
    heap: BinaryHeap<Reverse<(u64, u64, u64, u32)>>,
}

impl MultiConstraint {
    pub fn new() -> MultiConstraint {
        MultiConstraint::default()
    }

    /// The least-cost path from `source` to `target` that meets `constraints`, by exact
    /// label-setting; gives up after creating `max_labels` labels.
    pub fn exact(
        &mut self,
        g: &Graph,
        source: u32,
        target: u32,
        cost: Cost<'_>,
        constraints: &Constraints<'_>,
        max_labels: usize,
    ) -> Result<Exact, QueryError> {
        constraints.check(g, &[source, target])?;
        cost.check(g)?;
        usable_mask(g, constraints, &mut self.usable);
        let usable = &self.usable;
        self.in_arcs.build(g);
        self.cost_to_target.backward(g, &self.in_arcs, target, |a| {
            usable[a as usize].then(|| cost.of(g, a))
        });
        let latency_bound = constraints.latency_bound();
        let loss_bound = constraints.loss_log_bound();
        if constraints.max_latency_us.is_some() {
            self.latency_to_target
                .backward(g, &self.in_arcs, target, |a| {
                    usable[a as usize].then(|| u64::from(g.weight(a, Metric::Latency)))
                });
        }
        let lat_h = |v: u32| {
            if constraints.max_latency_us.is_some() {
                self.latency_to_target.dist(v)
            } else {
                0
            }
        };
        if self.cost_to_target.dist(source) == u64::MAX || lat_h(source) > latency_bound {
            return Ok(Exact::Infeasible);
        }

        self.labels.clear();
        self.heap.clear();
        self.settled.clear();
        self.settled.resize(g.node_count(), NONE);
        self.labels.push(Label {
            cost: 0,
            latency: 0,
            loss: 0.0,
            node: source,
            arc: NONE,
            parent: NONE,
            next_settled: NONE,
        });
        self.heap
            .push(Reverse((self.cost_to_target.dist(source), 0, 0, 0)));
        while let Some(Reverse((_, _, _, id))) = self.heap.pop() {
            let label = self.labels[id as usize];
            let v = label.node;
            if dominated(&self.labels, self.settled[v as usize], &label) {
                continue;
            }
            self.labels[id as usize].next_settled = self.settled[v as usize];
            self.settled[v as usize] = id;
            if v == target {
                return Ok(Exact::Optimal(self.costed(g, id)));
            }
            for arc in g.arcs_from(v) {
                if !usable[arc as usize] {
                    continue;
                }
                let u = g.head(arc);
                let to_target = self.cost_to_target.dist(u);
                if to_target == u64::MAX {
                    continue;
                }
                let next = Label {
                    cost: label.cost + cost.of(g, arc),
                    latency: label.latency + u64::from(g.weight(arc, Metric::Latency)),
                    loss: label.loss + g.loss_log(g.link(arc)),
                    node: u,
                    arc,
                    parent: id,
                    next_settled: NONE,
                };
                if next.latency.saturating_add(lat_h(u)) > latency_bound
                    || next.loss > loss_bound
                    || dominated(&self.labels, self.settled[u as usize], &next)
                {
                    continue;
                }
                if self.labels.len() >= max_labels {
                    return Ok(Exact::GaveUp {
                        labels: self.labels.len(),
                    });
                }
                let next_id = self.labels.len() as u32;
                self.labels.push(next);
                // Losses are non-negative, so their bit patterns order as the values do.
                self.heap.push(Reverse((
                    next.cost.saturating_add(to_target),
                    next.latency,
                    next.loss.to_bits(),
                    next_id,
                )));
            }
        }
        Ok(Exact::Infeasible)
    }

    fn costed(&self, g: &Graph, id: u32) -> CostedPath {
        let end = self.labels[id as usize];
        let mut arcs = Vec::new();
        let mut at = id;
        while self.labels[at as usize].parent != NONE {
            arcs.push(self.labels[at as usize].arc);
            at = self.labels[at as usize].parent;
        }
        arcs.reverse();
        let mut nodes = Vec::with_capacity(arcs.len() + 1);
        nodes.push(self.labels[at as usize].node);
        nodes.extend(arcs.iter().map(|&a| g.head(a)));
        CostedPath {
            path: Path { nodes, arcs },
            cost: end.cost,
            latency_us: end.latency,
            loss_log: end.loss,
        }
    }

    /// A path within the latency bound of `constraints` (and its pruning) by LARAC, with a
    /// lower bound on the optimum; `None` when no path is fast enough. The loss bound is only
    /// checked on the result.
    pub fn larac(
        &mut self,
        g: &Graph,
        source: u32,
        target: u32,
        cost: Cost<'_>,
        constraints: &Constraints<'_>,
    ) -> Result<Option<Larac>, QueryError> {
        constraints.check(g, &[source, target])?;
        cost.check(g)?;
        usable_mask(g, constraints, &mut self.usable);
        let bound = constraints.latency_bound();
        let loss_bound = constraints.loss_log_bound();
        let done = |best: CostedPath, lower_bound: u64, iterations: u32| {
            let meets_loss = best.loss_log <= loss_bound;
            Some(Larac {
                lower_bound: lower_bound.min(best.cost),
                best,
                meets_loss,
                iterations,
            })
        };

        // λ = 0, ties to the faster path: the cheapest path, optimal if fast enough.
        let shift = 1u128 << 64;
        let Some(mut p_c) = self.combined(g, source, target, cost, shift, 1) else {
            return Ok(None);
        };
        if p_c.latency_us <= bound {
            let lb = p_c.cost;
            return Ok(done(p_c, lb, 1));
        }
        // λ = ∞, ties to the cheaper path: the fastest path, the proof of (in)feasibility.
        let Some(mut p_d) = self.combined(g, source, target, cost, 1, shift) else {
            return Ok(None);
        };
        if p_d.latency_us > bound {
            return Ok(None);
        }
        let mut lower = i128::from(p_c.cost);
        let mut iterations = 2;
        while iterations < LARAC_MAX_STEPS {
            // p_c is the cheaper and p_d the faster (p_c always minimises c + λ'd for some
            // earlier λ' ≥ 0), so both differences are non-negative and den > 0.
            let (Some(num), Some(den)) = (
                p_d.cost.checked_sub(p_c.cost),
                p_c.latency_us.checked_sub(p_d.latency_us),
            ) else {
                break;
            };
            let (num, den) = (u128::from(num), u128::from(den));
            if num == 0 {
                // p_d is as cheap as the cheapest path: optimal.
                lower = i128::from(p_d.cost);
                break;
            }
            let Some(r) = self.combined(g, source, target, cost, den, num) else {
                break;
            };
            iterations += 1;
            let weigh = |p: &CostedPath| {
                den.checked_mul(u128::from(p.cost))?
                    .checked_add(num.checked_mul(u128::from(p.latency_us))?)
            };
            let (Some(w_r), Some(w_c)) = (weigh(&r), weigh(&p_c)) else {
                break;
            };
            // L(λ) = (w_r - num·D) / den; costs are integers, so its ceiling is a bound too.
            if let Some(l) = lagrangian(w_r, num, bound, den) {
                lower = lower.max(l);
            }
            if w_r >= w_c {
                break;
            }
            if r.latency_us <= bound {
                p_d = r;
            } else {
                p_c = r;
            }
        }
        let lower = u64::try_from(lower.max(0)).unwrap_or(u64::MAX);
        Ok(done(p_d, lower, iterations))
    }

    /// The least `a·cost + b·latency` path over usable arcs.
    fn combined(
        &mut self,
        g: &Graph,
        source: u32,
        target: u32,
        cost: Cost<'_>,
        a: u128,
        b: u128,
    ) -> Option<CostedPath> {
        let usable = &self.usable;
        self.wide.forward(g, source, Some(target), |arc| {
            usable[arc as usize].then(|| {
                let c = u128::from(cost.of(g, arc));
                let d = u128::from(g.weight(arc, Metric::Latency));
                a.saturating_mul(c).saturating_add(b.saturating_mul(d))
            })
        });
        let path = self.wide.path_to(g, target)?;
        let sums = Sums::of(g, &path.arcs, Metric::Latency);
        Some(CostedPath {
            cost: path.arcs.iter().map(|&arc| cost.of(g, arc)).sum(),
            latency_us: sums.latency_us,
            loss_log: sums.loss_log,
            path,
        })
    }

    /// The exact search within `max_labels` labels, then LARAC if it gave up.
    pub fn solve(
        &mut self,
        g: &Graph,
        source: u32,
        target: u32,
        cost: Cost<'_>,
        constraints: &Constraints<'_>,
        max_labels: usize,
    ) -> Result<Solution, QueryError> {
        Ok(
            match self.exact(g, source, target, cost, constraints, max_labels)? {
                Exact::Optimal(p) => Solution::Optimal(p),
                Exact::Infeasible => Solution::Infeasible,
                Exact::GaveUp { .. } => match self.larac(g, source, target, cost, constraints)? {
                    None => Solution::Infeasible,
                    Some(l) if l.meets_loss => Solution::WithinGap(l),
                    Some(l) => Solution::Undecided(l),
                },
            },
        )
    }
}

/// Whether a label settled at the node (the list starting at `head`) is at least as good as
/// `label` in cost, latency and loss.
fn dominated(labels: &[Label], mut head: u32, label: &Label) -> bool {
    while head != NONE {
        let s = &labels[head as usize];
        if s.cost <= label.cost && s.latency <= label.latency && s.loss <= label.loss {
            return true;
        }
        head = s.next_settled;
    }
    false
}

/// `ceil((w - num·bound) / den)`, the Lagrangian bound at λ = num/den, if it fits.
fn lagrangian(w: u128, num: u128, bound: u64, den: u128) -> Option<i128> {
    let x = i128::try_from(w)
        .ok()?
        .checked_sub(i128::try_from(num.checked_mul(u128::from(bound))?).ok()?)?;
    let den = i128::try_from(den).ok()?;
    let q = x.div_euclid(den);
    Some(if x.rem_euclid(den) == 0 { q } else { q + 1 })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two ways from 0 to 3: cheap but slow through 1, fast but dear through 2.
    fn diamond() -> (Graph, Vec<u32>) {
        // Listed by tail, so that the arc ids are the positions in this list.
        let g =
            Graph::from_arcs(4, &[(0, 1, 10), (0, 2, 2), (1, 3, 10), (2, 3, 2)]).expect("valid");
        (g, vec![1, 5, 1, 5])
    }

    #[test]
    fn exact_trades_cost_for_latency_only_when_bound() {
        let (g, cost) = diamond();
        let mut mc = MultiConstraint::new();
        let free = Constraints::none();
        let Ok(Exact::Optimal(p)) = mc.exact(&g, 0, 3, Cost::PerArc(&cost), &free, 100) else {
            panic!("a path exists");
        };
        assert_eq!((p.path.nodes, p.cost, p.latency_us), (vec![0, 1, 3], 2, 20));
        let bound = Constraints::none().with_max_latency_us(19);
        let Ok(Exact::Optimal(p)) = mc.exact(&g, 0, 3, Cost::PerArc(&cost), &bound, 100) else {
            panic!("a fast path exists");
        };
        assert_eq!((p.path.nodes, p.cost, p.latency_us), (vec![0, 2, 3], 10, 4));
        let tight = Constraints::none().with_max_latency_us(3);
        assert_eq!(
            mc.exact(&g, 0, 3, Cost::PerArc(&cost), &tight, 100),
            Ok(Exact::Infeasible)
        );
        assert_eq!(
            mc.exact(&g, 0, 3, Cost::PerArc(&cost), &bound, 1),
            Ok(Exact::GaveUp { labels: 1 })
        );
        assert!(matches!(
            mc.exact(&g, 0, 3, Cost::PerArc(&cost[..2]), &bound, 10),
            Err(QueryError::CostTable { len: 2, arcs: 4 })
        ));
    }

    #[test]
    fn larac_finds_the_fast_path_with_its_gap() {
        let (g, cost) = diamond();
        let mut mc = MultiConstraint::new();
        let bound = Constraints::none().with_max_latency_us(19);
        let l = mc
            .larac(&g, 0, 3, Cost::PerArc(&cost), &bound)
            .expect("valid query")
            .expect("a fast path exists");
        assert_eq!((l.best.path.nodes, l.best.cost), (vec![0, 2, 3], 10));
        assert!(l.lower_bound <= 10 && l.meets_loss);
        let tight = Constraints::none().with_max_latency_us(3);
        assert_eq!(mc.larac(&g, 0, 3, Cost::PerArc(&cost), &tight), Ok(None));
        let solved = mc.solve(&g, 0, 3, Cost::PerArc(&cost), &bound, 1);
        assert!(matches!(solved, Ok(Solution::WithinGap(_))), "{solved:?}");
    }
}
