//! The joint decision against brute force on random small networks: with the latency
//! objective, the chosen site's end-to-end latency equals the least over every (site, simple
//! path) pair that meets the SLA, the chosen pair meets it, and "no feasible site" is said
//! exactly when brute force finds none.

use cpn_model::{NoImports, RouterId, Scenario, SiteId};
use cpn_route::{Demand, Engine, Objective, Request, SlaBounds, queueing};
use cpn_units::{Bandwidth, Flops, Nanos, Ratio};
use proptest::prelude::*;

#[derive(Debug, Clone)]
struct Case {
    routers: usize,
    /// (a, b, latency µs, capacity Mbps, up, loss in units of 0.1%)
    links: Vec<(usize, usize, u32, u64, bool, u32)>,
    /// (router, compute TFLOPS, used TFLOPS)
    sites: Vec<(usize, u64, u64)>,
    ingress: usize,
    demand_tflops: u64,
    processing_us: u64,
    max_latency_us: Option<u64>,
    min_bandwidth_mbps: u64,
    /// End-to-end loss bound in units of 0.1%.
    max_loss: Option<u32>,
}

fn case() -> impl Strategy<Value = Case> {
    (2usize..7).prop_flat_map(|n| {
        (
            Just(n),
            proptest::collection::vec(
                (
                    0..n,
                    0..n,
                    1u32..5_000,
                    prop_oneof![Just(100u64), Just(1_000), Just(10_000)],
                    proptest::bool::weighted(0.85),
                    0u32..4,
                ),
                1..12,
            ),
            proptest::collection::vec((0..n, 1u64..40, 0u64..40), 1..5),
            0..n,
            1u64..8,
            0u64..5_000,
            proptest::option::of(1_000u64..30_000),
            prop_oneof![Just(0u64), Just(500), Just(5_000)],
            proptest::option::of(0u32..6),
        )
            .prop_map(
                |(
                    routers,
                    links,
                    sites,
                    ingress,
                    demand_tflops,
                    processing_us,
                    max_latency_us,
                    min_bandwidth_mbps,
                    max_loss,
                )| Case {
                    routers,
                    links: links.into_iter().filter(|l| l.0 != l.1).collect(),
                    sites,
                    ingress,
                    demand_tflops,
                    processing_us,
                    max_latency_us,
                    min_bandwidth_mbps,
                    max_loss,
                },
            )
    })
}

fn scenario(c: &Case) -> Scenario {
    let mut t = String::new();
    for r in 0..c.routers {
        t += &format!("[[router]]\nid = \"r{r}\"\n");
    }
    for &(a, b, lat, mbps, up, loss) in &c.links {
        t += &format!(
            "[[link]]\na = \"r{a}\"\nb = \"r{b}\"\nbandwidth = \"{mbps} Mbps\"\nlatency = \"{lat} us\"\nup = {up}\nloss = \"{}%\"\n",
            f64::from(loss) / 10.0
        );
    }
    for (i, &(r, tflops, _)) in c.sites.iter().enumerate() {
        t += &format!(
            "[[site]]\nid = \"s{i}\"\nrouter = \"r{r}\"\ntier = \"edge\"\ncompute = \"{tflops} TFLOPS\"\n"
        );
    }
    Scenario::parse("random", &t, &mut NoImports).expect("generated scenario is valid")
}

/// (latency µs, delivery probability) of every simple path from `from` to `to` over links
/// that are up with the requested bandwidth.
fn paths(c: &Case, from: usize, to: usize) -> Vec<(u64, f64)> {
    fn walk(
        c: &Case,
        at: usize,
        to: usize,
        seen: &mut Vec<bool>,
        sum: u64,
        delivered: f64,
        out: &mut Vec<(u64, f64)>,
    ) {
        if at == to {
            out.push((sum, delivered));
            return;
        }
        for &(a, b, lat, mbps, up, loss) in &c.links {
            if !up || mbps < c.min_bandwidth_mbps {
                continue;
            }
            let next = if a == at {
                b
            } else if b == at {
                a
            } else {
                continue;
            };
            if seen[next] {
                continue;
            }
            seen[next] = true;
            walk(
                c,
                next,
                to,
                seen,
                sum + u64::from(lat),
                delivered * (1.0 - f64::from(loss) / 1000.0),
                out,
            );
            seen[next] = false;
        }
    }
    let mut seen = vec![false; c.routers];
    seen[from] = true;
    let mut out = Vec::new();
    walk(c, from, to, &mut seen, 0, 1.0, &mut out);
    out
}

fn brute_force(c: &Case) -> Option<u64> {
    let demand = u128::from(c.demand_tflops) * 1_000_000_000_000;
    let mut best: Option<u64> = None;
    for &(router, tflops, used) in &c.sites {
        let capacity = u128::from(tflops) * 1_000_000_000_000;
        let used = u128::from(used.min(tflops)) * 1_000_000_000_000;
        if capacity - used < demand {
            continue;
        }
        let rho = used as f64 / capacity as f64;
        let Some(wait) = queueing::mean_wait_ns(capacity, demand, c.processing_us * 1_000, rho)
        else {
            continue;
        };
        for (one_way, delivered) in paths(c, c.ingress, router) {
            let total = 2 * one_way + c.processing_us + Nanos(wait).as_micros_rounded();
            if c.max_latency_us.is_some_and(|m| total > m) {
                continue;
            }
            // The same slack as the engine's loss check (relative 1e-9) so that a path exactly
            // at the bound counts as meeting it.
            if c.max_loss
                .is_some_and(|m| 1.0 - delivered > f64::from(m) / 1000.0 * (1.0 + 1e-9) + 1e-15)
            {
                continue;
            }
            best = Some(best.map_or(total, |b| b.min(total)));
        }
    }
    best
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn decision_equals_brute_force(c in case()) {
        let scenario = scenario(&c);
        let mut engine = Engine::new(&scenario);
        for (i, &(_, tflops, used)) in c.sites.iter().enumerate() {
            engine.set_site_used(SiteId(i as u32), u128::from(used.min(tflops)) * 1_000_000_000_000);
        }
        let request = Request {
            ingress: RouterId(c.ingress as u32),
            demand: Demand::Raw { demand: Flops::fp64(u128::from(c.demand_tflops) * 1_000_000_000_000), processing: Nanos::from_micros(c.processing_us) },
            sla: SlaBounds {
                max_latency: c.max_latency_us.map(Nanos::from_micros),
                                min_bandwidth: Bandwidth::from_mbps(c.min_bandwidth_mbps),
                max_loss: c.max_loss.map(|m| Ratio(u64::from(m) * Ratio::ONE.0 / 1000)),
                ..SlaBounds::default()
            },
            objective: Objective::Latency,
        };
        let decision = engine.decide(&request).expect("valid");
        let expected = brute_force(&c);
        let chosen = decision.choice();
        prop_assert_eq!(chosen.and_then(|x| x.latency).map(|l| l.total), expected);
        if let Some(x) = chosen {
            let path = x.path.as_ref().expect("a chosen site has a path");
            prop_assert!(path.is_loopless());
            prop_assert_eq!(path.source() as usize, c.ingress);
            prop_assert_eq!(path.target(), scenario.sites[x.site.index()].router.0);
            for link in path.links(engine.graph()) {
                prop_assert!(engine.graph().is_up(link));
                prop_assert!(engine.graph().available(link).0 >= c.min_bandwidth_mbps * 1_000_000);
            }
        }
                // A bounded search (no exact explanations) makes the same choice.
        let mut fast = Engine::new(&scenario);
        fast.set_exact_explanations(false);
        for (i, &(_, tflops, used)) in c.sites.iter().enumerate() {
            fast.set_site_used(SiteId(i as u32), u128::from(used.min(tflops)) * 1_000_000_000_000);
        }
        let quick = fast.decide(&request).expect("valid");
        prop_assert_eq!(quick.choice().map(|x| (x.site, x.latency)), chosen.map(|x| (x.site, x.latency)));
        // Every rejected candidate has a reason; every other one a latency.
        for cand in &decision.candidates {
            prop_assert!(cand.rejected.is_some() || cand.latency.is_some());
        }
    }
}
