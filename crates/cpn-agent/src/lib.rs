//! The cpn node agent. It runs on every compute node (a cloud server, an edge box, an end
//! device) and makes what the controller knows of the node measured rather than declared:
//! `measure` times the node (FLOPS, integer and hash throughput, memory bandwidth, system
//! facts) and `cats` turns a measurement into CATS metrics; `identity` keeps the node's ed25519
//! key, `daemon` registers (signed) and heartbeats the node's load, and runs the tasks the
//! controller assigns through `exec`, the wrapper that applies the task's limits and meters its
//! CPU time; `usage` signs the usage reports of the market contracts at its site.
//!
//! The agent never decides where work goes: it runs what it is given and reports what
//! happened. Everything that turns figures into scores is a pure function of a
//! [`measure::Measurement`], so scores are tested on synthetic machines. It must never need a
//! GPU driver or CUDA to build: GPUs are read only with the `nvml` feature.

pub mod cats;
pub mod daemon;
pub mod exec;
pub mod identity;
mod load;
pub mod measure;
pub mod usage;
