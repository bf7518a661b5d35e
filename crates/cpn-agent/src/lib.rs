//! The node agent of cpn. This crate owns measuring the node it runs on (`measure`: FLOPS,
//! integer and hash throughput, memory bandwidth, system facts) and turning a measurement
//! into CATS metrics (`cats`); later it will also own the agent daemon that registers the
//! node with a controller and reports those metrics.
//!
//! Measuring is I/O by nature (it reads `/proc` and `/sys` and the clock), so it stays out
//! of the pure crates; everything that turns figures into scores is a pure function of a
//! [`measure::Measurement`], so that scores can be tested on synthetic machines. It must
//! never need a GPU driver or CUDA to build: GPUs are read only with the `nvml` feature.

pub mod cats;
pub mod measure;
