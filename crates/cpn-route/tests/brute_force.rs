//! Every constrained path algorithm against brute force on small random graphs: directed
//! graphs from `Graph::from_arcs` (each arc its own link) and full-duplex graphs from a
//! generated scenario (two arcs per link, disjointness by link). The brute force enumerates
//! every simple path by depth-first search and judges it with its own sums.

#![allow(clippy::unwrap_used)]

use cpn_model::{LinkId, NoImports, Scenario};
use cpn_route::{
    ArcId, Constraints, Cost, DisjointPaths, Exact, Graph, KShortestPaths, Metric, MultiConstraint,
    Path, Solution,
};
use cpn_units::{Bandwidth, Ratio};
use proptest::prelude::*;

const GBPS: u64 = 1_000_000_000;
/// Link bandwidths (and so what is available on them), by class.
const BANDWIDTH: [u64; 3] = [GBPS, 10 * GBPS, 100 * GBPS];
const BANDWIDTH_TEXT: [&str; 3] = ["1 Gbps", "10 Gbps", "100 Gbps"];
/// Requested bandwidths, by class.
const REQUEST: [u64; 3] = [0, 5 * GBPS, 50 * GBPS];
/// Link loss, by class: as a percentage for the scenario and in 10^-12 for `set_loss`.
const LOSS_TEXT: [&str; 5] = ["0%", "0.1%", "0.5%", "1%", "2%"];
const LOSS_PPT: [u64; 5] = [
    0,
    1_000_000_000,
    5_000_000_000,
    10_000_000_000,
    20_000_000_000,
];
const LOSS_BOUND: [f64; 4] = [0.005, 0.011, 0.0199, 0.03];

#[derive(Debug, Clone)]
struct Edge {
    a: u32,
    b: u32,
    latency: u32,
    igp: u32,
    bandwidth: usize,
    loss: usize,
    up: bool,
}

#[derive(Debug, Clone)]
struct Query {
    request: usize,
    max_latency: Option<u64>,
    max_loss: Option<usize>,
    filter: bool,
    k: usize,
    costs: Vec<u32>,
}

#[derive(Debug, Clone)]
struct Case {
    nodes: u32,
    full_duplex: bool,
    edges: Vec<Edge>,
    source: u32,
    target: u32,
    query: Query,
}

fn edge(nodes: u32) -> impl Strategy<Value = Edge> {
    (
        0..nodes,
        0..nodes,
        0u32..=12,
        1u32..=9,
        0usize..3,
        0usize..5,
        prop::bool::weighted(0.9),
    )
        .prop_map(|(a, b, latency, igp, bandwidth, loss, up)| Edge {
            a,
            b,
            latency,
            igp,
            bandwidth,
            loss,
            up,
        })
}

fn query() -> impl Strategy<Value = Query> {
    (
        prop_oneof![3 => Just(0usize), 1 => 1usize..3],
        prop::option::weighted(0.6, 0u64..=40),
        prop::option::weighted(0.5, 0usize..4),
        prop::bool::weighted(0.2),
        1usize..=12,
        prop::collection::vec(0u32..=9, 64),
    )
        .prop_map(|(request, max_latency, max_loss, filter, k, costs)| Query {
            request,
            max_latency,
            max_loss,
            filter,
            k,
            costs,
        })
}

fn case() -> impl Strategy<Value = Case> {
    (3u32..=8, any::<bool>())
        .prop_flat_map(|(nodes, full_duplex)| {
            // Dense enough that most cases have many paths to rank and choose from.
            let n = nodes as usize;
            let edges = if full_duplex {
                n + 1..=3 * n
            } else {
                3 * n..=5 * n
            };
            (
                Just(nodes),
                Just(full_duplex),
                prop::collection::vec(edge(nodes), edges),
                0..nodes,
                0..nodes,
                query(),
            )
        })
        .prop_map(|(nodes, full_duplex, mut edges, source, target, query)| {
            if full_duplex {
                // A scenario link joins two different routers.
                for e in &mut edges {
                    if e.a == e.b {
                        e.b = (e.a + 1) % nodes;
                    }
                    e.latency = e.latency.max(1);
                }
            }
            let target = if target == source {
                (source + 1) % nodes
            } else {
                target
            };
            Case {
                nodes,
                full_duplex,
                edges,
                source,
                target,
                query,
            }
        })
}

impl Case {
    fn graph(&self) -> Graph {
        if self.full_duplex {
            let mut toml = String::new();
            for r in 0..self.nodes {
                toml.push_str(&format!("[[router]]\nid = \"r{r}\"\n"));
            }
            for e in &self.edges {
                toml.push_str(&format!(
                    "[[link]]\na = \"r{}\"\nb = \"r{}\"\nbandwidth = \"{}\"\nlatency = \"{} us\"\nloss = \"{}\"\nigp_metric = {}\nup = {}\n",
                    e.a, e.b, BANDWIDTH_TEXT[e.bandwidth], e.latency, LOSS_TEXT[e.loss], e.igp, e.up
                ));
            }
            let scenario = Scenario::parse("generated", &toml, &mut NoImports)
                .unwrap_or_else(|e| panic!("{e}\n{toml}"));
            Graph::from_scenario(&scenario)
        } else {
            let arcs: Vec<(u32, u32, u32)> =
                self.edges.iter().map(|e| (e.a, e.b, e.latency)).collect();
            let mut g = Graph::from_arcs(self.nodes, &arcs).unwrap();
            for (i, e) in self.edges.iter().enumerate() {
                let link = LinkId(i as u32);
                g.set_available(link, Bandwidth(BANDWIDTH[e.bandwidth]));
                g.set_loss(link, Ratio(LOSS_PPT[e.loss]));
                g.set_up(link, e.up);
            }
            g
        }
    }

    fn constraints(&self) -> Constraints<'static> {
        Constraints {
            min_bandwidth_bps: REQUEST[self.query.request],
            max_latency_us: self.query.max_latency,
            max_loss: self.query.max_loss.map(|i| LOSS_BOUND[i]),
            arc_filter: if self.query.filter {
                Some(&skip_some_arcs)
            } else {
                None
            },
        }
    }

    /// The pruning, written out here rather than taken from `Constraints::allows`.
    fn usable(&self, g: &Graph, arc: ArcId) -> bool {
        let link = g.link(arc);
        g.is_up(link)
            && g.available(link).0 >= REQUEST[self.query.request]
            && !(self.query.filter && arc % 5 == 3)
    }

    fn cost_table(&self, g: &Graph) -> Vec<u32> {
        let costs = &self.query.costs;
        (0..g.arc_count()).map(|a| costs[a % costs.len()]).collect()
    }
}

fn skip_some_arcs(arc: ArcId) -> bool {
    arc % 5 != 3
}

/// A simple path found by brute force, with its sums.
#[derive(Debug, Clone)]
struct Found {
    nodes: Vec<u32>,
    arcs: Vec<ArcId>,
    latency: u64,
    igp: u64,
    cost: u64,
    loss_log: f64,
    /// The links it uses, as a bit set (the generated graphs have fewer than 64 links).
    links: u64,
}

impl Found {
    fn weight(&self, metric: Metric) -> u64 {
        match metric {
            Metric::Latency => self.latency,
            Metric::Igp => self.igp,
        }
    }

    fn meets(&self, c: &Constraints<'_>) -> bool {
        c.max_latency_us.is_none_or(|b| self.latency <= b) && self.loss_log <= c.loss_log_bound()
    }
}

/// Every simple path from `s` to `t` over usable arcs.
fn all_paths(
    g: &Graph,
    s: u32,
    t: u32,
    usable: &dyn Fn(ArcId) -> bool,
    cost: &dyn Fn(ArcId) -> u64,
) -> Vec<Found> {
    fn dfs(
        g: &Graph,
        t: u32,
        usable: &dyn Fn(ArcId) -> bool,
        cost: &dyn Fn(ArcId) -> u64,
        on_path: &mut Vec<bool>,
        current: &mut Found,
        out: &mut Vec<Found>,
    ) {
        let v = *current.nodes.last().unwrap();
        if v == t {
            out.push(current.clone());
            return;
        }
        for arc in g.arcs_from(v) {
            let u = g.head(arc);
            if !usable(arc) || on_path[u as usize] {
                continue;
            }
            let link = g.link(arc);
            let saved = current.clone();
            current.nodes.push(u);
            current.arcs.push(arc);
            current.latency += u64::from(g.latency_us(link));
            current.igp += u64::from(g.igp(link));
            current.cost += cost(arc);
            current.loss_log += g.loss_log(link);
            current.links |= 1 << link.index();
            on_path[u as usize] = true;
            dfs(g, t, usable, cost, on_path, current, out);
            on_path[u as usize] = false;
            *current = saved;
        }
    }
    let mut on_path = vec![false; g.node_count()];
    on_path[s as usize] = true;
    let mut current = Found {
        nodes: vec![s],
        arcs: Vec::new(),
        latency: 0,
        igp: 0,
        cost: 0,
        loss_log: 0.0,
        links: 0,
    };
    let mut out = Vec::new();
    dfs(g, t, usable, cost, &mut on_path, &mut current, &mut out);
    out
}

/// Checks that `p` is a loopless walk from `s` to `t` over usable arcs.
fn check_path(g: &Graph, p: &Path, s: u32, t: u32, usable: &dyn Fn(ArcId) -> bool) {
    assert_eq!(p.nodes.len(), p.arcs.len() + 1, "{p:?}");
    assert_eq!((p.source(), p.target()), (s, t), "{p:?}");
    for (i, &arc) in p.arcs.iter().enumerate() {
        assert_eq!(
            (g.tail(arc), g.head(arc)),
            (p.nodes[i], p.nodes[i + 1]),
            "{p:?}"
        );
        assert!(usable(arc), "{p:?} uses pruned arc {arc}");
    }
    assert!(p.is_loopless(), "{p:?}");
}

/// The cost objectives a case is tried with: the two metrics and the case's cost table.
fn objectives(table: &[u32]) -> [(Cost<'_>, &'static str); 3] {
    [
        (Cost::Metric(Metric::Igp), "igp"),
        (Cost::Metric(Metric::Latency), "latency"),
        (Cost::PerArc(table), "table"),
    ]
}

fn arc_cost(g: &Graph, cost: Cost<'_>, arc: ArcId) -> u64 {
    match cost {
        Cost::Metric(m) => u64::from(g.weight(arc, m)),
        Cost::PerArc(t) => u64::from(t[arc as usize]),
    }
}

/// 256 cases per property keeps the suite quick in debug builds; `PROPTEST_CASES` asks for
/// more when hunting for a rare failure.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256);
    ProptestConfig::with_cases(cases)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn exact_mcp_is_optimal(case in case()) {
        let g = case.graph();
        let c = case.constraints();
        let (s, t) = (case.source, case.target);
        let usable = |a: ArcId| case.usable(&g, a);
        let table = case.cost_table(&g);
        let mut mc = MultiConstraint::new();
        for (cost, name) in objectives(&table) {
            let paths = all_paths(&g, s, t, &usable, &|a| arc_cost(&g, cost, a));
            let best = paths.iter().filter(|p| p.meets(&c)).map(|p| p.cost).min();
            match mc.exact(&g, s, t, cost, &c, 1_000_000).unwrap() {
                Exact::Optimal(p) => {
                    check_path(&g, &p.path, s, t, &usable);
                    let found = paths.iter().find(|f| f.arcs == p.path.arcs).unwrap();
                    prop_assert!(found.meets(&c), "{name}: {p:?} breaks {c:?}");
                    prop_assert_eq!((found.cost, found.latency), (p.cost, p.latency_us));
                    prop_assert_eq!(Some(p.cost), best, "{}", name);
                }
                Exact::Infeasible => prop_assert_eq!(best, None, "{}", name),
                Exact::GaveUp { labels } => prop_assert!(false, "{name}: gave up after {labels}"),
            }

            // With a budget too small to finish, `solve` falls back on LARAC, and whatever it
            // says must still be true.
            match mc.solve(&g, s, t, cost, &c, 3).unwrap() {
                Solution::Optimal(p) => prop_assert_eq!(Some(p.cost), best, "{}", name),
                Solution::Infeasible => prop_assert_eq!(best, None, "{}", name),
                Solution::WithinGap(l) => {
                    let opt = best.unwrap();
                    prop_assert!(c.admits(&g, &l.best.path), "{name}: {l:?}");
                    prop_assert!(l.lower_bound <= opt && opt <= l.best.cost, "{name}: {l:?} vs {opt}");
                }
                Solution::Undecided(l) => prop_assert!(!l.meets_loss, "{name}: {l:?}"),
            }
        }
    }

    #[test]
    fn larac_is_feasible_and_bounds_the_optimum(case in case()) {
        let g = case.graph();
        let c = case.constraints();
        let (s, t) = (case.source, case.target);
        let usable = |a: ArcId| case.usable(&g, a);
        let table = case.cost_table(&g);
        let mut mc = MultiConstraint::new();
        for (cost, name) in objectives(&table) {
            let paths = all_paths(&g, s, t, &usable, &|a| arc_cost(&g, cost, a));
            let latency_ok = |p: &&Found| c.max_latency_us.is_none_or(|b| p.latency <= b);
            let fast_enough = paths.iter().filter(latency_ok).map(|p| p.cost).min();
            let feasible = paths.iter().filter(|p| p.meets(&c)).map(|p| p.cost).min();
            match mc.larac(&g, s, t, cost, &c).unwrap() {
                None => prop_assert_eq!(fast_enough, None, "{}", name),
                Some(l) => {
                    check_path(&g, &l.best.path, s, t, &usable);
                    let found = paths.iter().find(|f| f.arcs == l.best.path.arcs).unwrap();
                    prop_assert!(latency_ok(&found), "{name}: {l:?} is too slow");
                    prop_assert_eq!(found.cost, l.best.cost);
                    let opt = fast_enough.unwrap();
                    prop_assert!(l.lower_bound <= opt && opt <= l.best.cost, "{name}: {l:?} vs {opt}");
                    prop_assert_eq!(l.meets_loss, found.meets(&c), "{}", name);
                    if l.meets_loss {
                        prop_assert!(feasible.is_some_and(|f| f <= l.best.cost));
                    }
                }
            }
        }
    }

    #[test]
    fn yen_ranks_the_feasible_paths(case in case()) {
        let g = case.graph();
        let c = case.constraints();
        let (s, t, k) = (case.source, case.target, case.query.k);
        let usable = |a: ArcId| case.usable(&g, a);
        let mut yen = KShortestPaths::new();
        for metric in [Metric::Latency, Metric::Igp] {
            let paths = all_paths(&g, s, t, &usable, &|_| 0);
            let mut expected: Vec<u64> =
                paths.iter().filter(|p| p.meets(&c)).map(|p| p.weight(metric)).collect();
            expected.sort_unstable();
            expected.truncate(k);
            let got = yen.run(&g, s, t, k, metric, &c).unwrap();
            prop_assert!(!got.truncated);
            let weights: Vec<u64> = got.paths.iter().map(|p| p.cost).collect();
            prop_assert_eq!(&weights, &expected, "{:?}", metric);
            for (i, p) in got.paths.iter().enumerate() {
                check_path(&g, &p.path, s, t, &usable);
                let found = paths.iter().find(|f| f.arcs == p.path.arcs).unwrap();
                prop_assert!(found.meets(&c), "{p:?} breaks {c:?}");
                prop_assert_eq!(found.weight(metric), p.cost);
                prop_assert!(
                    got.paths[..i].iter().all(|q| q.path.arcs != p.path.arcs),
                    "path {} repeats: {:?}", i, p
                );
            }
        }
    }

    #[test]
    fn suurballe_pair_is_disjoint_and_lightest(case in case()) {
        let g = case.graph();
        let c = case.constraints();
        let (s, t) = (case.source, case.target);
        let usable = |a: ArcId| case.usable(&g, a);
        let mut dp = DisjointPaths::new();
        for metric in [Metric::Latency, Metric::Igp] {
            let mut paths = all_paths(&g, s, t, &usable, &|_| 0);
            paths.sort_by_key(|p| p.weight(metric));
            let mut best: Option<u64> = None;
            for (i, p) in paths.iter().enumerate() {
                let wp = p.weight(metric);
                if best.is_some_and(|b| 2 * wp >= b) {
                    break;
                }
                for q in &paths[i + 1..] {
                    let total = wp + q.weight(metric);
                    if best.is_some_and(|b| total >= b) {
                        break;
                    }
                    if p.links & q.links == 0 {
                        best = Some(total);
                    }
                }
            }
            let pair = dp.pair(&g, s, t, metric, &c).unwrap();
            prop_assert_eq!(pair.as_ref().map(|p| p.total()), best, "{:?}", metric);
            let Some(pair) = pair else { continue };
            check_path(&g, &pair.primary.path, s, t, &usable);
            check_path(&g, &pair.backup.path, s, t, &usable);
            prop_assert!(pair.primary.cost <= pair.backup.cost);
            let primary_links: Vec<LinkId> = pair.primary.path.links(&g).collect();
            prop_assert!(
                pair.backup.path.links(&g).all(|l| !primary_links.contains(&l)),
                "{:?} shares a link", pair
            );

            // A backup for the pair's primary exists (the pair's backup is one), and is the
            // lightest path sharing no link with it.
            let mask: u64 = primary_links.iter().fold(0, |m, l| m | 1 << l.index());
            let lightest = paths
                .iter()
                .filter(|q| q.links & mask == 0)
                .map(|q| q.weight(metric))
                .min();
            let backup = dp.backup_for(&g, &pair.primary.path, metric, &c).unwrap();
            prop_assert_eq!(backup.as_ref().map(|b| b.cost), lightest);
            if let Some(b) = backup {
                check_path(&g, &b.path, s, t, &usable);
                prop_assert!(b.path.links(&g).all(|l| !primary_links.contains(&l)));
            }
        }
    }
}
