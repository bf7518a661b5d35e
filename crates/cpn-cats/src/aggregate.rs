//! Aggregation: folding several values into one (draft section 4.2.1), either raw L0 values
//! before normalisation or scores on the way from L1 to L2. The draft lists mean, minimum,
//! maximum and weighted average.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::metric::Score;

/// An aggregation function.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Aggregation {
    /// Arithmetic mean.
    Mean,
    /// Smallest value.
    Min,
    /// Largest value.
    Max,
    /// `sum(w_i * x_i) / sum(w_i)`, one non-negative weight per value, not all zero.
    WeightedMean {
        /// Weight of each value, in the same order.
        weights: Vec<f64>,
    },
}

/// Why values could not be aggregated. An empty list is an error because no single value is
/// the neutral answer for every function; a weighted mean needs one finite, non-negative
/// weight per value, not all zero.
#[derive(Debug, Clone, Copy, PartialEq, Error)]
pub enum AggregateError {
    #[error("cannot aggregate an empty list of values")]
    Empty,
    #[error("value {value} at index {index} is not a finite number")]
    NonFiniteValue { index: usize, value: f64 },
    #[error("weighted mean has {weights} weights for {values} values")]
    WeightCount { weights: usize, values: usize },
    #[error("weight {weight} at index {index} is not a finite non-negative number")]
    BadWeight { index: usize, weight: f64 },
    #[error("weights sum to zero")]
    ZeroWeights,
    #[error("aggregation overflowed the range of f64")]
    Overflow,
}

/// Aggregates raw values (for example the FLOPS of every GPU of an instance).
pub fn aggregate_values(function: &Aggregation, values: &[f64]) -> Result<f64, AggregateError> {
    if values.is_empty() {
        return Err(AggregateError::Empty);
    }
    if let Some((index, &value)) = values.iter().enumerate().find(|(_, v)| !v.is_finite()) {
        return Err(AggregateError::NonFiniteValue { index, value });
    }
    let result = match function {
        Aggregation::Mean => values.iter().sum::<f64>() / values.len() as f64,
        Aggregation::Min => values.iter().copied().fold(f64::INFINITY, f64::min),
        Aggregation::Max => values.iter().copied().fold(f64::NEG_INFINITY, f64::max),
        Aggregation::WeightedMean { weights } => {
            if weights.len() != values.len() {
                return Err(AggregateError::WeightCount {
                    weights: weights.len(),
                    values: values.len(),
                });
            }
            let bad = weights
                .iter()
                .enumerate()
                .find(|(_, w)| !(w.is_finite() && **w >= 0.0));
            if let Some((index, &weight)) = bad {
                return Err(AggregateError::BadWeight { index, weight });
            }
            let total: f64 = weights.iter().sum();
            if total == 0.0 {
                return Err(AggregateError::ZeroWeights);
            }
            if !total.is_finite() {
                return Err(AggregateError::Overflow);
            }
            values.iter().zip(weights).map(|(v, w)| v * w).sum::<f64>() / total
        }
    };
    if result.is_finite() {
        Ok(result)
    } else {
        Err(AggregateError::Overflow)
    }
}

/// Aggregates scores, such as L1 category scores into the L2 score.
pub fn aggregate(function: &Aggregation, scores: &[Score]) -> Result<Score, AggregateError> {
    let values: Vec<f64> = scores.iter().map(|s| s.get()).collect();
    // Every function here returns a value between the smallest and largest input, so the
    // clamp only absorbs floating point rounding at the ends of the range.
    aggregate_values(function, &values).map(Score::clamped)
}
