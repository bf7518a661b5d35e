//! Every Internet Topology Zoo network imports into a scenario (through `import =`, as a user
//! would write it) with one router per node and one link per edge, and its TOML export reads
//! back to the same scenario. The expected counts come from the data set's INDEX.csv, not from
//! our own reader.

use std::collections::HashMap;
use std::path::Path;

use cpn_model::{LatencyOrigin, Loader, Scenario};

struct AbsoluteLoader;

impl Loader for AbsoluteLoader {
    fn load(&mut self, path: &str) -> Result<String, String> {
        std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))
    }
}

/// Network name to (nodes, edges) from INDEX.csv.
fn index(dir: &Path) -> HashMap<String, (u64, u64)> {
    let text = std::fs::read_to_string(dir.join("../INDEX.csv"))
        .expect("INDEX.csv beside the GraphML folder");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("header").split(',').collect();
    let col = |name: &str| header.iter().position(|h| *h == name).expect("column");
    let (nodes, edges) = (col("nodes"), col("edges"));
    lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (
                f[0].to_string(),
                (
                    f[nodes].parse().expect("count"),
                    f[edges].parse().expect("count"),
                ),
            )
        })
        .collect()
}

#[test]
fn every_zoo_network_imports_with_its_node_and_edge_counts() {
    let Some(dir) = cpn_testdata::data_dir("topology-zoo/graphml") else {
        return;
    };
    let index = index(&dir);
    let files = cpn_testdata::files_with_extension(&dir, "graphml");
    assert_eq!(files.len(), 276);
    for file in files {
        let network = file
            .file_stem()
            .expect("named")
            .to_string_lossy()
            .into_owned();
        let &(nodes, edges) = index
            .get(&network)
            .unwrap_or_else(|| panic!("{network} not in INDEX.csv"));
        let text = format!(
            "name = \"{network}\"\nimport = {:?}\n",
            file.display().to_string()
        );
        let scenario =
            Scenario::parse(&network, &text, &mut AbsoluteLoader).unwrap_or_else(|e| panic!("{e}"));
        let summary = scenario.summary();
        assert_eq!(
            (summary.routers, summary.links),
            (nodes, edges),
            "{network}"
        );

        // Every link has a positive capacity and a latency, stated, derived or defaulted.
        for link in &scenario.links {
            assert!(link.bandwidth.0 > 0, "{network}: {}", link.name);
            if let LatencyOrigin::Distance { km } = link.latency_origin {
                assert!(
                    (0.0..20_100.0).contains(&km),
                    "{network}: {} is {km} km",
                    link.name
                );
            }
        }

        let exported = scenario.to_toml();
        let again = Scenario::parse("export", &exported, &mut cpn_model::NoImports)
            .unwrap_or_else(|e| panic!("{network}: export does not read back: {e}"));
        assert_eq!(again.summary().routers, nodes, "{network}");
        assert_eq!(again.links.len(), scenario.links.len(), "{network}");
        for (x, y) in again.links.iter().zip(&scenario.links) {
            assert_eq!(
                (x.a, x.b, x.bandwidth, x.latency, x.igp_metric),
                (y.a, y.b, y.bandwidth, y.latency, y.igp_metric),
                "{network}: {}",
                x.name
            );
        }
        assert_eq!(again.routers, scenario.routers, "{network}");
    }
}
