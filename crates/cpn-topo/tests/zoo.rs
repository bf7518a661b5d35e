//! Every Internet Topology Zoo file imports, with the counts that INDEX.csv records for it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::fs;

use cpn_topo::{BandwidthFrom, Warning, parse_graphml, parse_link_speed};

/// The INDEX.csv columns this test checks, by network name.
struct Row {
    nodes: usize,
    edges: usize,
    nodes_with_latlon: usize,
    edges_with_link_speed: usize,
    edges_with_link_label: usize,
}

fn read_index(text: &str) -> HashMap<String, Row> {
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let cols = [
        col("nodes"),
        col("edges"),
        col("nodes_with_latlon"),
        col("edges_with_LinkSpeed"),
        col("edges_with_LinkLabel"),
    ];
    // The columns read here precede the quoted free-text ones, so a plain split is enough.
    lines
        .filter(|l| !l.is_empty())
        .map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            let n = |i: usize| f[cols[i]].parse::<usize>().unwrap();
            let row = Row {
                nodes: n(0),
                edges: n(1),
                nodes_with_latlon: n(2),
                edges_with_link_speed: n(3),
                edges_with_link_label: n(4),
            };
            (f[0].to_owned(), row)
        })
        .collect()
}

#[test]
fn every_zoo_file_imports_with_index_counts() {
    let Some(dir) = cpn_testdata::data_dir("topology-zoo/graphml") else {
        return;
    };
    let index = read_index(&fs::read_to_string(dir.join("../INDEX.csv")).unwrap());
    let mut files: Vec<_> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "graphml"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 276, "file count in {}", dir.display());
    assert_eq!(index.len(), 276, "INDEX.csv rows");

    let (mut from_raw, mut from_label, mut unknown) = (0, 0, 0);
    let mut warnings: HashMap<&'static str, usize> = HashMap::new();
    let mut label_disagrees: Vec<(String, u64, u64)> = Vec::new();
    for path in &files {
        let name = path.file_stem().unwrap().to_str().unwrap();
        let text = fs::read_to_string(path).unwrap();
        let topo = parse_graphml(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
        let row = index
            .get(name)
            .unwrap_or_else(|| panic!("{name} not in INDEX.csv"));
        assert_eq!(topo.nodes.len(), row.nodes, "{name} nodes");
        assert_eq!(topo.edges.len(), row.edges, "{name} edges");
        let located = topo.nodes.iter().filter(|n| n.lat.is_some()).count();
        assert_eq!(located, row.nodes_with_latlon, "{name} nodes with lat/lon");
        let labelled = topo.edges.iter().filter(|e| e.label.is_some()).count();
        assert_eq!(
            labelled, row.edges_with_link_label,
            "{name} edges with LinkLabel"
        );
        assert!(topo.name.is_some(), "{name} has a Network name");

        let raw = topo
            .edges
            .iter()
            .filter(|e| e.bandwidth_from == BandwidthFrom::LinkSpeedRaw);
        let raw = raw.count();
        // INDEX.csv counts edges with a `LinkSpeed` value. Every file that has one also has
        // `LinkSpeedRaw`, except Garr.graphml, which declares `LinkSpeed` and `LinkSpeedUnits`
        // but no `LinkSpeedRaw` key; its speeds are still read, from labels like "155 Mbps".
        if text.contains("attr.name=\"LinkSpeedRaw\"") {
            assert_eq!(
                raw, row.edges_with_link_speed,
                "{name} edges with LinkSpeedRaw"
            );
        } else {
            assert_eq!(raw, 0, "{name}");
            let labelled = topo
                .edges
                .iter()
                .filter(|e| e.bandwidth_from == BandwidthFrom::LinkLabel);
            assert!(
                labelled.count() >= row.edges_with_link_speed,
                "{name} label speeds"
            );
        }

        let no_coords = topo
            .warnings
            .iter()
            .filter(|w| matches!(w, Warning::NodeWithoutCoordinates { .. }))
            .count();
        assert_eq!(
            no_coords,
            row.nodes - row.nodes_with_latlon,
            "{name} warnings"
        );
        for w in &topo.warnings {
            let kind = match w {
                Warning::NodeWithoutCoordinates { .. } => "node without coordinates",
                Warning::InvalidValue { .. } => "invalid value",
                Warning::UnparsableLinkLabel { .. } => "unparsable link label",
                Warning::SelfLoop { .. } => "self-loop",
                Warning::DirectedGraph { .. } => "directed graph",
                Warning::UndeclaredKey { .. } => "undeclared key",
            };
            *warnings.entry(kind).or_default() += 1;
        }
        for e in &topo.edges {
            match e.bandwidth_from {
                BandwidthFrom::LinkSpeedRaw => from_raw += 1,
                BandwidthFrom::LinkLabel => from_label += 1,
                BandwidthFrom::None => unknown += 1,
            }
            // Cross-check parse_link_speed against the Zoo's own parse where both exist.
            let (Some(label), Some(raw)) = (&e.label, e.bandwidth_bps) else {
                continue;
            };
            if e.bandwidth_from != BandwidthFrom::LinkSpeedRaw {
                continue;
            }
            if let Some(ours) = parse_link_speed(label)
                && ours.abs_diff(raw) > raw / 20
            {
                label_disagrees.push((label.clone(), ours, raw));
            }
        }
    }
    eprintln!("bandwidth from LinkSpeedRaw {from_raw}, LinkLabel {from_label}, none {unknown}");
    let mut warnings: Vec<_> = warnings.into_iter().collect();
    warnings.sort();
    eprintln!("warnings: {warnings:?}");
    // The Zoo read only the first number of a bundle ("10GEx4" as 10 Gb/s); we multiply, and
    // that is the only place where a label we parse disagrees with its LinkSpeedRaw.
    for (label, ours, raw) in &label_disagrees {
        let bundle = label
            .to_ascii_lowercase()
            .strip_prefix("10gex")
            .map(str::parse::<u64>);
        assert_eq!(
            bundle,
            Some(Ok(ours / raw)),
            "{label:?}: ours {ours}, zoo {raw}"
        );
    }
    assert_eq!(label_disagrees.len(), 5, "bundled 10GE edges in Iij");
}
