//! Placements by the shortlist against placements by the full decision: two schedulers of
//! the same random scaled scenario, one with [`Scheduler::set_reference`], go through the
//! same random sequence of placements (services and raw demands, every objective, windows
//! now, later and overlapping, priorities that preempt), releases, link and site failures
//! and repairs, compute drops, telemetry, circuits and slice guarantees. Every outcome is the
//! same: the same reservation (site, path, links, latency, savings) or the same refusal with
//! the same decision behind it, the same preemptions and recoveries.

use cpn_model::{LinkId, RouterId, Scenario, ServiceId, SiteId, SliceId};
use cpn_route::Objective;
use cpn_sched::{Isolation, PlaceRequest, ReservationId, Scheduler, Strategy as Placement};
use cpn_units::{Bandwidth, Flops, Nanos, Ratio};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Place {
        ingress: usize,
        /// A service of the scenario, or a raw demand of this many TFLOPS.
        service: Option<usize>,
        tflops: u64,
        objective: usize,
        /// Seconds after now (a few start later), and how long.
        start: u64,
        len: u64,
        /// Index into [`BANDWIDTHS`].
        bandwidth: usize,
        max_latency_ms: Option<u64>,
        max_loss: Option<u32>,
        priority: u8,
        slice: bool,
    },
    Release(usize),
    /// Time passes.
    Tick(u64),
    LinkDown(usize),
    LinkUp(usize),
    SiteDown(usize),
    SiteUp(usize),
    ComputeDrop(usize, u64),
    Latency(usize, u64),
    Loss(usize, u32),
    Circuit(usize, usize, u64),
    Slice(usize, usize, u64),
}

/// Bits/s: none, the twin's 10 Mbit/s, half an access link (two fill it), more than most
/// links have at all.
const BANDWIDTHS: [u64; 4] = [0, 10_000_000, 20_000_000_000, 500_000_000_000];

const OBJECTIVES: [Objective; 5] = [
    Objective::Latency,
    Objective::Cost,
    Objective::Carbon,
    Objective::Load,
    Objective::BALANCED,
];

fn op() -> impl Strategy<Value = Op> {
    let place = (
        (
            any::<usize>(),
            proptest::option::weighted(0.6, 0usize..6),
            prop_oneof![1u64..400, 5_000u64..50_000],
            prop_oneof![1 => 0usize..4, 1 => Just(4usize)],
            prop_oneof![6 => Just(0u64), 1 => 1u64..200],
            1u64..600,
        ),
        (
            prop_oneof![1 => Just(0usize), 5 => Just(1), 3 => Just(2), 1 => Just(3)],
            proptest::option::weighted(0.3, 2u64..120),
            proptest::option::weighted(0.1, 0u32..5),
            prop_oneof![3 => Just(0u8), 1 => 1u8..8],
            proptest::bool::weighted(0.05),
        ),
    )
        .prop_map(
            |(
                (ingress, service, tflops, objective, start, len),
                (bandwidth, max_latency_ms, max_loss, priority, slice),
            )| Op::Place {
                ingress,
                service,
                tflops,
                objective,
                start,
                len,
                bandwidth,
                max_latency_ms,
                max_loss,
                priority,
                slice,
            },
        );
    prop_oneof![
        30 => place,
        10 => any::<usize>().prop_map(Op::Release),
        8 => (1u64..90).prop_map(Op::Tick),
        1 => any::<usize>().prop_map(Op::LinkDown),
        1 => any::<usize>().prop_map(Op::LinkUp),
        1 => any::<usize>().prop_map(Op::SiteDown),
        1 => any::<usize>().prop_map(Op::SiteUp),
        1 => (any::<usize>(), 1u64..400_000).prop_map(|(s, g)| Op::ComputeDrop(s, g)),
        1 => (any::<usize>(), 100u64..20_000).prop_map(|(l, us)| Op::Latency(l, us)),
        1 => (any::<usize>(), 0u32..3).prop_map(|(l, loss)| Op::Loss(l, loss)),
        3 => (any::<usize>(), any::<usize>(), 1u64..100).prop_map(|(a, b, g)| Op::Circuit(a, b, g)),
        1 => (any::<usize>(), any::<usize>(), 1u64..50).prop_map(|(a, b, g)| Op::Slice(a, b, g)),
    ]
}

fn scenario(routers: usize, sites: usize, seed: u64) -> Scenario {
    let base = cpn_model::built_in("national")
        .expect("known")
        .expect("valid");
    let routers = base.routers.len() + routers;
    let sites = base.sites.len() + sites;
    cpn_model::synthetic::scaled(&base, routers, sites, seed).expect("a valid scaled scenario")
}

fn request(s: &Scenario, op: &Op, now: u64, n: usize) -> Option<PlaceRequest> {
    let Op::Place {
        ingress,
        service,
        tflops,
        objective,
        start,
        len,
        bandwidth,
        max_latency_ms,
        max_loss,
        priority,
        slice,
    } = *op
    else {
        return None;
    };
    let service = service.filter(|&k| k < s.services.len());
    let start = now + start;
    Some(PlaceRequest {
        name: format!("r{n}"),
        ingress: RouterId((ingress % s.routers.len()) as u32),
        service: service.map(|k| ServiceId(k as u32)),
        demand: service
            .is_none()
            .then(|| Flops::fp64(u128::from(tflops) * 1_000_000_000_000)),
        processing: Nanos::from_millis(2 + tflops % 50),
        cores: 0,
        memory_mib: 0,
        gpus: Vec::new(),
        bandwidth: Bandwidth(BANDWIDTHS[bandwidth]),
        max_latency: max_latency_ms.map(Nanos::from_millis),
        max_loss: max_loss.map(|m| Ratio(u64::from(m) * Ratio::ONE.0 / 1000)),
        priority,
        slice: slice.then_some(SliceId(0)),
        isolation: Isolation::Soft,
        start,
        end: start + len,
        objective: OBJECTIVES[objective],
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn the_shortlist_places_as_the_full_decision(
        routers in 0usize..40,
        sites in 0usize..120,
        seed in any::<u64>(),
        ops in prop::collection::vec(op(), 1..80),
    ) {
        let s = scenario(routers, sites, seed);
        let mut fast = Scheduler::new(&s);
        let mut full = Scheduler::new(&s);
        full.set_reference(true);
        let mut held: Vec<ReservationId> = Vec::new();
        let mut now = 0u64;
        let (links, site_count) = (s.links.len(), s.sites.len());
        let mut rng = (1u64, 1u64);
        for (n, op) in ops.iter().enumerate() {
            match *op {
                Op::Place { .. } => {
                    let r = request(&s, op, now, n).expect("a placement");
                    let a = fast.place_by(Placement::Cpn, r.clone(), &mut rng.0);
                    let b = full.place_by(Placement::Cpn, r, &mut rng.1);
                    prop_assert_eq!(&a, &b, "placement {}", n);
                    if let Ok(cpn_sched::Placed::Accepted { reservation, .. }) = a {
                        prop_assert_eq!(fast.reservation(reservation), full.reservation(reservation));
                        held.push(reservation);
                    }
                }
                Op::Release(i) => {
                    if held.is_empty() {
                        continue;
                    }
                    let id = held.swap_remove(i % held.len());
                    prop_assert_eq!(fast.release(id), full.release(id));
                }
                Op::Tick(dt) => now += dt,
                Op::LinkDown(l) => {
                    let l = LinkId((l % links) as u32);
                    prop_assert_eq!(fast.link_down(l), full.link_down(l));
                }
                Op::LinkUp(l) => {
                    let l = LinkId((l % links) as u32);
                    fast.link_up(l);
                    full.link_up(l);
                }
                Op::SiteDown(i) => {
                    let i = SiteId((i % site_count) as u32);
                    prop_assert_eq!(fast.site_down(i), full.site_down(i));
                }
                Op::SiteUp(i) => {
                    let i = SiteId((i % site_count) as u32);
                    fast.site_up(i);
                    full.site_up(i);
                }
                Op::ComputeDrop(i, gflops) => {
                    let i = SiteId((i % site_count) as u32);
                    prop_assert_eq!(fast.compute_drop(i, gflops), full.compute_drop(i, gflops));
                }
                Op::Latency(l, us) => {
                    let l = LinkId((l % links) as u32);
                    fast.set_link_metrics(l, Some(Nanos::from_micros(us)), None);
                    full.set_link_metrics(l, Some(Nanos::from_micros(us)), None);
                }
                Op::Loss(l, loss) => {
                    let l = LinkId((l % links) as u32);
                    let loss = Ratio(u64::from(loss) * Ratio::ONE.0 / 100);
                    fast.set_link_metrics(l, None, Some(loss));
                    full.set_link_metrics(l, None, Some(loss));
                }
                Op::Circuit(a, b, gbps) => {
                    let (a, b) = (RouterId((a % s.routers.len()) as u32), RouterId((b % s.routers.len()) as u32));
                    let book = |x: &mut Scheduler| {
                        x.book_bandwidth("c", a, b, Bandwidth(gbps * 1_000_000_000), (now, now + 300), None, Isolation::Soft)
                    };
                    prop_assert_eq!(book(&mut fast), book(&mut full));
                }
                Op::Slice(a, b, gbps) => {
                    let (a, b) = (RouterId((a % s.routers.len()) as u32), RouterId((b % s.routers.len()) as u32));
                    let slice = |x: &mut Scheduler| {
                        x.slice_between(SliceId(0), a, b, Bandwidth(gbps * 1_000_000_000), now, now + 600)
                    };
                    prop_assert_eq!(slice(&mut fast), slice(&mut full));
                }
            }
        }
        let mine: Vec<_> = fast.reservations().collect();
        let theirs: Vec<_> = full.reservations().collect();
        prop_assert_eq!(mine, theirs);
    }
}

/// Arrivals as the twin makes them: windows that start now and hold a while, time that only
/// moves forward, every reservation released when its window ends.
#[derive(Debug, Clone)]
enum Arrival {
    /// A request of a service of the scenario (by index), blended objective.
    Service {
        ingress: usize,
        service: usize,
        hold: u64,
    },
    /// A raw demand by cost.
    Raw {
        ingress: usize,
        tflops: u64,
        hold: u64,
    },
    Tick(u64),
}

fn arrival() -> impl Strategy<Value = Arrival> {
    prop_oneof![
        6 => (any::<usize>(), 0usize..6, 1u64..60).prop_map(|(ingress, service, hold)| Arrival::Service { ingress, service, hold }),
        2 => (any::<usize>(), 1u64..300, 1u64..120).prop_map(|(ingress, tflops, hold)| Arrival::Raw { ingress, tflops, hold }),
        3 => (1u64..20).prop_map(Arrival::Tick),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn the_twin_s_pattern_places_alike(
        routers in 0usize..30,
        sites in 20usize..120,
        seed in any::<u64>(),
        arrivals in prop::collection::vec(arrival(), 1..150),
    ) {
        let s = scenario(routers, sites, seed);
        let mut fast = Scheduler::new(&s);
        let mut full = Scheduler::new(&s);
        full.set_reference(true);
        let mut held: Vec<(u64, ReservationId)> = Vec::new();
        let mut now = 0u64;
        let mut rng = (1u64, 1u64);
        for (n, a) in arrivals.iter().enumerate() {
            let (ingress, service, demand, hold, objective) = match *a {
                Arrival::Tick(dt) => {
                    now += dt;
                    // Departures a little after their windows end, as in the twin (an
                    // arrival within a second starts at that second): some ended windows are
                    // still booked when the next request comes.
                    held.sort();
                    let mut i = 0;
                    while i < held.len() {
                        let (end, id) = held[i];
                        if end + id.0 % 3 * 5 <= now {
                            held.remove(i);
                            prop_assert_eq!(fast.release(id), full.release(id));
                        } else {
                            i += 1;
                        }
                    }
                    continue;
                }
                Arrival::Service { ingress, service, hold } => {
                    (ingress, Some(ServiceId((service % s.services.len()) as u32)), None, hold, Objective::BALANCED)
                }
                Arrival::Raw { ingress, tflops, hold } => {
                    (ingress, None, Some(Flops::fp64(u128::from(tflops) * 1_000_000_000_000)), hold, Objective::Cost)
                }
            };
            let request = PlaceRequest {
                service,
                demand,
                processing: Nanos::from_millis(2_000),
                bandwidth: Bandwidth(10_000_000),
                start: now,
                end: now + hold,
                objective,
                ..PlaceRequest::new(format!("r{n}"), RouterId((ingress % s.routers.len()) as u32))
            };
            let a = fast.place_by(Placement::Cpn, request.clone(), &mut rng.0);
            let b = full.place_by(Placement::Cpn, request, &mut rng.1);
            prop_assert_eq!(&a, &b, "arrival {}", n);
            if let Ok(cpn_sched::Placed::Accepted { reservation, .. }) = a {
                prop_assert_eq!(fast.reservation(reservation), full.reservation(reservation));
                held.push((now + hold, reservation));
            }
        }
    }
}
