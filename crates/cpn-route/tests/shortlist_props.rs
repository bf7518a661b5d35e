//! The shortlist decision against the full one, on random small networks and random
//! sequences of requests and state changes on one engine: whenever the shortlist decides, it
//! chooses the same site, path, latency, cost, carbon, load and score as the full decision,
//! and names the same nearest eligible site; and it does decide whenever the full decision
//! chooses a site and nothing puts the request outside the shortlist (bandwidth short on a
//! link, a lossy fastest path under a loss bound).

use cpn_model::{LinkId, NoImports, RouterId, Scenario, ServiceId, SiteId};
use cpn_route::{Decision, Demand, Engine, Load, Objective, Occupancy, Request, SlaBounds};
use cpn_units::{Bandwidth, Flops, Nanos, Ratio};
use proptest::prelude::*;

/// (router, TFLOPS, price in cents, carbon g/kWh, pue in hundredths, fp16)
type SiteSpec = (usize, u64, Option<u64>, Option<u64>, u64, bool);

/// A service's sites (indices into the sites), TFLOPS, processing µs, and its SLA (max
/// latency µs, min bandwidth Mbps, max loss in 0.1%).
type ServiceSpec = (Vec<usize>, u64, u64, Option<u64>, u64, Option<u32>);

#[derive(Debug, Clone)]
struct Net {
    routers: usize,
    /// (a, b, latency µs, loss in units of 0.1%)
    links: Vec<(usize, usize, u32, u32)>,
    sites: Vec<SiteSpec>,
    services: Vec<ServiceSpec>,
}

#[derive(Debug, Clone)]
enum Op {
    Decide {
        ingress: usize,
        /// `None`: a raw demand of (TFLOPS, processing µs, fp16).
        service: Option<usize>,
        raw: (u64, u64, bool),
        objective: usize,
        max_latency_us: Option<u64>,
        mbps: u64,
        max_loss: Option<u32>,
    },
    Used(usize, u64),
    SiteUp(usize, bool),
    LinkUp(usize, bool),
    Latency(usize, u32),
    Loss(usize, u32),
    /// A link's free bandwidth in Mbps.
    Free(usize, u64),
    /// A request of service 0 by the blended objective with these weights.
    Blend {
        ingress: usize,
        weights: [f64; 4],
    },
}

fn net() -> impl Strategy<Value = Net> {
    (2usize..8).prop_flat_map(|n| {
        // Latencies from a few values too, so that distances tie.
        let latency = prop_oneof![1u32..3_000, (1u32..4).prop_map(|k| k * 500)];
        let link = (
            0..n,
            0..n,
            latency,
            prop_oneof![4 => Just(0u32), 1 => 1u32..5],
        );
        let site = (
            0..n,
            1u64..60,
            proptest::option::weighted(0.8, 30u64..34),
            proptest::option::weighted(0.8, 100u64..900),
            100u64..160,
            proptest::bool::weighted(0.1),
        );
        (
            Just(n),
            proptest::collection::vec(link, 1..14),
            proptest::collection::vec(site, 1..9),
        )
            .prop_flat_map(|(n, links, sites)| {
                let count = sites.len();
                let service = (
                    proptest::collection::vec(0..count, 1..5),
                    1u64..20,
                    0u64..5_000,
                    proptest::option::of(1_000u64..25_000),
                    prop_oneof![Just(0u64), Just(10), Just(2_000)],
                    proptest::option::weighted(0.3, 0u32..6),
                );
                (
                    Just(n),
                    Just(links),
                    Just(sites),
                    proptest::collection::vec(service, 1..4),
                )
            })
            .prop_map(|(routers, links, sites, services)| Net {
                routers,
                links: links.into_iter().filter(|l| l.0 != l.1).collect(),
                sites,
                services,
            })
    })
}

fn ops() -> impl Strategy<Value = Vec<Op>> {
    let decide = (
        0usize..8,
        proptest::option::weighted(0.6, 0usize..4),
        // No processing at all makes every price cost nothing: prices tie.
        (
            1u64..30,
            prop_oneof![Just(0u64), 0u64..5_000],
            proptest::bool::weighted(0.1),
        ),
        0usize..5,
        proptest::option::weighted(0.5, 1_000u64..25_000),
        prop_oneof![Just(0u64), Just(10), Just(2_000)],
        proptest::option::weighted(0.3, 0u32..6),
    )
        .prop_map(
            |(ingress, service, raw, objective, max_latency_us, mbps, max_loss)| Op::Decide {
                ingress,
                service,
                raw,
                objective,
                max_latency_us,
                mbps,
                max_loss,
            },
        );
    let op = prop_oneof![
        6 => decide,
        3 => (0usize..9, 0u64..60).prop_map(|(s, u)| Op::Used(s, u)),
        3 => (0usize..9, proptest::bool::weighted(0.5)).prop_map(|(s, u)| Op::SiteUp(s, u)),
        1 => (0usize..14, proptest::bool::weighted(0.7)).prop_map(|(l, u)| Op::LinkUp(l, u)),
        1 => (0usize..14, 1u32..3_000).prop_map(|(l, us)| Op::Latency(l, us)),
        1 => (0usize..14, 0u32..5).prop_map(|(l, loss)| Op::Loss(l, loss)),
        1 => (0usize..14, prop_oneof![Just(0u64), Just(5), Just(1_000), Just(100_000)])
            .prop_map(|(l, mbps)| Op::Free(l, mbps)),
    ];
    proptest::collection::vec(op, 1..30)
}

fn scenario(net: &Net) -> Scenario {
    let mut t = String::new();
    for r in 0..net.routers {
        t += &format!("[[router]]\nid = \"r{r}\"\n");
    }
    for &(a, b, us, loss) in &net.links {
        t += &format!(
            "[[link]]\na = \"r{a}\"\nb = \"r{b}\"\nbandwidth = \"100 Gbps\"\nlatency = \"{us} us\"\nloss = \"{}%\"\n",
            f64::from(loss) / 10.0
        );
    }
    for (i, &(r, tflops, price, carbon, pue, fp16)) in net.sites.iter().enumerate() {
        let precision = if fp16 && i > 0 { " fp16" } else { "" };
        t += &format!(
            "[[site]]\nid = \"s{i}\"\nrouter = \"r{r}\"\ntier = \"edge\"\ncompute = \"{tflops} TFLOPS{precision}\"\npue = {}\n",
            pue as f64 / 100.0
        );
        if let Some(p) = price {
            t += &format!("price = {}\n", p as f64 / 100.0);
        }
        if let Some(c) = carbon {
            t += &format!("carbon = \"{c} g/kWh\"\n");
        }
    }
    for (k, (sites, tflops, us, max_latency, mbps, max_loss)) in net.services.iter().enumerate() {
        t += &format!("[[sla]]\nid = \"sla{k}\"\nmin_bandwidth = \"{mbps} Mbps\"\n");
        if let Some(l) = max_latency {
            t += &format!("max_latency = \"{l} us\"\n");
        }
        if let Some(l) = max_loss {
            t += &format!("max_loss = \"{}%\"\n", f64::from(*l) / 10.0);
        }
        // A service's sites count in its demand's precision (the first site always does).
        let mut names: Vec<String> = sites
            .iter()
            .chain(std::iter::once(&0))
            .filter(|&&s| s == 0 || !net.sites[s].5)
            .map(|s| format!("\"s{s}\""))
            .collect();
        names.sort();
        names.dedup();
        t += &format!(
            "[[service]]\nid = \"svc{k}\"\ndemand = \"{tflops} TFLOPS\"\nprocessing = \"{us} us\"\nsites = [{}]\nsla = \"sla{k}\"\n",
            names.join(", ")
        );
    }
    Scenario::parse("shortlist", &t, &mut NoImports).expect("generated scenario is valid")
}

/// The engine's own state, as the shortlist's caller would keep it. Loads do not depend on
/// the window here: each holds for every window until the site's stamp changes.
struct State {
    used: Vec<u128>,
    /// Sites whose load changed since the engine last asked.
    changed: Vec<SiteId>,
    free: Vec<u64>,
}

impl Occupancy for State {
    fn least_free(&mut self, _need: Bandwidth) -> Bandwidth {
        Bandwidth(self.free.iter().copied().min().unwrap_or(u64::MAX))
    }

    fn used(&mut self, site: SiteId) -> Load {
        Load {
            used: self.used[site.index()],
            from: 0,
            until: u64::MAX,
        }
    }

    fn changed(&mut self, mut report: impl FnMut(SiteId, u64)) {
        for site in self.changed.drain(..) {
            report(site, u64::MAX);
        }
    }

    fn start(&self) -> u64 {
        0
    }
}

const OBJECTIVES: [Objective; 5] = [
    Objective::Latency,
    Objective::Cost,
    Objective::Carbon,
    Objective::Load,
    Objective::BALANCED,
];

/// The eligible candidate of least total latency, then least id: what the savings compare.
fn nearest(d: &Decision) -> Option<SiteId> {
    d.candidates
        .iter()
        .filter(|c| c.rejected.is_none())
        .min_by_key(|c| (c.latency.map_or(u64::MAX, |l| l.total), c.site))
        .map(|c| c.site)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn the_shortlist_decides_as_the_full_decision(net in net(), ops in ops()) {
        let scenario = scenario(&net);
        let mut engine = Engine::new(&scenario);
        let links = scenario.links.len();
        let sites = scenario.sites.len();
        let mut state = State {
            used: vec![0; sites],
            changed: Vec::new(),
            free: scenario.links.iter().map(|l| l.bandwidth.0).collect(),
        };
        for op in ops {
            match op {
                Op::Used(s, tflops) => {
                    let s = s % sites;
                    let cap = scenario.sites[s].capacity.compute.per_second;
                    let used = (u128::from(tflops) * 1_000_000_000_000).min(cap);
                    state.used[s] = used;
                    state.changed.push(SiteId(s as u32));
                    engine.set_site_used(SiteId(s as u32), used);
                }
                Op::SiteUp(s, up) => engine.set_site_up(SiteId((s % sites) as u32), up),
                Op::LinkUp(l, up) if links > 0 => {
                    engine.graph_mut().set_up(LinkId((l % links) as u32), up)
                }
                Op::Latency(l, us) if links > 0 => engine
                    .graph_mut()
                    .set_latency(LinkId((l % links) as u32), Nanos::from_micros(u64::from(us))),
                Op::Loss(l, loss) if links > 0 => engine.graph_mut().set_loss(
                    LinkId((l % links) as u32),
                    Ratio(u64::from(loss) * Ratio::ONE.0 / 1000),
                ),
                Op::Free(l, mbps) if links > 0 => {
                    let l = l % links;
                    let free = Bandwidth::from_mbps(mbps);
                    engine.graph_mut().set_available(LinkId(l as u32), free);
                    state.free[l] = engine.graph().available(LinkId(l as u32)).0;
                }
                Op::Decide { ingress, service, raw, objective, max_latency_us, mbps, max_loss } => {
                    let service = service.filter(|&s| s < scenario.services.len());
                    let request = Request {
                        ingress: RouterId((ingress % net.routers) as u32),
                        demand: match service {
                            Some(s) => Demand::Service(ServiceId(s as u32)),
                            None => Demand::Raw {
                                demand: Flops {
                                    precision: if raw.2 {
                                        cpn_units::Precision::Fp16
                                    } else {
                                        cpn_units::Precision::Fp64
                                    },
                                    per_second: u128::from(raw.0) * 1_000_000_000_000,
                                },
                                processing: Nanos::from_micros(raw.1),
                            },
                        },
                        sla: SlaBounds {
                            max_latency: max_latency_us.map(Nanos::from_micros),
                            min_bandwidth: Bandwidth::from_mbps(mbps),
                            max_loss: max_loss.map(|m| Ratio(u64::from(m) * Ratio::ONE.0 / 1000)),
                            ..SlaBounds::default()
                        },
                        objective: OBJECTIVES[objective],
                    };
                    let short = engine.decide_shortlist(&request, &mut state);
                    let full = engine.decide(&request).expect("valid request");
                    let Some(short) = short else {
                        // Outside the shortlist only for a short link or a lossy path; a
                        // refusal is always left to the full decision.
                        let need = match request.demand {
                            Demand::Service(s) if mbps == 0 => net.services[s.index()].4,
                            _ => mbps,
                        } * 1_000_000;
                        let lossy = (0..links).any(|l| engine.graph().loss_log(LinkId(l as u32)) > 0.0);
                        let loss_bound = max_loss.is_some() || matches!(request.demand, Demand::Service(s) if net.services[s.index()].5.is_some());
                        let min_free = state.free.iter().copied().min().unwrap_or(u64::MAX);
                        if need <= min_free && !(loss_bound && lossy) {
                            prop_assert!(full.choice().is_none(), "the shortlist declined what the full decision placed: {:?}", full.choice());
                        }
                        continue;
                    };
                    let mine = short.choice().expect("a shortlist decision has a choice");
                    let theirs = full.choice().expect("the full decision chose too");
                    prop_assert_eq!(mine.site, theirs.site);
                    prop_assert_eq!(mine.latency, theirs.latency);
                    prop_assert_eq!(&mine.path, &theirs.path);
                    prop_assert_eq!(mine.cost.map(f64::to_bits), theirs.cost.map(f64::to_bits));
                    prop_assert_eq!(mine.carbon_g.map(f64::to_bits), theirs.carbon_g.map(f64::to_bits));
                    prop_assert_eq!(mine.load.map(f64::to_bits), theirs.load.map(f64::to_bits));
                    prop_assert_eq!(mine.score.map(f64::to_bits), theirs.score.map(f64::to_bits));
                    prop_assert_eq!(nearest(&short), nearest(&full));
                    // Every candidate the shortlist reports is eligible with the full
                    // decision's numbers.
                    for c in &short.candidates {
                        let f = full.candidates.iter().find(|f| f.site == c.site).expect("a candidate");
                        prop_assert!(f.rejected.is_none());
                        prop_assert_eq!(c.latency, f.latency);
                        prop_assert_eq!(c.score.map(f64::to_bits), f.score.map(f64::to_bits));
                    }
                }
                _ => {}
            }
        }
    }
}

/// The generator reaches decisions the shortlist makes: a fixed case.
#[test]
fn the_shortlist_decides_a_plain_request() {
    let t = "[[router]]\nid = \"a\"\n[[router]]\nid = \"b\"\n[[link]]\na = \"a\"\nb = \"b\"\nbandwidth = \"10 Gbps\"\nlatency = \"1 ms\"\n[[site]]\nid = \"near\"\nrouter = \"a\"\ntier = \"edge\"\ncompute = \"100 TFLOPS\"\nprice = 1.2\n[[site]]\nid = \"far\"\nrouter = \"b\"\ntier = \"cloud\"\ncompute = \"1 PFLOPS\"\nprice = 0.4\n";
    let scenario = Scenario::parse("plain", t, &mut NoImports).expect("valid");
    let mut engine = Engine::new(&scenario);
    let request = Request {
        ingress: RouterId(0),
        demand: Demand::Raw {
            demand: Flops::fp64(10_000_000_000_000),
            processing: Nanos::from_millis(2),
        },
        sla: SlaBounds {
            min_bandwidth: Bandwidth::from_mbps(10),
            ..SlaBounds::default()
        },
        objective: Objective::Cost,
    };
    let mut state = State {
        used: vec![0; 2],
        changed: Vec::new(),
        free: vec![10_000_000_000],
    };
    let short = engine
        .decide_shortlist(&request, &mut state)
        .expect("decided");
    let full = engine.decide(&request).expect("valid");
    let (mine, theirs) = (
        short.choice().expect("chosen"),
        full.choice().expect("chosen"),
    );
    assert_eq!((mine.site, mine.latency), (theirs.site, theirs.latency));
    assert_eq!(scenario.sites[mine.site.index()].name, "far");
    assert_eq!(
        nearest(&short).map(|s| scenario.sites[s.index()].name.as_str()),
        Some("near")
    );
    // A link without the bandwidth: left to the full decision.
    state.free = vec![1];
    assert!(engine.decide_shortlist(&request, &mut state).is_none());
}

/// A connected network (a chain of routers plus random links), one service over most sites
/// with no loss bound and a loose or no latency budget, loads up to saturation: the case where
/// the shortlist judges a blended request by bounds instead of a pass.
fn connected() -> impl Strategy<Value = (Net, Vec<Op>)> {
    (3usize..9)
        .prop_flat_map(|n| {
            let extra = proptest::collection::vec((0..n, 0..n, 1u32..3_000), 0..8);
            let site = (
                0..n,
                prop_oneof![1u64..8, 20u64..60],
                proptest::option::weighted(0.9, 30u64..34),
                proptest::option::weighted(0.9, 100u64..900),
                100u64..160,
            );
            (
                Just(n),
                proptest::collection::vec(1u32..3_000, n - 1),
                extra,
                proptest::collection::vec(site, 2..14),
                proptest::option::weighted(0.5, 40_000u64..60_000),
                (1u64..8, prop_oneof![0u64..3_000, 10_000u64..50_000]),
            )
        })
        .prop_flat_map(|(n, chain, extra, sites, budget, (tflops, us))| {
            let mut links: Vec<(usize, usize, u32, u32)> = chain
                .iter()
                .enumerate()
                .map(|(i, &us)| (i, i + 1, us, 0))
                .collect();
            links.extend(
                extra
                    .into_iter()
                    .filter(|l| l.0 != l.1)
                    .map(|(a, b, us)| (a, b, us, 0)),
            );
            let count = sites.len();
            let net = Net {
                routers: n,
                links,
                sites: sites
                    .into_iter()
                    .map(|(r, t, p, c, pue)| (r, t, p, c, pue, false))
                    .collect(),
                services: vec![((0..count).collect(), tflops, us, budget, 10, None)],
            };
            let weight = prop_oneof![Just(0.0f64), 0.0f64..1.0];
            let op = prop_oneof![
                5 => (0usize..9, (weight.clone(), weight.clone(), weight.clone(), weight))
                    .prop_map(|(ingress, w)| (ingress, Some(w), None)),
                4 => (0usize..14, 0u64..60).prop_map(|(s, u)| (s, None, Some(u))),
                1 => (0usize..14).prop_map(|s| (s, None, None)),
            ];
            (Just(net), proptest::collection::vec(op, 1..40))
        })
        .prop_map(|(net, raw)| {
            let ops = raw
                .into_iter()
                .map(|(x, weights, used)| match (weights, used) {
                    (Some((latency, cost, carbon, load)), _) => Op::Blend {
                        ingress: x,
                        weights: [latency, cost, carbon, load],
                    },
                    (None, Some(u)) => Op::Used(x, u),
                    (None, None) => Op::SiteUp(x, x % 3 != 0),
                })
                .collect();
            (net, ops)
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn blended_requests_judged_by_bounds_decide_as_the_full_decision((net, ops) in connected()) {
        let scenario = scenario(&net);
        let mut engine = Engine::new(&scenario);
        let sites = scenario.sites.len();
        let mut state = State {
            used: vec![0; sites],
            changed: Vec::new(),
            free: scenario.links.iter().map(|l| l.bandwidth.0).collect(),
        };
        for op in ops {
            match op {
                Op::Used(s, tflops) => {
                    let s = s % sites;
                    let cap = scenario.sites[s].capacity.compute.per_second;
                    // Up to the whole capacity: saturated sites drop out of the eligible set.
                    let used = (u128::from(tflops) * 1_000_000_000_000).min(cap);
                    state.used[s] = used;
                    state.changed.push(SiteId(s as u32));
                    engine.set_site_used(SiteId(s as u32), used);
                }
                Op::SiteUp(s, up) => engine.set_site_up(SiteId((s % sites) as u32), up),
                Op::Blend { ingress, weights: [latency, cost, carbon, load] } => {
                    let request = Request {
                        ingress: RouterId((ingress % net.routers) as u32),
                        demand: Demand::Service(ServiceId(0)),
                        sla: SlaBounds::default(),
                        objective: Objective::Balanced { latency, cost, carbon, load },
                    };
                    let short = engine.decide_shortlist(&request, &mut state);
                    let full = engine.decide(&request).expect("valid request");
                    match (short, full.choice()) {
                        (None, theirs) => prop_assert!(theirs.is_none(), "declined what the full decision placed"),
                        (Some(short), theirs) => {
                            let mine = short.choice().expect("a choice");
                            let theirs = theirs.expect("the full decision chose too");
                            prop_assert_eq!(mine.site, theirs.site);
                            prop_assert_eq!(mine.latency, theirs.latency);
                            prop_assert_eq!(&mine.path, &theirs.path);
                            prop_assert_eq!(mine.score.map(f64::to_bits), theirs.score.map(f64::to_bits));
                            prop_assert_eq!(nearest(&short), nearest(&full));
                        }
                    }
                }
                _ => {}
            }
        }
    }
}
