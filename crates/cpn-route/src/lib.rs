//! Compute-aware routing: the path selector of a computing power network. It owns the
//! routing graph of a scenario (CSR, integer weights, live link state), the path algorithms
//! (shortest, constrained, multi-constraint, k-shortest, disjoint), the joint decision that
//! picks a compute site and a path together under an SLA, CATS steering tables, and the
//! compilation of a path into an SRv6 segment list.
//!
//! A pure core: no I/O, no clock (time and load come in as values), no allocation per decision
//! once its working memory is warm. The controller and the simulator both call it.

mod arc_csv;
mod constraints;
mod decision;
mod disjoint;
mod graph;
mod gridgen;
mod mcp;
mod path;
mod queue;
pub mod queueing;
mod report;
mod search;
pub mod srv6;
mod sssp;
mod steering;
mod yen;

pub use arc_csv::{ARC_CSV_HEADER, ArcCsvError, ArcList, CsvProblem, parse_arc_csv, write_arc_csv};
pub use constraints::{Constraints, CostedPath, QueryError};
pub use decision::{
    Candidate, Decision, Demand, Engine, IT_KWH_PER_COMPUTE_HOUR, LatencyBreakdown, Load,
    Objective, Occupancy, Reason, Request, RequestError, SlaBounds, run_cost,
};
pub use disjoint::{DisjointPair, DisjointPaths};
pub use graph::{ArcId, ArcSpec, Graph, GraphError, Metric, UNUSABLE};
pub use gridgen::{GridArcs, GridError, MAX_GRID_SIDE, SplitMix64, grid_arcs};
pub use mcp::{Cost, Exact, Larac, MultiConstraint, Solution};
pub use path::{Path, PathStats};
pub use report::{CandidateReport, Report, steering};
pub use sssp::ShortestPaths;
pub use steering::{Entry, FlowState, Flows, Hysteresis, Steered, SteeringTable};
pub use yen::{DEFAULT_SKIP_LIMIT, KShortest, KShortestPaths};
