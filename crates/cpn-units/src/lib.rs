//! Quantities of a computing power network: time, bandwidth, data size, frequency, ratios,
//! grid carbon intensity, computing power (FLOPS of a stated precision, integer ops) and hash
//! rate. This crate owns how they are written by people (`93.015 PFLOPS`, `10 Gbps`, `0.1%`)
//! and how they are held in code: as integers of a fine base unit, so that parsing, printing
//! and converting never lose precision and a value printed and parsed again is the same value.
//!
//! It must never convert silently between quantities that are not the same thing: FLOPS of
//! different precisions are distinct dimensions, and turning fp16 into fp64 FLOPS takes an
//! explicit factor. It does no I/O.

mod decimal;
mod quantity;
mod typed;
mod unit;

pub use quantity::{Dimension, Precision, Quantity, UnitError};
pub use typed::{Bandwidth, Bytes, Carbon, Flops, HashRate, Hertz, Nanos, Ratio};
pub use unit::{Unit, accepted_units};
