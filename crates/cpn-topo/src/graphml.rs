//! The GraphML reader: XML elements to [`Topology`].

use std::collections::HashMap;

use roxmltree::{Document, Node as Xml};

use crate::diag::{ElementRef, GraphmlError, GraphmlErrorKind, Warning};
use crate::link_speed::parse_link_speed;
use crate::{BandwidthFrom, Edge, Node, Topology};

/// Reads one GraphML document (as in the Internet Topology Zoo) into a [`Topology`].
///
/// `<data>` values are found through the `attr.name` and `for` of their `<key>` declaration,
/// never through the key's `id`, which differs from file to file. Nodes and edges are read from
/// the first `<graph>` only, nodes before edges, so an edge may precede the nodes it joins.
/// Every `<edge>` becomes one [`Edge`], parallel edges and self-loops included. `<key>` defaults
/// are not applied (the Zoo declares none).
///
/// An edge's bandwidth is its `LinkSpeedRaw` (bits per second, possibly written as a float)
/// when that is a positive number, otherwise [`parse_link_speed`] of its `LinkLabel`.
///
/// Errors: malformed XML, a root that is not `<graphml>`, no `<graph>`, a node without `id`,
/// a duplicate node id, an edge without `source`/`target`, or one naming an unknown node.
/// Anything else that is unusable (missing or out-of-range coordinates, non-numeric values,
/// link labels that state no speed, self-loops, a directed graph) becomes a [`Warning`].
pub fn parse_graphml(text: &str) -> Result<Topology, GraphmlError> {
    let lines = LineIndex::new(text);
    let doc = Document::parse(text).map_err(|e| {
        let pos = e.pos();
        // roxmltree ends most messages with " at row:col", which the error already carries.
        let message = e.to_string().replacen(&format!(" at {pos}"), "", 1);
        GraphmlError {
            line: pos.row,
            column: pos.col,
            kind: GraphmlErrorKind::Xml(message),
        }
    })?;
    let root = doc.root_element();
    if root.tag_name().name() != "graphml" {
        let name = root.tag_name().name().to_owned();
        return Err(lines.error(root.range().start, GraphmlErrorKind::NotGraphml(name)));
    }
    let keys = Keys::read(root);
    let graph = children(root, "graph")
        .next()
        .ok_or_else(|| lines.error(root.range().start, GraphmlErrorKind::MissingGraph))?;

    let mut reader = Reader {
        lines: &lines,
        keys: &keys,
        warnings: Vec::new(),
    };
    let graph_line = lines.line(graph.range().start);
    if graph.attribute("edgedefault") == Some("directed") {
        reader
            .warnings
            .push(Warning::DirectedGraph { line: graph_line });
    }
    let mut name = None;
    let mut label = None;
    for (attr, value) in reader.data(graph, Domain::Graph, graph_line, || ElementRef::Graph) {
        match attr {
            "Network" => name = Some(value.to_owned()),
            "label" => label = Some(value.to_owned()),
            _ => {}
        }
    }

    let mut nodes: Vec<Node> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for el in children(graph, "node") {
        let id = required(&lines, el, "node", "id")?;
        if let Some(&first) = index.get(id) {
            let first_line = nodes.get(first).map_or(0, |n| n.line);
            let kind = GraphmlErrorKind::DuplicateNodeId {
                id: id.to_owned(),
                first_line,
            };
            return Err(lines.error(el.range().start, kind));
        }
        index.insert(id, nodes.len());
        nodes.push(reader.node(el, id));
    }

    let mut edges = Vec::new();
    for el in children(graph, "edge") {
        let end = |attribute: &'static str| {
            let id = required(&lines, el, "edge", attribute)?;
            index.get(id).map(|&i| (id, i)).ok_or_else(|| {
                // Point at the attribute itself, so the column leads to the wrong id.
                let at = el
                    .attribute_node(attribute)
                    .map_or(el.range().start, |a| a.range().start);
                let kind = GraphmlErrorKind::UnknownNode {
                    end: attribute,
                    id: id.to_owned(),
                };
                lines.error(at, kind)
            })
        };
        let (source_id, source) = end("source")?;
        let (target_id, target) = end("target")?;
        edges.push(reader.edge(el, (source_id, source), (target_id, target)));
    }

    Ok(Topology {
        name: name.or(label),
        nodes,
        edges,
        warnings: reader.warnings,
    })
}

/// Which elements a `<key>` describes: GraphML's `for` attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Domain {
    Graph,
    Node,
    Edge,
    All,
    Other,
}

/// The `<key>` declarations of a document, by key id.
struct Keys<'a> {
    by_id: HashMap<&'a str, (Domain, &'a str)>,
}

impl<'a> Keys<'a> {
    fn read(root: Xml<'a, '_>) -> Self {
        let mut by_id = HashMap::new();
        for key in children(root, "key") {
            // A key without a name has no meaning to map, so its data is reported as undeclared.
            let (Some(id), Some(name)) = (key.attribute("id"), key.attribute("attr.name")) else {
                continue;
            };
            let domain = match key.attribute("for").unwrap_or("all") {
                "graph" => Domain::Graph,
                "node" => Domain::Node,
                "edge" => Domain::Edge,
                "all" => Domain::All,
                _ => Domain::Other,
            };
            // Ids must be unique in GraphML; if not, the first declaration wins.
            by_id.entry(id).or_insert((domain, name));
        }
        Self { by_id }
    }

    /// The `attr.name` of key `id` if it applies to elements of `domain`.
    fn name(&self, id: &str, domain: Domain) -> Option<&'a str> {
        match self.by_id.get(id) {
            Some(&(d, name)) if d == domain || d == Domain::All => Some(name),
            _ => None,
        }
    }
}

/// State shared while reading the elements of one graph.
struct Reader<'r, 'a> {
    lines: &'r LineIndex<'r>,
    keys: &'r Keys<'a>,
    warnings: Vec<Warning>,
}

impl<'a> Reader<'_, 'a> {
    /// The `(attr.name, text)` pairs of an element's `<data>` children, warning about data
    /// whose key is not declared for this kind of element.
    fn data(
        &mut self,
        el: Xml<'a, '_>,
        domain: Domain,
        line: u32,
        element: impl Fn() -> ElementRef,
    ) -> Vec<(&'a str, &'a str)> {
        let mut out = Vec::new();
        for data in children(el, "data") {
            let key = data.attribute("key").unwrap_or("");
            match self.keys.name(key, domain) {
                Some(name) => out.push((name, data.text().unwrap_or(""))),
                None => self.warnings.push(Warning::UndeclaredKey {
                    element: element(),
                    line,
                    key: key.to_owned(),
                }),
            }
        }
        out
    }

    fn node(&mut self, el: Xml<'a, '_>, id: &str) -> Node {
        let line = self.lines.line(el.range().start);
        let element = || ElementRef::Node { id: id.to_owned() };
        let mut node = Node {
            graphml_id: id.to_owned(),
            label: None,
            lat: None,
            lon: None,
            internal: None,
            country: None,
            line,
        };
        for (attr, value) in self.data(el, Domain::Node, line, element) {
            match attr {
                "label" => node.label = Some(value.to_owned()),
                "Country" => node.country = Some(value.to_owned()),
                "Latitude" => node.lat = self.coordinate(attr, value, line, element),
                "Longitude" => node.lon = self.coordinate(attr, value, line, element),
                "Internal" => {
                    node.internal = match value.trim() {
                        "1" | "true" => Some(true),
                        "0" | "false" => Some(false),
                        _ => {
                            self.invalid(element(), line, attr, value, "0 or 1");
                            None
                        }
                    }
                }
                _ => {}
            }
        }
        // Half a position is no position: keep both or neither, so users need check only one.
        if node.lat.is_none() || node.lon.is_none() {
            node.lat = None;
            node.lon = None;
            self.warnings.push(Warning::NodeWithoutCoordinates {
                node: id.to_owned(),
                line,
            });
        }
        node
    }

    fn edge(
        &mut self,
        el: Xml<'a, '_>,
        (source_id, source): (&str, usize),
        (target_id, target): (&str, usize),
    ) -> Edge {
        let line = self.lines.line(el.range().start);
        let element = || ElementRef::Edge {
            source: source_id.to_owned(),
            target: target_id.to_owned(),
        };
        if source == target {
            self.warnings.push(Warning::SelfLoop {
                node: source_id.to_owned(),
                line,
            });
        }
        let mut raw = None;
        let mut label = None;
        for (attr, value) in self.data(el, Domain::Edge, line, element) {
            match attr {
                "LinkSpeedRaw" => raw = Some(value),
                "LinkLabel" => label = Some(value),
                _ => {}
            }
        }
        let mut bandwidth = None;
        if let Some(raw) = raw {
            let bps = raw.trim().parse::<f64>().ok();
            // 1e19 is below u64::MAX, so the cast below cannot saturate.
            match bps.filter(|b| b.is_finite() && (1.0..1e19).contains(b)) {
                Some(bps) => bandwidth = Some((bps.round() as u64, BandwidthFrom::LinkSpeedRaw)),
                None => self.invalid(element(), line, "LinkSpeedRaw", raw, "bits per second"),
            }
        }
        if let (None, Some(label)) = (bandwidth, label) {
            match parse_link_speed(label) {
                Some(bps) => bandwidth = Some((bps, BandwidthFrom::LinkLabel)),
                None => self.warnings.push(Warning::UnparsableLinkLabel {
                    source: source_id.to_owned(),
                    target: target_id.to_owned(),
                    line,
                    label: label.to_owned(),
                }),
            }
        }
        Edge {
            source,
            target,
            bandwidth_bps: bandwidth.map(|(bps, _)| bps),
            bandwidth_from: bandwidth.map_or(BandwidthFrom::None, |(_, from)| from),
            label: label.map(str::to_owned),
            line,
        }
    }

    /// A `Latitude` or `Longitude` in degrees within its range, or a warning and `None`.
    fn coordinate(
        &mut self,
        attr: &str,
        value: &str,
        line: u32,
        element: impl Fn() -> ElementRef,
    ) -> Option<f64> {
        let (limit, expected) = match attr {
            "Latitude" => (90.0, "a latitude in [-90, 90]"),
            _ => (180.0, "a longitude in [-180, 180]"),
        };
        let n = value.trim().parse::<f64>().ok();
        // NaN and infinities fail the range test too, so only real numbers in range pass.
        let n = n.filter(|n| (-limit..=limit).contains(n));
        if n.is_none() {
            self.invalid(element(), line, attr, value, expected);
        }
        n
    }

    fn invalid(
        &mut self,
        element: ElementRef,
        line: u32,
        attr: &str,
        value: &str,
        expected: &'static str,
    ) {
        self.warnings.push(Warning::InvalidValue {
            element,
            line,
            attribute: attr.to_owned(),
            value: value.to_owned(),
            expected,
        });
    }
}

/// Child elements of `parent` with local name `name`: namespaces are not checked, since
/// GraphML written without the namespace declaration means the same thing.
fn children<'a, 'i>(parent: Xml<'a, 'i>, name: &'static str) -> impl Iterator<Item = Xml<'a, 'i>> {
    parent
        .children()
        .filter(move |n| n.is_element() && n.tag_name().name() == name)
}

fn required<'a>(
    lines: &LineIndex<'_>,
    el: Xml<'a, '_>,
    element: &'static str,
    attribute: &'static str,
) -> Result<&'a str, GraphmlError> {
    el.attribute(attribute).ok_or_else(|| {
        let kind = GraphmlErrorKind::MissingAttribute { element, attribute };
        lines.error(el.range().start, kind)
    })
}

/// Byte offset to line and column, in O(log lines). roxmltree's own `text_pos_at` scans from
/// the start of the text each time, which would make reading a large file quadratic.
struct LineIndex<'t> {
    text: &'t str,
    /// Byte offset at which each line starts; the first is 0.
    starts: Vec<usize>,
}

impl<'t> LineIndex<'t> {
    fn new(text: &'t str) -> Self {
        let breaks = text.bytes().enumerate().filter(|&(_, b)| b == b'\n');
        let starts = std::iter::once(0)
            .chain(breaks.map(|(i, _)| i + 1))
            .collect();
        Self { text, starts }
    }

    /// 1-based line and column (in characters, as roxmltree counts them) of byte `offset`.
    fn position(&self, offset: usize) -> (u32, u32) {
        let line = self.starts.partition_point(|&s| s <= offset);
        let start = self.starts.get(line.wrapping_sub(1)).copied().unwrap_or(0);
        let column = self
            .text
            .get(start..offset)
            .map_or(0, |s| s.chars().count())
            + 1;
        (saturate(line), saturate(column))
    }

    fn line(&self, offset: usize) -> u32 {
        self.position(offset).0
    }

    fn error(&self, offset: usize, kind: GraphmlErrorKind) -> GraphmlError {
        let (line, column) = self.position(offset);
        GraphmlError { line, column, kind }
    }
}

fn saturate(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
