//! Compute-aware routing: the path selector of a computing power network. It owns the
//! routing graph of a scenario (CSR, integer weights, live link state), the path algorithms
//! (shortest, constrained, multi-constraint, k-shortest, disjoint), the joint decision that
//! picks a compute site and a path together under an SLA, CATS steering tables, and the
//! compilation of a path into an SRv6 segment list.
//!
//! A pure core: no I/O, no clock (time and load come in as values), no allocation per decision
//! once its working memory is warm. The controller and the simulator both call it.

mod arc_csv;
mod graph;
mod gridgen;
mod path;
mod queue;
mod sssp;

pub use arc_csv::{ARC_CSV_HEADER, ArcCsvError, ArcList, CsvProblem, parse_arc_csv, write_arc_csv};
pub use graph::{ArcId, ArcSpec, Graph, GraphError, Metric, UNUSABLE};
pub use gridgen::{GridArcs, GridError, MAX_GRID_SIDE, SplitMix64, grid_arcs};
pub use path::{Path, PathStats};
pub use sssp::ShortestPaths;
