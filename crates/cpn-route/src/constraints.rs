//! What a path must satisfy: the arcs it may use (links with enough unreserved bandwidth,
//! links a caller admits, such as those of a slice) and the end-to-end bounds it must meet
//! (latency, loss). Every constrained algorithm of this crate reads one [`Constraints`].
//!
//! The two parts are checked differently. Pruning is a property of an arc and is applied
//! while searching ([`Constraints::allows`]); bounds are properties of a whole path and are
//! checked on sums ([`Constraints::admits`]). Loss is bounded through its additive form:
//! a path delivers a packet only if every link does, so `1 - P = Π (1 - p_i)` and
//! `P ≤ max` is `Σ -ln(1 - p_i) ≤ -ln(1 - max)`, which [`Graph::loss_log`] provides per link.

use std::fmt;

use crate::graph::{ArcId, Graph, Metric};
use crate::path::Path;

/// The relative slack allowed on the loss bound: a path whose loss equals the bound must not
/// be rejected because `ln` rounded differently on the two sides.
const LOSS_SLACK: f64 = 1e-9;

/// Pruning and bounds for a path query. `Constraints::default()` allows every usable arc
/// and bounds nothing.
#[derive(Clone, Copy, Default)]
pub struct Constraints<'a> {
    /// Arcs whose link has less unreserved bandwidth than this (bits/s) are pruned.
    pub min_bandwidth_bps: u64,
    /// The path's one-way latency must not exceed this many µs.
    pub max_latency_us: Option<u64>,
    /// The path's end-to-end loss ratio (0 to 1) must not exceed this.
    pub max_loss: Option<f64>,
    /// A further arc filter: arcs for which it is false are pruned. This is how a slice
    /// restricts a search to its own links, or to links where its share is large enough.
    pub arc_filter: Option<&'a (dyn Fn(ArcId) -> bool + 'a)>,
}

impl fmt::Debug for Constraints<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Constraints")
            .field("min_bandwidth_bps", &self.min_bandwidth_bps)
            .field("max_latency_us", &self.max_latency_us)
            .field("max_loss", &self.max_loss)
            .field("arc_filter", &self.arc_filter.map(|_| "<fn>"))
            .finish()
    }
}

/// Why a path query cannot be answered.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum QueryError {
    #[error("node {node} is beyond the {nodes} nodes of the graph")]
    NodeOutOfRange { node: u32, nodes: usize },
    #[error("loss bound {max_loss} is not a ratio from 0 to 1")]
    LossBound { max_loss: f64 },
    #[error("the per-arc cost table has {len} entries for the {arcs} arcs of the graph")]
    CostTable { len: usize, arcs: usize },
}

impl<'a> Constraints<'a> {
    /// No pruning beyond down links, no bounds.
    pub fn none() -> Constraints<'a> {
        Constraints::default()
    }

    /// Prunes links with less than `bps` unreserved.
    pub fn with_bandwidth(mut self, bps: u64) -> Constraints<'a> {
        self.min_bandwidth_bps = bps;
        self
    }

    /// Bounds the one-way latency, in µs.
    pub fn with_max_latency_us(mut self, us: u64) -> Constraints<'a> {
        self.max_latency_us = Some(us);
        self
    }

    /// Bounds the end-to-end loss ratio (0 to 1).
    pub fn with_max_loss(mut self, ratio: f64) -> Constraints<'a> {
        self.max_loss = Some(ratio);
        self
    }

    /// Prunes arcs for which `filter` is false.
    pub fn with_arc_filter(mut self, filter: &'a (dyn Fn(ArcId) -> bool + 'a)) -> Constraints<'a> {
        self.arc_filter = Some(filter);
        self
    }

    /// Whether a search may use `arc`: its link is up, has at least the requested bandwidth
    /// unreserved, and the arc filter (if any) admits it.
    #[inline]
    pub fn allows(&self, g: &Graph, arc: ArcId) -> bool {
        let link = g.link(arc);
        g.is_up(link)
            && g.available(link).0 >= self.min_bandwidth_bps
            && self.arc_filter.is_none_or(|f| f(arc))
    }

    /// The latency bound in µs, `u64::MAX` when there is none.
    pub fn latency_bound(&self) -> u64 {
        self.max_latency_us.unwrap_or(u64::MAX)
    }

    /// The loss bound as a bound on the sum of the links' `-ln(1 - p)` (infinite when there
    /// is none), with a relative slack of 1e-9 so that a path exactly at the bound passes.
    /// A bound outside 0..=1 (or NaN) is reported by [`Constraints::check`].
    pub fn loss_log_bound(&self) -> f64 {
        match self.max_loss {
            None => f64::INFINITY,
            Some(p) if p >= 1.0 => f64::INFINITY,
            Some(p) => -(1.0 - p.max(0.0)).ln() * (1.0 + LOSS_SLACK),
        }
    }

    /// Checks the constraints themselves and that `nodes` are in `g`.
    pub fn check(&self, g: &Graph, nodes: &[u32]) -> Result<(), QueryError> {
        if let Some(p) = self.max_loss
            && !(0.0..=1.0).contains(&p)
        {
            return Err(QueryError::LossBound { max_loss: p });
        }
        let count = g.node_count();
        match nodes.iter().find(|&&n| n as usize >= count) {
            Some(&node) => Err(QueryError::NodeOutOfRange { node, nodes: count }),
            None => Ok(()),
        }
    }

    /// Whether a whole path satisfies the constraints: every arc allowed and both bounds met.
    pub fn admits(&self, g: &Graph, path: &Path) -> bool {
        path.arcs.iter().all(|&a| self.allows(g, a)) && {
            let sums = Sums::of(g, &path.arcs, Metric::Latency);
            self.meets_bounds(sums.latency_us, sums.loss_log)
        }
    }

    /// Whether sums of latency (µs) and `-ln(1 - p)` meet the bounds.
    #[inline]
    pub fn meets_bounds(&self, latency_us: u64, loss_log: f64) -> bool {
        latency_us <= self.latency_bound() && loss_log <= self.loss_log_bound()
    }
}

/// A path with the sums a constrained search judged it by.
#[derive(Debug, Clone, PartialEq)]
pub struct CostedPath {
    pub path: Path,
    /// What the search minimised: the cost objective, or the metric of a k-shortest search.
    pub cost: u64,
    /// One-way latency in µs.
    pub latency_us: u64,
    /// The sum of `-ln(1 - p)` over its links; see [`CostedPath::loss`].
    pub loss_log: f64,
}

impl CostedPath {
    /// End-to-end loss ratio, `1 - Π (1 - p_i)`.
    pub fn loss(&self) -> f64 {
        1.0 - (-self.loss_log).exp()
    }
}

/// Latency, loss and one weight summed along arcs, in path order (the order matters for the
/// floating-point loss sum: every algorithm here adds in path order, so equal paths give
/// bit-equal sums).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sums {
    pub(crate) weight: u64,
    pub(crate) latency_us: u64,
    pub(crate) loss_log: f64,
}

impl Sums {
    pub(crate) fn of(g: &Graph, arcs: &[ArcId], metric: Metric) -> Sums {
        let mut s = Sums {
            weight: 0,
            latency_us: 0,
            loss_log: 0.0,
        };
        for &arc in arcs {
            s.weight += u64::from(g.weight(arc, metric));
            s.latency_us += u64::from(g.weight(arc, Metric::Latency));
            s.loss_log += g.loss_log(g.link(arc));
        }
        s
    }
}

/// The arcs a query may use, as a flat mask read by the hot loops instead of calling
/// [`Constraints::allows`] (and its filter) on every relaxation.
pub(crate) fn usable_mask(g: &Graph, c: &Constraints<'_>, mask: &mut Vec<bool>) {
    mask.clear();
    mask.extend((0..g.arc_count() as u32).map(|a| c.allows(g, a)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use cpn_model::LinkId;
    use cpn_units::{Bandwidth, Ratio};

    #[test]
    fn prunes_by_bandwidth_filter_and_state() {
        // Arcs listed by tail, so arc i is link i.
        let mut g = Graph::from_arcs(3, &[(0, 1, 5), (0, 2, 9), (1, 2, 5)]).expect("valid");
        g.set_available(LinkId(0), Bandwidth(10));
        let c = Constraints::none().with_bandwidth(11);
        assert!(!c.allows(&g, 0));
        assert!(c.allows(&g, 1));
        let no_direct = |a: ArcId| a != 1;
        let c = c.with_arc_filter(&no_direct);
        assert!(!c.allows(&g, 1));
        assert!(c.allows(&g, 2));
        g.set_up(LinkId(2), false);
        assert!(!Constraints::none().allows(&g, 2));
    }

    #[test]
    fn loss_bound_is_additive_and_exact_at_the_bound() {
        let mut g = Graph::from_arcs(3, &[(0, 1, 5), (1, 2, 5)]).expect("valid");
        let percent = Ratio(Ratio::ONE.0 / 100);
        g.set_loss(LinkId(0), percent);
        g.set_loss(LinkId(1), percent);
        let path = Path {
            nodes: vec![0, 1, 2],
            arcs: vec![0, 1],
        };
        // Two links at 1% lose 1.99% end to end.
        assert!(Constraints::none().with_max_loss(0.0199).admits(&g, &path));
        assert!(!Constraints::none().with_max_loss(0.0198).admits(&g, &path));
        assert!(
            Constraints::none()
                .with_max_latency_us(10)
                .admits(&g, &path)
        );
        assert!(!Constraints::none().with_max_latency_us(9).admits(&g, &path));
    }

    #[test]
    fn bad_queries_are_errors() {
        let g = Graph::from_arcs(2, &[(0, 1, 1)]).expect("valid");
        let c = Constraints::none().with_max_loss(1.5);
        assert_eq!(
            c.check(&g, &[0]).map_err(|e| e.to_string()),
            Err("loss bound 1.5 is not a ratio from 0 to 1".to_owned())
        );
        assert_eq!(
            Constraints::none().check(&g, &[0, 2]),
            Err(QueryError::NodeOutOfRange { node: 2, nodes: 2 })
        );
    }
}
