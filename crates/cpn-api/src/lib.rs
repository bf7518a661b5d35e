//! The public schema of the cpn controller: what crosses the wire between the controller and
//! its clients (tenants, operators, agents, the dashboard). Quantities travel as text with
//! their unit (`"20 ms"`, `"1 Gbps"`, `"2 TFLOPS"`) and elements by name, never by internal
//! index.
//!
//! The core's types are not the public schema: this crate turns wire requests into the
//! engine's and scheduler's requests, checked against a scenario, with errors that name the
//! field and what was expected. It does no I/O.

mod agent;
mod convert;
mod market;
mod wire;

pub use agent::{AgentRegistration, REGISTRATION_MAX_SKEW_MS, SignatureCheck, registration_bytes};
pub use convert::{FieldError, objective, slice, to_place, to_route};
pub use market::*;
pub use wire::*;
