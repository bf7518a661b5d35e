//! Topology import: reads Internet Topology Zoo GraphML text into a plain list of routers
//! (nodes) and links (edges), with a warning for every value the file leaves unusable. This
//! crate owns the meaning of the Zoo's GraphML attributes (which `attr.name` carries the
//! coordinates, the label, the link speed) and the rules for reading a link speed from a
//! free-text link label ([`parse_link_speed`]).
//!
//! It must never read files or the clock (callers pass the text in), never guess a value the
//! file does not state (a colour is not a link speed), and never panic on any input: malformed
//! XML or GraphML is a [`GraphmlError`] carrying a line and column. It does not compute
//! latencies, fill in defaults or build routing graphs; that is the model's job.

mod diag;
mod graphml;
mod link_speed;

pub use diag::{ElementRef, GraphmlError, GraphmlErrorKind, Warning};
pub use graphml::parse_graphml;
pub use link_speed::parse_link_speed;

/// A network read from one GraphML file: routers and links in file order, plus warnings.
#[derive(Debug, Clone, PartialEq)]
pub struct Topology {
    /// The graph-level `Network` value, or the graph-level `label` when there is no `Network`.
    pub name: Option<String>,
    pub nodes: Vec<Node>,
    /// One entry per `<edge>` element: parallel edges and self-loops are kept.
    pub edges: Vec<Edge>,
    pub warnings: Vec<Warning>,
}

/// A `<node>` element: a router or point of presence.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The element's `id` attribute, which edges refer to.
    pub graphml_id: String,
    /// The node `label` (a PoP or city name in the Zoo).
    pub label: Option<String>,
    /// Degrees north; `lat` and `lon` are either both present and in range, or both absent.
    pub lat: Option<f64>,
    /// Degrees east; see `lat`.
    pub lon: Option<f64>,
    /// The Zoo's `Internal` flag: `Some(false)` marks an external peer stub.
    pub internal: Option<bool>,
    pub country: Option<String>,
    /// 1-based line of the `<node>` element.
    pub line: u32,
}

/// An `<edge>` element: an undirected link.
#[derive(Debug, Clone, PartialEq)]
pub struct Edge {
    /// Index into [`Topology::nodes`].
    pub source: usize,
    /// Index into [`Topology::nodes`].
    pub target: usize,
    /// Capacity in bits per second, when the file states one.
    pub bandwidth_bps: Option<u64>,
    /// Which attribute `bandwidth_bps` came from.
    pub bandwidth_from: BandwidthFrom,
    /// The free-text `LinkLabel`, verbatim.
    pub label: Option<String>,
    /// 1-based line of the `<edge>` element.
    pub line: u32,
}

/// Where an edge's bandwidth was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BandwidthFrom {
    /// The Zoo's own parsed speed in bits per second; preferred when present and valid.
    LinkSpeedRaw,
    /// [`parse_link_speed`] applied to the `LinkLabel` text.
    LinkLabel,
    /// No bandwidth is known.
    None,
}
