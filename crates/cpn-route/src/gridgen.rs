//! A documented, reproducible grid graph for benchmarks: the same `(n, seed)` gives the same
//! arcs on every machine and in every language, so that cpn and its peers (scipy, igraph,
//! networkx) time the same input and can check each other's distances.
//!
//! The graph is an `n × n` 4-neighbour grid. Node `row * n + col` has an arc to each of its
//! neighbours (up, left, right, down, in that order, which is also increasing head id), so
//! every pair of neighbours is joined by two arcs, one each way, with independent weights.
//! Arcs come out sorted by tail, then head. There are `4 n (n - 1)` arcs.
//!
//! Weights are uniform in `1..=100`: the `k`-th arc (from 0, in the order above) takes
//! `1 + x_k mod 100`, where `x_k` is the `k`-th output of SplitMix64 (Steele, Lea and Flood,
//! "Fast splittable pseudorandom number generators", OOPSLA 2014) started from state `seed`.
//! The modulo bias is below 10^-17 and does not matter here.

use crate::graph::ArcSpec;

/// The largest side for which the grid's `4 n (n - 1)` arcs still fit a [`crate::Graph`].
pub const MAX_GRID_SIDE: u32 = 32_768;

/// Why a grid could not be generated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GridError {
    #[error("a grid of side {side} is too large: the side must be at most {MAX_GRID_SIDE}")]
    TooLarge { side: u32 },
}

/// The generator of the grid's weights, shared with the synthetic scenarios of `cpn-model`.
pub use cpn_model::synthetic::SplitMix64;

/// The arcs of the `n × n` grid with seed `seed`, one at a time (see the module docs).
#[derive(Debug, Clone)]
pub struct GridArcs {
    n: u32,
    rng: SplitMix64,
    /// The tail of the next arc.
    node: u32,
    /// Which neighbour of `node` comes next: 0 up, 1 left, 2 right, 3 down.
    side: u8,
    remaining: usize,
}

impl GridArcs {
    pub fn new(n: u32, seed: u64) -> Result<GridArcs, GridError> {
        if n > MAX_GRID_SIDE {
            return Err(GridError::TooLarge { side: n });
        }
        Ok(GridArcs {
            n,
            rng: SplitMix64::new(seed),
            node: 0,
            side: 0,
            remaining: grid_arc_count(n),
        })
    }

    /// The number of nodes, `n²`.
    pub fn nodes(&self) -> u32 {
        self.n * self.n
    }
}

impl Iterator for GridArcs {
    type Item = ArcSpec;

    fn next(&mut self) -> Option<ArcSpec> {
        let n = self.n;
        while self.node < n * n {
            let (v, row, col) = (self.node, self.node / n, self.node % n);
            let side = self.side;
            if side == 3 {
                self.node += 1;
                self.side = 0;
            } else {
                self.side += 1;
            }
            let head = match side {
                0 if row > 0 => v - n,
                1 if col > 0 => v - 1,
                2 if col + 1 < n => v + 1,
                3 if row + 1 < n => v + n,
                _ => continue,
            };
            self.remaining -= 1;
            let weight = 1 + (self.rng.next_u64() % 100) as u32;
            return Some((v, head, weight));
        }
        None
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl ExactSizeIterator for GridArcs {}

/// The arcs of the `n × n` grid with seed `seed`, all at once.
pub fn grid_arcs(n: u32, seed: u64) -> Result<Vec<ArcSpec>, GridError> {
    Ok(GridArcs::new(n, seed)?.collect())
}

fn grid_arc_count(n: u32) -> usize {
    let n = n as usize;
    4 * n * n.saturating_sub(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_matches_the_reference_output() {
        // The published first outputs for seed 1234567 (Rosetta Code, "Pseudo-random
        // numbers/Splitmix64"), which Vigna's reference splitmix64.c also gives.
        let mut r = SplitMix64::new(1_234_567);
        let got: Vec<u64> = (0..3).map(|_| r.next_u64()).collect();
        assert_eq!(
            got,
            vec![
                6_457_827_717_110_365_317,
                3_203_168_211_198_807_973,
                9_817_491_932_198_370_423
            ]
        );
    }

    #[test]
    fn a_2x2_grid_has_eight_arcs_in_tail_head_order() {
        let arcs = grid_arcs(2, 7).expect("small");
        let pairs: Vec<(u32, u32)> = arcs.iter().map(|&(a, b, _)| (a, b)).collect();
        assert_eq!(
            pairs,
            vec![
                (0, 1),
                (0, 2),
                (1, 0),
                (1, 3),
                (2, 0),
                (2, 3),
                (3, 1),
                (3, 2)
            ]
        );
        assert!(arcs.iter().all(|&(_, _, w)| (1..=100).contains(&w)));
    }

    #[test]
    fn counts_and_reproducibility() {
        for n in [0, 1, 3, 10] {
            let g = GridArcs::new(n, 1).expect("small");
            assert_eq!(g.len(), grid_arc_count(n));
            assert_eq!(g.count(), grid_arc_count(n));
        }
        assert_eq!(grid_arcs(5, 9), grid_arcs(5, 9));
        assert_ne!(grid_arcs(5, 9), grid_arcs(5, 10));
        assert!(GridArcs::new(MAX_GRID_SIDE + 1, 0).is_err());
    }
}
