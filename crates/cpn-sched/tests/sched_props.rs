//! The scheduler under random sequences of placements, releases, failures and capacity drops:
//! no site resource, link capacity or slice guarantee is ever oversubscribed at any second,
//! the calendars always hold exactly what the reservations booked, every reservation sits on
//! up links and an up site, and every accepted request met its latency bound when placed.

use cpn_model::{LinkId, NoImports, RouterId, Scenario, SiteId, SliceId};
use cpn_route::Objective;
use cpn_sched::{Isolation, PlaceRequest, Placed, Scheduler};
use cpn_units::{Bandwidth, Flops, Nanos};
use proptest::prelude::*;

const HORIZON: u64 = 64;

#[derive(Debug, Clone)]
enum Op {
    Place {
        ingress: usize,
        tflops: u64,
        mbps: u64,
        max_latency_ms: Option<u64>,
        priority: u8,
        start: u64,
        len: u64,
        slice: Option<u32>,
        hard: bool,
    },
    Release(usize),
    LinkDown(usize),
    LinkUp(usize),
    SiteDown(usize),
    SiteUp(usize),
    ComputeDrop(usize, u64),
    Circuit {
        from: usize,
        to: usize,
        mbps: u64,
        slice: Option<u32>,
        hard: bool,
        start: u64,
        len: u64,
    },
    ReleaseCircuit(usize),
    Slice {
        slice: u32,
        link: usize,
        mbps: u64,
        start: u64,
        len: u64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
                6 => (0usize..6, 1u64..30, prop_oneof![Just(0u64), Just(200), Just(600)], proptest::option::of(5u64..40), 0u8..4, 0u64..HORIZON, 1u64..30, proptest::option::weighted(0.3, 0u32..2), any::<bool>())
            .prop_map(|(ingress, tflops, mbps, max_latency_ms, priority, start, len, slice, hard)| Op::Place { ingress, tflops, mbps, max_latency_ms, priority, start, len, slice, hard }),
        2 => any::<usize>().prop_map(Op::Release),
        1 => any::<usize>().prop_map(Op::LinkDown),
        1 => any::<usize>().prop_map(Op::LinkUp),
        1 => any::<usize>().prop_map(Op::SiteDown),
        1 => any::<usize>().prop_map(Op::SiteUp),
                1 => (any::<usize>(), 10u64..80).prop_map(|(s, g)| Op::ComputeDrop(s, g)),
        2 => (0usize..6, 0usize..6, 100u64..700, proptest::option::of(0u32..2), any::<bool>(), 0u64..HORIZON, 1u64..30)
            .prop_map(|(from, to, mbps, slice, hard, start, len)| Op::Circuit { from, to, mbps, slice, hard, start, len }),
        1 => any::<usize>().prop_map(Op::ReleaseCircuit),
        2 => (0u32..2, any::<usize>(), 0u64..800, 0u64..HORIZON, 1u64..40).prop_map(|(slice, link, mbps, start, len)| Op::Slice { slice, link, mbps, start, len }),
    ]
}

/// A ring of six routers with two chords, 1 Gbps links, three sites of 100 TFLOPS.
fn scenario() -> Scenario {
    let mut t = String::new();
    for r in 0..6 {
        t += &format!("[[router]]\nid = \"r{r}\"\n");
    }
    let links = [
        (0, 1, 2),
        (1, 2, 3),
        (2, 3, 2),
        (3, 4, 4),
        (4, 5, 2),
        (5, 0, 3),
        (0, 3, 9),
        (1, 4, 7),
    ];
    for (a, b, ms) in links {
        t += &format!(
            "[[link]]\na = \"r{a}\"\nb = \"r{b}\"\nbandwidth = \"1 Gbps\"\nlatency = \"{ms} ms\"\n"
        );
    }
    for (i, r) in [1, 3, 5].iter().enumerate() {
        t += &format!(
            "[[site]]\nid = \"s{i}\"\nrouter = \"r{r}\"\ntier = \"edge\"\ncompute = \"100 TFLOPS\"\ncpu_cores = 64\nmemory = \"256 GiB\"\n"
        );
    }
    Scenario::parse("sched", &t, &mut NoImports).expect("valid")
}

fn check(s: &Scheduler, scenario: &Scenario) -> Result<(), TestCaseError> {
    for t in 0..HORIZON + 32 {
        for (i, site) in scenario.sites.iter().enumerate() {
            let cal = s.site_calendar(SiteId(i as u32));
            let used = cal.calendars()[0].usage_at(t);
            let booked: u64 = s
                .reservations()
                .filter(|r| r.site.index() == i && r.request.start <= t && t < r.request.end)
                .map(|r| r.compute_gflops())
                .sum();
            prop_assert_eq!(used, booked, "site {} at {}", &site.name, t);
            for c in cal.calendars() {
                prop_assert!(
                    c.usage_at(t) <= c.capacity(),
                    "site {} over capacity at {}",
                    &site.name,
                    t
                );
            }
        }
        for (i, link) in scenario.links.iter().enumerate() {
            let cal = s.link_calendar(LinkId(i as u32));
            let occupied = cal.occupied_at(t);
            prop_assert!(
                occupied <= cal.capacity(),
                "link {} over capacity at {}",
                &link.name,
                t
            );
            prop_assert!(
                cal.guaranteed_at(t) <= cal.capacity(),
                "link {} guarantees over capacity at {}",
                &link.name,
                t
            );
            // Each slice's traffic (and best effort) is exactly what was booked in it.
            for slice in [None, Some(SliceId(0)), Some(SliceId(1))] {
                let id = LinkId(i as u32);
                let booked: u64 = s
                    .reservations()
                    .filter(|r| {
                        r.request.slice == slice
                            && r.links.contains(&id)
                            && r.request.start <= t
                            && t < r.request.end
                    })
                    .map(|r| r.request.bandwidth.0)
                    .chain(
                        s.circuits()
                            .filter(|c| {
                                c.slice == slice
                                    && c.links.contains(&id)
                                    && c.start <= t
                                    && t < c.end
                            })
                            .map(|c| c.bandwidth.0),
                    )
                    .sum();
                prop_assert_eq!(
                    cal.traffic_at(slice, t),
                    booked,
                    "link {} slice {:?} at {}",
                    &link.name,
                    slice,
                    t
                );
                // Hard-isolated traffic stays within the slice's guarantee.
                if let Some(sl) = slice {
                    prop_assert!(
                        cal.hard_traffic_at(sl, t) <= cal.guarantee_at(sl, t),
                        "link {} slice {:?} hard traffic over guarantee at {}",
                        &link.name,
                        sl,
                        t
                    );
                }
            }
        }
    }
    for r in s.reservations() {
        for link in &r.links {
            prop_assert!(
                s.engine().graph().is_up(*link),
                "reservation {:?} on a down link",
                r.id
            );
        }
        if let Some(bound) = r.request.max_latency {
            prop_assert!(
                r.latency.total <= bound.as_micros_rounded(),
                "reservation {:?} breaks its bound",
                r.id
            );
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn nothing_is_ever_oversubscribed(ops in proptest::collection::vec(op(), 1..40)) {
        let scenario = scenario();
        let mut s = Scheduler::new(&scenario);
        let mut down_sites = Vec::new();
        for (n, op) in ops.into_iter().enumerate() {
            match op {
                                Op::Place { ingress, tflops, mbps, max_latency_ms, priority, start, len, slice, hard } => {
                    let request = PlaceRequest {
                        name: format!("q{n}"),
                        ingress: RouterId(ingress as u32),
                        service: None,
                        demand: Some(Flops::fp64(u128::from(tflops) * 1_000_000_000_000)),
                        processing: Nanos::from_millis(1),
                        cores: 4,
                        memory_mib: 1024,
                        gpus: Vec::new(),
                        bandwidth: Bandwidth::from_mbps(mbps),
                        max_latency: max_latency_ms.map(Nanos::from_millis),
                        max_loss: None,
                        priority,
                                                slice: slice.map(SliceId),
                        isolation: if hard { Isolation::Hard } else { Isolation::Soft },
                        start,
                        end: start + len,
                        objective: Objective::Latency,
                    };
                    if let Placed::Accepted { reservation, .. } = s.place(request).expect("valid request") {
                        prop_assert!(s.reservation(reservation).is_some());
                    }
                }
                Op::Release(k) => {
                    let ids: Vec<_> = s.reservations().map(|r| r.id).collect();
                    if !ids.is_empty() {
                        s.release(ids[k % ids.len()]).expect("known reservation");
                    }
                }
                Op::LinkDown(k) => {
                    s.link_down(LinkId((k % scenario.links.len()) as u32)).expect("recovers");
                }
                Op::LinkUp(k) => s.link_up(LinkId((k % scenario.links.len()) as u32)),
                Op::SiteDown(k) => {
                    let site = SiteId((k % scenario.sites.len()) as u32);
                    s.site_down(site).expect("recovers");
                    down_sites.push(site);
                }
                Op::SiteUp(k) => {
                    let site = SiteId((k % scenario.sites.len()) as u32);
                    s.site_up(site);
                    down_sites.retain(|x| *x != site);
                }
                Op::ComputeDrop(k, g) => {
                    s.compute_drop(SiteId((k % scenario.sites.len()) as u32), g * 1_000).expect("recovers");
                }
                Op::Circuit { from, to, mbps, slice, hard, start, len } => {
                    let isolation = if hard { Isolation::Hard } else { Isolation::Soft };
                    let _ = s
                        .book_bandwidth("c", RouterId(from as u32), RouterId(to as u32), Bandwidth::from_mbps(mbps), (start, start + len), slice.map(SliceId), isolation)
                        .expect("valid window");
                }
                Op::ReleaseCircuit(k) => {
                    let ids: Vec<_> = s.circuits().map(|c| c.id).collect();
                    if !ids.is_empty() {
                        s.release_bandwidth(ids[k % ids.len()]).expect("known circuit");
                    }
                }
                Op::Slice { slice, link, mbps, start, len } => {
                    // Refusals (room, traffic above a shrunk guarantee) are fine; the check
                    // after the step is what matters.
                    let _ = s.set_slice(SliceId(slice), &[LinkId((link % scenario.links.len()) as u32)], Bandwidth::from_mbps(mbps), start, start + len);
                }
            }
            check(&s, &scenario)?;
            for r in s.reservations() {
                prop_assert!(!down_sites.contains(&r.site), "reservation {:?} on a down site", r.id);
            }
        }
    }
}
