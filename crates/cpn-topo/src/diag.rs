//! What can go wrong while reading GraphML: errors that stop the import, and warnings about
//! values that were dropped while the rest of the file was still read.

use std::fmt;

/// A GraphML text that cannot be read as a topology at all.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}, column {column}: {kind}")]
pub struct GraphmlError {
    /// 1-based line of the offending element or attribute.
    pub line: u32,
    /// 1-based column, counted in characters.
    pub column: u32,
    pub kind: GraphmlErrorKind,
}

/// What is wrong, without the position.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GraphmlErrorKind {
    #[error("malformed xml: {0}")]
    Xml(String),
    #[error("root element is <{0}>, not <graphml>")]
    NotGraphml(String),
    #[error("<graphml> has no <graph> element")]
    MissingGraph,
    #[error("<{element}> has no `{attribute}` attribute")]
    MissingAttribute {
        element: &'static str,
        attribute: &'static str,
    },
    #[error("node id {id:?} is already used by the node at line {first_line}")]
    DuplicateNodeId { id: String, first_line: u32 },
    #[error("edge {end} {id:?} is not the id of any node")]
    UnknownNode { end: &'static str, id: String },
}

/// The element a warning is about, named the way the file names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ElementRef {
    Graph,
    Node { id: String },
    Edge { source: String, target: String },
}

impl fmt::Display for ElementRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Graph => write!(f, "graph"),
            Self::Node { id } => write!(f, "node {id:?}"),
            Self::Edge { source, target } => write!(f, "edge {source:?}-{target:?}"),
        }
    }
}

/// Something the importer dropped or noted while still producing a topology.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Warning {
    /// The node lacks a usable latitude or longitude, so both are treated as absent.
    NodeWithoutCoordinates { node: String, line: u32 },
    /// A data value that does not parse as what its attribute means; it is ignored.
    InvalidValue {
        element: ElementRef,
        line: u32,
        attribute: String,
        value: String,
        expected: &'static str,
    },
    /// An edge without `LinkSpeedRaw` whose `LinkLabel` states no clear speed.
    UnparsableLinkLabel {
        source: String,
        target: String,
        line: u32,
        label: String,
    },
    /// An edge from a node to itself; kept, since it is an `<edge>` of the file.
    SelfLoop { node: String, line: u32 },
    /// The graph says `edgedefault="directed"`; its edges are still read as undirected links.
    DirectedGraph { line: u32 },
    /// A `<data>` element whose key no `<key>` for this kind of element declares.
    UndeclaredKey {
        element: ElementRef,
        line: u32,
        key: String,
    },
}

impl Warning {
    /// 1-based line of the element the warning is about.
    pub fn line(&self) -> u32 {
        match self {
            Self::NodeWithoutCoordinates { line, .. }
            | Self::InvalidValue { line, .. }
            | Self::UnparsableLinkLabel { line, .. }
            | Self::SelfLoop { line, .. }
            | Self::DirectedGraph { line }
            | Self::UndeclaredKey { line, .. } => *line,
        }
    }
}

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NodeWithoutCoordinates { node, line } => write!(
                f,
                "line {line}: node {node:?} has no usable latitude/longitude"
            ),
            Self::InvalidValue {
                element,
                line,
                attribute,
                value,
                expected,
            } => write!(
                f,
                "line {line}: {element} has {attribute} {value:?}, expected {expected}; ignored"
            ),
            Self::UnparsableLinkLabel {
                source,
                target,
                line,
                label,
            } => write!(
                f,
                "line {line}: edge {source:?}-{target:?} has link label {label:?}, \
                 which states no link speed; bandwidth unknown"
            ),
            Self::SelfLoop { node, line } => {
                write!(f, "line {line}: edge from node {node:?} to itself; kept")
            }
            Self::DirectedGraph { line } => write!(
                f,
                "line {line}: graph declares edgedefault=\"directed\"; edges are read as undirected links"
            ),
            Self::UndeclaredKey { element, line, key } => write!(
                f,
                "line {line}: {element} has data for key {key:?}, which no <key> declares for it; ignored"
            ),
        }
    }
}
