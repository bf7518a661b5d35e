//! `parse_graphml` on small hand-written documents, and on random and mutated input.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use cpn_topo::{
    BandwidthFrom, ElementRef, GraphmlError, GraphmlErrorKind, Topology, Warning, parse_graphml,
    parse_link_speed,
};
use proptest::prelude::*;

/// Wraps `<key>` declarations and graph content into a document. The `<graph>` element is on
/// line 3 plus the number of lines in `keys` (line 12 with [`KEYS`]); its content follows.
fn doc(keys: &str, graph: &str) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
         <graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\">{keys}\n\
         <graph edgedefault=\"undirected\">\n{graph}</graph>\n</graphml>\n"
    )
}

fn parse(keys: &str, graph: &str) -> Topology {
    parse_graphml(&doc(keys, graph)).unwrap_or_else(|e| panic!("{e}"))
}

fn error(text: &str) -> GraphmlError {
    parse_graphml(text).expect_err("the document must be rejected")
}

/// Keys whose ids say nothing of their meaning, and a decoy whose id is another key's name.
const KEYS: &str = r#"
<key attr.name="LinkLabel" attr.type="string" for="edge" id="Latitude" />
<key attr.name="Latitude" attr.type="double" for="node" id="k7" />
<key attr.name="Longitude" attr.type="double" for="node" id="k1" />
<key attr.name="label" attr.type="string" for="node" id="k3" />
<key attr.name="Internal" attr.type="int" for="node" id="k9" />
<key attr.name="Country" attr.type="string" for="all" id="k2" />
<key attr.name="LinkSpeedRaw" attr.type="double" for="edge" id="k4" />
<key attr.name="Network" attr.type="string" for="graph" id="k0" />
<key attr.name="label" attr.type="string" for="graph" id="k8" />"#;

const SAMPLE_GRAPH: &str = r#"<data key="k8">sample</data><data key="k0">Sample Net</data>
<node id="a"><data key="k3">Alpha</data><data key="k7">30.5</data><data key="k1">104.0</data><data key="k9">1</data><data key="k2">China</data></node>
<node id="b"><data key="k3">Beta</data><data key="k7">-33.9</data><data key="k1">151.2</data><data key="k9">1</data></node>
<node id="c"><data key="k3">Stub</data><data key="k9">0</data></node>
<edge source="a" target="b"><data key="k4">10000000000.0</data><data key="Latitude">10 Gbps</data></edge>
<edge source="b" target="a"><data key="Latitude">OC-48</data></edge>
<edge source="a" target="b"><data key="Latitude">Red Link</data></edge>
<edge source="c" target="a" />
"#;

#[test]
fn keys_are_mapped_by_name_not_id() {
    let t = parse(KEYS, SAMPLE_GRAPH);
    assert_eq!(t.name.as_deref(), Some("Sample Net"));
    let a = &t.nodes[0];
    assert_eq!(a.graphml_id, "a");
    assert_eq!(a.label.as_deref(), Some("Alpha"));
    assert_eq!((a.lat, a.lon), (Some(30.5), Some(104.0)));
    assert_eq!(a.internal, Some(true));
    assert_eq!(a.country.as_deref(), Some("China"));
    assert_eq!(a.line, 14);
    assert_eq!(t.nodes[2].internal, Some(false));
    // The key with id "Latitude" is the edge's LinkLabel.
    assert_eq!(t.edges[0].label.as_deref(), Some("10 Gbps"));

    // Renaming every key id changes nothing.
    // Rotate the ids: each key takes the id of the next one.
    let ids = ["k0", "k1", "k2", "k3", "k4", "k7", "k8", "k9", "Latitude"];
    let renamed = |s: &str| {
        let mut s = s.to_owned();
        for (i, id) in ids.iter().enumerate() {
            for attr in ["id", "key"] {
                s = s.replace(&format!("{attr}=\"{id}\""), &format!("{attr}=\"tmp{i}\""));
            }
        }
        for i in 0..ids.len() {
            s = s.replace(
                &format!("\"tmp{i}\""),
                &format!("\"{}\"", ids[(i + 1) % ids.len()]),
            );
        }
        s
    };
    assert_ne!(renamed(KEYS), KEYS);
    assert_eq!(parse(&renamed(KEYS), &renamed(SAMPLE_GRAPH)), t);
}

#[test]
fn graph_label_names_the_network_without_network_key() {
    let t = parse(KEYS, r#"<data key="k8">OnlyLabel</data>"#);
    assert_eq!(t.name.as_deref(), Some("OnlyLabel"));
    assert!(t.nodes.is_empty() && t.edges.is_empty() && t.warnings.is_empty());
}

#[test]
fn parallel_edges_are_kept_and_bandwidth_sources_recorded() {
    let t = parse(KEYS, SAMPLE_GRAPH);
    assert_eq!(t.edges.len(), 4);
    let summary: Vec<_> = t
        .edges
        .iter()
        .map(|e| (e.source, e.target, e.bandwidth_bps, e.bandwidth_from))
        .collect();
    assert_eq!(
        summary,
        [
            (0, 1, Some(10_000_000_000), BandwidthFrom::LinkSpeedRaw),
            (1, 0, Some(2_488_320_000), BandwidthFrom::LinkLabel),
            (0, 1, None, BandwidthFrom::None),
            (2, 0, None, BandwidthFrom::None),
        ]
    );
    assert_eq!(t.edges[1].line, 18);
    assert!(t.warnings.contains(&Warning::UnparsableLinkLabel {
        source: "a".into(),
        target: "b".into(),
        line: 19,
        label: "Red Link".into(),
    }));
}

#[test]
fn node_without_coordinates_is_kept_with_a_warning() {
    let t = parse(KEYS, SAMPLE_GRAPH);
    let stub = &t.nodes[2];
    assert_eq!((stub.lat, stub.lon), (None, None));
    let w = Warning::NodeWithoutCoordinates {
        node: "c".into(),
        line: 16,
    };
    assert!(t.warnings.contains(&w), "{:?}", t.warnings);
    assert_eq!(
        w.to_string(),
        "line 16: node \"c\" has no usable latitude/longitude"
    );
    // Edges to and from it are kept.
    assert_eq!(t.edges[3].source, 2);
}

#[test]
fn bad_coordinates_are_dropped_with_warnings() {
    let t = parse(
        KEYS,
        r#"<node id="n1"><data key="k7">91</data><data key="k1">10</data></node>
<node id="n2"><data key="k7">north</data><data key="k1">10</data></node>
<node id="n3"><data key="k7">10</data></node>
<node id="n4"><data key="k7"> -90 </data><data key="k1">180.0</data><data key="k9">yes</data></node>
"#,
    );
    let located: Vec<_> = t.nodes.iter().map(|n| n.lat.zip(n.lon)).collect();
    assert_eq!(located, [None, None, None, Some((-90.0, 180.0))]);
    let invalid = |id: &str, line, attribute: &str, value: &str, expected| Warning::InvalidValue {
        element: ElementRef::Node { id: id.into() },
        line,
        attribute: attribute.into(),
        value: value.into(),
        expected,
    };
    let without = |id: &str, line| Warning::NodeWithoutCoordinates {
        node: id.into(),
        line,
    };
    assert_eq!(
        t.warnings,
        [
            invalid("n1", 13, "Latitude", "91", "a latitude in [-90, 90]"),
            without("n1", 13),
            invalid("n2", 14, "Latitude", "north", "a latitude in [-90, 90]"),
            without("n2", 14),
            without("n3", 15),
            invalid("n4", 16, "Internal", "yes", "0 or 1"),
        ]
    );
    assert_eq!(
        t.warnings[0].to_string(),
        "line 13: node \"n1\" has Latitude \"91\", expected a latitude in [-90, 90]; ignored"
    );
}

#[test]
fn bad_link_speed_raw_falls_back_to_the_label() {
    let t = parse(
        KEYS,
        r#"<node id="a"/><node id="b"/>
<edge source="a" target="b"><data key="k4">fast</data><data key="Latitude">STM-4</data></edge>
"#,
    );
    assert_eq!(t.edges[0].bandwidth_bps, Some(622_080_000));
    assert_eq!(t.edges[0].bandwidth_from, BandwidthFrom::LinkLabel);
    assert!(t.warnings.iter().any(|w| matches!(
        w,
        Warning::InvalidValue { attribute, line: 14, .. } if attribute == "LinkSpeedRaw"
    )));
}

#[test]
fn self_loops_directed_graphs_and_undeclared_keys_are_noted() {
    let text = doc(
        KEYS,
        r#"<node id="a"><data key="nope">1</data></node><edge source="a" target="a"/>"#,
    )
    .replace("undirected", "directed");
    let t = parse_graphml(&text).unwrap();
    assert_eq!(t.edges.len(), 1);
    let kinds: Vec<String> = t.warnings.iter().map(ToString::to_string).collect();
    assert_eq!(
        kinds,
        [
            "line 12: graph declares edgedefault=\"directed\"; edges are read as undirected links",
            "line 13: node \"a\" has data for key \"nope\", which no <key> declares for it; ignored",
            "line 13: node \"a\" has no usable latitude/longitude",
            "line 13: edge from node \"a\" to itself; kept",
        ]
    );
}

#[test]
fn a_key_for_edges_does_not_apply_to_nodes() {
    let t = parse(KEYS, r#"<node id="a"><data key="k4">5</data></node>"#);
    assert!(t.warnings.contains(&Warning::UndeclaredKey {
        element: ElementRef::Node { id: "a".into() },
        line: 13,
        key: "k4".into(),
    }));
}

#[test]
fn edges_may_come_before_their_nodes() {
    let t = parse(
        "",
        "<edge source=\"b\" target=\"a\"/>\n<node id=\"a\"/><node id=\"b\"/>\n",
    );
    assert_eq!((t.edges[0].source, t.edges[0].target), (1, 0));
}

#[test]
fn unknown_node_in_edge_is_an_error_at_the_attribute() {
    let text = doc(
        "",
        "<node id=\"a\"/>\n    <edge source=\"a\" target=\"zz\"/>\n",
    );
    let e = error(&text);
    let kind = GraphmlErrorKind::UnknownNode {
        end: "target",
        id: "zz".into(),
    };
    assert_eq!((e.line, e.column, &e.kind), (5, 22, &kind));
    assert_eq!(
        e.to_string(),
        "line 5, column 22: edge target \"zz\" is not the id of any node"
    );
}

#[test]
fn structural_errors_carry_positions() {
    let cases: &[(&str, &str)] = &[
        (
            "",
            "line 1, column 1: malformed xml: the document does not have a root node",
        ),
        (
            "<graphml>\n  <graph>\n</graphml>",
            "line 3, column 1: malformed xml: expected 'graph' tag, not 'graphml'",
        ),
        (
            "<graphml a='1' a='2'/>",
            "line 1, column 16: malformed xml: attribute 'a' is already defined",
        ),
        (
            "<svg/>",
            "line 1, column 1: root element is <svg>, not <graphml>",
        ),
        (
            "<graphml>\n <key id='d0'/>\n</graphml>",
            "line 1, column 1: <graphml> has no <graph> element",
        ),
        (
            "<graphml><graph>\n<node/></graph></graphml>",
            "line 2, column 1: <node> has no `id` attribute",
        ),
        (
            "<graphml><graph>\n<node id='a'/>\n<node id='a'/></graph></graphml>",
            "line 3, column 1: node id \"a\" is already used by the node at line 2",
        ),
        (
            "<graphml><graph><node id='a'/>\n  <edge target='a'/></graph></graphml>",
            "line 2, column 3: <edge> has no `source` attribute",
        ),
        (
            "<graphml><graph><node id='a'/>\n<edge source='b' target='a'/></graph></graphml>",
            "line 2, column 7: edge source \"b\" is not the id of any node",
        ),
    ];
    for (text, want) in cases {
        assert_eq!(error(text).to_string(), *want, "{text:?}");
    }
}

/// A real Zoo file when the data is present, the hand-written sample otherwise.
fn seed_document() -> String {
    cpn_testdata::data_dir("topology-zoo/graphml")
        .and_then(|d| std::fs::read_to_string(d.join("Abilene.graphml")).ok())
        .unwrap_or_else(|| doc(KEYS, SAMPLE_GRAPH))
}

/// One edit of a document: a cut, an insertion, a byte overwrite or a truncation.
#[derive(Debug, Clone)]
enum Edit {
    Cut(usize, usize),
    Insert(usize, String),
    Overwrite(usize, u8),
    Truncate(usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    let pos = any::<usize>();
    prop_oneof![
        (pos, 0..64usize).prop_map(|(p, n)| Edit::Cut(p, n)),
        (
            pos,
            r#"[<>/="' a-z0-9.\-&;]{0,12}|<node id="x"/>|<edge source="x" target="x"/>"#
        )
            .prop_map(|(p, s)| Edit::Insert(p, s)),
        (pos, any::<u8>()).prop_map(|(p, b)| Edit::Overwrite(p, b)),
        pos.prop_map(Edit::Truncate),
    ]
}

fn apply(bytes: &mut Vec<u8>, edit: &Edit) {
    let at = |p: usize, len: usize| if len == 0 { 0 } else { p % (len + 1) };
    match edit {
        Edit::Cut(p, n) => {
            let start = at(*p, bytes.len());
            let end = (start + n).min(bytes.len());
            bytes.drain(start..end);
        }
        Edit::Insert(p, s) => {
            let i = at(*p, bytes.len());
            bytes.splice(i..i, s.bytes());
        }
        Edit::Overwrite(p, b) => {
            if !bytes.is_empty() {
                let i = p % bytes.len();
                bytes[i] = *b;
            }
        }
        Edit::Truncate(p) => {
            let i = at(*p, bytes.len());
            bytes.truncate(i);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let _ = parse_graphml(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn random_markup_never_panics(
        text in r#"(<graphml>|<graph>|</graph>|<node id="[ab]"/>|<edge source="[abc]" target="[ab]"/>|<key id="d[01]" for="(node|edge|all)" attr.name="(Latitude|Longitude|LinkSpeedRaw|LinkLabel)"/>|<data key="d[012]">[-0-9.a-zGM ]{0,8}</data>|</node>|</edge>|</graphml>|<node id="a">|<edge source="a" target="b">){0,16}"#
    ) {
        let _ = parse_graphml(&text);
    }

    #[test]
    fn link_labels_never_panic(label in r#"([0-9.]{1,4}|[-x*/<>,() ]|[a-zA-Z]{1,5}|OC|STM|GE|Gbps|Mb/s|é|\u{2264}){0,8}"#) {
        let _ = parse_link_speed(&label);
    }

    #[test]
    fn any_text_label_never_panics(label in ".{0,40}") {
        let _ = parse_link_speed(&label);
    }
}

proptest! {
    // Each case parses a whole Zoo file in a debug build, so fewer cases.
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn mutated_real_file_never_panics(edits in proptest::collection::vec(edit(), 1..6)) {
        let mut bytes = seed_document().into_bytes();
        for e in &edits {
            apply(&mut bytes, e);
        }
        if let Ok(t) = parse_graphml(&String::from_utf8_lossy(&bytes)) {
            // Whatever survives must still be internally consistent.
            for e in &t.edges {
                prop_assert!(e.source < t.nodes.len() && e.target < t.nodes.len());
            }
            for n in &t.nodes {
                prop_assert_eq!(n.lat.is_some(), n.lon.is_some());
            }
        }
    }
}
