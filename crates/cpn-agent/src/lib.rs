//! The cpn node agent. It runs on every compute node (a cloud server, an edge box, an end
//! device) and makes what the controller knows of the node measured rather than declared:
//! `identity` keeps the node's ed25519 key, `daemon` registers (signed) and heartbeats the
//! node's load, and runs the tasks the controller assigns through `exec`, the wrapper that
//! applies the task's limits and meters its CPU time.
//!
//! The agent never decides where work goes: it runs what it is given and reports what
//! happened.

pub mod daemon;
pub mod exec;
pub mod identity;
mod load;
