use super::*;
use crate::Simulation;
use proptest::prelude::*;

/// Rates in bytes/s of flows over `paths` on links of `caps` bit/s, added one by one.
fn check(caps: &[u64], paths: &[&[u32]], want: &[f64]) {
    let mut net = FlowNet::new(caps);
    let ids: Vec<FlowId> = paths
        .iter()
        .map(|p| net.add_flow(0, p, 1_000).expect("valid path"))
        .collect();
    let got: Vec<f64> = ids.iter().map(|&f| net.rate(f).expect("live")).collect();
    assert_eq!(got, want, "incremental");
    assert_eq!(max_min_rates(caps, paths), want, "from scratch");
}

#[test]
fn classic_three_links_four_flows() {
    // Bertsekas and Gallager's example: one long flow over three unit links, one short
    // flow on each; everybody gets half. Capacities are in bit/s, rates in bytes/s.
    check(
        &[8, 8, 8],
        &[&[0, 1, 2], &[0], &[1], &[2]],
        &[0.5, 0.5, 0.5, 0.5],
    );
}

#[test]
fn bottlenecks_in_turn() {
    // Link 2 (6 B/s) has three flows: 2 each. Link 1 (8 B/s) then has 4 left for f2;
    // link 0 (10 B/s) has 8 left for f1.
    check(
        &[80, 64, 48],
        &[&[0, 1, 2], &[0], &[1], &[2], &[1, 2]],
        &[2.0, 8.0, 4.0, 2.0, 2.0],
    );
}

#[test]
fn failed_link_stalls_its_flows_only() {
    let mut net = FlowNet::new(&[80, 80]);
    let a = net.add_flow(0, &[0], 100).expect("valid");
    let b = net.add_flow(0, &[0, 1], 100).expect("valid");
    let c = net.add_flow(0, &[1], 100).expect("valid");
    assert_eq!([net.rate(a), net.rate(b), net.rate(c)], [Some(5.0); 3]);
    // 100 B at 5 B/s: all three at 20 s, and the lowest id first on the tie.
    assert_eq!(net.next_completion(), Some((20_000_000_000, a)));
    net.set_capacity(0, 0, 0).expect("link");
    assert_eq!(net.rate(a), Some(0.0));
    assert_eq!(net.rate(b), Some(0.0));
    assert_eq!(net.rate(c), Some(10.0));
    // Only c still moves: 100 B at 10 B/s.
    assert_eq!(net.next_completion(), Some((10_000_000_000, c)));
    let mut done = Vec::new();
    net.finish_due(10_000_000_000, &mut done);
    assert_eq!(done, vec![c]);
    assert_eq!(net.next_completion(), None);
    assert_eq!(net.add_flow(0, &[], 1), Err(FlowError::EmptyPath));
    assert_eq!(
        net.add_flow(0, &[2], 1),
        Err(FlowError::NoSuchLink { link: 2, links: 2 })
    );
    assert_eq!(
        net.add_flow(0, &[1, 1], 1),
        Err(FlowError::RepeatedLink { link: 1 })
    );
}

#[test]
fn completions_follow_rate_changes() {
    // One link of 8 Mbit/s = 1 MB/s. A (1 MB) and B (2 MB) start together at half each:
    // A is done at 2 s with B halfway, then B runs alone at 1 MB/s to 3 s. C (0.5 MB)
    // starts at 2.5 s and shares with B: both at 0.5 MB/s, C done at 3.5 s, B at 3.5 s too.
    #[derive(Debug)]
    enum Ev {
        Wake(u64),
        Start,
    }
    let mut net = FlowNet::new(&[8_000_000]);
    let mut sim = Simulation::new(0);
    let s = 1_000_000_000u64;
    let a = net.add_flow(0, &[0], 1_000_000).expect("valid");
    let b = net.add_flow(0, &[0], 2_000_000).expect("valid");
    // The network's one wake-up event carries a generation; older ones are stale.
    let mut generation = 0;
    let mut wake = |sim: &mut Simulation<Ev>, net: &FlowNet| {
        generation += 1;
        if let Some((t, _)) = net.next_completion() {
            sim.schedule(t, Ev::Wake(generation)).expect("future");
        }
        generation
    };
    let mut current = wake(&mut sim, &net);
    sim.schedule(5 * s / 2, Ev::Start).expect("future");
    let mut c = None;
    let mut finished = Vec::new();
    let mut done = Vec::new();
    while let Some((now, ev)) = sim.next() {
        match ev {
            Ev::Wake(g) if g != current => continue,
            Ev::Wake(_) => {
                net.finish_due(now, &mut done);
                finished.extend(done.drain(..).map(|f| (f, now)));
            }
            Ev::Start => c = Some(net.add_flow(now, &[0], 500_000).expect("valid")),
        }
        current = wake(&mut sim, &net);
    }
    let c = c.expect("started");
    assert_eq!(finished.len(), 3, "{finished:?}");
    assert_eq!(finished[0], (a, 2 * s));
    // B and C both end at 3.5 s, give or take a ns of rounding.
    for (f, t) in &finished[1..] {
        assert!([b, c].contains(f));
        assert!(t.abs_diff(7 * s / 2) <= 1, "{f:?} at {t}");
    }
    assert_eq!(net.active(), 0);
}

/// One step of a random history.
#[derive(Debug, Clone)]
enum Op {
    Add(Vec<u32>),
    /// Remove the n-th live flow (modulo how many there are).
    Remove(usize),
    Capacity(u32, u64),
}

fn history(links: u32) -> impl Strategy<Value = Vec<Op>> {
    let path = prop::collection::btree_set(0..links, 1..4)
        .prop_map(|s| s.into_iter().collect::<Vec<_>>())
        .prop_shuffle();
    prop::collection::vec(
        prop_oneof![
            4 => path.prop_map(Op::Add),
            2 => any::<usize>().prop_map(Op::Remove),
            1 => (0..links, prop_oneof![Just(0u64), 1u64..10_000]).prop_map(|(l, c)| Op::Capacity(l, c)),
        ],
        1..60,
    )
}

/// Max-min fairness by definition: every flow crosses a saturated link on which no flow
/// has a higher rate.
fn is_max_min_fair(caps: &[u64], paths: &[&[u32]], rates: &[f64]) -> bool {
    let eps = 1e-9;
    let load = |l: u32| -> f64 {
        paths
            .iter()
            .zip(rates)
            .filter(|(p, _)| p.contains(&l))
            .map(|(_, r)| r)
            .sum()
    };
    paths.iter().zip(rates).all(|(p, &r)| {
        p.iter().any(|&l| {
            let cap = caps[l as usize] as f64 / 8.0;
            let saturated = load(l) >= cap * (1.0 - eps) - eps;
            let highest = paths
                .iter()
                .zip(rates)
                .filter(|(q, _)| q.contains(&l))
                .all(|(_, &s)| s <= r * (1.0 + eps) + eps);
            saturated && highest
        })
    }) && (0..caps.len() as u32)
        .all(|l| load(l) <= caps[l as usize] as f64 / 8.0 * (1.0 + eps) + eps)
}

/// Checks the network's rates against a recompute from scratch after a change at `now`,
/// and its next completion against the earliest finishing time of its flows.
fn check_state(net: &FlowNet, caps: &[u64], now: u64) -> Result<(), TestCaseError> {
    let live: Vec<(FlowId, f64)> = net.rates().collect();
    let paths: Vec<&[u32]> = live
        .iter()
        .map(|&(f, _)| net.path(f).expect("live"))
        .collect();
    let want = max_min_rates(caps, &paths);
    for (&(f, got), &w) in live.iter().zip(&want) {
        prop_assert!(
            (got - w).abs() <= 1e-9 * w.max(1.0),
            "{:?}: {} against {}",
            f,
            got,
            w
        );
    }
    prop_assert!(is_max_min_fair(caps, &paths, &want));
    // The tree's earliest completion is the earliest of the moving flows.
    let earliest = live
        .iter()
        .filter(|&&(_, r)| r > 0.0)
        .map(|&(f, r)| {
            (
                now + (net.remaining(now, f).expect("live") / r * 1e9).ceil() as u64,
                f,
            )
        })
        .min();
    match (net.next_completion(), earliest) {
        (Some((t, _)), Some((u, _))) => prop_assert!(t.abs_diff(u) <= 1_000, "{} against {}", t, u),
        (got, want) => prop_assert_eq!(got.is_some(), want.is_some()),
    }
    Ok(())
}

/// Applies a random history to a network, checking it after every step.
fn run_history(caps: &[u64], ops: Vec<Op>) -> Result<FlowStats, TestCaseError> {
    let mut caps = caps.to_vec();
    let mut net = FlowNet::new(&caps);
    let mut now = 0;
    for op in ops {
        now += 1_000;
        match op {
            Op::Add(p) => {
                net.add_flow(now, &p, 1 << 20).expect("valid");
            }
            Op::Remove(n) => {
                let live: Vec<FlowId> = net.rates().map(|(f, _)| f).collect();
                if !live.is_empty() {
                    net.remove(now, live[n % live.len()]).expect("live");
                }
            }
            Op::Capacity(l, c) => {
                caps[l as usize] = c;
                net.set_capacity(now, l, c).expect("link");
            }
        }
        check_state(&net, &caps, now)?;
    }
    Ok(net.stats())
}

/// Histories on a star: link 0 is a hub (a master's link), links 1.. are spokes; a flow
/// crosses the hub and one spoke, or the hub, or one spoke, or two spokes. Arrivals and
/// departures there mostly take the fast path.
fn star_history(spokes: u32) -> impl Strategy<Value = Vec<Op>> {
    let path = prop_oneof![
        8 => (1..=spokes).prop_map(|s| vec![0, s]),
        1 => Just(vec![0]),
        1 => (1..=spokes).prop_map(|s| vec![s]),
        1 => (1..=spokes, 1..=spokes).prop_filter_map("two spokes", |(a, b)| (a != b).then(|| vec![a, 0, b])),
    ];
    prop::collection::vec(
        prop_oneof![
            6 => path.prop_map(Op::Add),
            4 => any::<usize>().prop_map(Op::Remove),
            1 => (0..=spokes, prop_oneof![Just(0u64), 1u64..10_000]).prop_map(|(l, c)| Op::Capacity(l, c)),
        ],
        1..120,
    )
}

#[test]
fn a_busy_star_changes_one_group_at_a_time() {
    // A 10 Gbit/s hub and 100 spokes of 1 Gbit/s: past ten flows the hub is everybody's
    // bottleneck, and every arrival or departure only changes the hub group's size.
    let mut caps = vec![10_000_000_000u64];
    caps.extend(std::iter::repeat_n(1_000_000_000, 100));
    let mut net = FlowNet::new(&caps);
    let mut ids: Vec<FlowId> = (0..100)
        .map(|w| net.add_flow(0, &[0, w + 1], 1_000_000).expect("valid"))
        .collect();
    let before = net.stats();
    for k in 0..50u32 {
        let now = 1_000 * u64::from(k + 1);
        net.remove(now, ids[k as usize]).expect("live");
        ids[k as usize] = net
            .add_flow(now, &[0, (k * 7) % 100 + 1], 500_000)
            .expect("valid");
    }
    let after = net.stats();
    assert_eq!(after.recomputed, before.recomputed, "{after:?}");
    assert_eq!(after.fast, before.fast + 100);
    let paths: Vec<&[u32]> = ids.iter().map(|&f| net.path(f).expect("live")).collect();
    let want = max_min_rates(&caps, &paths);
    for (&f, w) in ids.iter().zip(want) {
        assert_eq!(net.rate(f), Some(w));
    }
    // A spoke that fills up takes its flows out of the hub's group: that needs a recompute.
    net.set_capacity(60_000, 3, 8_000_000).expect("link");
    assert_eq!(net.stats().recomputed, after.recomputed + 1);
}

/// A flow of a brute-force run: when it starts (ns), its links and its bytes.
#[derive(Debug, Clone)]
struct Arrival {
    start: u64,
    path: Vec<u32>,
    bytes: u64,
}

/// Completion times in seconds by brute force: from event to event, rates recomputed from
/// scratch and every flow's bytes advanced in floating point.
fn brute_force(caps: &[u64], arrivals: &[Arrival]) -> Vec<Option<f64>> {
    let mut order: Vec<usize> = (0..arrivals.len()).collect();
    order.sort_by_key(|&i| (arrivals[i].start, i));
    let mut done = vec![None; arrivals.len()];
    let mut left: Vec<f64> = arrivals.iter().map(|a| a.bytes as f64).collect();
    let mut active: Vec<usize> = Vec::new();
    let mut next = 0;
    let mut t = 0.0f64;
    loop {
        let paths: Vec<&[u32]> = active
            .iter()
            .map(|&i| arrivals[i].path.as_slice())
            .collect();
        let rates = max_min_rates(caps, &paths);
        let finish = active
            .iter()
            .zip(&rates)
            .filter(|&(_, &r)| r > 0.0)
            .map(|(&i, &r)| t + left[i] / r)
            .fold(f64::INFINITY, f64::min);
        let arrive = order
            .get(next)
            .map_or(f64::INFINITY, |&i| arrivals[i].start as f64 * 1e-9);
        let to = finish.min(arrive);
        if to == f64::INFINITY {
            return done;
        }
        for (&i, &r) in active.iter().zip(&rates) {
            left[i] -= r * (to - t);
        }
        // Flows within a nanosecond of their end are done: the network's clock is in ns.
        let mut still = Vec::with_capacity(active.len());
        for (&i, &r) in active.iter().zip(&rates) {
            if r > 0.0 && left[i] <= r * 1e-9 {
                done[i] = Some(to);
            } else {
                still.push(i);
            }
        }
        active = still;
        t = to;
        while let Some(&i) = order.get(next) {
            if arrivals[i].start as f64 * 1e-9 > t {
                break;
            }
            active.push(i);
            next += 1;
        }
    }
}

/// Completion times in ns from the network, driven as an event loop drives it.
fn network_run(caps: &[u64], arrivals: &[Arrival]) -> (Vec<Option<u64>>, FlowStats) {
    let mut order: Vec<usize> = (0..arrivals.len()).collect();
    order.sort_by_key(|&i| (arrivals[i].start, i));
    let mut net = FlowNet::new(caps);
    let mut which = std::collections::HashMap::new();
    let mut done = vec![None; arrivals.len()];
    let mut finished = Vec::new();
    let mut next = 0;
    loop {
        let arrive = order.get(next).map(|&i| arrivals[i].start);
        let completion = net.next_completion().map(|(t, _)| t);
        match (arrive, completion) {
            (None, None) => break,
            (Some(a), c) if c.is_none_or(|t| a < t) => {
                let i = order[next];
                let f = net
                    .add_flow(a, &arrivals[i].path, arrivals[i].bytes)
                    .expect("valid");
                which.insert(f, i);
                next += 1;
            }
            (_, t) => {
                let t = t.unwrap_or(u64::MAX);
                net.finish_due(t, &mut finished);
                for f in finished.drain(..) {
                    done[which[&f]] = Some(t);
                }
            }
        }
    }
    (done, net.stats())
}

fn arrivals(links: u32, star: bool) -> impl Strategy<Value = Vec<Arrival>> {
    let path = if star {
        (1..links).prop_map(|s| vec![0, s]).boxed()
    } else {
        prop::collection::btree_set(0..links, 1..4)
            .prop_map(|s| s.into_iter().collect::<Vec<_>>())
            .prop_shuffle()
            .boxed()
    };
    prop::collection::vec(
        (0u64..5_000_000_000, path, 1_000u64..1_000_000).prop_map(|(start, path, bytes)| Arrival {
            start,
            path,
            bytes,
        }),
        1..24,
    )
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// After every change of a random history, the incrementally kept rates equal a
    /// recompute from scratch, and they are max-min fair.
    #[test]
    fn incremental_equals_from_scratch(
        caps in prop::collection::vec(1u64..10_000, 6),
        ops in history(6),
    ) {
        run_history(&caps, ops)?;
    }

    /// The same on stars, where most changes take the fast path (one group's size changes,
    /// its rate is set from its base, and nothing else is touched).
    #[test]
    fn fast_path_equals_from_scratch(
        hub in 1u64..100_000,
        spokes in prop::collection::vec(1u64..10_000, 5),
        ops in star_history(5),
    ) {
        let mut caps = vec![hub];
        caps.extend(spokes);
        run_history(&caps, ops)?;
    }

    /// Every flow of a random schedule finishes when a brute-force simulation says it does
    /// (rates recomputed from scratch at every event, bytes in floating point), within the
    /// nanoseconds the network's integer clock rounds up at each event.
    #[test]
    fn completions_match_brute_force(
        caps in prop::collection::vec(8_000u64..8_000_000, 5),
        schedule in any::<bool>().prop_flat_map(|star| arrivals(5, star)),
    ) {
        let want = brute_force(&caps, &schedule);
        let (got, _) = network_run(&caps, &schedule);
        for (i, (g, w)) in got.iter().zip(&want).enumerate() {
            let (Some(g), Some(w)) = (g, w) else {
                prop_assert!(false, "flow {}: {:?} against {:?}", i, g, w);
                continue;
            };
            let w_ns = w * 1e9;
            prop_assert!(
                (*g as f64 - w_ns).abs() <= 1e-9 * w_ns + 1_000.0,
                "flow {}: {} ns against {} ns", i, g, w_ns
            );
        }
    }
}
