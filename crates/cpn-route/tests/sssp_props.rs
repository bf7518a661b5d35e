//! `ShortestPaths` against brute force: on random small directed graphs (zero, small, large
//! and near-`u32::MAX` weights, parallel arcs, self-loops, links taken down, random arc
//! filters, both metrics), every distance equals Bellman-Ford's, and every path it returns
//! starts at the source, ends at the node, follows usable allowed arcs only, visits no node
//! twice and weighs exactly the distance. One search object serves every source of a graph,
//! so resetting between searches is tested too, and so is the early exit at a target.

#![allow(clippy::unwrap_used)]

use cpn_model::LinkId;
use cpn_route::{ArcId, ArcSpec, Graph, Metric, ShortestPaths, UNUSABLE};
use cpn_units::Nanos;
use proptest::prelude::*;

/// A weight: mostly small, with zeros, weights around the bucket window of the queue (1024)
/// and huge weights whose sums need 64 bits.
fn arb_weight() -> impl Strategy<Value = u32> {
    prop_oneof![
        3 => 0u32..20,
        1 => Just(0u32),
        1 => 900u32..3000,
        1 => any::<u32>(),
        1 => Just(u32::MAX - 1),
    ]
}

/// A random graph: nodes, arcs, which links go down, new latencies for some links (so that
/// the two metrics differ), and a filter as a bit mask over arc ids.
#[derive(Debug, Clone)]
struct Case {
    nodes: u32,
    arcs: Vec<ArcSpec>,
    down: Vec<bool>,
    latency: Vec<Option<u32>>,
    filter: u64,
    metric: Metric,
}

fn arb_case(max_nodes: u32, max_arcs: usize) -> impl Strategy<Value = Case> {
    (1..=max_nodes).prop_flat_map(move |nodes| {
        let arc = (0..nodes, 0..nodes, arb_weight());
        (
            proptest::collection::vec(arc, 0..=max_arcs),
            any::<u64>(),
            prop_oneof![Just(Metric::Latency), Just(Metric::Igp)],
        )
            .prop_flat_map(move |(arcs, filter, metric)| {
                let n = arcs.len();
                (
                    Just(arcs),
                    proptest::collection::vec(proptest::bool::weighted(0.2), n),
                    proptest::collection::vec(proptest::option::weighted(0.3, 0u32..50), n),
                    prop_oneof![Just(u64::MAX), Just(filter)],
                    Just(metric),
                )
            })
            .prop_map(move |(arcs, down, latency, filter, metric)| Case {
                nodes,
                arcs,
                down,
                latency,
                filter,
                metric,
            })
    })
}

fn build(case: &Case) -> Graph {
    let mut g = Graph::from_arcs(case.nodes, &case.arcs).unwrap();
    for (link, (&down, &latency)) in case.down.iter().zip(&case.latency).enumerate() {
        let link = LinkId(link as u32);
        if let Some(us) = latency {
            g.set_latency(link, Nanos::from_micros(u64::from(us)));
        }
        if down {
            g.set_up(link, false);
        }
    }
    g
}

fn allowed(filter: u64, arc: ArcId) -> bool {
    filter & (1 << (arc % 64)) != 0
}

/// Bellman-Ford, written plainly: relax every usable allowed arc `nodes` times.
fn bellman_ford(g: &Graph, source: u32, metric: Metric, filter: u64) -> Vec<Option<u64>> {
    let mut dist = vec![None; g.node_count()];
    dist[source as usize] = Some(0u64);
    for _ in 0..g.node_count() {
        for arc in 0..g.arc_count() as ArcId {
            let w = g.weight(arc, metric);
            if w == UNUSABLE || !allowed(filter, arc) {
                continue;
            }
            if let Some(d) = dist[g.tail(arc) as usize] {
                let offer = d + u64::from(w);
                let head = &mut dist[g.head(arc) as usize];
                if head.is_none_or(|h| offer < h) {
                    *head = Some(offer);
                }
            }
        }
    }
    dist
}

/// Checks the path `sp` gives to `node` against the brute-force distance.
fn check_path(
    g: &Graph,
    sp: &ShortestPaths,
    case: &Case,
    source: u32,
    node: u32,
    want: Option<u64>,
) -> Result<(), TestCaseError> {
    let path = sp.path_to(g, node);
    let Some(want) = want else {
        prop_assert!(path.is_none(), "a path to unreachable node {node}");
        return Ok(());
    };
    let path = path.expect("a path to a reached node");
    prop_assert_eq!(path.source(), source);
    prop_assert_eq!(path.target(), node);
    prop_assert_eq!(path.nodes.len(), path.arcs.len() + 1);
    prop_assert!(path.is_loopless(), "{:?}", path);
    let mut weight = 0u64;
    for (i, &arc) in path.arcs.iter().enumerate() {
        prop_assert_eq!(g.tail(arc), path.nodes[i]);
        prop_assert_eq!(g.head(arc), path.nodes[i + 1]);
        let w = g.weight(arc, case.metric);
        prop_assert!(w != UNUSABLE, "path uses a down link: {:?}", path);
        prop_assert!(allowed(case.filter, arc), "path uses a filtered arc");
        weight += u64::from(w);
    }
    prop_assert_eq!(weight, want);
    Ok(())
}

fn check_case(case: &Case) -> Result<(), TestCaseError> {
    let g = build(case);
    let mut sp = ShortestPaths::new();
    for source in 0..case.nodes {
        let want = bellman_ford(&g, source, case.metric, case.filter);
        sp.run(&g, source, None, case.metric, |a| allowed(case.filter, a));
        for node in 0..case.nodes {
            prop_assert_eq!(sp.distance(node), want[node as usize], "node {}", node);
            check_path(&g, &sp, case, source, node, want[node as usize])?;
        }
        // Stopping at a target still gets the target right.
        let target = (source * 7 + 3) % case.nodes;
        sp.run(&g, source, Some(target), case.metric, |a| {
            allowed(case.filter, a)
        });
        prop_assert_eq!(sp.distance(target), want[target as usize]);
        check_path(&g, &sp, case, source, target, want[target as usize])?;
    }
    // A source outside the graph reaches nothing, and the next search is unaffected.
    sp.run(&g, case.nodes, None, case.metric, |_| true);
    prop_assert_eq!(sp.distance(0), None);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn small_graphs_match_bellman_ford(case in arb_case(12, 40)) {
        check_case(&case)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    /// Larger graphs keep many keys in the queue at once, across its window and beyond.
    #[test]
    fn larger_graphs_match_bellman_ford(case in arb_case(60, 400)) {
        check_case(&case)?;
    }
}
