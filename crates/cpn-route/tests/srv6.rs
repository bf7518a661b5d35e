//! SRv6 segment lists. The acceptance test of the issue: every compiled list re-expands over
//! IGP shortest paths to the hops it was compiled from, on the national scenario and on
//! random small networks with parallel links and equal-cost ties. Loose lists are checked
//! minimal against brute force (every choice of waypoints and adjacencies, expanded by
//! enumerating all simple paths), and the JSON and `ip` commands of a fixed network match
//! the golden files in `tests/srv6` (`CPN_UPDATE_EXPECT=1` rewrites them).

use std::collections::HashSet;
use std::net::Ipv6Addr;
use std::path::PathBuf;

use cpn_model::{LinkId, NoImports, RouterId, Scenario, SiteId};
use cpn_route::srv6::{
    Ipv6Prefix, Mode, Nexthop, SegmentList, Sid, SidPlan, Srv6Error, compile, expand,
    linux_local_sid_commands, linux_route_command,
};
use cpn_route::{ArcId, Graph, Metric, Path, ShortestPaths, UNUSABLE};
use cpn_testdata::check_expect;
use proptest::prelude::*;

/// Deep enough for any path of these tests: depth is tested on its own.
const DEEP: usize = 64;

struct Net {
    scenario: Scenario,
    g: Graph,
    plan: SidPlan,
}

impl Net {
    fn new(scenario: Scenario) -> Net {
        let g = Graph::from_scenario(&scenario);
        let plan = SidPlan::new(&scenario, &g, SidPlan::DEFAULT_BLOCK).expect("plan");
        Net { scenario, g, plan }
    }

    fn parse(text: &str) -> Net {
        Net::new(Scenario::parse("test", text, &mut NoImports).expect("valid scenario"))
    }

    fn national() -> Net {
        Net::new(
            cpn_model::built_in("national")
                .expect("built in")
                .expect("valid"),
        )
    }

    fn golden() -> Net {
        let text = std::fs::read_to_string(golden_dir().join("golden.toml")).expect("readable");
        Net::parse(&text)
    }

    fn node(&self, name: &str) -> u32 {
        self.scenario.router(name).expect("router").id.0
    }

    fn site(&self, name: &str) -> SiteId {
        self.scenario.site(name).expect("site").id
    }

    /// A site attached to `node`, if any.
    fn site_at(&self, node: u32) -> Option<SiteId> {
        self.scenario
            .sites
            .iter()
            .find(|s| s.router.0 == node)
            .map(|s| s.id)
    }

    /// The path from `from` over the named links.
    fn path(&self, from: &str, links: &[&str]) -> Path {
        let mut path = Path::at(self.node(from));
        for name in links {
            let link = self
                .scenario
                .links
                .iter()
                .find(|l| l.name == *name)
                .unwrap_or_else(|| panic!("no link {name}"));
            let arc = self
                .g
                .link_arcs(link.id)
                .into_iter()
                .find(|&a| self.g.tail(a) == path.target())
                .unwrap_or_else(|| panic!("{name} does not leave the path's end"));
            path.arcs.push(arc);
            path.nodes.push(self.g.head(arc));
        }
        path
    }

    fn compile(&self, path: &Path, egress: Option<SiteId>, mode: Mode) -> SegmentList {
        compile(&self.g, &self.plan, path, egress, mode, DEEP)
            .unwrap_or_else(|e| panic!("{path:?} ({mode}): {e}"))
    }

    /// Compiles in both modes and checks what must hold of any path: both lists re-expand to
    /// the path and the loose one is no longer than the strict one.
    fn round_trip(&self, path: &Path, egress: Option<SiteId>) -> SegmentList {
        let loose = self.compile(path, egress, Mode::Loose);
        let strict = self.compile(path, egress, Mode::Strict);
        for list in [&loose, &strict] {
            assert_eq!(
                expand(&self.g, &self.plan, list.sids(), path.source()).as_ref(),
                Ok(path),
                "{} list {:?}",
                list.mode(),
                list.sids()
            );
        }
        assert!(loose.len() <= strict.len(), "{path:?}");
        assert_eq!(
            strict.len(),
            path.arcs.len() + usize::from(egress.is_some())
        );
        loose
    }

    fn end(&self, node: u32) -> Ipv6Addr {
        self.plan.end(RouterId(node)).expect("router")
    }
}

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/srv6")
}

fn end_x_count(list: &SegmentList) -> usize {
    list.segments()
        .iter()
        .filter(|s| matches!(s.function, Sid::EndX(_)))
        .count()
}

/// The text of a network with routers `r0..`, one site `s<i>` at each router `r<i>`, and the
/// given links `(a, b, igp metric)`.
fn net_text(routers: usize, links: &[(usize, usize, u32)]) -> String {
    let mut text = String::new();
    for r in 0..routers {
        text += &format!("[[router]]\nid = \"r{r}\"\n\n");
    }
    for (a, b, metric) in links {
        text += &format!(
            "[[link]]\na = \"r{a}\"\nb = \"r{b}\"\nbandwidth = \"10 Gbps\"\nlatency = \"5 us\"\nigp_metric = {metric}\n\n"
        );
    }
    for r in 0..routers {
        text += &format!(
            "[[site]]\nid = \"s{r}\"\nrouter = \"r{r}\"\ntier = \"edge\"\ncompute = \"1 TFLOPS\"\n\n"
        );
    }
    text
}

/// A walk chosen by `seeds`: the first picks the start, each next one an arc out of the
/// current node (to a node not yet visited when `loopless`). Stops early at a dead end.
fn walk(g: &Graph, seeds: &[u32], loopless: bool) -> Path {
    let start = seeds[0] % g.node_count() as u32;
    let mut path = Path::at(start);
    for &seed in &seeds[1..] {
        let choices: Vec<ArcId> = g
            .arcs_from(path.target())
            .filter(|&a| g.weight(a, Metric::Igp) != UNUSABLE)
            .filter(|&a| !loopless || !path.nodes.contains(&g.head(a)))
            .collect();
        if choices.is_empty() {
            break;
        }
        let arc = choices[seed as usize % choices.len()];
        path.arcs.push(arc);
        path.nodes.push(g.head(arc));
    }
    path
}

/// IGP shortest paths by enumerating every simple path: per ordered pair the least cost, how
/// many arc sequences have it, and one of them. Independent of the crate's Dijkstra and of
/// its tight-arc uniqueness test.
struct Brute {
    best: Vec<Vec<Option<Shortest>>>,
}

/// The least cost from one node to another, how many paths have it, and one of them.
type Shortest = (u64, usize, Vec<ArcId>);

impl Brute {
    fn new(g: &Graph) -> Brute {
        let n = g.node_count();
        let mut brute = Brute {
            best: vec![vec![None; n]; n],
        };
        for s in 0..n as u32 {
            let mut arcs = Vec::new();
            let mut on = vec![false; n];
            on[s as usize] = true;
            brute.explore(g, s, s, 0, &mut arcs, &mut on);
        }
        brute
    }

    fn explore(
        &mut self,
        g: &Graph,
        s: u32,
        v: u32,
        cost: u64,
        arcs: &mut Vec<ArcId>,
        on: &mut [bool],
    ) {
        let entry = &mut self.best[s as usize][v as usize];
        match entry {
            Some((c, count, _)) if *c == cost => *count += 1,
            Some((c, _, _)) if *c < cost => {}
            _ => *entry = Some((cost, 1, arcs.clone())),
        }
        for a in g.arcs_from(v) {
            let (w, u) = (g.weight(a, Metric::Igp), g.head(a));
            if w == UNUSABLE || on[u as usize] {
                continue;
            }
            on[u as usize] = true;
            arcs.push(a);
            self.explore(g, s, u, cost + u64::from(w), arcs, on);
            arcs.pop();
            on[u as usize] = false;
        }
    }

    /// The arcs a list makes a packet take, or `None` where it is not forced.
    fn expand(&self, net: &Net, sids: &[Sid], from: u32) -> Option<Vec<ArcId>> {
        let mut arcs = Vec::new();
        let mut here = from;
        for (i, &sid) in sids.iter().enumerate() {
            let (to, cross) = match sid {
                Sid::End(r) => (r.0, None),
                Sid::EndX(a) => (net.g.tail(a), Some(a)),
                Sid::EndDt6(site) if i + 1 == sids.len() => {
                    (net.plan.site_router(site).ok()?.0, None)
                }
                Sid::EndDt6(_) => return None,
            };
            match &self.best[here as usize][to as usize] {
                Some((_, 1, shortest)) => arcs.extend(shortest),
                _ => return None,
            }
            arcs.extend(cross);
            here = arcs.last().map_or(here, |&a| net.g.head(a));
        }
        Some(arcs)
    }

    /// The least (SIDs, End.X SIDs) of any list that forces the loopless `path`: every
    /// choice, at each position, of no SID, the node's End or the End.X of the arc into it;
    /// with an egress site the End.DT6 either replaces a final End or is appended. Minimal
    /// lists are among these: a SID of a minimal list always moves the packet forward to a
    /// position of the path, and only one SID ends at each position.
    fn min(&self, net: &Net, path: &Path, egress: Option<SiteId>) -> Option<(usize, usize)> {
        let hops = path.arcs.len();
        let mut best: Option<(usize, usize)> = None;
        for code in 0..3usize.pow(hops as u32) {
            let mut sids = Vec::new();
            let mut c = code;
            for k in 1..=hops {
                match c % 3 {
                    1 => sids.push(Sid::End(RouterId(path.nodes[k]))),
                    2 => sids.push(Sid::EndX(path.arcs[k - 1])),
                    _ => {}
                }
                c /= 3;
            }
            let mut candidates = Vec::new();
            match egress {
                None => candidates.push(sids),
                Some(site) => {
                    let mut appended = sids.clone();
                    appended.push(Sid::EndDt6(site));
                    candidates.push(appended);
                    if let Some(last @ Sid::End(_)) = sids.last_mut() {
                        *last = Sid::EndDt6(site);
                        candidates.push(sids);
                    }
                }
            }
            for list in candidates {
                if self.expand(net, &list, path.source()).as_ref() == Some(&path.arcs) {
                    let x = list.iter().filter(|s| matches!(s, Sid::EndX(_))).count();
                    let cost = (list.len(), x);
                    best = Some(best.map_or(cost, |b| b.min(cost)));
                }
            }
        }
        best
    }
}

fn arb_network() -> impl Strategy<Value = (usize, Vec<(usize, usize, u32)>)> {
    (3usize..=7).prop_flat_map(|n| {
        let link = (0..n, 1..n, 1u32..=3).prop_map(move |(a, d, m)| (a, (a + d) % n, m));
        (
            Just(n),
            prop::collection::vec(link, n + 1..=3 * n),
            any::<bool>(),
        )
            .prop_map(|(n, mut links, parallel)| {
                // Random pairs repeat often enough; this makes a parallel pair of equal
                // metric in half the networks.
                if parallel {
                    links.push(links[0]);
                }
                (n, links)
            })
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn loose_lists_are_minimal_and_round_trip(
        (n, links) in arb_network(),
        seeds in prop::collection::vec(any::<u32>(), 2..=8),
        to_site in any::<bool>(),
    ) {
        let net = Net::parse(&net_text(n, &links));
        let path = walk(&net.g, &seeds, true);
        // Site `s<i>` is attached to router `r<i>`.
        let egress = to_site.then(|| SiteId(path.target()));
        let loose = net.round_trip(&path, egress);
        let brute = Brute::new(&net.g);
        let functions: Vec<Sid> = loose.segments().iter().map(|s| s.function).collect();
        prop_assert_eq!(brute.expand(&net, &functions, path.source()), Some(path.arcs.clone()));
        prop_assert_eq!(
            brute.min(&net, &path, egress),
            Some((loose.len(), end_x_count(&loose))),
            "{:?}", loose.segments()
        );
        if !loose.is_empty() {
            let too_deep = compile(&net.g, &net.plan, &path, egress, Mode::Loose, loose.len() - 1);
            let is_too_deep = matches!(
                too_deep,
                Err(Srv6Error::TooDeep { needed, limit, .. }) if needed == loose.len() && limit == loose.len() - 1
            );
            prop_assert!(is_too_deep);
        }
    }

    #[test]
    fn walks_that_revisit_nodes_round_trip(
        (n, links) in arb_network(),
        seeds in prop::collection::vec(any::<u32>(), 1..=10),
    ) {
        let net = Net::parse(&net_text(n, &links));
        let path = walk(&net.g, &seeds, false);
        net.round_trip(&path, None);
    }
}

#[test]
fn national_shortest_paths_and_detours_round_trip() {
    let net = Net::national();
    let g = &net.g;
    let mut sp = ShortestPaths::new();
    let mut detour = ShortestPaths::new();
    let mut paths = 0;
    for s in 0..g.node_count() as u32 {
        sp.run(g, s, None, Metric::Igp, |_| true);
        for t in 0..g.node_count() as u32 {
            let Some(shortest) = sp.path_to(g, t) else {
                continue;
            };
            let loose = net.round_trip(&shortest, net.site_at(t));
            // The IGP path itself needs one SID when it is the only shortest path.
            let unique = expand(g, &net.plan, &[net.end(t)], s).is_ok_and(|p| p == shortest);
            if unique && s != t {
                assert_eq!(loose.len(), 1, "{:?}", loose.sids());
            }
            // k-shortest-like detours: the best path without one link of the shortest path.
            for avoid in shortest.links(g).collect::<Vec<LinkId>>() {
                detour.run(g, s, Some(t), Metric::Igp, |a| g.link(a) != avoid);
                if let Some(p) = detour.path_to(g, t) {
                    net.round_trip(&p, net.site_at(t));
                    paths += 1;
                }
            }
            paths += 1;
        }
    }
    assert!(paths > 1000, "{paths} paths");
}

#[test]
fn national_random_walks_round_trip() {
    let net = Net::national();
    // A fixed xorshift stream keeps the walks the same on every run.
    let mut x: u32 = 0x9e37_79b9;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        x
    };
    let mut longest = 0;
    for _ in 0..300 {
        let seeds: Vec<u32> = (0..24).map(|_| next()).collect();
        let path = walk(&net.g, &seeds, true);
        let loose = net.round_trip(&path, net.site_at(path.target()));
        assert!(loose.len() <= path.arcs.len() + 1);
        longest = longest.max(path.arcs.len());
    }
    assert!(longest >= 10, "walks of at most {longest} hops");
}

#[test]
fn national_plan_names_every_sid_once() {
    let net = Net::national();
    let plan = &net.plan;
    let mut seen = HashSet::new();
    for r in 0..net.g.node_count() as u32 {
        let router = RouterId(r);
        let locator = plan.locator(router).expect("router");
        assert_eq!(locator.prefix_len(), 48);
        for (addr, sid) in plan.local_sids(router).expect("router") {
            assert!(seen.insert(addr), "{addr} twice");
            assert!(locator.contains(addr), "{addr} outside {locator}");
            assert_eq!(plan.lookup(addr), Some(sid));
            assert_eq!(plan.sid(sid), Ok(addr));
            assert_eq!(plan.router_of(sid), Ok(router));
        }
    }
    let expected = net.g.node_count() + net.g.arc_count() + net.scenario.sites.len();
    assert_eq!(seen.len(), expected);

    let not_sids = [
        "fcbb:bb00:1::2",       // no function 2
        "fcbb:bb01:1::1",       // outside the block
        "fcbb:bb00:ffff::1",    // no router 65535
        "fcbb:bb00:1:0:1::1",   // bits between locator and function
        "fcbb:bb00:1::e:ffff",  // no such adjacency
        "fcbb:bb00:1::d6:ffff", // no such site
        "fcbb:bb00:1::f:0",     // no such behaviour
    ];
    for text in not_sids {
        let addr: Ipv6Addr = text.parse().expect("address");
        assert_eq!(plan.lookup(addr), None, "{text}");
    }
    // A site's End.DT6 is a SID only at the router the site is attached to.
    let site = &net.scenario.sites[0];
    let elsewhere = (site.router.0 + 1) % net.g.node_count() as u32;
    let mut bits = u128::from(plan.dt6(site.id).expect("site"));
    bits ^= u128::from(site.router.0 ^ elsewhere) << 80;
    assert_eq!(plan.lookup(Ipv6Addr::from(bits)), None);
}

#[test]
fn sids_follow_the_documented_scheme() {
    let net = Net::golden();
    let plan = &net.plan;
    let c = RouterId(net.node("c"));
    assert_eq!(
        plan.locator(c).map(|l| l.to_string()),
        Ok("fcbb:bb00:2::/48".to_string())
    );
    let path = net.path("c", &["c-d#2"]);
    let sids: Vec<String> = [
        plan.end(c),
        plan.end_x(path.arcs[0]),
        plan.dt6(net.site("cloud-c")),
    ]
    .into_iter()
    .map(|s| s.expect("in the plan").to_string())
    .collect();
    // c's adjacencies in link order: b-c, c-d, c-d#2; cloud-c is site 1.
    assert_eq!(
        sids,
        ["fcbb:bb00:2::1", "fcbb:bb00:2::e:2", "fcbb:bb00:2::d6:1"]
    );

    // Any block up to 80 bits: the router's 16 bits follow it wherever it ends.
    let block: Ipv6Prefix = "2001:db8:100::/40".parse().expect("prefix");
    let other = SidPlan::new(&net.scenario, &net.g, block).expect("plan");
    let end = other.end(RouterId(3)).expect("router");
    assert_eq!(end.to_string(), "2001:db8:100:300::1");
    assert_eq!(other.lookup(end), Some(Sid::End(RouterId(3))));
    let long: Ipv6Prefix = "2001:db8::/81".parse().expect("prefix");
    assert!(matches!(
        SidPlan::new(&net.scenario, &net.g, long),
        Err(Srv6Error::BadPrefix { len: 81, .. })
    ));
}

#[test]
fn the_plan_refuses_more_routers_than_16_bits_number() {
    let mut scenario = Net::golden().scenario;
    let template = scenario.routers[0].clone();
    scenario.routers.resize(65536, template);
    let g = Graph::from_scenario(&scenario);
    let plan = SidPlan::new(&scenario, &g, SidPlan::DEFAULT_BLOCK).expect("65536 routers fit");
    let last = plan.end(RouterId(65535)).expect("router");
    assert_eq!(last.to_string(), "fcbb:bb00:ffff::1");
    assert_eq!(plan.lookup(last), Some(Sid::End(RouterId(65535))));

    let template = scenario.routers[0].clone();
    scenario.routers.push(template);
    let g = Graph::from_scenario(&scenario);
    let err = SidPlan::new(&scenario, &g, SidPlan::DEFAULT_BLOCK).expect_err("too many");
    assert_eq!(
        err.to_string(),
        "the sid plan numbers routers in 16 bits (at most 65536), the scenario has 65537"
    );
}

/// One golden case as it is written to `golden.json`.
#[derive(serde::Serialize)]
struct Case<'a> {
    case: &'a str,
    path: Vec<&'a str>,
    loose: SegmentList,
    strict: SegmentList,
}

#[test]
fn golden_segment_lists_and_commands() {
    let net = Net::golden();
    // (what the case shows, headend, links, egress site)
    let cases: [(&str, &str, &[&str], Option<&str>); 5] = [
        ("unique shortest path", "a", &["a-b", "b-c"], None),
        (
            "second of two parallel links",
            "a",
            &["a-b", "b-c", "c-d#2"],
            Some("edge-d"),
        ),
        (
            "a link the IGP avoids",
            "a",
            &["a-b", "b-d"],
            Some("edge-d"),
        ),
        (
            "around an equal-cost split",
            "a",
            &["a-e", "e-d", "c-d"],
            Some("cloud-c"),
        ),
        ("stay at the headend", "d", &[], Some("edge-d")),
    ];
    let mut json = Vec::new();
    let mut commands = String::new();
    for (what, from, links, site) in cases {
        let path = net.path(from, links);
        let egress = site.map(|s| net.site(s));
        let loose = net.round_trip(&path, egress);
        let strict = net.compile(&path, egress, Mode::Strict);
        let names: Vec<&str> = path
            .nodes
            .iter()
            .map(|&v| net.scenario.routers[v as usize].name.as_str())
            .collect();
        json.push(Case {
            case: what,
            path: names,
            loose: loose.clone(),
            strict: strict.clone(),
        });
        let dest: Ipv6Prefix = "2001:db8:d::/64".parse().expect("prefix");
        commands += &format!("# {what}: headend {from}, loose then strict\n");
        for list in [&loose, &strict] {
            commands += &linux_route_command(dest, list, "eth0").expect("command");
            commands += "\n";
        }
    }
    // Each link gets 2001:db8:ff:<link>::/64, its `a` end ::1 and its `b` end ::2; a router's
    // k-th adjacency is on interface eth<k>; a site's table is 100 + its index.
    let nexthop = |arc: ArcId| {
        let link = &net.scenario.links[net.g.link(arc).index()];
        let end = if link.a.0 == net.g.head(arc) { 1 } else { 2 };
        let k = arc - net.g.arcs_from(net.g.tail(arc)).start;
        Nexthop {
            addr: Ipv6Addr::new(0x2001, 0xdb8, 0xff, link.id.0 as u16, 0, 0, 0, end),
            dev: format!("eth{k}"),
        }
    };
    for router in ["c", "d"] {
        commands += &format!("# local SIDs of {router}\n");
        let id = RouterId(net.node(router));
        for line in
            linux_local_sid_commands(&net.plan, id, "lo", nexthop, |s| 100 + s.0).expect("commands")
        {
            commands += &line;
            commands += "\n";
        }
    }
    let json = serde_json::to_string_pretty(&json).expect("serialises") + "\n";
    check_expect(&golden_dir().join("golden.json"), &json);
    check_expect(&golden_dir().join("golden-commands.txt"), &commands);
}

#[test]
fn errors_say_what_is_wrong() {
    let mut net = Net::golden();
    let path = net.path("a", &["a-b", "b-c", "c-d#2"]);
    let strict = compile(
        &net.g,
        &net.plan,
        &path,
        Some(net.site("edge-d")),
        Mode::Strict,
        3,
    );
    assert_eq!(
        strict.map_err(|e| e.to_string()),
        Err(
            "the 3-hop path needs 4 sids in strict mode, more than the maximum sid depth of 3"
                .into()
        )
    );
    let wrong_site = compile(
        &net.g,
        &net.plan,
        &path,
        Some(net.site("cloud-c")),
        Mode::Loose,
        8,
    );
    assert_eq!(
        wrong_site.map_err(|e| e.to_string()),
        Err("egress site `cloud-c` is attached to router `c`, the path ends at `d`".into())
    );
    let mut broken = path.clone();
    broken.nodes[1] = net.node("e");
    assert!(matches!(
        compile(&net.g, &net.plan, &broken, None, Mode::Loose, 8),
        Err(Srv6Error::BrokenPath { .. })
    ));

    let a = net.node("a");
    let d_end = net.end(net.node("d"));
    assert_eq!(
        expand(&net.g, &net.plan, &[d_end], a).map_err(|e| e.to_string()),
        Err("segment 0 (fcbb:bb00:3::1): the igp shortest path from `a` to `d` is not unique (equal-cost paths meet at `d`)".into())
    );
    let dt6 = net.plan.dt6(net.site("edge-d")).expect("site");
    assert_eq!(
        expand(
            &net.g,
            &net.plan,
            &[net.plan.end_x(path.arcs[2]).expect("arc"), dt6, d_end],
            a
        ),
        Err(Srv6Error::SidAfterDecap {
            index: 2,
            sid: d_end
        })
    );
    let stranger: Ipv6Addr = "2001:db8::1".parse().expect("address");
    assert_eq!(
        expand(&net.g, &net.plan, &[stranger], a),
        Err(Srv6Error::UnknownSid {
            sid: stranger,
            index: 0
        })
    );

    // A down link can be neither compiled nor crossed by its End.X.
    let end_x = net.plan.end_x(path.arcs[2]).expect("arc");
    net.g.set_up(net.g.link(path.arcs[2]), false);
    assert_eq!(
        compile(&net.g, &net.plan, &path, None, Mode::Loose, 8).map_err(|e| e.to_string()),
        Err("path hop 2 crosses link `c-d#2`, which is down".into())
    );
    assert_eq!(
        expand(&net.g, &net.plan, &[end_x], a),
        Err(Srv6Error::AdjacencyDown {
            index: 0,
            sid: end_x
        })
    );
    // With c-d#2 down, a to d is still split (via c-d and via e).
    assert!(matches!(
        expand(&net.g, &net.plan, &[d_end], a),
        Err(Srv6Error::Ecmp { .. })
    ));

    // A plan belongs to the graph it was made for.
    let national = Net::national();
    assert!(matches!(
        compile(&national.g, &net.plan, &path, None, Mode::Loose, 8),
        Err(Srv6Error::PlanMismatch { .. })
    ));
    let empty = net.compile(&Path::at(a), None, Mode::Loose);
    assert!(empty.is_empty());
    let dest: Ipv6Prefix = "2001:db8::/64".parse().expect("prefix");
    assert_eq!(
        linux_route_command(dest, &empty, "eth0"),
        Err(Srv6Error::EmptySegmentList)
    );
    let list = net.compile(&net.path("a", &["a-b"]), None, Mode::Loose);
    assert!(matches!(
        linux_route_command(dest, &list, "eth0; reboot"),
        Err(Srv6Error::BadDevice { .. })
    ));
}
