//! The batch placement against brute force and the exact MILP on random small instances:
//! the heuristic's placement is feasible and never beats the optimum; the MILP's optimum
//! equals the best of every assignment enumerated.

#![allow(clippy::unwrap_used)]

use cpn_sched::batch::{
    BatchRequest, Instance, Pair, Placement, check, objective, place, solve_exact,
};
use proptest::prelude::*;

/// A random instance: `requests` requests, `sites` sites, `links` links; each request gets a
/// random subset of sites as pairs, each with a path of up to three random links.
fn instance(max_requests: usize, max_sites: usize) -> impl Strategy<Value = Instance> {
    (1..=max_requests, 1..=max_sites, 1usize..=4).prop_flat_map(|(n, s, l)| {
        let requests = proptest::collection::vec((1u64..=10, 1u64..=10), n);
        let sites = proptest::collection::vec(5u64..=20, s);
        let links = proptest::collection::vec(5u64..=20, l);
        let pairs = proptest::collection::vec(
            proptest::collection::vec(
                (
                    any::<bool>(),
                    1u32..=200,
                    proptest::collection::vec(0..l as u32, 0..=3),
                ),
                s,
            ),
            n,
        );
        (requests, sites, links, pairs).prop_map(|(requests, sites, links, pairs)| {
            let mut all = Vec::new();
            for (r, row) in pairs.into_iter().enumerate() {
                for (site, (keep, cost, mut path)) in row.into_iter().enumerate() {
                    path.sort_unstable();
                    path.dedup();
                    if keep {
                        all.push(Pair {
                            request: r as u32,
                            site: site as u32,
                            cost_ms: f64::from(cost),
                            links: path,
                        });
                    }
                }
            }
            Instance {
                requests: requests
                    .into_iter()
                    .map(|(d, b)| BatchRequest {
                        ingress: 0,
                        demand_tflops: d,
                        bandwidth_mbps: b,
                        max_latency_ms: 1000.0,
                        processing_ms: 0.0,
                    })
                    .collect(),
                site_capacity: sites,
                link_capacity: links,
                pairs: all,
            }
        })
    })
}

/// The best objective over all (sites + 1)^requests assignments.
fn brute_force(inst: &Instance) -> f64 {
    let n = inst.requests.len();
    let s = inst.site_capacity.len();
    let mut best = 0.0f64;
    let mut digits = vec![0usize; n];
    loop {
        let placement = Placement {
            assignment: digits.iter().map(|&d| d.checked_sub(1)).collect(),
        };
        if check(inst, &placement).is_ok() {
            best = best.max(objective(inst, &placement));
        }
        let mut i = 0;
        while i < n && digits[i] == s {
            digits[i] = 0;
            i += 1;
        }
        if i == n {
            return best;
        }
        digits[i] += 1;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn heuristic_is_feasible_and_never_beats_the_milp(inst in instance(8, 4)) {
        inst.validate().unwrap();
        let ours = place(&inst);
        check(&inst, &ours).unwrap();
        let (exact, best) = solve_exact(&inst).unwrap();
        check(&inst, &exact).unwrap();
        let value = objective(&inst, &ours);
        prop_assert!(value <= best + 1e-6, "heuristic {value} > optimum {best}");
        let gap = if best > 0.0 { 100.0 * (best - value) / best } else { 0.0 };
        println!("gap {gap:.3} % (heuristic {value:.1}, optimum {best:.1})");
    }

    #[test]
    fn milp_equals_brute_force(inst in instance(6, 3)) {
        let (exact, best) = solve_exact(&inst).unwrap();
        check(&inst, &exact).unwrap();
        let brute = brute_force(&inst);
        prop_assert!((best - brute).abs() < 1e-6, "milp {best} != brute force {brute}");
    }
}

#[test]
fn generated_instances_are_reproducible_and_valid() {
    let a = Instance::generate(40, 12, 0.8, 9).unwrap();
    let b = Instance::generate(40, 12, 0.8, 9).unwrap();
    assert_eq!(a, b);
    a.validate().unwrap();
    assert!(a.pairs.len() >= 40, "every request has pairs");
    let json = serde_json::to_string(&a).unwrap();
    let back: Instance = serde_json::from_str(&json).unwrap();
    // Floats may come back one ulp off through JSON; everything else exactly.
    assert_eq!(a.site_capacity, back.site_capacity);
    assert_eq!(a.link_capacity, back.link_capacity);
    assert_eq!(a.pairs.len(), back.pairs.len());
    for (x, y) in a.pairs.iter().zip(&back.pairs) {
        assert_eq!((x.request, x.site, &x.links), (y.request, y.site, &y.links));
        assert!((x.cost_ms - y.cost_ms).abs() < 1e-9);
    }
    let ours = place(&a);
    check(&a, &ours).unwrap();
    assert!(ours.placed() > 0);
}

#[test]
fn check_names_the_broken_constraint() {
    let inst = Instance {
        requests: vec![
            BatchRequest {
                ingress: 0,
                demand_tflops: 6,
                bandwidth_mbps: 4,
                max_latency_ms: 100.0,
                processing_ms: 0.0,
            };
            2
        ],
        site_capacity: vec![10],
        link_capacity: vec![5],
        pairs: vec![
            Pair {
                request: 0,
                site: 0,
                cost_ms: 10.0,
                links: vec![],
            },
            Pair {
                request: 1,
                site: 0,
                cost_ms: 10.0,
                links: vec![0],
            },
        ],
    };
    let both = Placement {
        assignment: vec![Some(0), Some(0)],
    };
    assert!(matches!(
        check(&inst, &both),
        Err(cpn_sched::batch::Violation::SiteCapacity {
            site: 0,
            used: 12,
            ..
        })
    ));
    let bad = Placement {
        assignment: vec![Some(1), None],
    };
    assert!(matches!(
        check(&inst, &bad),
        Err(cpn_sched::batch::Violation::Ineligible { .. })
    ));
    let one = Placement {
        assignment: vec![None, Some(0)],
    };
    check(&inst, &one).unwrap();
    assert_eq!(objective(&inst, &one), 990.0);
    assert_eq!(place(&inst).placed(), 1);
}
