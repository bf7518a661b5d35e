//! CATS metrics as defined by the IETF Computing-Aware Traffic Steering working group in
//! draft-ietf-cats-metric-definition, revision -05 (2 February 2026). This crate owns the
//! three metric levels (L0 raw metrics with unit, source and statistic; L1 scores per
//! category; the single L2 score), the normalisation functions that turn a raw value into a
//! 0..=10 score, the aggregation functions that fold several values into one, and the
//! draft's example bit layouts for L0 and L1/L2 metrics (`codec`). The draft allocates no
//! code points, so the numeric codes used on the wire are this crate's own and are listed in
//! `docs/cats-metrics.md`.
//!
//! It must never do I/O or read a clock, and decoding must never panic on any byte input:
//! every malformed buffer is a typed [`DecodeError`] naming the field and its bit offset.
//! Collecting measurements and choosing normalisation parameters belong to the agent.

mod aggregate;
mod codec;
mod metric;
mod normalise;

pub use aggregate::{AggregateError, Aggregation, aggregate, aggregate_values};
pub use codec::{
    DecodeError, EncodeError, Field, Problem, decode, decode_prefix, encode, encoded_len,
};
pub use metric::{
    Category, L0Kind, L0Metric, L0Value, L1Metric, L2Metric, Level, Metric, MetricType, Score,
    ScoreError, Source, Statistic, Unit,
};
pub use normalise::{
    Direction, Normalisation, NormaliseError, Normaliser, Z_SCORE_SPAN, normalise,
};
